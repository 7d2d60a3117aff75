"""Receiving on a lossy path: real Janus, a real aiortc publisher, packets dropped by the kernel.

Janus RTP-forwards to the recorder's media address (127.0.0.1 here). iptables drops a share
of the UDP packets to that address (the forwarded media; the publisher's WebRTC leg to Janus,
on 10.231.0.1, is left alone, so Janus' retransmissions hide nothing), then all of them for a
burst. The tests run inside ``hack/netns-run``'s namespace, where they are root and the rules
touch nothing outside. (``tc qdisc ... netem`` would be the usual tool, but this kernel has no
``sch_netem``; reordering is tested on the receiver itself, ``test_receiver_network.py``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import time
from collections.abc import Iterator

import av
import pytest
from tests.fixtures.media import PublishFactory, close_rgb, median_rgb, wait_for_event

from cloudrec_devenv.janus import Janus
from cloudrec_recorder.channel.janus import JanusChannel
from cloudrec_recorder.channel.room import PublisherJoined

pytestmark = [pytest.mark.media, pytest.mark.timeout(90)]

RECORDER_UID = "999"
LOSS = ["-p", "udp", "-d", "127.0.0.1", "-m", "statistic", "--mode", "random"]


def iptables(*args: str) -> None:
    subprocess.run(["iptables", *args], check=True, capture_output=True)


@contextlib.contextmanager
def dropping(*rule: str) -> Iterator[None]:
    """Drop the packets ``rule`` matches on the way in, until the block ends."""
    iptables("-I", "INPUT", *rule, "-j", "DROP")
    try:
        yield
    finally:
        iptables("-D", "INPUT", *rule, "-j", "DROP")


@pytest.fixture(autouse=True)
def _in_the_test_namespace() -> None:
    assert os.environ.get("CLOUDREC_NETNS"), "run inside hack/netns-run (its own namespace)"
    assert os.geteuid() == 0, "the namespace maps the test to root: iptables needs it"


async def test_with_two_percent_loss_and_a_burst_video_keeps_moving_and_keyframes_are_asked(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with (
        JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel,
        publish(room, "1001", color=(0, 200, 0)) as pub,
    ):
        await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
        feed = await channel.subscribe("1001")
        assert feed.video is not None and feed.audio is not None
        video, audio = feed.video, feed.audio
        times: list[float] = []
        last: list[av.VideoFrame] = []
        heard = [0]

        async def read_video() -> None:
            while True:
                frame = await video.recv()
                assert isinstance(frame, av.VideoFrame)
                times.append(time.monotonic())
                last[:] = [frame]

        async def read_audio() -> None:
            while True:
                await audio.recv()
                heard[0] += 1

        readers = [asyncio.create_task(read_video()), asyncio.create_task(read_audio())]
        try:
            await asyncio.sleep(2)
            assert times, "no video before the loss"
            asked_before, plis_before = feed.keyframe_requests, pub.keyframe_requests
            with dropping(*LOSS, "--probability", "0.02"):
                await asyncio.sleep(3)
                burst_start = time.monotonic()
                with dropping("-p", "udp", "-d", "127.0.0.1"):
                    await asyncio.sleep(0.6)
                burst_end = time.monotonic()
                await asyncio.sleep(4)
            frames_after_burst = [t for t in times if t > burst_end]
        finally:
            for task in readers:
                task.cancel()
        # no freeze longer than 1 s after the burst, none longer than the burst plus 1 s at all
        gaps = [b - a for a, b in itertools.pairwise(times) if b > burst_start]
        assert frames_after_burst and frames_after_burst[0] - burst_end < 1.0
        assert max(gaps) < (burst_end - burst_start) + 1.0, max(gaps)
        # the receiver asked for keyframes (PLIs to the forwarder), which reached the publisher
        assert feed.keyframe_requests > asked_before
        assert pub.keyframe_requests > plis_before
        # and what it decodes is still the publisher's picture, and sound kept coming
        assert close_rgb(median_rgb(last[0]), pub.color), median_rgb(last[0])
        assert heard[0] > 300
