"""Simulcast substream selection against a real simulcast publisher (headless Chromium).

aiortc cannot send simulcast, so :class:`BrowserPublisher` publishes Chromium's
fake camera at 1280x720 as three VP8 encodings (1280x720, 640x360, 320x180).
Janus offers them as substreams 2, 1 and 0; the recorder's channel asks for 2
(videoStreamType High) or 0 (Low) and must then receive frames of that size.
Through the recorder, each recording's files show the layer its forwarder sends.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import av
import pytest
from tests.fixtures.media import settled_participants
from tests.fixtures.recorder import RecorderProcess
from tests.integration.recorder.checks import (
    download,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.browser_publisher import BrowserPublisher
from cloudrec_devenv.janus import Janus
from cloudrec_recorder.channel.janus import JanusChannel, SubscribedFeed
from cloudrec_recorder.channel.room import SUBSTREAM_HIGH, SUBSTREAM_LOW

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]

PUBLISHER_UID = "2001"
RECORDER_UID = "999"

LAYER_SIZES = {SUBSTREAM_HIGH: (1280, 720), 1: (640, 360), SUBSTREAM_LOW: (320, 180)}


async def settle_on_size(
    feed: SubscribedFeed, size: tuple[int, int], pub: BrowserPublisher, *, within: float = 20
) -> None:
    """Read frames until they have ``size`` (Janus switches at the next keyframe)."""
    assert feed.video is not None
    deadline = time.monotonic() + within
    seen: list[tuple[int, int]] = []
    while time.monotonic() < deadline:
        frame = await asyncio.wait_for(feed.video.recv(), 5)
        assert isinstance(frame, av.VideoFrame)
        seen.append((frame.width, frame.height))
        if seen[-1] == size:
            return
    raise AssertionError(
        f"no {size} frame within {within}s; sizes seen: {sorted(set(seen))}; "
        f"the browser sends {pub.layers}"
    )


async def next_sizes(feed: SubscribedFeed, count: int) -> set[tuple[int, int]]:
    assert feed.video is not None
    sizes = set()
    for _ in range(count):
        frame = await asyncio.wait_for(feed.video.recv(), 5)
        assert isinstance(frame, av.VideoFrame)
        sizes.add((frame.width, frame.height))
    return sizes


def processes_using(marker: str) -> list[int]:
    """Pids whose command line mentions ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


async def test_the_browser_publisher_sends_three_simulcast_layers_that_janus_announces(
    janus: Janus, room: str, tmp_path: Path
) -> None:
    async with BrowserPublisher(janus.http_url, room, PUBLISHER_UID, workdir=tmp_path) as pub:
        # Chromium's bandwidth estimate starts low; the full layer comes once it ramps up.
        high = await pub.wait_for_layer("h", min_width=1280, within=30)
        assert (high.width, high.height) == (1280, 720)
        assert {rid: (layer.width, layer.height) for rid, layer in pub.layers.items()} == {
            "h": (1280, 720),
            "m": (640, 360),
            "l": (320, 180),
        }
        async with JanusChannel(janus.ws_url, room, RECORDER_UID, token=None) as channel:
            info = channel.publishers.get(PUBLISHER_UID)
            assert info is not None and info.simulcast
    # leaving destroys the page's Janus session and stops every Chromium process
    assert await settled_participants(janus, room, set()) == set()
    assert processes_using(str(tmp_path / "chromium-profile")) == []


@pytest.mark.parametrize("srtp", [False, True], ids=["rtp", "srtp"])
async def test_substream_high_receives_the_full_layer_and_low_the_smallest(
    janus: Janus, room: str, tmp_path: Path, srtp: bool
) -> None:
    # with SRTP, the switch's new forwarder has a new key of its own
    async with BrowserPublisher(janus.http_url, room, PUBLISHER_UID, workdir=tmp_path) as pub:
        await pub.wait_for_layer("h", min_width=1280, within=30)
        async with JanusChannel(
            janus.ws_url, room, RECORDER_UID, token=None, forward_srtp=srtp
        ) as channel:
            feed = await channel.subscribe(PUBLISHER_UID, audio=False, substream=SUBSTREAM_HIGH)
            assert feed.substream == SUBSTREAM_HIGH
            await settle_on_size(feed, LAYER_SIZES[SUBSTREAM_HIGH], pub)
            assert await next_sizes(feed, 20) == {LAYER_SIZES[SUBSTREAM_HIGH]}

            assert feed.relayed_substream == SUBSTREAM_HIGH

            # A live switch: Janus moves at the next keyframe of the small layer, and the
            # channel asks again while it has not.
            assert await channel.set_substream(PUBLISHER_UID, SUBSTREAM_LOW)
            await settle_on_size(feed, LAYER_SIZES[SUBSTREAM_LOW], pub)
            assert feed.relayed_substream == SUBSTREAM_LOW

            low = await channel.subscribe(PUBLISHER_UID, audio=False, substream=SUBSTREAM_LOW)
            assert low.substream == SUBSTREAM_LOW
            await settle_on_size(low, LAYER_SIZES[SUBSTREAM_LOW], pub)
            assert await next_sizes(low, 20) == {LAYER_SIZES[SUBSTREAM_LOW]}


async def test_a_substream_request_janus_never_acted_on_is_asked_again(
    janus: Janus, room: str, tmp_path: Path
) -> None:
    async with BrowserPublisher(janus.http_url, room, PUBLISHER_UID, workdir=tmp_path) as pub:
        await pub.wait_for_layer("h", min_width=1280, within=30)
        async with JanusChannel(
            janus.ws_url, room, RECORDER_UID, token=None, substream_recheck=1.0
        ) as channel:
            feed = await channel.subscribe(PUBLISHER_UID, audio=False, substream=SUBSTREAM_HIGH)
            await settle_on_size(feed, LAYER_SIZES[SUBSTREAM_HIGH], pub)
            # The channel now wants the small layer, but Janus was never told (as when a
            # configure, or the keyframe it asked for, is lost): the recheck must see
            # Janus relaying the large layer and ask for the small one itself.
            feed.substream = SUBSTREAM_LOW
            await settle_on_size(feed, LAYER_SIZES[SUBSTREAM_LOW], pub, within=15)
            assert feed.relayed_substream == SUBSTREAM_LOW
            assert await next_sizes(feed, 20) == {LAYER_SIZES[SUBSTREAM_LOW]}


async def test_the_recorder_receives_the_substream_its_video_stream_type_asks_for(
    janus: Janus, recorder: RecorderProcess, room: str, tmp_path: Path
) -> None:
    high_uid, low_uid = "900101", "900102"
    config = {"channelType": 0, "streamTypes": 1, "maxIdleTime": 30, "subscribeUidGroup": 0}
    async with BrowserPublisher(
        janus.http_url, room, PUBLISHER_UID, workdir=tmp_path / "browser", audio=False
    ) as pub:
        await pub.wait_for_layer("h", min_width=1280, within=30)
        async with recorder.client() as client:
            high = await start_recording(
                client,
                recorder,
                room,
                high_uid,
                {**config, "videoStreamType": 0},
                mode="individual",
            )
            low = await start_recording(
                client, recorder, room, low_uid, {**config, "videoStreamType": 1}, mode="individual"
            )
            await wait_status(client, recorder, high, 5)
            await wait_status(client, recorder, low, 5)
            # Each recording receives through a video forwarder of its own.
            forwarders = await asyncio.to_thread(janus.list_forwarders, room)
            video = [f for f in forwarders.get(PUBLISHER_UID, []) if f.get("type") == "video"]
            assert len(video) == 2, forwarders
            await asyncio.sleep(5)
            stopped = {
                rec.uid: (await stop_recording(client, recorder, rec))["serverResponse"]
                for rec in (high, low)
            }
    videos = {}
    for uid, response in stopped.items():
        files = {(f["uid"], f["trackType"]): f["fileName"] for f in response["fileList"]}
        (tmp_path / uid).mkdir()
        (video_path,) = download(recorder, [files[(PUBLISHER_UID, "video")]], tmp_path / uid)
        videos[uid] = decode_video(video_path)
    # High records the full 1280x720 layer, Low the 320x180 one: a Low forwarder sends only
    # the smallest layer, from its first frame on.
    assert (videos[high_uid].width, videos[high_uid].height) == (1280, 720)
    assert (videos[low_uid].width, videos[low_uid].height) == (320, 180)
    assert len(videos[high_uid].frames) > 15 and len(videos[low_uid].frames) > 15
