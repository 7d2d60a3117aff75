"""Time rules: backoff, the adaptive query interval, protocol deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RESOURCE_ID_MARGIN = timedelta(seconds=30)
"""Re-acquire this long before the resource id's expiry (at most a quarter of its life),
to leave room for start."""
START_CONFIRM_DEADLINE = timedelta(seconds=90)
"""No status 4/5 this long after the sid: the start failed (protocol.md §6.1)."""
NOT_FOUND_GRACE = timedelta(seconds=30)
"""A 404 within this window after start or failover is not read as gone (§10)."""
NOT_FOUND_RETRIES = (5.0, 10.0, 15.0)
"""Back-off between 404 answers before concluding (protocol.md §10 #4)."""


@dataclass(frozen=True)
class Timing:
    """Tunable intervals (seconds); the defaults suit production."""

    first_query: float = 2.0
    """First query this soon after start."""
    starting_query_cap: float = 8.0
    """While starting, queries back off up to this."""
    steady_query: float = 30.0
    """Query interval once the recording is confirmed running."""
    transient_backoff_base: float = 1.0
    transient_backoff_cap: float = 60.0
    restart_backoff_base: float = 5.0
    restart_backoff_cap: float = 300.0
    progress_event_points: int = 10
    progress_event_interval: float = 60.0
    resource_id_lifetime: float = 300.0
    """A resource id must be used by start within 5 minutes (protocol.md §3.1); a backend
    may say otherwise (``--resource-id-lifetime``)."""
    conflict_window: float = 120.0
    """Starts refused with 53 (task conflict) are retried this long, whatever
    ``restartPolicy`` says: a recorder killed mid-start leaves its channel participant for
    up to a minute. After that the resource fails with TaskConflict."""


MAX_BACKOFF_EXPONENT = 30
"""``backoff`` doubles at most this many times: ``2 ** attempt`` of an unbounded attempt
count would stall the event loop (every cap in use is reached long before)."""


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff: base, 2*base, 4*base ... capped (attempt >= 1)."""
    exponent = min(MAX_BACKOFF_EXPONENT, max(0, attempt - 1))
    return float(min(cap, base * 2**exponent))


def query_interval(
    started_at: datetime | None,
    ready: bool,
    now: datetime,
    timing: Timing,
    max_idle_time: int,
) -> float:
    """How long to wait between queries of a live recording.

    Soon after start (doubling from ``first_query`` up to
    ``starting_query_cap``) until the recorder is confirmed; afterwards the
    steady interval, but never longer than the idle timeout so an idle exit is
    seen within about one ``maxIdleTime``.
    """
    if not ready:
        age = 0.0 if started_at is None else (now - started_at).total_seconds()
        interval = timing.first_query
        while interval * 2 <= age and interval * 2 <= timing.starting_query_cap:
            interval *= 2
        return min(interval, timing.starting_query_cap)
    return max(timing.first_query, min(timing.steady_query, float(max(max_idle_time, 1))))


def not_found_delay(not_found_since: datetime, now: datetime) -> float | None:
    """Seconds to wait before the next query after a 404, or None when confirmed."""
    elapsed = (now - not_found_since).total_seconds()
    waited = 0.0
    for delay in NOT_FOUND_RETRIES:
        waited += delay
        if elapsed < waited:
            return waited - elapsed
    return None
