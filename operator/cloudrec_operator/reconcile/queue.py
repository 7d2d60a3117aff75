"""The queue of recordings waiting for a backend's capacity (pure: no clock, no I/O).

A start the backend refuses because it is at capacity (code 406 ``vendor_over_load``, at
acquire or start) puts the recording in phase ``Queued`` instead of failing it. While any
recording waits in a backend's queue, a new recording of that backend joins the queue too
(``Enqueue``) rather than taking the next free place ahead of the others.

The order is ``spec.priority`` (higher first), then ``metadata.creationTimestamp`` (older
first), then namespace and name: everything comes from the resources, so the queue is the
same after an operator restart. Only the recordings at the head are admitted to start, as
many as the backend has room for (the self-hosted recorder says how many: the capacity
query); a hosted backend, which does not say, has its head alone try again after a back-off.
The operator's queue loop (``handlers.queueing``) does the I/O: it asks for capacity and
wakes the admitted recordings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import (
    Desired,
    Enqueue,
    EventRecord,
    Phase,
    Seat,
    Step,
    Tracked,
    Transition,
    Wait,
)
from .timing import Timing, backoff

QUEUE_RECHECK = 30.0
"""Seconds between a waiting recording's own passes (the queue loop wakes it sooner)."""
QUEUED = "Queued"
"""Event and Ready condition reason of a recording waiting for capacity."""

WaiterKey = tuple[str, str]
"""(namespace, name)."""


@dataclass(frozen=True)
class Waiter:
    """A recording waiting in a backend's queue, as its resource says."""

    namespace: str
    name: str
    priority: int = 0
    created: str = ""
    """``metadata.creationTimestamp`` (RFC 3339 in UTC, so it sorts as text)."""

    @property
    def key(self) -> WaiterKey:
        return (self.namespace, self.name)


def _rank(waiter: Waiter) -> tuple[int, str, str, str]:
    return (-waiter.priority, waiter.created, waiter.namespace, waiter.name)


def ordered(waiters: Iterable[Waiter]) -> list[Waiter]:
    """The queue, first to start first (one entry per recording: the last one given)."""
    unique = {waiter.key: waiter for waiter in waiters}
    return sorted(unique.values(), key=_rank)


def positions(waiters: Iterable[Waiter]) -> dict[WaiterKey, int]:
    """Each recording's place in the queue, 1 for the next to start."""
    return {waiter.key: place for place, waiter in enumerate(ordered(waiters), start=1)}


def heads(waiters: Iterable[Waiter], free: int | None) -> list[Waiter]:
    """The recordings that may try to start now: the first ``free`` ones when the backend
    says how much room it has, the first alone when it does not (a probe)."""
    queue = ordered(waiters)
    room = 1 if free is None else max(0, free)
    return queue[:room]


def admit(
    waiters: Iterable[Waiter], free: int | None, holding: Iterable[WaiterKey] = ()
) -> list[Waiter]:
    """Who the queue lets try to start now, in queue order: the :func:`heads`, and, when
    the backend says how much room it has, every recording that holds a resource id from
    an ``acquire`` whose ``start`` was refused: the backend counts that id as a place
    taken, so the room it reports already leaves it out."""
    queue = ordered(waiters)
    chosen = {waiter.key for waiter in heads(queue, free)}
    if free is not None:
        chosen |= set(holding)
    return [waiter for waiter in queue if waiter.key in chosen]


def seat(me: Waiter, others: Iterable[Waiter], queued: bool, admitted: bool) -> Seat | None:
    """``me``'s seat in its backend's queue: None when it is not queued and nobody else
    waits (then it starts as usual); otherwise its place among ``others`` and itself."""
    waiting = [waiter for waiter in others if waiter.key != me.key]
    if not queued and not waiting:
        return None
    return Seat(position=positions([*waiting, me])[me.key], admitted=admitted)


def fresh(tracked: Tracked) -> bool:
    """A recording that has not asked the service for anything yet."""
    return (
        tracked.phase is Phase.PENDING
        and tracked.resource_id is None
        and tracked.sid is None
        and not tracked.restarts
    )


def queue_step(desired: Desired, tracked: Tracked) -> Step | None:
    """The queue's say in ``next_step`` (None: the queue does not hold it back).

    A queued recording waits until the queue admits it; a fresh one joins the queue when
    others wait there and it was not admitted. ``state: Stopped`` and deletion are decided
    before this: a queued recording then leaves the queue without starting.
    """
    if tracked.sid is not None:
        return None
    place = desired.queue
    if tracked.phase is Phase.QUEUED:
        if place is not None and place.admitted:
            return None
        return Wait(QUEUE_RECHECK)
    if fresh(tracked) and place is not None and not place.admitted:
        return Enqueue()
    return None


def _position_text(position: int | None) -> str:
    return "" if position is None else f" (position {position})"


def enqueued(desired: Desired, tracked: Tracked) -> Transition:
    """The outcome of ``Enqueue``: Queued behind the recordings already waiting."""
    position = None if desired.queue is None else desired.queue.position
    message = "Other recordings wait for the backend's capacity; queued" + _position_text(position)
    return Transition(tracked.replace(phase=Phase.QUEUED), (EventRecord(QUEUED, message),))


def at_capacity(
    desired: Desired, tracked: Tracked, message: str, now: datetime, timing: Timing
) -> Transition:
    """A start refused because the backend is at capacity: Queued, not failed.

    A backend that answers the capacity query is tried again when it has room; one that
    does not (hosted) after a back-off, the head of its queue only.
    """
    failures = tracked.failures + 1
    retry_at = None
    if not desired.capacity_known:
        delay = backoff(failures, timing.transient_backoff_base, timing.transient_backoff_cap)
        retry_at = now + timedelta(seconds=delay)
    queued = tracked.replace(
        phase=Phase.QUEUED,
        failures=failures,
        retry_at=retry_at,
        ready=False,
        degraded=None,
        degraded_message="",
    )
    if tracked.phase is Phase.QUEUED:
        return Transition(queued)
    event = EventRecord(QUEUED, f"The backend is at capacity ({message}); queued")
    return Transition(queued, (event,))


def queue_position(phase: Phase | None, position: int | None) -> int | None:
    """``status.queuePosition``: the place while Queued, nothing otherwise."""
    return position if phase is Phase.QUEUED else None


__all__ = [
    "QUEUED",
    "QUEUE_RECHECK",
    "Waiter",
    "WaiterKey",
    "admit",
    "at_capacity",
    "enqueued",
    "fresh",
    "heads",
    "ordered",
    "positions",
    "queue_position",
    "queue_step",
    "seat",
]
