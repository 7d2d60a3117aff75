"""Keeping a simulcast subscription on the substream it asked for: the decision and the loop."""

from __future__ import annotations

import asyncio

import pytest

from cloudrec_recorder.channel.errors import ChannelError
from cloudrec_recorder.channel.feed import SubscribedFeed
from cloudrec_recorder.channel.room import SUBSTREAM_HIGH, SUBSTREAM_LOW
from cloudrec_recorder.channel.substream import (
    MAX_RECHECK_SECONDS,
    SubstreamCheck,
    keep_substream,
    next_check,
)


@pytest.mark.parametrize(
    ("wanted", "relayed", "delay", "expected"),
    [
        (SUBSTREAM_LOW, SUBSTREAM_LOW, 12.0, SubstreamCheck(ask_again=False, next_delay=3.0)),
        (SUBSTREAM_LOW, SUBSTREAM_HIGH, 3.0, SubstreamCheck(ask_again=True, next_delay=6.0)),
        (SUBSTREAM_LOW, None, 3.0, SubstreamCheck(ask_again=True, next_delay=6.0)),
        (SUBSTREAM_HIGH, 1, 24.0, SubstreamCheck(ask_again=True, next_delay=MAX_RECHECK_SECONDS)),
    ],
    ids=[
        "relayed as wanted: back to the recheck interval",
        "another layer relayed: ask again and wait twice as long",
        "nothing said yet: ask again",
        "the wait is capped",
    ],
)
def test_a_check_asks_again_only_while_janus_relays_another_substream(
    wanted: int, relayed: int | None, delay: float, expected: SubstreamCheck
) -> None:
    assert next_check(wanted, relayed, delay, recheck=3.0) == expected


async def test_the_keeper_asks_until_the_wanted_substream_is_relayed_and_ends_with_the_feed() -> (
    None
):
    feed = SubscribedFeed("7", substream=SUBSTREAM_LOW, relayed_substream=SUBSTREAM_HIGH)
    asked: list[tuple[str, int]] = []
    switched = asyncio.Event()

    async def ask(uid: str, substream: int) -> bool:
        asked.append((uid, substream))
        if len(asked) == 1:
            raise ChannelError("Janus is busy")  # a failed request is tried again later
        feed.relayed_substream = substream
        switched.set()
        return True

    keeper = asyncio.create_task(keep_substream(feed, ask, recheck=0.01, room="r"))
    async with asyncio.timeout(2):
        await switched.wait()
        await asyncio.sleep(0.05)  # relayed as wanted: no more requests
        assert asked == [("7", SUBSTREAM_LOW), ("7", SUBSTREAM_LOW)]
        feed.closed.set()
        await keeper
