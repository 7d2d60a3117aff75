"""Pause and resume (``spec.state: Paused``): the pure rules (issue 15, item 2).

* A recording the service confirmed (phase Recording, ready) whose spec says Paused is
  paused: :class:`~.model.Pause`, the self-hosted recorder's ``update`` with ``onhold: true``
  (our extension, docs/backends.md). Answered: phase Paused, Event Paused; Ready stays True
  with reason Paused (a paused recording is what the spec asks for).
* A paused recording whose spec says Recording again is resumed (:class:`~.model.Resume`,
  ``onhold: false``): phase Recording, Event Resumed. The same sid, playlist and MP4 series
  go on (the recorder marks the gap).
* ``state: Stopped`` or deletion while paused stop the recording as usual (``decide``).
* A backend that cannot pause (hosted: its ``update`` only replaces the subscribe lists, of
  at most 32 named uids, and no documented list means "nobody", so nothing can promise that
  no media is captured) is told nothing: :class:`~.model.RefusePause` posts a Warning Event
  ``PauseUnsupported`` once and Ready turns False with that reason; the recording goes on.
  A recorder that refuses ``onhold`` (400) is treated the same way.
* Paused before any recording exists: nothing is started (a queued recording leaves its
  queue), Ready True with reason Paused; Recording again starts it. A recording being
  started (Connecting) is paused once the service confirms it runs.
"""

from __future__ import annotations

from .model import (
    Cancel,
    Desired,
    EventRecord,
    Failure,
    Idle,
    Pause,
    Phase,
    Reason,
    RefusePause,
    Resume,
    Step,
    Tracked,
    Transition,
)

PAUSED = "Paused"
"""``spec.state`` value, phase, Event and Ready reason of a paused recording."""
PAUSE_UNSUPPORTED = "PauseUnsupported"
"""Event and Ready reason when the backend cannot pause."""
PAUSED_MESSAGE = "Paused: the recorder captures no media until spec.state is Recording"
PAUSED_BEFORE_START = (
    "Paused before the recording started: nothing runs until spec.state is Recording"
)
UNSUPPORTED_MESSAGE = (
    "spec.state Paused: the backend cannot pause a recording (the hosted protocol's update "
    "only replaces the subscribe lists); the recording goes on. Set Recording or Stopped"
)


def wants_pause(desired: Desired) -> bool:
    return desired.state == PAUSED


def pause_step(desired: Desired, tracked: Tracked) -> Step | None:
    """Pause, resume or refuse to pause a live recording; None when nothing is to do."""
    wanted = wants_pause(desired)
    if tracked.pause_refused and not wanted:
        return RefusePause(clear=True)
    if tracked.sid is None or tracked.resource_id is None or not tracked.ready:
        return None
    if tracked.phase is Phase.RECORDING and wanted:
        if desired.pause_supported and not tracked.pause_refused:
            return Pause(tracked.resource_id, tracked.sid)
        return None if tracked.pause_refused else RefusePause()
    if tracked.phase is Phase.PAUSED and not wanted:
        return Resume(tracked.resource_id, tracked.sid)
    return None


def before_start(desired: Desired, tracked: Tracked, may_have_run: bool) -> Step | None:
    """``state: Paused`` while no recording runs: start nothing (None: the usual rules).

    ``may_have_run``: a start's answer is unknown, so a recording may run; it is found and
    then paused."""
    if not wants_pause(desired) or tracked.sid is not None or may_have_run:
        return None
    if tracked.phase is Phase.PENDING and tracked.resource_id is None:
        return Idle()
    if tracked.phase is Phase.QUEUED and not tracked.restarts:
        return Cancel()  # out of the queue, back to Pending (reconcile.queue)
    return None


def applied(tracked: Tracked, step: Pause | Resume) -> Transition:
    """The recorder took the pause or the resume."""
    if isinstance(step, Pause):
        return Transition(
            tracked.replace(phase=Phase.PAUSED),
            (EventRecord(Reason.PAUSED, f"Recording paused (sid {tracked.sid})"),),
        )
    return Transition(
        tracked.replace(phase=Phase.RECORDING),
        (EventRecord(Reason.RESUMED, f"Recording resumed (sid {tracked.sid})"),),
    )


def refusal(tracked: Tracked, step: RefusePause) -> Transition:
    """The outcome of :class:`~.model.RefusePause`."""
    if step.clear:
        return Transition(tracked.replace(pause_refused=False))
    return refused(tracked)


def refused(tracked: Tracked, why: str = UNSUPPORTED_MESSAGE) -> Transition:
    """The backend cannot pause: say so once; the recording goes on."""
    return Transition(
        tracked.replace(pause_refused=True),
        (EventRecord(Reason.PAUSE_UNSUPPORTED, why, warning=True),),
    )


def refused_by_recorder(tracked: Tracked, failure: Failure) -> Transition:
    """A pause the recorder answered with a permanent error (it does not know ``onhold``)."""
    return refused(tracked, f"spec.state Paused: the recorder refused to pause ({failure.message})")


def unpaused_wanted(tracked: Tracked, state: str) -> bool:
    """Ready False (PauseUnsupported): the spec asks for a pause the backend refused."""
    return state == PAUSED and tracked.pause_refused and tracked.phase is Phase.RECORDING


__all__ = [
    "PAUSED",
    "PAUSED_BEFORE_START",
    "PAUSED_MESSAGE",
    "PAUSE_UNSUPPORTED",
    "UNSUPPORTED_MESSAGE",
    "applied",
    "before_start",
    "pause_step",
    "refusal",
    "refused",
    "refused_by_recorder",
    "unpaused_wanted",
    "wants_pause",
]
