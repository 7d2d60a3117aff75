"""The idle clock: since when a channel has had nobody to record (pure)."""

from __future__ import annotations

import pytest

from cloudrec_protocol.enums import ChannelType
from cloudrec_recorder.idle import IdleClock, has_somebody

NOBODY: frozenset[str] = frozenset()
AUDIENCE = frozenset({"5"})


@pytest.mark.parametrize(
    ("channel_type", "participants", "publishers", "somebody"),
    [
        (ChannelType.COMMUNICATION, NOBODY, NOBODY, False),
        (ChannelType.COMMUNICATION, AUDIENCE, NOBODY, True),
        (ChannelType.LIVE, AUDIENCE, NOBODY, False),
        (ChannelType.LIVE, frozenset({"7"}), frozenset({"7"}), True),
    ],
    ids=[
        "an empty Communication channel",
        "a Communication channel with a participant who does not publish",
        "a Live channel with an audience only",
        "a Live channel with a publisher",
    ],
)
def test_somebody_to_record_is_anyone_in_communication_and_a_publisher_in_live(
    channel_type: ChannelType,
    participants: frozenset[str],
    publishers: frozenset[str],
    somebody: bool,
) -> None:
    assert has_somebody(channel_type, participants, publishers) is somebody


def test_the_clock_runs_from_the_first_moment_nobody_is_there_until_max_idle_time() -> None:
    clock = IdleClock(ChannelType.COMMUNICATION, max_idle_time=10)
    assert not clock.expired(now=1_000_000)  # not fed yet: never expired
    clock.note(NOBODY, NOBODY, now=100)
    clock.note(NOBODY, NOBODY, now=105)  # still nobody: the clock keeps its start
    assert not clock.expired(now=109.9)
    assert clock.expired(now=110)


def test_somebody_coming_in_stops_the_clock_and_leaving_starts_it_afresh() -> None:
    clock = IdleClock(ChannelType.COMMUNICATION, max_idle_time=10)
    clock.note(NOBODY, NOBODY, now=100)
    clock.note(AUDIENCE, NOBODY, now=108)
    assert not clock.expired(now=200)
    clock.note(NOBODY, NOBODY, now=200)
    assert not clock.expired(now=209)
    assert clock.expired(now=210)


@pytest.mark.parametrize(
    ("idle_from", "paused", "resumed", "expires_at"),
    [
        (0.0, 4.0, 100.0, 106.0),  # 4 s counted before the pause, 6 s more after it
        (50.0, 20.0, 100.0, 110.0),  # the channel emptied during the pause: counts from the resume
        (None, 20.0, 100.0, None),  # somebody there all along: never
    ],
    ids=[
        "idle before the pause",
        "idle only during the pause",
        "never idle",
    ],
)
def test_the_time_paused_does_not_count_as_idle(
    idle_from: float | None, paused: float, resumed: float, expires_at: float | None
) -> None:
    clock = IdleClock(ChannelType.COMMUNICATION, 10)
    clock.note(AUDIENCE, NOBODY, 0.0)
    if idle_from is not None and idle_from < paused:
        clock.note(NOBODY, NOBODY, idle_from)
    clock.pause(paused)
    if idle_from is not None and idle_from >= paused:
        clock.note(NOBODY, NOBODY, idle_from)
    assert not clock.expired(resumed - 0.001)  # never while paused, however long
    clock.resume(resumed)
    if expires_at is None:
        assert not clock.expired(resumed + 1000)
        return
    assert not clock.expired(expires_at - 0.001)
    assert clock.expired(expires_at)
