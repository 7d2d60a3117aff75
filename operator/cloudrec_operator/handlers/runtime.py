"""What the operator process holds between handler calls.

One ``Runtime`` per process: settings, the Kubernetes facade, protocol clients
per backend, a lock per CloudRecording (handlers, scheduled passes and callbacks never
act on one recording at the same time), the last known state of each
recording, kopf's sid index (the sid part of ``recording_index``: sid -> namespace and name,
from ``status.recordingId``) that the callback receiver reads, the callbacks
held for a sid not known yet, and the notice ids already applied.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cloudrec_operator.api.enums import BackendKind, KeySource
from cloudrec_operator.api.v1alpha1.cloudrecording import BackendRef, CloudRecordingSpec
from cloudrec_operator.api.v1alpha1.recordingbackend import (
    ClusterRecordingBackendSpec,
    RecordingBackendSpec,
)
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_operator.metrics import PROTOCOL_LATENCY, RECORDINGS
from cloudrec_operator.reconcile.held import HeldEvents
from cloudrec_operator.reconcile.model import Desired, Phase, Tracked
from cloudrec_operator.reconcile.observe import awaits_adoption
from cloudrec_operator.reconcile.queue import Waiter
from cloudrec_operator.reconcile.scope import (
    Refusal,
    cluster_backend_refusal,
    namespaced_backend_refusal,
)
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.settings import Settings
from cloudrec_protocol.events import Notification
from cloudrec_protocol.manifest import ManifestTrust, load_public_key

from .ports import KubeApi, MissingInputError, missing_input
from .queues import Queues, backend_key
from .schedule import PassScheduler
from .sids import SidBook

Key = tuple[str, str]
"""(namespace, name) of a CloudRecording."""
BackendKey = tuple[str, str, str]
"""(kind, namespace or "" for a ClusterRecordingBackend, name): how backends are cached."""

BACKEND_CACHE_SECONDS = 60.0


@dataclass
class Backend:
    """A resolved backend: a client with its credentials, the app id, the callback secret."""

    spec: RecordingBackendSpec
    client: RecordingClient
    callback_secret: str | None
    fingerprint: str
    loaded_at: float
    manifest_public_key: Ed25519PublicKey | None = None
    """From ``manifestPublicKeyRef``: checks Ed25519-signed manifests."""
    manifest_key_problem: str | None = None
    """Why the public key ``manifestPublicKeyRef`` names could not be used (verification
    ends Unknown with it; recordings are not held up)."""

    @property
    def trust(self) -> ManifestTrust:
        """What the recorder's manifests are checked with."""
        return ManifestTrust(self.callback_secret, self.manifest_public_key)


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
    built: tuple[object, ...] | None = None
    """What ``status`` and ``annotation`` were built from by this process (None: read from
    the resource): a pass whose inputs are the same builds neither again."""


@dataclass(frozen=True)
class HeldCallback:
    """A callback kept until its sid is known: checked again then with its own backend."""

    raw: bytes
    signatures: Mapping[str, str]
    """The signature headers it came with."""
    note: Notification


SidIndex = Mapping[str, Iterable[Key]]
"""kopf's ``recording_index`` index, its sid part (``indexes``): sid -> the (namespace, name) of
its CloudRecording."""


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
    sids: SidBook = field(default_factory=SidBook)
    """The sids this process stored and the recordings with none yet (``handlers.sids``)."""
    held: HeldEvents[HeldCallback] = field(default_factory=HeldEvents)
    arrivals: dict[str, asyncio.Event] = field(default_factory=dict)
    """Per sid a start just returned: set when a callback for it is held (``notices``)."""
    backends: dict[tuple[str, str, str], Backend] = field(default_factory=dict)
    backend_loads: dict[tuple[str, str, str], asyncio.Lock] = field(default_factory=dict)
    """One load of a backend at a time: many recordings created at once read its Secrets and
    open its client once, not once each."""
    notices: OrderedDict[str, None] = field(default_factory=OrderedDict)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    phase_counts: Counter[Phase] = field(default_factory=Counter)
    """Known recordings by phase (the ``cloudrec_recordings`` gauge)."""
    namespace_labels: dict[str, tuple[float, dict[str, str]]] = field(default_factory=dict)
    """Labels of the namespaces using scoped ClusterRecordingBackends (cached a minute)."""
    state_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Signs the tracking annotation (``reconcile.tracking``): the settings' ``state_key``;
    a random one per process without it (bookkeeping then does not survive a restart)."""
    verifying: set[Key] = field(default_factory=set)
    """Recordings whose bucket is being checked against their manifest (one check each)."""
    passes: PassScheduler[Key] | None = None
    specs: dict[Key, tuple[tuple[str, int], CloudRecordingSpec, tuple[str, str]]] = field(
        default_factory=dict
    )
    """Per recording: its parsed spec and live-change hashes, for (uid, generation)."""
    """When each recording's next pass runs (``schedule``); set at start-up."""
    queues: Queues = field(default_factory=Queues)
    """The backends' queues (``handlers.queues``)."""

    def __post_init__(self) -> None:
        for phase in Phase:
            RECORDINGS.labels(phase=str(phase)).set(0)

    def lock(self, key: Key) -> asyncio.Lock:
        if key not in self.locks:
            self.locks[key] = asyncio.Lock()
        return self.locks[key]

    def remember(self, key: Key, known: Known) -> None:
        old = self.known.get(key)
        self.known[key] = known
        self._count_phase(old, known)
        before = None if old is None else old.tracked.sid
        self.sids.note(key, before, known.tracked.sid, self.bodies.get(key) or {})

    def forget(self, key: Key) -> None:
        old = self.known.pop(key, None)
        self.sids.note(key, None if old is None else old.tracked.sid, None, None)
        before = Phase.PENDING if old is None else old.tracked.phase
        self.queues.note(self.backend_key_of(key), Waiter(*key), before, None)
        if self.passes is not None:
            self.passes.cancel(key)
        self.bodies.pop(key, None)
        self.specs.pop(key, None)
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
        """The CloudRecording whose status names ``sid``: as the index knows it, or as this
        process stored it (``sids.stored``: the index has not seen that write yet)."""
        if self.index is not None:
            for key in self.index.get(sid, ()):
                return key
        return self.sids.stored.get(sid)

    def backend_key_of(self, key: Key) -> BackendKey | None:
        """The backend cache key of the recording ``key`` (from its last known body)."""
        return backend_key(key[0], (self.bodies.get(key) or {}).get("spec") or {})

    def _waiting(self, cname: str, uid: str) -> Iterable[Key]:
        """Recordings of ``cname``/``uid`` with no sid yet (their start may be in flight)."""
        return list(self.sids.unstarted.get((cname, uid), ()))

    def waiting_backends(self, cname: str, uid: str) -> list[tuple[BackendKey, str]]:
        """The distinct loaded backends (key, callback secret) of the recordings waiting
        for ``cname``/``uid``: the only ones whose signature may make a callback held."""
        found: dict[BackendKey, str] = {}
        for key in self._waiting(cname, uid):
            backend_key = self.backend_key_of(key)
            backend = self.backends.get(backend_key) if backend_key is not None else None
            if backend_key is not None and backend is not None and backend.callback_secret:
                found.setdefault(backend_key, backend.callback_secret)
        return list(found.items())

    def adoptable(self, cname: str, uid: str, backend: BackendKey | None = None) -> Key | None:
        """The recording waiting to adopt the recording of ``cname``/``uid``: a lost start,
        or a start whose answer is unknown of a resource being stopped or deleted
        (:func:`~cloudrec_operator.reconcile.observe.awaits_adoption`); on ``backend`` when
        given (a backend's callback never adopts another backend's recording)."""
        for key in self._waiting(cname, uid):
            body = self.bodies.get(key) or {}
            spec = body.get("spec") or {}
            desired = Desired(
                generation=1,
                state=str(spec.get("state") or "Recording"),
                deleting=bool((body.get("metadata") or {}).get("deletionTimestamp")),
            )
            if not awaits_adoption(desired, self.known[key].tracked):
                continue
            if backend is None or self.backend_key_of(key) == backend:
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
        """The backend the recording refers to, with its credentials (cached a minute),
        when the recording may use it (``reconcile.scope``).

        Raises a ``LookupError`` naming what is missing or not allowed.
        """
        backend = await self._backend(spec, namespace)
        refusal = await self._refusal(backend, spec, namespace)
        if refusal is not None:
            raise MissingInputError(refusal.reason, refusal.message)
        return backend

    async def _backend(self, spec: CloudRecordingSpec, namespace: str) -> Backend:
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
        model = ClusterRecordingBackendSpec if cluster else RecordingBackendSpec
        backend_spec = model.load(raw.get("spec", {}))
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
        public_key, key_problem = await self._manifest_key(backend_spec, namespace, cluster)
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
            cached.manifest_public_key, cached.manifest_key_problem = public_key, key_problem
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
            ca_file=self.settings.ca_file,
        )
        backend = Backend(
            backend_spec,
            client,
            callback_secret,
            fingerprint,
            time.monotonic(),
            manifest_public_key=public_key,
            manifest_key_problem=key_problem,
        )
        self.backends[cache_key] = backend
        return backend

    async def _manifest_key(
        self, spec: RecordingBackendSpec, namespace: str, cluster: bool
    ) -> tuple[Ed25519PublicKey | None, str | None]:
        """The backend's manifest public key, or why it cannot be used (never raises: a
        missing or bad key leaves verification Unknown, the recordings go on)."""
        ref = spec.manifest_public_key_ref
        if ref is None:
            return None, None
        key_ns = (ref.namespace or self.settings.operator_namespace) if cluster else namespace
        where = f"manifestPublicKeyRef: {ref.kind.value} {key_ns}/{ref.name} key {ref.key!r}"
        read = (
            self.kube.config_map_value
            if ref.kind is KeySource.CONFIG_MAP
            else self.kube.secret_value
        )
        try:
            pem = await read(key_ns, ref.name, ref.key)
        except LookupError as error:
            return None, f"manifestPublicKeyRef: {missing_input(error).message}"
        except RuntimeError as error:  # not readable (RBAC, the API server)
            return None, f"manifestPublicKeyRef: {error}"
        try:
            return load_public_key(pem), None
        except ValueError as error:
            return None, f"{where}: {error}"

    async def _refusal(
        self, backend: Backend, spec: CloudRecordingSpec, namespace: str
    ) -> Refusal | None:
        """Whether this recording may use ``backend`` (``reconcile.scope``)."""
        ref = spec.backend_ref
        if not isinstance(backend.spec, ClusterRecordingBackendSpec):
            return namespaced_backend_refusal(
                ref.name, namespace, backend.spec.url, self.settings.backend_hosts
            )
        labels: dict[str, str] = {}
        if backend.spec.allowed_namespaces is not None:
            labels = await self._namespace_labels(namespace)
        app_id = spec.app_id or backend.spec.default_app_id
        return cluster_backend_refusal(ref.name, backend.spec, namespace, labels, app_id)

    async def _namespace_labels(self, namespace: str) -> dict[str, str]:
        cached = self.namespace_labels.get(namespace)
        if cached is not None and time.monotonic() - cached[0] < BACKEND_CACHE_SECONDS:
            return cached[1]
        labels = await self.kube.namespace_labels(namespace)
        self.namespace_labels[namespace] = (time.monotonic(), labels)
        return labels

    def drop_backend_cache(self) -> None:
        for backend in self.backends.values():
            backend.loaded_at = 0.0

    async def aclose(self) -> None:
        if self.passes is not None:
            self.passes.close()
        for backend in self.backends.values():
            await backend.client.aclose()
        self.backends.clear()
        await self.kube.aclose()


def _observe_request(operation: str, seconds: float, outcome: str) -> None:
    PROTOCOL_LATENCY.labels(operation=operation, outcome=outcome).observe(seconds)
