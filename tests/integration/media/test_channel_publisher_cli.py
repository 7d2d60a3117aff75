"""``python -m cloudrec_devenv.publisher``: the demo's synthetic participant."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import pytest
from tests.fixtures.media import median_rgb, settled_participants

from cloudrec_devenv.janus import Janus
from cloudrec_recorder.channel import JanusChannel, PublisherJoined

pytestmark = pytest.mark.media


def publisher_cli(janus: Janus, room: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cloudrec_devenv.publisher",
        "--janus",
        janus.ws_url,
        "--room",
        room,
        *args,
    ]


async def test_the_publisher_command_publishes_its_colour_until_terminated(
    janus: Janus, room: str
) -> None:
    argv = publisher_cli(janus, room, "--uid", "1001", "--color", "#00ff00", "--no-audio")
    process = await asyncio.create_subprocess_exec(*argv)
    try:
        async with JanusChannel(janus.ws_url, room, "900", token=None) as channel:
            async with asyncio.timeout(20):
                while not isinstance(event := await channel.next_event(), PublisherJoined):
                    pass
            assert (event.uid, event.has_audio, event.has_video) == ("1001", False, True)
            feed = await channel.subscribe("1001")
            assert feed.video is not None
            for _ in range(5):
                frame = await asyncio.wait_for(feed.video.recv(), 5)
            red, green, blue = median_rgb(frame)
            assert red < 20 and green > 235 and blue < 20, (red, green, blue)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert await settled_participants(janus, room, set()) == set()


async def test_the_publisher_command_leaves_after_the_given_seconds(
    janus: Janus, room: str
) -> None:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *publisher_cli(janus, room, "--uid", "1002", "--no-video", "--seconds", "1")
    )
    assert await asyncio.wait_for(process.wait(), 20) == 0
    assert time.monotonic() - started >= 1.0
    assert await settled_participants(janus, room, set()) == set()


async def test_the_publisher_command_refuses_an_unknown_colour(janus: Janus, room: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *publisher_cli(janus, room, "--uid", "1003", "--color", "chartreuse-ish"),
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert b"not a colour" in stderr


async def test_the_janus_command_serves_its_rooms_until_terminated() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cloudrec_devenv.janus",
        "--room",
        "demo",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        url = line.split()[1]
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/"), line
        async with JanusChannel(url, "demo", "900", token=None) as channel:
            assert channel.participants == frozenset()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
