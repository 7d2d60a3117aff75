"""The values the pure reconcile decisions work on.

``Desired`` is what the resource asks for (read from its spec and metadata),
``Tracked`` is what the operator knows about the external recording (read
from its status and the operator's own annotation), a ``Step`` is the next
thing to do against the recording service, and an ``Outcome`` is what came
back. ``Transition`` is the result of applying an outcome: the new
``Tracked`` plus the Kubernetes Events it causes.

None of these types knows about kopf, the Kubernetes client or httpx.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime

from cloudrec_operator.api.enums import Phase as Phase
from cloudrec_operator.api.enums import RecordingErrorCode
from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.events import EventDetails, EventType

from .files import FileRecord, Listed

TERMINAL_PHASES = frozenset({Phase.COMPLETED, Phase.FAILED, Phase.RELEASED})


class Reason(enum.StrEnum):
    """Event reasons: one per observer callback of the seed, plus Released."""

    CONNECTING = "Connecting"
    STARTED = "Started"
    STOPPED = "Stopped"
    RECORDER_FAILURE = "RecorderFailure"
    UPLOADED = "Uploaded"
    BACKUPED = "Backuped"
    UPLOAD_PROGRESS = "UploadProgress"
    UPLOADER_FAILURE = "UploaderFailure"
    FATAL_ERROR = "FatalError"
    RELEASED = "Released"
    VERIFIED = "Verified"
    VERIFICATION_FAILED = "VerificationFailed"
    VERIFICATION_UNKNOWN = "VerificationUnknown"
    SNAPSHOT_UPLOADED = "SnapshotUploaded"
    PAUSED = "Paused"
    RESUMED = "Resumed"
    PAUSE_UNSUPPORTED = "PauseUnsupported"
    HANDED_OVER = "HandedOver"
    TAKEN_OVER = "TakenOver"


SdkError = RecordingErrorCode
"""The seed's fourteen error codes (protocol.md §9.5)."""


@dataclass(frozen=True)
class EventRecord:
    """A Kubernetes Event to post about the resource."""

    reason: str
    """A ``Reason`` for callbacks; the missing input's CamelCase reason otherwise."""
    message: str
    warning: bool = False


@dataclass(frozen=True)
class ErrorInfo:
    """``status.lastError``: the seed's error code, a message and when."""

    code: int
    message: str
    time: datetime


@dataclass(frozen=True)
class Seat:
    """Where the recording stands in its backend's queue (``reconcile.queue``)."""

    position: int
    """1 starts next."""
    admitted: bool = False
    """The queue lets it try to start now (capacity freed, or the hosted back-off ran out)."""


@dataclass(frozen=True)
class Desired:
    """What the resource asks for, as far as the decisions care."""

    generation: int
    state: str = "Recording"
    """``spec.state``: Recording, Paused or Stopped."""
    restart_policy: str = "Never"
    release_policy: str = "Stop"
    deleting: bool = False
    mix: bool = True
    """Mix mode (updateLayout is only valid there)."""
    layout_hash: str = ""
    """Digest of the mutable layout fields (applied with updateLayout)."""
    subscribe_hash: str = ""
    """Digest of the subscribe lists (applied with update)."""
    max_idle_time: int = 30
    callbacks_expected: bool = False
    """The backend signs callbacks, so a leave is normally announced by an event."""
    blocked: str | None = None
    """Why the inputs are incomplete (a Secret or backend is missing), or None."""
    blocked_reason: str = ""
    """CamelCase reason for ``blocked`` (SecretNotFound, BackendNotFound, ...)."""
    queue: Seat | None = None
    """Its place in the backend's queue; None while nobody waits there for capacity."""
    capacity_known: bool = False
    """The backend answers the capacity query (self-hosted): no blind back-off while queued."""
    pause_supported: bool = False
    """The backend can pause a recording (the self-hosted recorder's ``onhold`` update)."""


@dataclass(frozen=True)
class Tracked:
    """What the operator knows about the external recording.

    The public part is ``status``; timing and bookkeeping fields that users do
    not need live in the operator's annotation (see ``persist``).
    """

    phase: Phase = Phase.PENDING
    resource_id: str | None = None
    acquired_at: datetime | None = None
    sid: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    ready: bool = False
    """The service confirmed the recorder runs (query status 4/5 or event 40)."""
    stop_requested: bool = False
    restarts: int = 0
    upload_progress: int | None = None
    """Percent, 0-100."""
    upload_status: str | None = None
    files: tuple[FileRecord, ...] = ()
    """``status.files``: the current recording's files, first seen first (``files.Listed``)."""
    files_omitted: int = 0
    """``status.filesOmitted``: files reported but not listed."""
    snapshots_omitted: int = 0
    """Of those, snapshots (kept in the annotation: each is reported once)."""
    snapshot_event_at: datetime | None = None
    """When the last SnapshotUploaded Event was posted (they are throttled)."""
    last_error: ErrorInfo | None = None
    failures: int = 0
    """Consecutive transient failures (drives the backoff)."""
    retry_at: datetime | None = None
    not_found_since: datetime | None = None
    failover_at: datetime | None = None
    unreachable: bool = False
    """A transport failure happened since the last good answer."""
    applied_layout_hash: str | None = None
    applied_subscribe_hash: str | None = None
    progress_event_value: int | None = None
    progress_event_at: datetime | None = None
    degraded: str | None = None
    """CamelCase reason of a transient problem being retried, or None."""
    degraded_message: str = ""
    failed_reason: str | None = None
    """CamelCase reason of a terminal failure (for the Ready condition)."""
    last_query_at: datetime | None = None
    blocked_notice: str | None = None
    """The missing-input message last announced with a Warning Event."""
    lost_start: str | None = None
    """A start with this resource id was answered 201/7 without a sid (its first answer
    was lost): a recording runs that we can only adopt from a callback naming its sid."""
    refused_start: str | None = None
    """The last start with this resource id was refused (53, 406): it started nothing.
    Cleared (and written) before a start with it is sent again."""
    conflict_since: datetime | None = None
    """When starts began to be refused with 53 (task conflict); bounds their retries."""
    pause_refused: bool = False
    """``spec.state: Paused`` was refused (PauseUnsupported, announced once): the recording
    goes on unpaused until the state is Recording or Stopped again."""
    notices: tuple[str, ...] = ()
    """Notice ids of the last callbacks applied (newest last), so a callback delivered
    again after an operator restart is still a duplicate (``tracking.MAX_NOTICES``)."""

    def replace(self, **changes: object) -> Tracked:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def listed(self) -> Listed:
        return Listed(self.files, self.files_omitted, self.snapshots_omitted)

    def with_files(self, new: tuple[FileRecord, ...], *, one_by_one: bool = False) -> Tracked:
        """This state with the files of one report added (``files.Listed.merge``)."""
        if not new:
            return self
        merged = self.listed().merge(new, one_by_one=one_by_one)
        return self.replace(
            files=merged.files,
            files_omitted=merged.omitted,
            snapshots_omitted=merged.snapshots_omitted,
        )


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class Acquire:
    """Acquire a resource id for the channel and recorder uid."""


@dataclass(frozen=True)
class Start:
    resource_id: str


@dataclass(frozen=True)
class Query:
    resource_id: str
    sid: str


@dataclass(frozen=True)
class Update:
    """Apply the subscribe lists (``update``)."""

    resource_id: str
    sid: str


@dataclass(frozen=True)
class Pause:
    """Stop capturing media, keeping the recording (``update`` with ``onhold: true``)."""

    resource_id: str
    sid: str


@dataclass(frozen=True)
class Resume:
    """Capture media again into the same recording (``update`` with ``onhold: false``)."""

    resource_id: str
    sid: str


@dataclass(frozen=True)
class RefusePause:
    """``spec.state: Paused`` on a backend that cannot pause: say so (no protocol call);
    ``clear``: the spec no longer asks for a pause, forget the refusal."""

    clear: bool = False


@dataclass(frozen=True)
class UpdateLayout:
    resource_id: str
    sid: str


@dataclass(frozen=True)
class Stop:
    resource_id: str
    sid: str


@dataclass(frozen=True)
class Release:
    """Forget the recording and let it run on (KeepInBackground)."""


@dataclass(frozen=True)
class Wait:
    """Nothing to do for ``delay`` seconds."""

    delay: float


@dataclass(frozen=True)
class Finish:
    """Deletion may proceed: no external recording needs the resource."""


@dataclass(frozen=True)
class Idle:
    """Terminal: nothing more to do until the spec changes."""


@dataclass(frozen=True)
class Enqueue:
    """Join the backend's queue without asking the service (others already wait there)."""


@dataclass(frozen=True)
class Cancel:
    """``state: Stopped`` and no recording exists or can appear: settle on a resting phase
    (no protocol call; nothing at the service needs the finalizer any more)."""


Step = (
    Acquire
    | Start
    | Query
    | Update
    | UpdateLayout
    | Pause
    | Resume
    | RefusePause
    | Stop
    | Release
    | Wait
    | Finish
    | Idle
    | Cancel
    | Enqueue
)


# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Acquired:
    resource_id: str


@dataclass(frozen=True)
class StartAccepted:
    sid: str


@dataclass(frozen=True)
class Queried:
    status: RecordingStatus | None
    """None when the answer carries no status the protocol defines."""
    files: tuple[FileRecord, ...] = ()


@dataclass(frozen=True)
class StopDone:
    files: tuple[FileRecord, ...] = ()
    upload_status: str = "unknown"


@dataclass(frozen=True)
class Applied:
    """update or updateLayout succeeded."""


@dataclass(frozen=True)
class Released:
    pass


@dataclass(frozen=True)
class Cancelled:
    """The outcome of ``Cancel``."""


@dataclass(frozen=True)
class Failure:
    """A request failed. ``code`` is the protocol's body code (or None)."""

    http_status: int | None
    code: int | None
    sdk_code: RecordingErrorCode
    retryable: bool
    message: str
    transport: bool = False
    """No HTTP answer at all (connection refused, timeout)."""


@dataclass(frozen=True)
class Notified:
    """A verified event callback."""

    event_type: EventType | int
    """An ``EventType``, or the number of one outside the catalogue (ignored)."""
    details: EventDetails | None = None
    """The typed ``details`` (None for an event without a model, or details that do not fit)."""
    sid: str | None = None
    """The recording the event is about (adopts a recording whose start answer was lost)."""
    notice_id: str | None = None
    """The callback's noticeId, remembered once applied (``Tracked.notices``)."""


Outcome = (
    Acquired
    | StartAccepted
    | Queried
    | StopDone
    | Applied
    | Released
    | Cancelled
    | Failure
    | Notified
)


@dataclass(frozen=True)
class Transition:
    tracked: Tracked
    events: tuple[EventRecord, ...] = ()
