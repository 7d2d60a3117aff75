"""Event callbacks of the cloud recording protocol (NCS, protocol.md §7): models and signing.

A callback is a `POST` of a JSON `Notification` (productId 3 for cloud recording) whose raw body
is signed with the callback secret: `Agora-Signature` is the lowercase hex HMAC-SHA1 and
`Agora-Signature-V2` the lowercase hex HMAC-SHA256 of the exact bytes sent. `sign()` makes both
headers; `verify()` checks them in constant time against the bytes received (before any JSON
parsing).

`details` stays a JSON object on `Payload` (events gain fields over time); `parse_details()` and
`Notification.typed_details()` give the typed model of the events in `DETAILS_MODELS`.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from enum import IntEnum
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field

from cloudrec_protocol.models import FileInfo, WireModel

__all__ = [
    "CLOUD_RECORDING_PRODUCT_ID",
    "DETAILS_MODELS",
    "MSG_NAMES",
    "SERVICE_TYPES",
    "SIGNATURE_HEADER",
    "SIGNATURE_V2_HEADER",
    "AudioStreamStateChangedDetails",
    "BackupedDetails",
    "ErrorDetails",
    "ErrorLevel",
    "ErrorModule",
    "EventDetails",
    "EventType",
    "ExitStatus",
    "FileInfosDetails",
    "LeaveCode",
    "Notification",
    "Payload",
    "RecorderLeaveDetails",
    "RecorderSliceStartDetails",
    "RecorderStartedDetails",
    "RecorderWarningCode",
    "ServiceType",
    "SessionExitDetails",
    "SessionFailoverDetails",
    "SnapshotFileDetails",
    "StatusUpdateDetails",
    "StreamState",
    "StreamStateChangedDetails",
    "TaskStatus",
    "UploadedDetails",
    "UploaderErrorCode",
    "UploaderStartedDetails",
    "UploaderWarningCode",
    "UploadingProgressDetails",
    "VideoStreamStateChangedDetails",
    "WarningDetails",
    "make_notification",
    "parse_details",
    "sign",
    "verify",
]

CLOUD_RECORDING_PRODUCT_ID = 3
SIGNATURE_HEADER = "Agora-Signature"
SIGNATURE_V2_HEADER = "Agora-Signature-V2"


class EventType(IntEnum):
    """`eventType` of cloud recording callbacks (§7.6)."""

    CLOUD_RECORDING_ERROR = 1
    CLOUD_RECORDING_WARNING = 2
    CLOUD_RECORDING_STATUS_UPDATE = 3
    CLOUD_RECORDING_FILE_INFOS = 4
    SESSION_EXIT = 11
    SESSION_FAILOVER = 12
    HA_REGISTER_SUCCESS = 13
    UPLOADER_STARTED = 30
    UPLOADED = 31
    BACKUPED = 32
    UPLOADING_PROGRESS = 33
    RECORDER_STARTED = 40
    RECORDER_LEAVE = 41
    RECORDER_SLICE_START = 42
    RECORDER_AUDIO_STREAM_STATE_CHANGED = 43
    RECORDER_VIDEO_STREAM_STATE_CHANGED = 44
    RECORDER_SNAPSHOT_FILE = 45
    VOD_STARTED = 60
    VOD_TRIGGERED = 61
    WEB_RECORDER_STARTED = 70
    WEB_RECORDER_STOPPED = 71
    WEB_RECORDER_CAPABILITY_LIMIT = 72
    WEB_RECORDER_RELOAD = 73
    TRANSCODER_STARTED = 80
    TRANSCODER_COMPLETED = 81
    DOWNLOAD_FAILED = 90
    RTMP_PUBLISH_STATUS = 100
    POSTPONE_TRANSCODE_FINAL_RESULT = 1001


class ServiceType(IntEnum):
    """`payload.serviceType` (§7.5)."""

    CLOUD_RECORDING = 0
    RECORDER = 1
    UPLOADER = 2
    EXTENSION = 4
    WEB_RECORDER = 6
    POSTPONED_TRANSCODING = 7
    DOWNLOADER = 8


MSG_NAMES: Mapping[EventType, str] = {
    EventType.CLOUD_RECORDING_ERROR: "cloud_recording_error",
    EventType.CLOUD_RECORDING_WARNING: "cloud_recording_warning",
    EventType.CLOUD_RECORDING_STATUS_UPDATE: "cloud_recording_status_update",
    EventType.CLOUD_RECORDING_FILE_INFOS: "cloud_recording_file_infos",
    EventType.SESSION_EXIT: "session_exit",
    EventType.SESSION_FAILOVER: "session_failover",
    EventType.UPLOADER_STARTED: "uploader_started",
    EventType.UPLOADED: "uploaded",
    EventType.BACKUPED: "backuped",
    EventType.UPLOADING_PROGRESS: "uploading_progress",
    EventType.RECORDER_STARTED: "recorder_started",
    EventType.RECORDER_LEAVE: "recorder_leave",
    EventType.RECORDER_SLICE_START: "recorder_slice_start",
    EventType.RECORDER_AUDIO_STREAM_STATE_CHANGED: "recorder_audio_stream_state_changed",
    EventType.RECORDER_VIDEO_STREAM_STATE_CHANGED: "recorder_video_stream_state_changed",
    EventType.RECORDER_SNAPSHOT_FILE: "recorder_snapshot_file",
    EventType.VOD_STARTED: "vod_started",
    EventType.VOD_TRIGGERED: "vod_triggered",
    EventType.WEB_RECORDER_STARTED: "web_recorder_started",
    EventType.WEB_RECORDER_STOPPED: "web_recorder_stopped",
    EventType.WEB_RECORDER_CAPABILITY_LIMIT: "web_recorder_capability_limit",
    EventType.WEB_RECORDER_RELOAD: "web_recorder_reload",
    EventType.TRANSCODER_STARTED: "transcoder_started",
    EventType.TRANSCODER_COMPLETED: "transcoder_completed",
    EventType.DOWNLOAD_FAILED: "download_failed",
    EventType.RTMP_PUBLISH_STATUS: "rtmp_publish_status",
    EventType.POSTPONE_TRANSCODE_FINAL_RESULT: "postpone_transcode_final_result",
}
"""`details.msgName` of each event type."""

SERVICE_TYPES: Mapping[EventType, ServiceType] = {
    EventType.CLOUD_RECORDING_ERROR: ServiceType.CLOUD_RECORDING,
    EventType.CLOUD_RECORDING_WARNING: ServiceType.CLOUD_RECORDING,
    EventType.CLOUD_RECORDING_STATUS_UPDATE: ServiceType.CLOUD_RECORDING,
    EventType.CLOUD_RECORDING_FILE_INFOS: ServiceType.CLOUD_RECORDING,
    EventType.SESSION_EXIT: ServiceType.CLOUD_RECORDING,
    EventType.SESSION_FAILOVER: ServiceType.CLOUD_RECORDING,
    EventType.UPLOADER_STARTED: ServiceType.UPLOADER,
    EventType.UPLOADED: ServiceType.UPLOADER,
    EventType.BACKUPED: ServiceType.UPLOADER,
    EventType.UPLOADING_PROGRESS: ServiceType.UPLOADER,
    EventType.RECORDER_STARTED: ServiceType.RECORDER,
    EventType.RECORDER_LEAVE: ServiceType.RECORDER,
    EventType.RECORDER_SLICE_START: ServiceType.RECORDER,
    EventType.RECORDER_AUDIO_STREAM_STATE_CHANGED: ServiceType.RECORDER,
    EventType.RECORDER_VIDEO_STREAM_STATE_CHANGED: ServiceType.RECORDER,
    EventType.RECORDER_SNAPSHOT_FILE: ServiceType.RECORDER,
    EventType.VOD_STARTED: ServiceType.EXTENSION,
    EventType.VOD_TRIGGERED: ServiceType.EXTENSION,
    EventType.WEB_RECORDER_STARTED: ServiceType.WEB_RECORDER,
    EventType.WEB_RECORDER_STOPPED: ServiceType.WEB_RECORDER,
    EventType.WEB_RECORDER_CAPABILITY_LIMIT: ServiceType.WEB_RECORDER,
    EventType.WEB_RECORDER_RELOAD: ServiceType.WEB_RECORDER,
    EventType.TRANSCODER_STARTED: ServiceType.POSTPONED_TRANSCODING,
    EventType.TRANSCODER_COMPLETED: ServiceType.POSTPONED_TRANSCODING,
    EventType.DOWNLOAD_FAILED: ServiceType.DOWNLOADER,
    EventType.RTMP_PUBLISH_STATUS: ServiceType.WEB_RECORDER,
    EventType.POSTPONE_TRANSCODE_FINAL_RESULT: ServiceType.CLOUD_RECORDING,
}
"""`payload.serviceType` that sends each event type."""


class LeaveCode(IntEnum):
    """`recorder_leave.leaveCode` bit flags (current docs); 0 alone means init failure."""

    INIT = 0
    SIG = 2
    NO_USERS = 4
    TIMER_CATCH = 8
    CLIENT_LEAVE = 16


class RecorderWarningCode(IntEnum):
    """`warnCode` of the `cloud_recording_warning` events (module 0, the recorder) that the
    self-hosted recorder sends. Derived: protocol.md refers the recorder's codes to the RTC
    SDK's tables, which have none for these; `warnMsg` says more."""

    BACKGROUND_IMAGE_UNAVAILABLE = 1801
    """A background picture of the layout could not be fetched or decoded; the recording goes
    on with the background colour."""


class StreamState(IntEnum):
    """`state` of events 43/44."""

    RECEIVING = 0
    NOT_RECEIVING = 1


class ErrorModule(IntEnum):
    """`module` of events 1 (error) and 2 (warning): which part of the service reports."""

    RECORDER = 0
    UPLOADER = 1
    CLOUD_RECORDING_SERVICE = 2
    WEB_RECORDER = 6


class ErrorLevel(IntEnum):
    """`errorLevel` of event 1; FATAL means query at once."""

    DEBUG = 1
    MINOR = 2
    MEDIUM = 3
    MAJOR = 4
    FATAL = 5


class UploaderErrorCode(IntEnum):
    """`errorCode` of event 1 from the uploader (module 1)."""

    STORAGE_CONFIG = 32
    """Third-party storage configuration wrong."""
    UPLOAD_FAILED = 47
    FILE_PROCESSING = 51


class UploaderWarningCode(IntEnum):
    """`warnCode` of event 2 from the uploader (module 1)."""

    REUPLOADED = 31
    """A slice was re-uploaded to the customer's storage."""
    BACKUPED = 32
    """A slice went to the backup store."""


class ExitStatus(IntEnum):
    """`exitStatus` of event 11."""

    NORMAL = 0
    ABNORMAL = 1


class TaskStatus(IntEnum):
    """`status` of events 30 and 40 (0 ok)."""

    OK = 0


# ------------------------------------------------------------------ details models


class EventDetails(WireModel):
    """Base of typed `details`; `msgName` defaults to the catalogue name of `EVENT_TYPE`."""

    EVENT_TYPE: ClassVar[EventType]
    msg_name: str = ""

    def model_post_init(self, context: Any, /) -> None:
        if not self.msg_name:
            self.msg_name = MSG_NAMES[self.EVENT_TYPE]


class ErrorDetails(EventDetails):
    """1 `cloud_recording_error`."""

    EVENT_TYPE = EventType.CLOUD_RECORDING_ERROR
    module: int
    """0 recorder, 1 uploader, 2 cloud recording service, 6 web recorder."""
    error_level: int = Field(ge=1, le=5)
    """1 debug … 5 fatal."""
    error_code: int
    stat: int = 0
    error_msg: str = ""


class WarningDetails(EventDetails):
    """2 `cloud_recording_warning`."""

    EVENT_TYPE = EventType.CLOUD_RECORDING_WARNING
    module: int
    warn_code: int
    warn_msg: str | None = None
    """The self-hosted recorder's explanation (not in protocol.md; absent from the service)."""


class StatusUpdateDetails(EventDetails):
    """3 `cloud_recording_status_update`."""

    EVENT_TYPE = EventType.CLOUD_RECORDING_STATUS_UPDATE
    status: int
    recording_mode: int | None = None
    file_list: str | None = None


class FileInfosDetails(EventDetails):
    """4 `cloud_recording_file_infos`: the first time the playlist is made or uploaded."""

    EVENT_TYPE = EventType.CLOUD_RECORDING_FILE_INFOS
    file_list: str | list[FileInfo] | None = None


class SessionExitDetails(EventDetails):
    """11 `session_exit`: 0 normal, 1 abnormal."""

    EVENT_TYPE = EventType.SESSION_EXIT
    exit_status: int


class SessionFailoverDetails(EventDetails):
    """12 `session_failover`."""

    EVENT_TYPE = EventType.SESSION_FAILOVER
    new_uid: int
    from_replica: str | None = None
    """Our extension (self-hosted recorder): the replica that handed the recording over."""
    to_replica: str | None = None
    """Our extension: the replica that holds it now."""
    gap_ms: int | None = Field(default=None, ge=0)
    """Our extension: a take-over after the holder was lost (not a planned hand-over): the
    media time missing between the lost replica's last complete segment and the taker's
    first frame, in ms."""


class UploaderStartedDetails(EventDetails):
    """30 `uploader_started` (status 0 ok)."""

    EVENT_TYPE = EventType.UPLOADER_STARTED
    status: int = 0


class UploadedDetails(EventDetails):
    """31 `uploaded`: every file is in the customer's bucket."""

    EVENT_TYPE = EventType.UPLOADED
    status: int = 0
    file_list: list[FileInfo] = Field(default_factory=list)


class BackupedDetails(EventDetails):
    """32 `backuped`: at least one file went to the backup store and will be forwarded."""

    EVENT_TYPE = EventType.BACKUPED
    status: int = 0
    file_list: list[FileInfo] = Field(default_factory=list)


class UploadingProgressDetails(EventDetails):
    """33 `uploading_progress`: uploaded/recorded × 10000."""

    EVENT_TYPE = EventType.UPLOADING_PROGRESS
    progress: int = Field(ge=0, le=10000)


class RecorderStartedDetails(EventDetails):
    """40 `recorder_started` (status 0 ok)."""

    EVENT_TYPE = EventType.RECORDER_STARTED
    status: int = 0


class RecorderLeaveDetails(EventDetails):
    """41 `recorder_leave`: `leaveCode` bit flags (`LeaveCode`)."""

    EVENT_TYPE = EventType.RECORDER_LEAVE
    leave_code: int = Field(ge=0)


class RecorderSliceStartDetails(EventDetails):
    """42 `recorder_slice_start`."""

    EVENT_TYPE = EventType.RECORDER_SLICE_START
    start_utc_ms: int
    discontinue_utc_ms: int
    mixed_all_user: bool = True
    stream_uid: str = "0"
    """`"0"` in mix mode."""
    track_type: Literal["audio", "video", "audio_and_video"] = "audio_and_video"


class StreamStateChangedDetails(EventDetails):
    """Fields of 43/44: a subscribed stream started (0) or stopped (1) arriving."""

    stream_uid: str
    state: StreamState
    utc_ms: int = Field(alias="UtcMs")


class AudioStreamStateChangedDetails(StreamStateChangedDetails):
    """43 `recorder_audio_stream_state_changed`."""

    EVENT_TYPE = EventType.RECORDER_AUDIO_STREAM_STATE_CHANGED


class VideoStreamStateChangedDetails(StreamStateChangedDetails):
    """44 `recorder_video_stream_state_changed`."""

    EVENT_TYPE = EventType.RECORDER_VIDEO_STREAM_STATE_CHANGED


class SnapshotFileDetails(EventDetails):
    """45 `recorder_snapshot_file`: a snapshot JPG is in the customer's bucket."""

    EVENT_TYPE = EventType.RECORDER_SNAPSHOT_FILE
    file_name: str = Field(validation_alias=AliasChoices("fileName", "filename", "file_name"))
    """`<fileNamePrefix>/<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg`."""


DETAILS_MODELS: Mapping[EventType, type[EventDetails]] = {
    model.EVENT_TYPE: model
    for model in (
        ErrorDetails,
        WarningDetails,
        StatusUpdateDetails,
        FileInfosDetails,
        SessionExitDetails,
        SessionFailoverDetails,
        UploaderStartedDetails,
        UploadedDetails,
        BackupedDetails,
        UploadingProgressDetails,
        RecorderStartedDetails,
        RecorderLeaveDetails,
        RecorderSliceStartDetails,
        AudioStreamStateChangedDetails,
        VideoStreamStateChangedDetails,
        SnapshotFileDetails,
    )
}
"""Typed `details` model of each event type that has one."""


def parse_details(event_type: int, details: Mapping[str, Any]) -> EventDetails | None:
    """The typed `details` of an event, or None for an event type without a model.

    Raises `pydantic.ValidationError` when the details do not fit the event's model.
    """
    try:
        model = DETAILS_MODELS[EventType(event_type)]
    except (ValueError, KeyError):
        return None
    return model.model_validate(details)


# ------------------------------------------------------------------ notification


class Payload(WireModel):
    """`payload` of a cloud recording callback (§7.5)."""

    cname: str
    uid: str
    """Recorder uid."""
    sid: str
    sequence: int = Field(ge=0)
    """Per-session counter from 0."""
    sendts: int = Field(alias="sendts")
    """Event time, ms."""
    service_type: int
    details: dict[str, Any]


class Notification(WireModel):
    """The JSON body of a callback (§7.4)."""

    notice_id: str = Field(
        validation_alias=AliasChoices("noticeId", "notificationId", "notice_id"),
        serialization_alias="noticeId",
    )
    """Notification id (legacy senders: `notificationId`)."""
    product_id: int = CLOUD_RECORDING_PRODUCT_ID
    event_type: int
    notify_ms: int
    """ms of this delivery attempt (refreshed on every resend)."""
    payload: Payload

    def typed_details(self) -> EventDetails | None:
        """`parse_details(self.event_type, self.payload.details)`."""
        return parse_details(self.event_type, self.payload.details)

    def dedupe_key(self) -> str:
        """Key to drop duplicate deliveries: the notice id (§7.2)."""
        return self.notice_id


def make_notification(
    *,
    cname: str,
    uid: str,
    sid: str,
    sequence: int,
    details: EventDetails,
    now_ms: int,
    notice_id: str | None = None,
) -> Notification:
    """A cloud recording notification for `details` (productId 3, serviceType of the event)."""
    return Notification(
        notice_id=notice_id or str(uuid.uuid4()),
        product_id=CLOUD_RECORDING_PRODUCT_ID,
        event_type=details.EVENT_TYPE,
        notify_ms=now_ms,
        payload=Payload(
            cname=cname,
            uid=uid,
            sid=sid,
            sequence=sequence,
            sendts=now_ms,
            service_type=SERVICE_TYPES[details.EVENT_TYPE],
            details=details.to_wire(),
        ),
    )


# ------------------------------------------------------------------ signing


def _hex_digest(body: bytes, secret: str, digest: str) -> str:
    return hmac.new(secret.encode("utf-8"), body, digest).hexdigest()


def sign(body: bytes, secret: str) -> dict[str, str]:
    """Both signature headers for the raw `body` (lowercase hex HMAC-SHA1 and HMAC-SHA256)."""
    return {
        SIGNATURE_HEADER: _hex_digest(body, secret, "sha1"),
        SIGNATURE_V2_HEADER: _hex_digest(body, secret, "sha256"),
    }


def verify(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """True when the signature headers match the raw `body`.

    Header names are matched case-insensitively. At least one of the two headers must be
    present, and every one present must match (compared in constant time); older senders
    send only `Agora-Signature`.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    checks = (
        (lowered.get(SIGNATURE_HEADER.lower()), "sha1"),
        (lowered.get(SIGNATURE_V2_HEADER.lower()), "sha256"),
    )
    present = [(value, digest) for value, digest in checks if value is not None]
    if not present:
        return False
    results = [
        hmac.compare_digest(value.strip().lower().encode(), _hex_digest(body, secret, d).encode())
        for value, d in present
    ]
    return all(results)
