"""The channel's Janus session: kept alive past Janus' session timeout, and its loss reported."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.media import settled_participants

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_recorder.channel import ChannelClosed, JanusChannel, JanusUnreachableError

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def impatient_janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Janus]:
    """A Janus that ends sessions after 1 s without requests (the default is 60 s)."""
    with Janus(Path(tmp_path_factory.mktemp("janus-impatient")), session_timeout=1) as server:
        yield server


@pytest.fixture
def impatient_room(impatient_janus: Janus) -> Iterator[str]:
    impatient_janus.create_room("short")
    yield "short"
    impatient_janus.destroy_room("short")


async def test_the_channel_keeps_its_session_alive_past_the_session_timeout(
    impatient_janus: Janus, impatient_room: str
) -> None:
    async with JanusChannel(
        impatient_janus.ws_url,
        impatient_room,
        "900",
        token=None,
        keepalive_interval=0.3,
        resync_interval=30,  # its listparticipants would count as activity too
    ) as channel:
        await asyncio.sleep(6)  # without keepalives Janus ends it after about 4 s
        assert not channel.closed.is_set()
        assert [p.id for p in impatient_janus.list_participants(impatient_room)] == ["900"]


async def test_a_session_that_times_out_closes_the_channel(
    impatient_janus: Janus, impatient_room: str
) -> None:
    channel = JanusChannel(
        impatient_janus.ws_url,
        impatient_room,
        "901",
        token=None,
        keepalive_interval=None,
        resync_interval=30,
    )
    await channel.join()
    try:
        async with asyncio.timeout(15):
            while not isinstance(event := await channel.next_event(), ChannelClosed):
                pass
        assert "session" in event.reason
        assert await settled_participants(impatient_janus, impatient_room, set()) == set()
    finally:
        await channel.leave()


async def test_an_unreachable_janus_raises_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/janus"
    with pytest.raises(JanusUnreachableError, match="did not answer"):
        await JanusChannel(url, "room", "900", token=None).join()


def established_connections_to(port: int) -> int:
    """This process' established TCP connections to 127.0.0.1:``port`` (/proc/net/tcp)."""
    inode_of_ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone already
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inode_of_ours.add(target.removeprefix("socket:[").removesuffix("]"))
    count = 0
    for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if state == "01" and int(remote.split(":")[1], 16) == port and inode in inode_of_ours:
            count += 1
    return count


async def test_twenty_channels_share_one_websocket_to_janus(janus: Janus, room: str) -> None:
    channels = [JanusChannel(janus.ws_url, room, str(950 + i), token=None) for i in range(20)]
    try:
        await asyncio.gather(*(channel.join() for channel in channels))
        assert established_connections_to(janus.ws_port) == 1
        assert await settled_participants(janus, room, {str(950 + i) for i in range(20)}) == {
            str(950 + i) for i in range(20)
        }
    finally:
        await asyncio.gather(*(channel.leave() for channel in channels))
    assert established_connections_to(janus.ws_port) == 0
