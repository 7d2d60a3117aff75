"""Simulcast substream selection against a real simulcast publisher (headless Chromium).

aiortc cannot send simulcast, so :class:`BrowserPublisher` publishes Chromium's
fake camera at 1280x720 as three VP8 encodings (1280x720, 640x360, 320x180).
Janus offers them as substreams 2, 1 and 0; the recorder's channel asks for 2
(videoStreamType High) or 0 (Low) and must then receive frames of that size.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import av
import pytest
from tests.fixtures.media import settled_participants

from cloudrec_operator.devenv.browser_publisher import BrowserPublisher
from cloudrec_operator.devenv.janus import Janus
from cloudrec_recorder.channel.janus import JanusChannel, SubscribedFeed
from cloudrec_recorder.channel.room import SUBSTREAM_HIGH, SUBSTREAM_LOW

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]

PUBLISHER_UID = "2001"
RECORDER_UID = "999"

LAYER_SIZES = {SUBSTREAM_HIGH: (1280, 720), 1: (640, 360), SUBSTREAM_LOW: (320, 180)}


async def settle_on_size(feed: SubscribedFeed, size: tuple[int, int], *, within: float) -> None:
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
    raise AssertionError(f"no {size} frame within {within}s; sizes seen: {sorted(set(seen))}")


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
        async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
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
        async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
            feed = await channel.subscribe(PUBLISHER_UID, audio=False, substream=SUBSTREAM_HIGH)
            assert feed.substream == SUBSTREAM_HIGH
            await settle_on_size(feed, LAYER_SIZES[SUBSTREAM_HIGH], within=10)
            assert await next_sizes(feed, 20) == {LAYER_SIZES[SUBSTREAM_HIGH]}

            for substream in (SUBSTREAM_LOW, 1, SUBSTREAM_HIGH):
                assert await channel.set_substream(PUBLISHER_UID, substream)
                await settle_on_size(feed, LAYER_SIZES[substream], within=10)
                assert await next_sizes(feed, 20) == {LAYER_SIZES[substream]}

            low = await channel.subscribe(PUBLISHER_UID, audio=False, substream=SUBSTREAM_LOW)
            assert low.substream == SUBSTREAM_LOW
            await settle_on_size(low, LAYER_SIZES[SUBSTREAM_LOW], within=10)
            assert await next_sizes(low, 20) == {LAYER_SIZES[SUBSTREAM_LOW]}
