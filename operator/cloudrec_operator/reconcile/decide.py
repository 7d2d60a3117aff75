"""The next step for a recording, from what is desired and what is known.

``next_step`` is the one decision the operator's reconcile loop asks: it is
called again after every step, so each rule only has to say what comes next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .model import (
    TERMINAL_PHASES,
    Acquire,
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
from .timing import RESOURCE_ID_LIFETIME, RESOURCE_ID_MARGIN, Timing, query_interval


def has_external_recording(tracked: Tracked) -> bool:
    """A recording may exist at the service that this resource owns."""
    if tracked.phase in TERMINAL_PHASES:
        return False
    return tracked.resource_id is not None


def resource_id_expired(tracked: Tracked, now: datetime) -> bool:
    if tracked.acquired_at is None:
        return True
    return now - tracked.acquired_at >= RESOURCE_ID_LIFETIME - RESOURCE_ID_MARGIN


ADOPTION_WINDOW = timedelta(minutes=2)
"""How long to wait for a callback naming a recording whose start answer was lost."""


def _adoption_over(tracked: Tracked, now: datetime) -> bool:
    return tracked.acquired_at is None or now - tracked.acquired_at > ADOPTION_WINDOW


def _live(tracked: Tracked) -> bool:
    return tracked.sid is not None and tracked.phase in (Phase.CONNECTING, Phase.RECORDING)


def _wait_until(when: datetime | None, now: datetime) -> Wait | None:
    if when is not None and when > now:
        return Wait((when - now).total_seconds())
    return None


def _due_query(desired: Desired, tracked: Tracked, now: datetime, timing: Timing) -> Step:
    assert tracked.resource_id is not None and tracked.sid is not None
    if tracked.last_query_at is None:
        anchor = tracked.started_at or now
        due = anchor.timestamp() + timing.first_query
    else:
        due = tracked.last_query_at.timestamp() + query_interval(
            tracked.started_at, tracked.ready, now, timing, desired.max_idle_time
        )
    if due > now.timestamp():
        return Wait(due - now.timestamp())
    return Query(tracked.resource_id, tracked.sid)


def next_step(desired: Desired, tracked: Tracked, now: datetime, timing: Timing) -> Step:
    """Decide what to do next (see the module docstring)."""
    if desired.deleting:
        return _next_step_deleting(desired, tracked, now)
    if tracked.phase in TERMINAL_PHASES:
        return Idle()
    if desired.blocked is not None and tracked.sid is None:
        return Wait(timing.transient_backoff_cap)
    pending = _wait_until(tracked.retry_at, now)
    if pending is not None:
        return pending

    if tracked.sid is None:
        if desired.state == "Stopped":
            return Idle()
        if tracked.lost_start is not None and tracked.lost_start == tracked.resource_id:
            if desired.callbacks_expected and not _adoption_over(tracked, now):
                return Wait(timing.transient_backoff_cap)
            return Acquire()
        if tracked.resource_id is None or resource_id_expired(tracked, now):
            return Acquire()
        return Start(tracked.resource_id)

    assert tracked.resource_id is not None
    if desired.state == "Stopped" and not tracked.stop_requested and _live(tracked):
        return Stop(tracked.resource_id, tracked.sid)
    if tracked.phase is Phase.RECORDING and tracked.ready:
        if desired.mix and tracked.applied_layout_hash != desired.layout_hash:
            return UpdateLayout(tracked.resource_id, tracked.sid)
        if tracked.applied_subscribe_hash != desired.subscribe_hash:
            return Update(tracked.resource_id, tracked.sid)
    return _due_query(desired, tracked, now, timing)


def _next_step_deleting(desired: Desired, tracked: Tracked, now: datetime) -> Step:
    if not has_external_recording(tracked):
        return Finish()
    if tracked.sid is None:
        # Acquired but never started: a resource id alone records nothing.
        return Finish()
    if desired.release_policy == "KeepInBackground":
        return Release()
    if tracked.stop_requested or tracked.phase in (Phase.STOPPING, Phase.UPLOADING):
        # The recorder already left; nothing is billable any more.
        return Finish()
    pending = _wait_until(tracked.retry_at, now)
    if pending is not None:
        return pending
    assert tracked.resource_id is not None
    return Stop(tracked.resource_id, tracked.sid)
