"""Simulcast substream selection against a real simulcast publisher (headless Chromium).

aiortc cannot send simulcast, so :class:`BrowserPublisher` publishes Chromium's
fake camera at 1280x720 as three VP8 encodings (1280x720, 640x360, 320x180).
Janus offers them as substreams 2, 1 and 0; the recorder's channel asks for 2
(videoStreamType High) or 0 (Low) and must then receive frames of that size.
Through the recorder, Janus' Admin API tells which substream each recording's
subscription gets.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path
from typing import Any

import av
import httpx
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


async def test_substream_high_receives_the_full_layer_and_low_the_smallest(
    janus: Janus, room: str, tmp_path: Path
) -> None:
    async with BrowserPublisher(janus.http_url, room, PUBLISHER_UID, workdir=tmp_path) as pub:
        await pub.wait_for_layer("h", min_width=1280, within=30)
        async with JanusChannel(janus.ws_url, room, RECORDER_UID, token=None) as channel:
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


def janus_admin(janus: Janus, path: str, request: str) -> dict[str, Any]:
    """One Admin API request; ``{}`` when Janus refuses it (a session or handle just ended)."""
    body = {
        "janus": request,
        "transaction": secrets.token_hex(6),
        "admin_secret": janus.admin_secret,
    }
    reply: dict[str, Any] = httpx.post(f"{janus.admin_url}{path}", json=body, timeout=5).json()
    return reply if reply.get("janus") == "success" else {}


def substreams_received(janus: Janus, room: str, feed: str) -> dict[str, int | None]:
    """The simulcast substream of ``feed`` that Janus sends to each uid's subscription.

    Read from Janus' Admin API: a subscription shares its participant's
    ``private_id``, which ties it to the participant's uid.
    """
    handles = []
    sessions = janus_admin(janus, "", "list_sessions")
    assert "sessions" in sessions, "the Janus Admin API did not list sessions"
    for session in sessions["sessions"]:
        for handle in janus_admin(janus, f"/{session}", "list_handles").get("handles", []):
            info = janus_admin(janus, f"/{session}/{handle}", "handle_info").get("info", {})
            handles.append(info.get("plugin_specific", {}))
    uid_of = {
        h["private_id"]: str(h["id"])
        for h in handles
        if h.get("type") == "publisher" and h.get("room") == room
    }
    received: dict[str, int | None] = {}
    for h in handles:
        if h.get("type") != "subscriber" or h.get("room") != room:
            continue
        for stream in h.get("streams", []):
            if stream.get("type") == "video" and str(stream.get("feed_id")) == feed:
                simulcast = stream.get("simulcast") or {}
                received[uid_of.get(h.get("private_id"), "?")] = simulcast.get("substream")
    return received


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
            expected = {high_uid: SUBSTREAM_HIGH, low_uid: SUBSTREAM_LOW}
            deadline = time.monotonic() + 10
            while (
                seen := await asyncio.to_thread(substreams_received, janus, room, PUBLISHER_UID)
            ) != expected:
                assert time.monotonic() < deadline, f"Janus sends {seen}, expected {expected}"
                await asyncio.sleep(0.5)
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
    # High records the full 1280x720 layer at its size. (An Individual recording takes its
    # size from the first frame it composes, which for Low may still be a larger layer
    # shortly after subscribing, so only the substream Janus sends is asserted for Low.)
    assert (videos[high_uid].width, videos[high_uid].height) == (1280, 720)
    assert len(videos[high_uid].frames) > 15 and len(videos[low_uid].frames) > 15
