"""One idempotent reconcile pass over a CloudRecording.

Create, update, resume, the timer, deletion and event callbacks all call
``reconcile``. It rebuilds what is known (this process's memory, or the
resource's status and annotation after a restart), resolves the backend and
Secrets, then asks the pure ``next_step`` what to do, does it, applies the
outcome, and repeats until the answer is to wait. Whatever must survive a
crash (the resource id before start, the sid right after) is written at
once; status is patched only when it differs from what the resource holds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudrec_operator.api.enums import DecryptionMode, ServiceKind
from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec, CloudRecordingStatus
from cloudrec_operator.metrics import KUBE_WRITES
from cloudrec_operator.reconcile.decide import LIVE_PHASES, next_step
from cloudrec_operator.reconcile.model import (
    TERMINAL_PHASES,
    Acquire,
    Cancel,
    Cancelled,
    Desired,
    Enqueue,
    EventRecord,
    Finish,
    Idle,
    Notified,
    Phase,
    RefusePause,
    Release,
    Seat,
    Start,
    Stop,
    Tracked,
    Transition,
    Wait,
)
from cloudrec_operator.reconcile.observe import apply_notification, apply_outcome, note_blocked
from cloudrec_operator.reconcile.pausing import refusal
from cloudrec_operator.reconcile.persist import (
    build_status,
    load_tracked,
    spec_hashes,
    tracking_annotation,
)
from cloudrec_operator.reconcile.queue import Waiter, enqueued, fresh, seat
from cloudrec_operator.reconcile.startrequest import StartSecrets
from cloudrec_operator.reconcile.support import UNSUPPORTED_REASON, unsupported
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.reconcile.tracking import TRACKING_ANNOTATION, Sealing, owner_of
from cloudrec_operator.reconcile.verification import (
    VerificationResult,
    verification_due,
    verification_event,
    verification_without_bucket,
)

from .finalizer import FINALIZER, finalizer_change, has_external_recording, timer_needed
from .notices import await_first_callback, noted, take_held
from .ports import MissingInputError, missing_input
from .queues import waiter_of
from .runtime import Backend, BackendKey, Key, Known, Runtime
from .schedule import next_pass_delay
from .service import app_id, execute
from .verifying import start_verification

log = logging.getLogger("cloudrec_operator.reconcile")

MAX_STEPS = 8
"""Protocol calls in one pass at most (a pass never loops on a stuck service)."""
CRASH_SAFE_STEPS = (Acquire, Start, Stop, Release)


@dataclass(frozen=True)
class PassResult:
    phase: Phase
    wait: float | None
    """Seconds until the next pass is useful; None when nothing more is to do."""
    blocked: str | None = None
    finished: bool = False
    """Deletion may proceed (no external recording needs the resource)."""
    has_recording: bool = False


TRACKING_IGNORED = "TrackingIgnored"
"""Warning Event reason: the tracking annotation was not this operator's (``tracking``)."""


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata") or {}
    return meta


def _now() -> datetime:
    return datetime.now(UTC)


async def _start_secrets(rt: Runtime, spec: CloudRecordingSpec, namespace: str) -> StartSecrets:
    storage = spec.storage_config.credentials_secret_ref
    access_key = await rt.kube.secret_value(namespace, storage.name, storage.access_key_key)
    secret_key = await rt.kube.secret_value(namespace, storage.name, storage.secret_key_key)
    token = None
    if spec.token_secret_ref is not None:
        ref = spec.token_secret_ref
        token = await rt.kube.secret_value(namespace, ref.name, ref.key)
    decryption_secret = decryption_salt = None
    decryption = spec.recording_config.decryption
    if decryption.mode is not DecryptionMode.NONE and decryption.secret_ref is not None:
        ref2 = decryption.secret_ref
        decryption_secret = await rt.kube.secret_value(namespace, ref2.name, ref2.key)
        if "GCM2" in decryption.mode.value:
            decryption_salt = await rt.kube.secret_value(namespace, ref2.name, ref2.salt_key)
    return StartSecrets(access_key, secret_key, token, decryption_secret, decryption_salt)


def parsed_spec(
    rt: Runtime, key: Key, body: Mapping[str, Any]
) -> tuple[CloudRecordingSpec, tuple[str, str]]:
    """The recording's parsed spec and its live-change hashes, parsed once per generation
    (the API server raises ``metadata.generation`` at every spec change)."""
    meta = _meta(body)
    generation = meta.get("generation")
    stamp = (str(meta.get("uid", "")), int(generation or 0))
    cached = rt.specs.get(key)
    if generation and cached is not None and cached[0] == stamp:
        return cached[1], cached[2]
    spec = CloudRecordingSpec.load(body.get("spec") or {})
    hashes = spec_hashes(spec)
    if generation:
        rt.specs[key] = (stamp, spec, hashes)
    return spec, hashes


def _desired(
    spec: CloudRecordingSpec,
    hashes: tuple[str, str],
    meta: Mapping[str, Any],
    backend: Backend | None,
    blocked: MissingInputError | None,
    deleting: bool,
    queue: Seat | None = None,
) -> Desired:
    layout, subscribe = hashes
    return Desired(
        generation=int(meta.get("generation") or 1),
        state=str(spec.state),
        restart_policy=str(spec.restart_policy),
        release_policy=str(spec.release_policy),
        deleting=deleting or bool(meta.get("deletionTimestamp")),
        mix=spec.recording_config.mode.value == "Mix",
        layout_hash=layout,
        subscribe_hash=subscribe,
        max_idle_time=spec.recording_config.effective_max_idle_time,
        callbacks_expected=backend is not None and backend.callback_secret is not None,
        blocked=None if blocked is None else blocked.message,
        blocked_reason="" if blocked is None else blocked.reason,
        queue=queue,
        capacity_known=backend is not None and backend.spec.service_kind is ServiceKind.SELF_HOSTED,
        pause_supported=backend is not None
        and backend.spec.service_kind is ServiceKind.SELF_HOSTED,
    )


def _normal(status: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return CloudRecordingStatus.load(status or {}).dump()
    except ValueError:
        return dict(status or {})


async def _persist(
    rt: Runtime,
    key: Key,
    body: Mapping[str, Any],
    spec: CloudRecordingSpec,
    desired: Desired,
    tracked: Tracked,
    known: Known,
    *,
    with_status: bool = True,
    verified: VerificationResult | None = None,
) -> Known:
    """Write what changed: the tracking annotation and finalizer, then (``with_status``)
    the status. Without it the status stays for the next write, which carries it anyway."""
    namespace, name = key
    blocked = desired.blocked if tracked.sid is None else None
    position = None if desired.queue is None else desired.queue.position
    built: tuple[object, ...] | None
    inputs = _persisted(tracked)
    built = (inputs, desired.generation, blocked, desired.blocked_reason, verified, position)
    if known.built == built:
        status, annotation = known.status, known.annotation
    else:
        status = build_status(
            spec,
            tracked,
            desired.generation,
            known.status,
            _now(),
            blocked,
            desired.blocked_reason,
            verified,
            position,
        )
        annotation = tracking_annotation(tracked, _sealing(rt, key, body))
    meta = _meta(body)
    current = [str(f) for f in meta.get("finalizers") or ()]
    present = known.finalizer if known.finalizer is not None else FINALIZER in current
    change = finalizer_change(meta, status, present)
    annotations: dict[str, str | None] | None = None
    if annotation != known.annotation:
        annotations = {TRACKING_ANNOTATION: annotation or None}
    if change == "add":
        # Before the status that says a recording exists, and before acquire. The list is
        # replaced only over the version it was read from (read again on a conflict), so
        # no one else's finalizer is lost.
        present = await rt.kube.add_finalizer(
            namespace, name, FINALIZER, meta, annotations=annotations
        )
        KUBE_WRITES.labels(kind="metadata").inc()
    elif annotations is not None:
        await rt.kube.patch_metadata(namespace, name, annotations=annotations)
        KUBE_WRITES.labels(kind="metadata").inc()
    if not with_status:
        if status != known.status:
            built = None
        status = known.status
    elif status != known.status:
        patch: dict[str, Any] = dict(status)
        for gone in set(known.status) - set(status):
            patch[gone] = None
        await rt.kube.patch_status(namespace, name, patch)
        KUBE_WRITES.labels(kind="status").inc()
    finalizer: bool | None = present
    if change == "remove":
        index = current.index(FINALIZER) if FINALIZER in current else len(current)
        removed = await rt.kube.remove_finalizer(namespace, name, FINALIZER, index)
        KUBE_WRITES.labels(kind="metadata").inc()
        finalizer = False if removed else None  # None: read it from the next body
    updated = Known(known.uid, tracked, status, annotation, finalizer=finalizer, built=built)
    rt.remember(key, updated)
    return updated


def _persisted(tracked: Tracked) -> Tracked:
    """``tracked`` without what stays in memory only: ``last_query_at``, which every steady
    query changes and neither the status nor the tracking annotation is built from (so a
    query that learns nothing new builds neither again)."""
    return tracked if tracked.last_query_at is None else tracked.replace(last_query_at=None)


async def _post(rt: Runtime, body: Mapping[str, Any], events: list[EventRecord]) -> None:
    meta = _meta(body)
    for event in events:
        log.info(
            "Posted Event %s for CloudRecording %s/%s: %s",
            event.reason,
            meta.get("namespace"),
            meta.get("name"),
            event.message,
        )
        await rt.kube.post_event(body, str(event.reason), event.message, warning=event.warning)
        KUBE_WRITES.labels(kind="event").inc()


def _sealing(rt: Runtime, key: Key, body: Mapping[str, Any]) -> Sealing:
    """The operator's state key, bound to this object (namespace, name, metadata.uid)."""
    return Sealing(rt.state_key, owner_of(key[0], key[1], str(_meta(body).get("uid", ""))))


def _load_known(rt: Runtime, key: Key, body: Mapping[str, Any]) -> tuple[Known, EventRecord | None]:
    """What is known of the recording, and a Warning when its tracking annotation was
    ignored (not written by this operator for this object, or out of range)."""
    meta = _meta(body)
    uid = str(meta.get("uid", ""))
    known = rt.known.get(key)
    if known is not None and known.uid == uid:
        return known, None
    annotations = meta.get("annotations") or {}
    status = body.get("status") or {}
    tracked, problem = load_tracked(status, annotations, _sealing(rt, key, body))
    raw = str(annotations.get(TRACKING_ANNOTATION, ""))
    ignored = None
    if problem is not None:
        log.warning("CloudRecording %s/%s: %s", key[0], key[1], problem)
        ignored = EventRecord(TRACKING_IGNORED, problem, warning=True)
    return Known(uid, tracked, _normal(status), raw), ignored


async def _resolve(
    rt: Runtime, spec: CloudRecordingSpec, namespace: str
) -> tuple[Backend | None, MissingInputError | None]:
    try:
        backend = await rt.backend(spec, namespace)
    except LookupError as error:
        return None, missing_input(error)
    if app_id(spec, backend) is None:
        return backend, MissingInputError(
            "AppIdNotSet", "Neither spec.appId nor the backend's defaultAppId is set"
        )
    refused = unsupported(spec, backend.spec.service_kind)
    if refused is not None:
        ref = spec.backend_ref
        return backend, MissingInputError(
            UNSUPPORTED_REASON, refused.message(f"{ref.kind.value}/{ref.name}")
        )
    return backend, None


def _seat(rt: Runtime, backend: BackendKey | None, me: Waiter, tracked: Tracked) -> Seat | None:
    """The recording's place in its backend's queue (``reconcile.queue.seat``): looked up
    only while it is queued or has not asked the service for anything yet."""
    queued = tracked.phase is Phase.QUEUED
    if not queued and not fresh(tracked):
        return None
    return seat(me, rt.queues.waiting(backend), queued, me.key in rt.queues.granted)


def _without_service(
    desired: Desired,
    tracked: Tracked,
    step: Cancel | Enqueue | RefusePause,
    now: datetime,
    timing: Timing,
) -> Transition:
    """The steps that need no protocol call: settle a stopped recording, join the queue,
    refuse a pause the backend cannot make."""
    if isinstance(step, Enqueue):
        return enqueued(desired, tracked)
    if isinstance(step, RefusePause):
        return refusal(tracked, step)
    return apply_outcome(desired, tracked, step, Cancelled(), now, timing)


def _announce(step: object, tracked: Tracked) -> Tracked:
    """What must be on the resource before a step: Connecting before acquire (which puts
    the finalizer on the resource before a recording can exist), Stopping before stop,
    and before a start is sent again, that its resource id may now have started one."""
    if isinstance(step, Acquire) and tracked.phase in (Phase.PENDING, Phase.QUEUED):
        return tracked.replace(phase=Phase.CONNECTING)
    if isinstance(step, Start) and tracked.phase is Phase.QUEUED:
        return tracked.replace(phase=Phase.CONNECTING, refused_start=None)
    if isinstance(step, Start) and tracked.refused_start is not None:
        return tracked.replace(refused_start=None)
    if isinstance(step, Stop) and tracked.phase in LIVE_PHASES:
        return tracked.replace(phase=Phase.STOPPING)
    return tracked


def _with_start_hashes(step: object, tracked: Tracked, desired: Desired) -> Tracked:
    """Before a new recording's first acquire: the live-change hashes its start will apply.

    They ride in the tracking annotation on the write that adds the finalizer, so the
    start's answer needs no annotation write of its own (one write less per recording).
    They are only read once a sid is known, and a start always sets them to the spec it
    sends: if that spec differs (it changed before a later pass started), the annotation is
    written after the start as before.
    """
    if not isinstance(step, Acquire):
        return tracked
    return tracked.replace(
        applied_layout_hash=desired.layout_hash, applied_subscribe_hash=desired.subscribe_hash
    )


def _verify(
    rt: Runtime,
    key: Key,
    spec: CloudRecordingSpec,
    tracked: Tracked,
    known: Known,
    backend: Backend | None,
    *,
    reverify: bool,
    deleting: bool,
) -> VerificationResult | None:
    """A result known without the bucket, or None (a check may have started in the
    background: its result comes with a later pass)."""
    if not verification_due(
        spec.verification, tracked.phase, tracked.upload_status, (), requested=True
    ):
        return None  # not a completed, uploaded recording: no need to read the status
    try:
        conditions = CloudRecordingStatus.load(known.status or {}).conditions
    except ValueError:
        conditions = []
    due = verification_due(
        spec.verification, tracked.phase, tracked.upload_status, conditions, requested=reverify
    )
    if not due or backend is None or tracked.sid is None or deleting:
        return None
    result = verification_without_bucket(
        backend.spec.service_kind,
        backend.callback_secret is not None,
        has_public_key=backend.manifest_public_key is not None,
        key_problem=backend.manifest_key_problem,
    )
    if result is None:
        start_verification(rt, key, spec, tracked.sid, backend)
    return result


async def reconcile(
    rt: Runtime,
    body: Mapping[str, Any],
    *,
    notification: Notified | None = None,
    deleting: bool = False,
    verified: VerificationResult | None = None,
    reverify: bool = False,
) -> PassResult:
    """One pass (see the module docstring); safe to call at any time, any number of times.

    ``verified``: a manifest check's result, for the ``Verified`` condition and its Event;
    ``reverify``: check the bucket again even if it was checked (``handlers.verifying``).

    Every pass sets when the recording's next one runs (``schedule``): when its next step
    is due, at least every ``--tick`` seconds while a recording may exist, else never.
    """
    meta = _meta(body)
    key: Key = (str(meta.get("namespace")), str(meta.get("name")))
    async with rt.lock(key):
        rt.bodies[key] = body
        try:
            result = await _reconcile_locked(
                rt, key, body, notification, deleting, verified=verified, reverify=reverify
            )
        except Exception:
            _schedule(rt, key, body, None)
            raise
        _schedule(rt, key, body, result.wait)
        return result


def _schedule(rt: Runtime, key: Key, body: Mapping[str, Any], wait: float | None) -> None:
    """Set the recording's next pass (``schedule.next_pass_delay``)."""
    if rt.passes is None:
        return
    known = rt.known.get(key)
    if known is None:
        live = timer_needed(body.get("status") or {}, _meta(body))
    else:
        finalizer = known.finalizer
        if finalizer is None:
            finalizer = FINALIZER in (_meta(body).get("finalizers") or ())
        live = finalizer or has_external_recording(known.status)
    rt.passes.set(key, next_pass_delay(wait, live, rt.settings.tick))


async def _reconcile_locked(
    rt: Runtime,
    key: Key,
    body: Mapping[str, Any],
    notification: Notified | None,
    deleting: bool,
    *,
    verified: VerificationResult | None = None,
    reverify: bool = False,
) -> PassResult:
    namespace = key[0]
    meta = _meta(body)
    spec, hashes = parsed_spec(rt, key, body)
    known, ignored = _load_known(rt, key, body)
    tracked = known.tracked
    before = tracked.phase
    backend, blocked = await _resolve(rt, spec, namespace)
    backend_key = rt.backend_key_of(key)
    me = waiter_of(namespace, key[1], body)
    place = _seat(rt, backend_key, me, tracked)
    desired = _desired(spec, hashes, meta, backend, blocked, deleting, place)
    events: list[EventRecord] = [] if ignored is None else [ignored]
    timing = rt.timing

    if notification is not None:
        transition = apply_notification(desired, tracked, notification, _now(), timing)
        tracked = noted(transition.tracked, notification)
        events.extend(transition.events)

    secrets: StartSecrets | None = None
    wait: float | None = None
    finished = False
    for _ in range(MAX_STEPS):
        now = _now()
        step = next_step(desired, tracked, now, timing)
        if isinstance(step, Wait):
            wait = step.delay
            break
        if isinstance(step, Idle):
            break
        if isinstance(step, Finish):
            finished = True
            break
        if isinstance(step, Cancel | Enqueue | RefusePause):
            # No protocol call: nothing runs at the service (the backend may be gone).
            transition = _without_service(desired, tracked, step, now, timing)
            tracked = transition.tracked
            events.extend(transition.events)
            continue
        if backend is None or blocked is not None:
            wait = timing.transient_backoff_cap
            break
        if isinstance(step, Acquire | Start) and secrets is None:
            try:
                secrets = await _start_secrets(rt, spec, namespace)
            except LookupError as error:
                blocked = missing_input(error)
                desired = _desired(spec, hashes, meta, backend, blocked, deleting, place)
                wait = timing.transient_backoff_cap
                break
        announced = _announce(step, tracked)
        if announced is not tracked:
            tracked = _with_start_hashes(step, announced, desired)
            # Before acquire only the finalizer must be on (a metadata write); the phase
            # Connecting reaches the status with the resource id a moment later, which
            # saves one of a new recording's writes.
            known = await _persist(
                rt, key, body, spec, desired, tracked, known, with_status=isinstance(step, Stop)
            )
        outcome = await execute(step, spec, backend, secrets)
        transition = apply_outcome(desired, tracked, step, outcome, _now(), timing)
        rt.queues.moved(tracked.phase, transition.tracked.phase)
        tracked = transition.tracked
        events.extend(transition.events)
        await await_first_callback(rt, step, backend, desired, tracked)
        tracked = take_held(rt, key, step, backend, desired, tracked, events)
        if isinstance(step, CRASH_SAFE_STEPS):
            known = await _persist(rt, key, body, spec, desired, tracked, known)
    if tracked.sid is None:
        noticed = note_blocked(desired, tracked)
        tracked = noticed.tracked
        events.extend(noticed.events)
    verified = verified or _verify(
        rt, key, spec, tracked, known, backend, reverify=reverify, deleting=desired.deleting
    )
    events.extend(verification_event(v) for v in (verified,) if v is not None)
    try:
        known = await _persist(rt, key, body, spec, desired, tracked, known, verified=verified)
    except Exception:
        if not desired.deleting:
            raise
    await _post(rt, body, events)
    rt.queues.note(backend_key, me, before, tracked.phase)
    return PassResult(
        phase=tracked.phase,
        wait=wait,
        blocked=desired.blocked,
        finished=finished,
        has_recording=tracked.resource_id is not None and tracked.phase not in TERMINAL_PHASES,
    )


__all__ = ["PassResult", "parsed_spec", "reconcile"]
