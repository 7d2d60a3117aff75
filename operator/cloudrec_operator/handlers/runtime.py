"""What the operator process holds between handler calls.

One ``Runtime`` per process: settings, the Kubernetes facade, protocol clients
per backend, a lock per CloudRecording (handlers, the timer and callbacks never
act on one recording at the same time), the last known state of each
recording, kopf's sid index (``recording_by_sid``: sid -> namespace and name,
from ``status.recordingId``) that the callback receiver reads, the callbacks
held for a sid not known yet, and the notice ids already applied.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudrec_operator.api.enums import BackendKind
from cloudrec_operator.api.v1alpha1.cloudrecording import BackendRef, CloudRecordingSpec
from cloudrec_operator.api.v1alpha1.recordingbackend import RecordingBackendSpec
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_operator.metrics import PROTOCOL_LATENCY, RECORDINGS
from cloudrec_operator.reconcile.held import HeldEvents
from cloudrec_operator.reconcile.model import Desired, Phase, Tracked
from cloudrec_operator.reconcile.observe import awaits_adoption
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.settings import Settings
from cloudrec_protocol.events import Notification

from .ports import KubeApi

Key = tuple[str, str]
"""(namespace, name) of a CloudRecording."""

BACKEND_CACHE_SECONDS = 60.0


@dataclass
class Backend:
    """A resolved backend: a client with its credentials, the app id, the callback secret."""

    spec: RecordingBackendSpec
    client: RecordingClient
    callback_secret: str | None
    fingerprint: str
    loaded_at: float


@dataclass
class Known:
    """What this process last wrote (or read) for one recording."""

    uid: str
    tracked: Tracked
    status: dict[str, Any]
    annotation: str
    finalizer: bool | None = None
    """Whether our finalizer is on, as this process last wrote it (None: as the body says;
    the body a pass is given may predate the write)."""


@dataclass(frozen=True)
class HeldCallback:
    """A callback kept until its sid is known: checked again then with its own backend."""

    raw: bytes
    signatures: Mapping[str, str]
    """The signature headers it came with."""
    note: Notification


SidIndex = Mapping[str, Iterable[Key]]
"""kopf's ``recording_by_sid`` index: sid -> the (namespace, name) of its CloudRecording."""


@dataclass
class Runtime:
    settings: Settings
    kube: KubeApi
    timing: Timing
    locks: dict[Key, asyncio.Lock] = field(default_factory=dict)
    known: dict[Key, Known] = field(default_factory=dict)
    bodies: dict[Key, Mapping[str, Any]] = field(default_factory=dict)
    index: SidIndex | None = None
    """Set at start-up to kopf's live index; kopf updates it from watch events."""
    held: HeldEvents[HeldCallback] = field(default_factory=HeldEvents)
    backends: dict[tuple[str, str, str], Backend] = field(default_factory=dict)
    backend_loads: dict[tuple[str, str, str], asyncio.Lock] = field(default_factory=dict)
    """One load of a backend at a time: many recordings created at once read its Secrets and
    open its client once, not once each."""
    notices: OrderedDict[str, None] = field(default_factory=OrderedDict)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    phase_counts: Counter[Phase] = field(default_factory=Counter)
    """Known recordings by phase (the ``cloudrec_recordings`` gauge)."""
    quiet_until: dict[Key, tuple[str, float]] = field(default_factory=dict)
    """Per recording: the resourceVersion of the last tick's pass and when its next step is
    due (see :meth:`tick_due`); any other pass clears it."""

    def __post_init__(self) -> None:
        for phase in Phase:
            RECORDINGS.labels(phase=str(phase)).set(0)

    def tick_due(self, key: Key, version: str) -> bool:
        """Whether the query timer's tick should run a pass: not while the last tick's pass
        said nothing is due yet and nothing (no other pass, no new resourceVersion) came
        since; at 500 recordings the timer ticks a hundred times a second."""
        quiet = self.quiet_until.get(key)
        return quiet is None or quiet[0] != version or time.monotonic() >= quiet[1]

    def lock(self, key: Key) -> asyncio.Lock:
        if key not in self.locks:
            self.locks[key] = asyncio.Lock()
        return self.locks[key]

    def remember(self, key: Key, known: Known) -> None:
        old = self.known.get(key)
        self.known[key] = known
        self._count_phase(old, known)

    def forget(self, key: Key) -> None:
        old = self.known.pop(key, None)
        self.quiet_until.pop(key, None)
        self.bodies.pop(key, None)
        self.locks.pop(key, None)
        self._count_phase(old, None)

    def _count_phase(self, old: Known | None, new: Known | None) -> None:
        """Keep the per-phase gauge; O(1) per write (a count over every recording at every
        write was 5 % of the operator's CPU at 200 recordings)."""
        before = None if old is None else old.tracked.phase
        after = None if new is None else new.tracked.phase
        if before is after:
            return
        if before is not None:
            self.phase_counts[before] -= 1
            RECORDINGS.labels(phase=str(before)).set(self.phase_counts[before])
        if after is not None:
            self.phase_counts[after] += 1
            RECORDINGS.labels(phase=str(after)).set(self.phase_counts[after])

    def owner(self, sid: str) -> Key | None:
        """The CloudRecording whose status names ``sid``, as far as the index knows."""
        if self.index is None:
            return None
        for key in self.index.get(sid, ()):
            return key
        return None

    def callback_secrets(self) -> set[str]:
        """The callback secrets of the backends this process has loaded."""
        return {b.callback_secret for b in self.backends.values() if b.callback_secret}

    def adoptable(self, cname: str, uid: str) -> Key | None:
        """The recording waiting to adopt the recording of ``cname``/``uid``: a lost start,
        or a start whose answer is unknown of a resource being stopped or deleted
        (:func:`~cloudrec_operator.reconcile.observe.awaits_adoption`)."""
        for key, known in self.known.items():
            if known.tracked.sid is not None:
                continue
            body = self.bodies.get(key) or {}
            spec = body.get("spec") or {}
            desired = Desired(
                generation=1,
                state=str(spec.get("state") or "Recording"),
                deleting=bool((body.get("metadata") or {}).get("deletionTimestamp")),
            )
            if not awaits_adoption(desired, known.tracked):
                continue
            if spec.get("channelName") == cname and str(spec.get("uid")) == uid:
                return key
        return None

    def seen_notice(self, notice_id: str, limit: int = 20000) -> bool:
        """True if the notice was applied before; otherwise remember it."""
        if notice_id in self.notices:
            return True
        self.notices[notice_id] = None
        while len(self.notices) > limit:
            self.notices.popitem(last=False)
        return False

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # ------------------------------------------------------------ backends

    async def backend(self, spec: CloudRecordingSpec, namespace: str) -> Backend:
        """The backend the recording refers to, with its credentials (cached a minute).

        Raises a ``LookupError`` naming what is missing.
        """
        ref = spec.backend_ref
        cluster = ref.kind is BackendKind.CLUSTER_RECORDING_BACKEND
        where = "" if cluster else namespace
        cache_key = (str(ref.kind), where, ref.name)
        cached = self.backends.get(cache_key)
        if cached is not None and time.monotonic() - cached.loaded_at < BACKEND_CACHE_SECONDS:
            return cached
        loading = self.backend_loads.setdefault(cache_key, asyncio.Lock())
        async with loading:
            cached = self.backends.get(cache_key)
            if cached is not None and time.monotonic() - cached.loaded_at < BACKEND_CACHE_SECONDS:
                return cached
            return await self._load_backend(ref, namespace, cluster, cache_key, cached)

    async def _load_backend(
        self,
        ref: BackendRef,
        namespace: str,
        cluster: bool,
        cache_key: tuple[str, str, str],
        cached: Backend | None,
    ) -> Backend:
        raw = await self.kube.backend(str(ref.kind), namespace, ref.name)
        backend_spec = RecordingBackendSpec.load(raw.get("spec", {}))
        creds = backend_spec.credentials_secret_ref
        secret_ns = (creds.namespace or self.settings.operator_namespace) if cluster else namespace
        customer_id = await self.kube.secret_value(secret_ns, creds.name, creds.customer_id_key)
        customer_secret = await self.kube.secret_value(
            secret_ns, creds.name, creds.customer_secret_key
        )
        callback_secret = None
        if backend_spec.callback_secret_ref is not None:
            cb = backend_spec.callback_secret_ref
            cb_ns = (cb.namespace or self.settings.operator_namespace) if cluster else namespace
            callback_secret = await self.kube.secret_value(cb_ns, cb.name, cb.key)
        fingerprint = str(
            hash(
                (
                    backend_spec.url,
                    customer_id,
                    customer_secret,
                    backend_spec.request_timeout_seconds,
                )
            )
        )
        if cached is not None and cached.fingerprint == fingerprint:
            cached.loaded_at = time.monotonic()
            cached.callback_secret = callback_secret
            cached.spec = backend_spec
            return cached
        if cached is not None:
            self.spawn(cached.client.aclose())
        client = RecordingClient(
            backend_spec.url,
            customer_id,
            customer_secret,
            timeout=float(backend_spec.request_timeout_seconds),
            retries=self.settings.request_retries,
            on_request=_observe_request,
        )
        backend = Backend(backend_spec, client, callback_secret, fingerprint, time.monotonic())
        self.backends[cache_key] = backend
        return backend

    def drop_backend_cache(self) -> None:
        for backend in self.backends.values():
            backend.loaded_at = 0.0

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.client.aclose()
        self.backends.clear()
        self.kube.close()


def _observe_request(operation: str, seconds: float, outcome: str) -> None:
    PROTOCOL_LATENCY.labels(operation=operation, outcome=outcome).observe(seconds)
