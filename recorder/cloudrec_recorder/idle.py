"""A recording's idle clock (pure): since when its channel has had nobody to record.

A Communication channel has somebody to record while anyone else is in it, a Live channel
while anyone publishes (the audience does not count). The recording leaves once the channel
has had nobody for ``maxIdleTime`` seconds. The clock is fed only once the recording is
started (joined, its uploader running), from who is in the channel then: a start held up by
a slow join or a slow store is not idle time. Nor is a pause (``update`` with ``onhold``): a
paused recording never leaves for idleness, and the time paused does not count afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudrec_protocol.enums import ChannelType

__all__ = ["IdleClock", "has_somebody"]


def has_somebody(
    channel_type: ChannelType, participants: frozenset[str], publishers: frozenset[str]
) -> bool:
    """Whether the channel has somebody to record (publishers only count in a Live channel)."""
    return bool(publishers if channel_type == ChannelType.LIVE else participants)


@dataclass
class IdleClock:
    """Since when the channel has had nobody to record; times are monotonic seconds."""

    channel_type: ChannelType
    max_idle_time: float
    idle_since: float | None = None
    """None while somebody is there (or before the first :meth:`note`)."""
    paused_at: float | None = None
    """When the recording paused (None: not paused)."""

    def pause(self, now: float) -> None:
        """The recording pauses: the clock stops counting."""
        if self.paused_at is None:
            self.paused_at = now

    def resume(self, now: float) -> None:
        """The recording resumes: idle time counted before the pause stays counted, the time
        paused does not."""
        paused_at = self.paused_at
        if paused_at is None:
            return
        self.paused_at = None
        if self.idle_since is not None:
            counted = max(0.0, paused_at - self.idle_since)
            self.idle_since = now - counted

    def note(self, participants: frozenset[str], publishers: frozenset[str], now: float) -> None:
        """Who is in the channel at ``now``: somebody stops the clock, nobody starts it (a
        clock already running keeps its start)."""
        if has_somebody(self.channel_type, participants, publishers):
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now

    def expired(self, now: float) -> bool:
        """The channel has had nobody for ``max_idle_time`` seconds at ``now`` (never while
        paused)."""
        if self.paused_at is not None:
            return False
        return self.idle_since is not None and now - self.idle_since >= self.max_idle_time
