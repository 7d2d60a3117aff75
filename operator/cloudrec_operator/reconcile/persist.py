"""``Tracked`` to and from the resource: the typed status plus the operator's annotation.

Users read ``status`` (phase, ids, files, conditions ...). Timing and retry
bookkeeping that only the operator needs (backoff, 404 grace, progress-event
throttle, which live changes were applied) is kept in one annotation,
``cloudrecording.io/tracking``, so the status schema stays what users need.
Both are rebuilt from scratch on every decision, and written only when they
differ from what the resource holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cloudrec_operator.api.conditions import (
    DEGRADED,
    READY,
    RECORDING,
    STALLED,
    UPLOADED,
    Condition,
    set_condition,
)
from cloudrec_operator.api.enums import ConditionStatus, DesiredState, RecordingErrorCode
from cloudrec_operator.api.v1alpha1.cloudrecording import (
    CloudRecordingSpec,
    CloudRecordingStatus,
    RecordingError,
    UploadStatus,
)

from .files import from_status
from .model import ErrorInfo, Phase, Tracked
from .pausing import (
    PAUSE_UNSUPPORTED,
    PAUSED,
    PAUSED_BEFORE_START,
    PAUSED_MESSAGE,
    UNSUPPORTED_MESSAGE,
    unpaused_wanted,
)
from .queue import QUEUED
from .queue import queue_position as queue_position_of
from .startrequest import layout_hash, subscribe_hash
from .tracking import (
    TIME_FIELDS,
    TRACKING_ANNOTATION,
    VALUE_FIELDS,
    Sealing,
    open_sealed,
    seal,
)
from .verification import VerificationResult, with_verified

_UPLOAD_STATES = {"uploaded": "Uploaded", "backuped": "Backuped", "unknown": "Unknown"}
_PRIVATE_TIMES = TIME_FIELDS
"""Persisted times; ``last_query_at`` stays in memory, so steady queries write nothing."""
_PRIVATE_VALUES = VALUE_FIELDS
MAX_NOTICES = 32
"""Notice ids of applied callbacks kept in ``status.appliedCallbacks`` (de-duplication
that survives a restart, in the status write the callback causes anyway)."""


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load_tracked(
    status: Mapping[str, Any] | None,
    annotations: Mapping[str, str] | None,
    sealing: Sealing,
) -> tuple[Tracked, str | None]:
    """Rebuild what the operator knows from the resource, and why the annotation was
    ignored (``tracking``: unsigned, another object's, out of range), if it was."""
    parsed = CloudRecordingStatus.load(status or {})
    opened = open_sealed((annotations or {}).get(TRACKING_ANNOTATION), sealing)
    private = opened.state.model_dump(exclude_unset=True)
    upload = parsed.upload or UploadStatus()
    error = parsed.last_error
    fields: dict[str, Any] = {
        "phase": parsed.phase or Phase.PENDING,
        "resource_id": parsed.resource_id,
        "acquired_at": _time(parsed.resource_acquired_at),
        "sid": parsed.recording_id,
        "started_at": _time(parsed.started_at),
        "stopped_at": _time(parsed.stopped_at),
        "restarts": parsed.restarts or 0,
        "upload_progress": upload.progress,
        "upload_status": upload.status.value.lower() if upload.status else None,
        "files": tuple(from_status(f) for f in parsed.files or ()),
        "files_omitted": parsed.files_omitted or 0,
        "notices": tuple(parsed.applied_callbacks or ()),
        "last_error": None
        if error is None
        else ErrorInfo(int(error.code), error.message, _time(error.time) or datetime.now(UTC)),
    }
    for name in _PRIVATE_TIMES:
        fields[name] = _time(private.get(name))
    defaults = Tracked()
    for name in _PRIVATE_VALUES:
        value = private.get(name)
        fields[name] = getattr(defaults, name) if value is None else value
    if private.get("ready") is None:
        fields["ready"] = _derived_ready(fields["phase"])
    return Tracked(**fields), opened.problem


def tracking_state(tracked: Tracked) -> dict[str, Any]:
    """The bookkeeping of ``tracked`` that differs from the defaults (JSON values)."""
    data: dict[str, Any] = {}
    defaults = Tracked()
    for name in _PRIVATE_TIMES:
        value = getattr(tracked, name)
        if value is not None:
            data[name] = _stamp(value)
    for name in _PRIVATE_VALUES:
        value = getattr(tracked, name)
        if name == "ready":
            # Derived from the phase when absent (``load_tracked``): kept only when it
            # differs, so a recording becoming Ready needs no annotation write.
            if value != _derived_ready(tracked.phase):
                data[name] = value
        elif value != getattr(defaults, name):
            data[name] = list(value) if isinstance(value, tuple) else value
    return data


def _derived_ready(phase: Phase) -> bool:
    """``ready`` when the annotation does not hold it: a recording in phase Recording (or
    Paused) is."""
    return phase in (Phase.RECORDING, Phase.PAUSED)


def tracking_annotation(tracked: Tracked, sealing: Sealing) -> str:
    """The operator's annotation value for ``tracked``: stable JSON, signed for the object
    (``tracking``); empty when there is no bookkeeping to keep."""
    state = tracking_state(tracked)
    return seal(state, sealing) if state else ""


def _condition(type_: str, true: bool, reason: str, message: str, generation: int) -> Condition:
    return Condition(
        type=type_,
        status=ConditionStatus.TRUE if true else ConditionStatus.FALSE,
        reason=reason,
        message=message,
        observed_generation=generation,
    )


STOPPED_BEFORE_START = "Not recording: spec.state is Stopped and no recording was started"
"""The Ready message of a resource resting in Pending because it was stopped before any
recording began (nothing runs at the service, and nothing will until state is Recording)."""


def _ready(
    tracked: Tracked,
    generation: int,
    blocked: str | None,
    blocked_reason: str,
    state: DesiredState = DesiredState.RECORDING,
    position: int | None = None,
) -> Condition:
    phase = tracked.phase
    resting = phase is Phase.PENDING and tracked.resource_id is None
    if resting and state is DesiredState.STOPPED:
        # The spec is satisfied: nothing runs, and nothing is waited for.
        return _condition(READY, True, DesiredState.STOPPED, STOPPED_BEFORE_START, generation)
    if resting and state is DesiredState.PAUSED and not tracked.restarts:
        return _condition(READY, True, PAUSED, PAUSED_BEFORE_START, generation)
    if unpaused_wanted(tracked, state):
        return _condition(READY, False, PAUSE_UNSUPPORTED, UNSUPPORTED_MESSAGE, generation)
    if phase is Phase.FAILED:
        reason = tracked.failed_reason or "Failed"
        message = tracked.last_error.message if tracked.last_error else "The recording failed"
        return _condition(READY, False, reason, message, generation)
    if blocked is not None and tracked.sid is None:
        return _condition(READY, False, blocked_reason or "Blocked", blocked, generation)
    confirmed = {
        Phase.RECORDING: "The recorder is recording",
        Phase.PAUSED: PAUSED_MESSAGE,
        Phase.STOPPING: "The recording is stopping",
        Phase.UPLOADING: "The recording stopped; files are uploading",
        Phase.COMPLETED: "The recording is complete",
        Phase.RELEASED: "Released; the recording continues in the background",
    }
    if phase in confirmed and (tracked.ready or phase not in (Phase.RECORDING, Phase.PAUSED)):
        return _condition(READY, True, str(phase), confirmed[phase], generation)
    if phase is Phase.QUEUED:
        place = "" if position is None else f" at position {position}"
        message = f"The backend is at capacity; waiting in its queue{place}"
        return _condition(READY, False, QUEUED, message, generation)
    waiting = {
        Phase.PENDING: "Waiting to start the recording",
        Phase.CONNECTING: "Waiting for the service to confirm the recorder runs",
    }
    return _condition(READY, False, str(phase), waiting.get(phase, str(phase)), generation)


def build_status(
    spec: CloudRecordingSpec,
    tracked: Tracked,
    generation: int,
    previous: Mapping[str, Any] | None,
    now: datetime,
    blocked: str | None = None,
    blocked_reason: str = "",
    verified: VerificationResult | None = None,
    queue_position: int | None = None,
) -> dict[str, Any]:
    """The complete ``status`` document for ``tracked`` (Kubernetes form); ``verified``
    sets the ``Verified`` condition (otherwise it stays as it was); ``queue_position`` is
    its place in the backend's queue (kept from ``previous`` when not given)."""
    old = CloudRecordingStatus.load(previous or {})
    position = queue_position_of(
        tracked.phase, queue_position if queue_position is not None else old.queue_position
    )
    conditions = list(old.conditions)
    conditions = set_condition(
        conditions,
        _ready(
            tracked,
            generation,
            blocked,
            blocked_reason,
            spec.state,
            position,
        ),
        now,
    )
    recording = tracked.phase is Phase.RECORDING and tracked.ready
    conditions = set_condition(
        conditions,
        _condition(
            RECORDING,
            recording,
            "RecorderRunning" if recording else str(tracked.phase),
            "The recorder is in the channel" if recording else "",
            generation,
        ),
        now,
    )
    uploaded = tracked.upload_status in ("uploaded", "backuped")
    conditions = set_condition(
        conditions,
        _condition(
            UPLOADED,
            uploaded,
            _UPLOAD_STATES.get(tracked.upload_status or "", "Pending"),
            "",
            generation,
        ),
        now,
    )
    degraded = tracked.degraded or (blocked_reason if blocked is not None else None)
    conditions = set_condition(
        conditions,
        _condition(
            DEGRADED,
            degraded is not None,
            degraded or "AsExpected",
            (tracked.degraded_message if tracked.degraded else blocked or "") if degraded else "",
            generation,
        ),
        now,
    )
    failed = tracked.phase is Phase.FAILED
    conditions = set_condition(
        conditions,
        _condition(
            STALLED,
            failed,
            (tracked.failed_reason or "Failed") if failed else "AsExpected",
            (tracked.last_error.message if tracked.last_error else "The recording failed")
            if failed
            else "",
            generation,
        ),
        now,
    )
    if verified is not None:
        conditions = with_verified(conditions, verified, generation, now)
    upload = None
    if tracked.upload_progress is not None or tracked.upload_status is not None:
        upload = UploadStatus(
            progress=tracked.upload_progress,
            status=_UPLOAD_STATES.get(tracked.upload_status or "")
            if tracked.upload_status
            else None,
        )
    error = None
    if tracked.last_error is not None:
        code = tracked.last_error.code
        valid = code in RecordingErrorCode._value2member_map_
        error = RecordingError(
            code=RecordingErrorCode(code if valid else RecordingErrorCode.GENERAL_ERROR),
            message=tracked.last_error.message,
            time=tracked.last_error.time.replace(microsecond=0),
        )
    status = CloudRecordingStatus(
        observed_generation=generation,
        phase=tracked.phase,
        queue_position=position,
        recording_id=tracked.sid,
        resource_id=tracked.resource_id,
        resource_acquired_at=_seconds(tracked.acquired_at),
        started_at=_seconds(tracked.started_at),
        stopped_at=_seconds(tracked.stopped_at),
        upload=upload,
        files=[f.to_status() for f in tracked.files] or None,
        files_omitted=tracked.files_omitted or None,
        last_error=error,
        restarts=tracked.restarts or None,
        applied_callbacks=list(tracked.notices[-MAX_NOTICES:]) or None,
        conditions=conditions,
    )
    return status.dump()


def _seconds(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(microsecond=0)


def spec_hashes(spec: CloudRecordingSpec) -> tuple[str, str]:
    """(layout, subscribe) digests of the live-changeable fields."""
    return layout_hash(spec), subscribe_hash(spec)
