"""The channel's Janus session: kept alive past Janus' session timeout, and its loss reported."""

from __future__ import annotations

import asyncio
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
