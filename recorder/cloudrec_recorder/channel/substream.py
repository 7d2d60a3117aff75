"""Keeping a subscription on the simulcast substream it asked for.

Janus switches layers only at a keyframe of the wanted one, and asks the publisher for
keyframes when a subscription starts or is reconfigured. A keyframe lost then (or a request
swallowed by Janus' one-per-second limit) leaves the subscription on the wrong layer for as
long as the publisher sends no keyframe of its own, which for a browser can be minutes. So
:func:`keep_substream` checks every ``recheck`` seconds, and while Janus relays another layer,
asks again, backing off to :data:`MAX_RECHECK_SECONDS` (a publisher may not be sending the
wanted layer at all). :func:`next_check` is that decision, without I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cloudrec_recorder.channel.errors import ChannelError
from cloudrec_recorder.channel.feed import SubscribedFeed

__all__ = ["MAX_RECHECK_SECONDS", "SubstreamCheck", "keep_substream", "next_check"]

logger = logging.getLogger(__name__)

MAX_RECHECK_SECONDS = 30.0
"""The longest wait between two requests for a substream Janus does not relay."""


@dataclass(frozen=True)
class SubstreamCheck:
    """What one check decides."""

    ask_again: bool
    """Janus relays another substream than the one wanted: configure again."""
    next_delay: float
    """Seconds until the next check."""


def next_check(wanted: int, relayed: int | None, delay: float, recheck: float) -> SubstreamCheck:
    """After waiting ``delay``: ask again (and double the wait, up to the cap) unless Janus
    relays the wanted substream (then the wait is back to ``recheck``)."""
    if relayed == wanted:
        return SubstreamCheck(ask_again=False, next_delay=recheck)
    return SubstreamCheck(ask_again=True, next_delay=min(delay * 2, MAX_RECHECK_SECONDS))


async def keep_substream(
    feed: SubscribedFeed,
    ask: Callable[[str, int], Awaitable[bool]],
    *,
    recheck: float,
    room: str,
) -> None:
    """Until ``feed`` closes: ask (``ask(uid, substream)``) again while Janus relays another
    substream than ``feed.substream``."""
    delay = recheck
    while not feed.closed.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.closed.wait(), delay)
        if feed.closed.is_set() or feed.substream is None:
            return
        check = next_check(feed.substream, feed.relayed_substream, delay, recheck)
        delay = check.next_delay
        if not check.ask_again:
            continue
        logger.info(
            "Asking again for a simulcast substream room=%s uid=%s wanted=%s relayed=%s",
            room,
            feed.uid,
            feed.substream,
            feed.relayed_substream,
        )
        try:
            await ask(feed.uid, feed.substream)
        except ChannelError as exc:
            logger.warning("Substream request failed room=%s uid=%s error=%s", room, feed.uid, exc)
