"""The next step for a recording, from what is desired and what is known.

``next_step`` is the one decision the operator's reconcile loop asks: it is
called again after every step, so each rule only has to say what comes next.

A recording that may exist at the service is never forgotten. Without a sid, a
start with the resource id may still have begun one (its answer was lost to a
crash or a timeout, or said "already started" without the sid): deletion and
``state: Stopped`` then wait for it to be adopted (a callback naming its sid) or
for the resource id to expire, and then send the start again as a query by the
resource id. After expiry that start can begin nothing; it is answered "already
started" (with the sid: adopted, then stopped) or "expired" (nothing ran).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .model import (
    TERMINAL_PHASES,
    Acquire,
    Cancel,
    Desired,
    Finish,
    Idle,
    Phase,
    Query,
    Release,
    Start,
    Step,
    Stop,
    Tracked,
    Update,
    UpdateLayout,
    Wait,
)
from .pausing import before_start, pause_step
from .queue import queue_step
from .timing import RESOURCE_ID_MARGIN, Timing, query_interval


def has_external_recording(tracked: Tracked) -> bool:
    """A recording may exist at the service that this resource owns."""
    if tracked.phase in TERMINAL_PHASES:
        return False
    return tracked.resource_id is not None


def _lifetime(timing: Timing) -> timedelta:
    return timedelta(seconds=timing.resource_id_lifetime)


def resource_id_expired(tracked: Tracked, now: datetime, timing: Timing) -> bool:
    """Too old to start with: acquire again (a margin before the service's expiry)."""
    if tracked.acquired_at is None:
        return True
    life = _lifetime(timing)
    return now - tracked.acquired_at >= life - min(RESOURCE_ID_MARGIN, life / 4)


ADOPTION_WINDOW = timedelta(minutes=2)
"""How long to wait for a callback naming a recording whose start answer was lost."""


def _adoption_over(tracked: Tracked, now: datetime) -> bool:
    return tracked.acquired_at is None or now - tracked.acquired_at > ADOPTION_WINDOW


def start_may_have_run(tracked: Tracked) -> bool:
    """No sid is known, but a start with the resource id may have begun a recording."""
    return (
        tracked.sid is None
        and tracked.resource_id is not None
        and tracked.phase not in TERMINAL_PHASES
        and tracked.refused_start != tracked.resource_id
    )


def _find_unknown_start(tracked: Tracked, now: datetime, timing: Timing, nothing: Step) -> Step:
    """The recording a start may have begun, found so that it can be stopped (see the
    module docstring); ``nothing`` once none can exist."""
    if not start_may_have_run(tracked):
        return nothing
    assert tracked.resource_id is not None
    pending = _wait_until(tracked.retry_at, now)
    if pending is not None:
        return pending
    if tracked.lost_start == tracked.resource_id:
        # It runs; only its sid is unknown. Ask again until a callback or the answer
        # names it (our recorder echoes the sid), for as long as adoption is possible.
        return nothing if _adoption_over(tracked, now) else Start(tracked.resource_id)
    expiry = _wait_until(
        None if tracked.acquired_at is None else tracked.acquired_at + _lifetime(timing), now
    )
    if expiry is None:
        return Start(tracked.resource_id)
    # Look again now and then: a callback may adopt it before.
    return Wait(min(expiry.delay, timing.steady_query))


def _settle(tracked: Tracked) -> Step:
    """``state: Stopped`` with nothing at the service: rest (Pending) or end (Failed after
    a fatal error whose restart is now cancelled)."""
    if tracked.phase is Phase.PENDING and tracked.resource_id is None and not tracked.restarts:
        return Idle()
    return Cancel()


def _live(tracked: Tracked) -> bool:
    return tracked.sid is not None and tracked.phase in LIVE_PHASES


LIVE_PHASES = frozenset({Phase.CONNECTING, Phase.RECORDING, Phase.PAUSED})
"""Where a stop is sent for ``state: Stopped`` (the recorder is, or may soon be, in the channel)."""


def _wait_until(when: datetime | None, now: datetime) -> Wait | None:
    if when is not None and when > now:
        return Wait((when - now).total_seconds())
    return None


def _due_query(desired: Desired, tracked: Tracked, now: datetime, timing: Timing) -> Step:
    assert tracked.resource_id is not None and tracked.sid is not None
    if tracked.last_query_at is None:
        # Soon after start, unless the service confirmed the start already (its
        # recorder_started callback): then nothing is learnt before the steady interval.
        anchor = tracked.started_at or now
        first = timing.first_query
        if tracked.ready:
            first = query_interval(tracked.started_at, True, now, timing, desired.max_idle_time)
        due = anchor.timestamp() + first
    else:
        due = tracked.last_query_at.timestamp() + query_interval(
            tracked.started_at, tracked.ready, now, timing, desired.max_idle_time
        )
    if due > now.timestamp():
        return Wait(due - now.timestamp())
    return Query(tracked.resource_id, tracked.sid)


def _start(desired: Desired, tracked: Tracked, now: datetime, timing: Timing) -> Step:
    """The next step towards a recording while no sid is known."""
    if tracked.lost_start is not None and tracked.lost_start == tracked.resource_id:
        if desired.callbacks_expected and not _adoption_over(tracked, now):
            return Wait(timing.transient_backoff_cap)
        return Acquire()
    if tracked.resource_id is None:
        return Acquire()
    if resource_id_expired(tracked, now, timing) and not start_may_have_run(tracked):
        return Acquire()
    # Unused and fresh, or a start with it may have run: start (again) with it. A start
    # that ran is then named ("already started"); an expired unused id is refused (433)
    # and acquired again. A new resource id instead would meet the running recording as
    # a conflict (53) and lose it.
    return Start(tracked.resource_id)


def next_step(desired: Desired, tracked: Tracked, now: datetime, timing: Timing) -> Step:
    """Decide what to do next (see the module docstring)."""
    if desired.deleting:
        return _next_step_deleting(desired, tracked, now, timing)
    if tracked.phase in TERMINAL_PHASES:
        return Idle()
    held = before_start(desired, tracked, start_may_have_run(tracked))  # pausing.py
    if held is not None:
        return held
    stopped = desired.state == "Stopped"
    if stopped and tracked.sid is None and not start_may_have_run(tracked):
        return _settle(tracked)
    if desired.blocked is not None and tracked.sid is None:
        return Wait(timing.transient_backoff_cap)
    if stopped and tracked.sid is None:
        return _find_unknown_start(tracked, now, timing, _settle(tracked))
    queued = queue_step(desired, tracked)  # waiting for the backend's capacity (queue.py)
    if queued is not None:
        return queued
    pending = _wait_until(tracked.retry_at, now)
    if pending is not None:
        return pending

    if tracked.sid is None:
        return _start(desired, tracked, now, timing)

    assert tracked.resource_id is not None
    if desired.state == "Stopped" and not tracked.stop_requested and _live(tracked):
        return Stop(tracked.resource_id, tracked.sid)
    pausing = pause_step(desired, tracked)  # spec.state Paused (pausing.py)
    if pausing is not None:
        return pausing
    if tracked.phase in (Phase.RECORDING, Phase.PAUSED) and tracked.ready:
        if desired.mix and tracked.applied_layout_hash != desired.layout_hash:
            return UpdateLayout(tracked.resource_id, tracked.sid)
        if tracked.applied_subscribe_hash != desired.subscribe_hash:
            return Update(tracked.resource_id, tracked.sid)
    return _due_query(desired, tracked, now, timing)


def _next_step_deleting(desired: Desired, tracked: Tracked, now: datetime, timing: Timing) -> Step:
    if not has_external_recording(tracked):
        return Finish()
    if desired.release_policy == "KeepInBackground":
        return Release() if tracked.sid is not None or start_may_have_run(tracked) else Finish()
    if tracked.sid is None:
        # A resource id alone records nothing, but a start with it may have.
        return _find_unknown_start(tracked, now, timing, Finish())
    if tracked.stop_requested or tracked.phase is Phase.UPLOADING:
        # The service took the stop, or said the recorder left: nothing is billable any
        # more. (Stopping alone is said before stop is sent: it may never have arrived.)
        return Finish()
    pending = _wait_until(tracked.retry_at, now)
    if pending is not None:
        return pending
    assert tracked.resource_id is not None
    return Stop(tracked.resource_id, tracked.sid)
