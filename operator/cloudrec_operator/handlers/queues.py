"""The backends' queues in the operator process: who waits, and waking who may start.

The decisions are pure (``reconcile.queue``); this module holds what they are computed
from and does the I/O:

* who waits on a backend comes from the resources: the queue part of kopf's
  ``recording_index`` index (``indexes``: every CloudRecording whose status says Queued, filled
  from the initial listing before any handler runs, so the queue is whole right after a
  restart), corrected by what this process wrote since (``Queues.note``);
* :func:`serve_queues` runs in the background: whenever a recording's phase changed (a
  recording stopped, exited or left the queue) and once a second, for each backend with
  waiters it learns how much room the backend has (the self-hosted recorder's
  ``capacity`` extension; the hosted service says nothing, so its head alone tries
  again after its back-off), admits that many from the head of the queue and runs their
  passes at once, and refreshes the ``status.queuePosition`` of those whose place moved
  (``REFRESH_BATCH`` at a time, nearest the head first: a start moves every place behind
  it, and a write per waiter at once would hold up the next start);
* the ``cloudrec_queue_depth`` gauge shows the waiters per backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cloudrec_operator.api.enums import BackendKind, Phase, ServiceKind
from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.metrics import QUEUE_DEPTH, RECONCILE_ERRORS
from cloudrec_operator.reconcile.model import Tracked
from cloudrec_operator.reconcile.queue import (
    Waiter,
    WaiterKey,
    admit,
    heads,
    ordered,
    positions,
)
from cloudrec_protocol.errors import ProtocolError

if TYPE_CHECKING:
    from .runtime import Backend

log = logging.getLogger("cloudrec_operator.queue")

POLL_SECONDS = 1.0
"""How often every queue is looked at even when nothing said a place freed."""

REFRESH_BATCH = 16
"""Passes that only rewrite ``status.queuePosition`` in flight at most (the head first)."""

BackendKey = tuple[str, str, str]
"""(kind, namespace or "" for a ClusterRecordingBackend, name)."""
QueueIndex = Mapping[BackendKey, Iterable[Waiter]]
FREEING = frozenset({Phase.PENDING, Phase.UPLOADING, Phase.COMPLETED, Phase.FAILED, Phase.RELEASED})
"""Phases that may mean a place at the backend freed when a recording enters them."""


def backend_key(namespace: str, spec: Mapping[str, Any]) -> BackendKey | None:
    """The backend a CloudRecording's spec names (the runtime's cache key)."""
    ref = spec.get("backendRef") or {}
    if not ref.get("name"):
        return None
    kind = str(ref.get("kind") or BackendKind.RECORDING_BACKEND)
    cluster = kind == BackendKind.CLUSTER_RECORDING_BACKEND
    return (kind, "" if cluster else namespace, str(ref["name"]))


def waiter_of(namespace: str, name: str, body: Mapping[str, Any]) -> Waiter:
    """The queue entry of a CloudRecording: its priority and creation time."""
    spec = body.get("spec") or {}
    meta = body.get("metadata") or {}
    try:
        priority = int(spec.get("priority") or 0)
    except (TypeError, ValueError):
        priority = 0
    return Waiter(namespace, name, priority, str(meta.get("creationTimestamp") or ""))


def queue_index_entry(
    namespace: str, name: str, body: Mapping[str, Any]
) -> dict[BackendKey, Waiter]:
    """The queue part of the ``recording_index`` entry of one CloudRecording: its backend and queue
    entry while its status says Queued, nothing otherwise."""
    status = body.get("status") or {}
    if status.get("phase") != Phase.QUEUED:
        return {}
    key = backend_key(namespace, body.get("spec") or {})
    return {} if key is None else {key: waiter_of(namespace, name, body)}


def backend_label(key: BackendKey) -> str:
    kind, namespace, name = key
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


@dataclass
class Queues:
    """The queues' state in this process (see the module docstring)."""

    index: QueueIndex | None = None
    """kopf's live ``recording_index`` index, its queue part (set at start-up)."""
    members: dict[BackendKey, dict[WaiterKey, Waiter]] = field(default_factory=dict)
    """Recordings this process put in a queue, per backend (until they leave it)."""
    left: set[WaiterKey] = field(default_factory=set)
    """Recordings this process took out of a queue (the index may not know yet)."""
    granted: set[WaiterKey] = field(default_factory=set)
    """Admitted by the queue loop; their pass may start them."""
    in_flight: set[WaiterKey] = field(default_factory=set)
    """Passes the queue loop started and that have not ended."""
    again: set[WaiterKey] = field(default_factory=set)
    """Admitted while a pass of theirs was running: another pass follows it."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    gauged: set[BackendKey] = field(default_factory=set)

    def waiting(self, backend: BackendKey | None) -> list[Waiter]:
        """Who waits on ``backend`` (in no order; ``reconcile.queue.ordered`` orders)."""
        if backend is None:
            return []
        found: dict[WaiterKey, Waiter] = {}
        if self.index is not None:
            for waiter in self.index.get(backend, ()):
                if waiter.key not in self.left:
                    found[waiter.key] = waiter
        found.update(self.members.get(backend, {}))
        return list(found.values())

    def backends(self) -> set[BackendKey]:
        keys = {key for key, members in self.members.items() if members}
        if self.index is not None:
            keys.update(self.index.keys())
        return keys

    def note(
        self, backend: BackendKey | None, waiter: Waiter, before: Phase, after: Phase | None
    ) -> None:
        """After a pass: in the queue or not (``after`` None: the resource is gone). Wakes
        the queue loop when the queue changed or a place at the backend may have freed."""
        queued = after is Phase.QUEUED
        for members in self.members.values():
            members.pop(waiter.key, None)
        if queued and backend is not None:
            self.members.setdefault(backend, {})[waiter.key] = waiter
            self.left.discard(waiter.key)
        else:
            self.left.add(waiter.key)
        changed = before is not after and (after is None or after in FREEING or queued)
        if changed or (before is Phase.QUEUED and not queued):
            self.wake.set()

    def moved(self, before: Phase, after: Phase) -> None:
        """Mid-pass: a recording left a phase that holds a place at the backend for one
        that does not (stopped, completed, failed). The queue loop runs at once, while
        this pass still writes its status and Events."""
        if before is not after and before not in FREEING and after in FREEING:
            self.wake.set()

    def forget_left(self) -> None:
        """Drop marks of recordings the index no longer lists as queued."""
        if self.index is None:
            self.left.clear()
            return
        listed = {w.key for waiters in self.index.values() for w in waiters}
        self.left &= listed


Pass = Callable[[Mapping[str, Any]], Awaitable[object]]
"""Runs one reconcile pass over a CloudRecording body."""
Room = Callable[[BackendKey, Waiter], Awaitable[int | None]]
"""How many more recordings a backend takes now; None when it does not say."""
Resolve = Callable[[CloudRecordingSpec, str], Awaitable["Backend"]]
"""The runtime's backend lookup (``Runtime.backend``)."""


def _holds_resource_id(tracked: Tracked | None) -> bool:
    return tracked is not None and tracked.resource_id is not None


def _retry_due(tracked: Tracked | None, now: datetime) -> bool:
    return tracked is None or tracked.retry_at is None or tracked.retry_at <= now


@dataclass
class QueueServer:
    """One round over every queue (:meth:`serve_once`); :func:`serve_queues` loops it."""

    queues: Queues
    bodies: Mapping[WaiterKey, Mapping[str, Any]]
    tracked: Callable[[WaiterKey], Tracked | None]
    status: Callable[[WaiterKey], Mapping[str, Any]]
    room: Room
    run_pass: Pass
    admitting: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
    """Entered around an admitted recording's pass (the Kubernetes facade's ``urgent``: its
    writes do not wait behind the other recordings')."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def serve_once(self) -> None:
        self.queues.forget_left()
        backends = self.queues.backends() | self.queues.gauged
        for backend in backends:
            waiters = [w for w in self.queues.waiting(backend) if w.key in self.bodies]
            QUEUE_DEPTH.labels(backend=backend_label(backend)).set(len(waiters))
            if waiters:
                self.queues.gauged.add(backend)
                await self._serve(backend, waiters)
            else:
                self.queues.gauged.discard(backend)

    async def _serve(self, backend: BackendKey, waiters: list[Waiter]) -> None:
        busy = [w for w in waiters if w.key in self.queues.granted]
        idle = [w for w in waiters if w.key not in self.queues.granted]
        if not idle:
            return
        free = await self.room(backend, heads(idle, None)[0])
        now = datetime.now(UTC)
        if free is None:
            admitted = [w for w in heads(idle, None) if _retry_due(self.tracked(w.key), now)]
            admitted = [] if busy else admitted
        else:
            holding = [w.key for w in idle if _holds_resource_id(self.tracked(w.key))]
            admitted = admit(idle, free - len(busy), holding)
        for waiter in admitted:
            # A waiter whose position pass is still running is admitted all the same (never
            # skipped for the one behind it): its next pass starts once that one ends.
            self.queues.granted.add(waiter.key)
            if waiter.key in self.queues.in_flight:
                self.queues.again.add(waiter.key)
            else:
                self._spawn(waiter.key)
        # Positions last, nearest the head first, a few at a time, and not while a start is
        # under way: every start moves every place behind it, and their writes would hold
        # up the next start.
        if admitted or busy:
            return
        places = positions(waiters)
        refreshing = len(self.queues.in_flight) - len(self.queues.granted)
        moved = [
            waiter
            for waiter in ordered(idle)
            if waiter not in admitted
            and waiter.key not in self.queues.in_flight
            and self.status(waiter.key).get("queuePosition") != places[waiter.key]
        ]
        for waiter in moved[: max(0, REFRESH_BATCH - refreshing)]:
            self._spawn(waiter.key)

    def _spawn(self, key: WaiterKey) -> None:
        body = self.bodies.get(key)
        if body is None:
            self.queues.granted.discard(key)
            return
        self.queues.in_flight.add(key)
        task = asyncio.get_running_loop().create_task(self._run(key, body))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, key: WaiterKey, body: Mapping[str, Any]) -> None:
        try:
            if key in self.queues.granted:
                with self.admitting():
                    await self.run_pass(body)
            else:
                await self.run_pass(body)
        except Exception as error:  # the next round tries again
            RECONCILE_ERRORS.inc()
            log.error("Queued recording %s/%s: pass failed: %s", *key, type(error).__name__)
        finally:
            self.queues.in_flight.discard(key)
            if key in self.queues.again:
                self.queues.again.discard(key)
                self._spawn(key)
            else:
                self.queues.granted.discard(key)


async def serve_queues(server: QueueServer, interval: float = POLL_SECONDS) -> None:
    """Serve the queues until cancelled: at once when woken, at least every ``interval``."""
    while True:
        try:
            await asyncio.wait_for(server.queues.wake.wait(), interval)
        except TimeoutError:
            pass
        server.queues.wake.clear()
        started = time.monotonic()
        try:
            await server.serve_once()
        except Exception as error:  # keep serving
            RECONCILE_ERRORS.inc()
            log.error("Queue round failed: %s", type(error).__name__)
        log.debug("Queue round took %.3f s", time.monotonic() - started)


def backend_room(resolve: Resolve, bodies: Mapping[WaiterKey, Mapping[str, Any]]) -> Room:
    """The ``room`` of a :class:`QueueServer`: the self-hosted recorder's capacity
    extension (``available`` for the head's app id); None for a hosted backend, or when
    the answer is not to be had (the head then probes with a start after its back-off)."""

    async def room(_: BackendKey, head: Waiter) -> int | None:
        body = bodies.get(head.key)
        if body is None:
            return None
        try:
            spec = CloudRecordingSpec.load(body.get("spec") or {})
            backend = await resolve(spec, head.namespace)
        except (LookupError, ValueError):
            return None
        if backend.spec.service_kind is not ServiceKind.SELF_HOSTED:
            return None
        appid = spec.app_id or backend.spec.default_app_id
        if appid is None:
            return None
        try:
            answer = await backend.client.capacity(appid)
        except ProtocolError as error:
            log.warning("Capacity query failed: %s", type(error).__name__)
            return None
        return int(answer.available)

    return room


__all__ = [
    "BackendKey",
    "QueueServer",
    "Queues",
    "backend_key",
    "backend_label",
    "backend_room",
    "queue_index_entry",
    "serve_queues",
    "waiter_of",
]
