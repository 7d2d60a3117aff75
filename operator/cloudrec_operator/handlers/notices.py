"""A verified callback as the reconcile pass takes it, how it is logged and counted, and
the callbacks held for a sid that a start has just returned."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from pydantic import ValidationError

from cloudrec_operator.metrics import CALLBACKS_RECEIVED, CALLBACKS_REJECTED
from cloudrec_operator.reconcile.model import Desired, EventRecord, Notified, Start, Tracked
from cloudrec_operator.reconcile.observe import apply_notification
from cloudrec_operator.reconcile.persist import MAX_NOTICES
from cloudrec_protocol.events import EventType, Notification, verify

from .runtime import Backend, Key, Runtime

log = logging.getLogger("cloudrec_operator.callbacks")

_EVENT_TYPES = frozenset(int(t) for t in EventType)


def event_label(event_type: int) -> str:
    """The metric label of an eventType: the catalogue's numbers, anything else ``other``."""
    return str(event_type) if event_type in _EVENT_TYPES else "other"


def short(text: str) -> str:
    """A sender's string as logs show it: printable, at most 64 characters."""
    return repr(text[:64])


def notified(note: Notification) -> Notified:
    """The callback with its typed details; details that do not fit their event's model are
    left out (the event then changes nothing) and said in the log."""
    try:
        details = note.typed_details()
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        log.warning(
            "Callback eventType %s for sid %s: details do not fit (%s); ignored",
            event_label(note.event_type),
            short(note.payload.sid),
            fields[:200],
        )
        details = None
    return Notified(note.event_type, details, sid=note.payload.sid, notice_id=note.dedupe_key())


def accepted(note: Notification, key: Key) -> None:
    CALLBACKS_RECEIVED.labels(event_type=event_label(note.event_type)).inc()
    log.info(
        "Received callback eventType %s for CloudRecording %s/%s",
        note.event_type,
        key[0],
        key[1],
    )


def _claim_held(rt: Runtime, key: Key, sid: str, backend: Backend) -> list[Notified]:
    """The callbacks held for the sid a start just returned, signed by this recording's
    backend: applied in the same pass, so the sid and what they say (the recorder runs:
    Ready) reach the status in one write. The recorder sends its first events while it
    answers the start, so they are often here before the answer."""
    if sid not in rt.held:
        return []
    claimed = rt.held.claim(sid)
    secret = backend.callback_secret
    taken: list[Notified] = []
    for item in claimed:
        if secret is None or not verify(item.raw, item.signatures, secret):
            CALLBACKS_REJECTED.labels(reason="bad_signature").inc()
            log.warning("Dropped a held callback: bad signature for %s/%s", key[0], key[1])
            continue
        accepted(item.note, key)
        taken.append(notified(item.note))
    return taken


FIRST_CALLBACK_WAIT = 0.5
"""Seconds a pass waits, after a start's answer, for the recorder's first callback before it
writes the sid (``await_first_callback``)."""


async def await_first_callback(
    rt: Runtime, step: object, backend: Backend, desired: Desired, tracked: Tracked
) -> None:
    """After a start that returned a sid, wait (at most :data:`FIRST_CALLBACK_WAIT` s) until
    a callback for that sid is held, so :func:`take_held` applies it and the sid and Ready
    reach the status in one write, not two (and one watch event and one pass less per
    recording). The recorder sends ``recorder_started`` (40) while it answers the start, so
    it is usually on its way; no wait when callbacks are not expected from the backend or
    one is held already. The resource id is on the resource before the start, so a crash
    during the wait loses nothing: the next pass adopts the start (``decide``)."""
    sid = tracked.sid
    if not isinstance(step, Start) or sid is None or not desired.callbacks_expected:
        return
    if sid in rt.held:
        return
    held = rt.arrivals.setdefault(sid, asyncio.Event())
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(held.wait(), FIRST_CALLBACK_WAIT)
    finally:
        rt.arrivals.pop(sid, None)


def arrived(rt: Runtime, sid: str) -> None:
    """A callback for ``sid`` is held: wake the pass waiting for it, if one is."""
    waiting = rt.arrivals.get(sid)
    if waiting is not None:
        waiting.set()


def take_held(
    rt: Runtime,
    key: Key,
    step: object,
    backend: Backend,
    desired: Desired,
    tracked: Tracked,
    events: list[EventRecord],
) -> Tracked:
    """``tracked`` after the callbacks held for the sid a ``step`` that was a start just
    returned (:func:`_claim_held`); their Events are added to ``events``."""
    if not isinstance(step, Start) or tracked.sid is None:
        return tracked
    for held in _claim_held(rt, key, tracked.sid, backend):
        transition = apply_notification(desired, tracked, held, datetime.now(UTC), rt.timing)
        tracked = noted(transition.tracked, held)
        events.extend(transition.events)
    return tracked


def noted(tracked: Tracked, notification: Notified) -> Tracked:
    """``tracked`` remembering the callback's notice id (``status.appliedCallbacks``)."""
    notice = notification.notice_id
    if not notice or notice in tracked.notices:
        return tracked
    return tracked.replace(notices=(*tracked.notices, notice)[-MAX_NOTICES:])


__all__ = [
    "FIRST_CALLBACK_WAIT",
    "accepted",
    "arrived",
    "await_first_callback",
    "event_label",
    "noted",
    "notified",
    "short",
    "take_held",
]
