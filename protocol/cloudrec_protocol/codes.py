"""Codes of the cloud recording REST protocol and their mapping to the seed SDK's error codes.

- `ErrorCode`: the body `code` values of protocol.md §5.2, with `SERVICE_ERRORS` giving the HTTP
  status and default `reason` a server answers with, and the gateway messages of §5.
- `RecordingStatus`: `serverResponse.status` / NCS `status` (§6.1).
- `SdkErrorCode`: the seed C++ SDK's fourteen `RecordingErrorCode` values (§9.5).
- Pure decisions: `sdk_code_for_response`, `sdk_code_for_event`, `is_retryable`,
  `is_already_running`, `is_already_stopped` (§5, §9.5, §12).

Where protocol.md gives no HTTP status for a code (old docs), the status chosen here is marked
*derived*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from http import HTTPStatus
from typing import Any

from cloudrec_protocol.events import ErrorModule, EventDetails, EventType, LeaveCode

__all__ = [
    "GATEWAY_INVALID_APPID",
    "GATEWAY_INVALID_CREDENTIALS",
    "GATEWAY_NO_ROUTE",
    "GATEWAY_RATE_LIMITED",
    "GATEWAY_UNAUTHORIZED",
    "NOT_FOUND_BACKOFF",
    "SERVICE_ERRORS",
    "ErrorCode",
    "RecordingErrorCode",
    "RecordingStatus",
    "SdkErrorCode",
    "ServiceErrorSpec",
    "is_already_running",
    "is_already_stopped",
    "is_exited",
    "is_retryable",
    "is_running",
    "is_stopping",
    "sdk_code_for_event",
    "sdk_code_for_response",
]


class ErrorCode(IntEnum):
    """Body `code` values of the recording service (§5.2)."""

    INVALID_PARAMETER = 2
    """Type, spelling, range or missing field; `reason` explains."""
    ALREADY_STARTED = 7
    """start repeated on a running task (HTTP 201)."""
    BAD_REQUEST_FORMAT = 8
    """Bad header, URL, method or JSON (old docs)."""
    UNDOCUMENTED_START_FAILURE = 15
    TASK_EXITING = 49
    """stop on a task already stopped or exiting."""
    UPLOAD_TIMEOUT = 50
    SERVICE_START_TIMEOUT = 52
    TASK_CONFLICT = 53
    """Another task with the same cname + uid exists."""
    REQUEST_TIMEOUT = 62
    REQUEST_INCOMPLETE = 65
    """HTTP 206: request reached the backend, response timed out; retry the same request."""
    TOKEN_EXPIRED = 109
    TOKEN_INVALID = 110
    INVALID_APPID = 400
    INVALID_CHANNEL_NAME = 401
    WORKER_NOT_FOUND = 404
    NO_ACTIVE_STATUS = 405
    VENDOR_OVER_LOAD = 406
    """Concurrent-task quota exceeded (the recorder's concurrency limit)."""
    RESOURCE_MISMATCH = 432
    """Parameters invalid or appid/cname/uid do not match the resourceId."""
    RESOURCE_EXPIRED = 433
    """resourceId older than 5 minutes at start."""
    NO_RECORDED_DATA = 435
    """stop with nothing recorded (HTTP 206)."""
    INTERNAL_ERROR = 500
    NO_WORKER_MANAGER = 501
    ALLOCATE_FAILED = 502
    ALLOCATE_TIMEOUT = 504
    RESOURCE_UNPARSABLE = 1001
    SID_MISMATCH = 1003
    INVALID_CNAME = 1013
    INVALID_UPDATE_LAYOUT = 1028


@dataclass(frozen=True, slots=True)
class ServiceErrorSpec:
    """How a server answers with a code: HTTP status and the documented default reason."""

    http_status: int
    reason: str


SERVICE_ERRORS: Mapping[ErrorCode, ServiceErrorSpec] = {
    ErrorCode.INVALID_PARAMETER: ServiceErrorSpec(400, "invalid parameter"),
    ErrorCode.ALREADY_STARTED: ServiceErrorSpec(201, "task already started"),
    ErrorCode.BAD_REQUEST_FORMAT: ServiceErrorSpec(400, "invalid request format"),  # derived
    ErrorCode.UNDOCUMENTED_START_FAILURE: ServiceErrorSpec(500, "start failed"),
    ErrorCode.TASK_EXITING: ServiceErrorSpec(400, "invalid operation: task is exiting"),
    ErrorCode.UPLOAD_TIMEOUT: ServiceErrorSpec(500, "upload timeout"),  # derived
    ErrorCode.SERVICE_START_TIMEOUT: ServiceErrorSpec(500, "service start timeout"),  # derived
    ErrorCode.TASK_CONFLICT: ServiceErrorSpec(400, "task conflict"),
    ErrorCode.REQUEST_TIMEOUT: ServiceErrorSpec(504, "request timeout"),
    ErrorCode.REQUEST_INCOMPLETE: ServiceErrorSpec(206, "request not completed"),
    ErrorCode.TOKEN_EXPIRED: ServiceErrorSpec(400, "token expired"),  # derived
    ErrorCode.TOKEN_INVALID: ServiceErrorSpec(400, "token invalid"),  # derived
    ErrorCode.INVALID_APPID: ServiceErrorSpec(400, "invalid_appid"),
    ErrorCode.INVALID_CHANNEL_NAME: ServiceErrorSpec(400, "invalid_channel_name"),
    ErrorCode.WORKER_NOT_FOUND: ServiceErrorSpec(404, "failed to find worker"),
    ErrorCode.NO_ACTIVE_STATUS: ServiceErrorSpec(400, "no_active_status"),
    ErrorCode.VENDOR_OVER_LOAD: ServiceErrorSpec(400, "vendor_over_load"),
    ErrorCode.RESOURCE_MISMATCH: ServiceErrorSpec(400, "resource mismatch"),  # derived
    ErrorCode.RESOURCE_EXPIRED: ServiceErrorSpec(400, "resource expired"),  # derived
    ErrorCode.NO_RECORDED_DATA: ServiceErrorSpec(206, "no recorded data"),
    ErrorCode.INTERNAL_ERROR: ServiceErrorSpec(500, "internal_error"),
    ErrorCode.NO_WORKER_MANAGER: ServiceErrorSpec(500, "no_worker_manager_available"),
    ErrorCode.ALLOCATE_FAILED: ServiceErrorSpec(500, "Failed to allocate worker"),
    ErrorCode.ALLOCATE_TIMEOUT: ServiceErrorSpec(500, "allocate_timeout"),
    ErrorCode.RESOURCE_UNPARSABLE: ServiceErrorSpec(400, "invalid resourceId"),  # derived
    ErrorCode.SID_MISMATCH: ServiceErrorSpec(400, "appid or sid mismatch"),  # derived
    ErrorCode.INVALID_CNAME: ServiceErrorSpec(400, "invalid channel name"),  # derived
    ErrorCode.INVALID_UPDATE_LAYOUT: ServiceErrorSpec(400, "invalid updateLayout body"),  # derived
}
"""HTTP status and default `reason` for every service code (what a self-hosted server sends)."""

GATEWAY_UNAUTHORIZED = "Unauthorized"
"""401 `message`: no Basic credentials."""
GATEWAY_INVALID_CREDENTIALS = "Invalid authentication credentials"
"""401 `message`: wrong credentials, or not matching the App ID."""
GATEWAY_NO_ROUTE = "no Route matched with those values"
"""404 `message`: wrong method or URL."""
GATEWAY_RATE_LIMITED = "API rate limit exceeded"
"""429 `message`."""
GATEWAY_INVALID_APPID = "invalid appid"
"""400 `message`."""


NOT_FOUND_BACKOFF: tuple[float, ...] = (5.0, 10.0, 15.0)
"""Seconds between re-queries before a 404 (code 404) counts as "task gone": HA migrations
answer 404 for up to ~90 s (§10 #4). The client never retries 404 itself; callers decide."""


class RecordingStatus(IntEnum):
    """`serverResponse.status` of query and NCS `status` (§6.1)."""

    NOT_STARTED = 0
    INITIALIZED = 1
    STARTING = 2
    PARTIALLY_READY = 3
    READY = 4
    IN_PROGRESS = 5
    STOP_REQUESTED = 6
    STOPPED = 7
    EXITED = 8
    EXITED_ABNORMALLY = 20


def is_running(status: int) -> bool:
    """True when the recording started successfully: status 4 or 5 (§6.1)."""
    return status in (RecordingStatus.READY, RecordingStatus.IN_PROGRESS)


def is_stopping(status: int) -> bool:
    """True for stop requested (6) and all components stopped (7)."""
    return status in (RecordingStatus.STOP_REQUESTED, RecordingStatus.STOPPED)


def is_exited(status: int) -> bool:
    """True once the recording has exited, normally (8) or abnormally (20)."""
    return status in (RecordingStatus.EXITED, RecordingStatus.EXITED_ABNORMALLY)


class RecordingErrorCode(IntEnum):
    """The seed's fourteen error codes with the SDK header's values (protocol.md §9.5)."""

    OK = 0
    CONNECT_ERROR = 430
    DISCONNECTED = 431
    INVALID_PARAMETER = 432
    INVALID_OPERATION = 433
    NO_USERS = 434
    NO_RECORDED_DATA = 435
    RECORDER_INIT_FAILED = 436
    RECORDER_FAILED = 437
    UPLOADER_INIT_FAILED = 438
    UPLOADER_FAILED = 439
    BACKUP_FAILED = 440
    RECORDER_EXPIRE_EXIT = 441
    GENERAL_ERROR = 442

    @property
    def reason(self) -> str:
        """The CamelCase name, e.g. ``RecorderInitFailed`` for 436."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def seed_name(self) -> str:
        """The seed's identifier, e.g. ``kRecordingErrorNoUsers``."""
        return f"kRecordingError{self.reason}"

    @classmethod
    def from_reason(cls, reason: str) -> RecordingErrorCode:
        """The code whose CamelCase name is ``reason``."""
        for code in cls:
            if code.reason == reason:
                return code
        raise ValueError(f"unknown recording error reason {reason!r}")


SdkErrorCode = RecordingErrorCode
"""The seed SDK's error codes; the operator's API uses the same enum, so status, Events and
protocol errors agree."""


_INVALID_PARAMETER_CODES = frozenset(
    {
        ErrorCode.INVALID_PARAMETER,
        ErrorCode.BAD_REQUEST_FORMAT,
        ErrorCode.TOKEN_EXPIRED,
        ErrorCode.TOKEN_INVALID,
        ErrorCode.INVALID_CHANNEL_NAME,
        ErrorCode.RESOURCE_MISMATCH,
        ErrorCode.SID_MISMATCH,
        ErrorCode.INVALID_CNAME,
        ErrorCode.INVALID_UPDATE_LAYOUT,
    }
)
_INVALID_OPERATION_CODES = frozenset(
    {
        ErrorCode.ALREADY_STARTED,
        ErrorCode.TASK_EXITING,
        ErrorCode.TASK_CONFLICT,
        ErrorCode.RESOURCE_EXPIRED,
        ErrorCode.RESOURCE_UNPARSABLE,
    }
)
_CONNECT_ERROR_CODES = frozenset(
    {
        ErrorCode.REQUEST_TIMEOUT,
        ErrorCode.REQUEST_INCOMPLETE,
        ErrorCode.INVALID_APPID,
        ErrorCode.NO_ACTIVE_STATUS,
    }
)
_GENERAL_ERROR_CODES = frozenset(
    {ErrorCode.INTERNAL_ERROR, ErrorCode.VENDOR_OVER_LOAD, ErrorCode.UNDOCUMENTED_START_FAILURE}
)


def sdk_code_for_response(http_status: int, code: int | None) -> SdkErrorCode:
    """The seed error code closest to an HTTP answer with body `code` (None: no code) (§9.5).

    Transport failures (no answer at all) are `CONNECT_ERROR`; see `errors.TransportError`.
    """
    if http_status == HTTPStatus.OK:
        return SdkErrorCode.OK
    if code == ErrorCode.NO_RECORDED_DATA:
        return SdkErrorCode.NO_RECORDED_DATA
    if code == ErrorCode.UPLOAD_TIMEOUT:
        return SdkErrorCode.UPLOADER_FAILED
    if code == ErrorCode.SERVICE_START_TIMEOUT:
        return SdkErrorCode.RECORDER_EXPIRE_EXIT
    if code == ErrorCode.WORKER_NOT_FOUND:
        return SdkErrorCode.DISCONNECTED
    if code in _INVALID_PARAMETER_CODES:
        return SdkErrorCode.INVALID_PARAMETER
    if code in _INVALID_OPERATION_CODES:
        return SdkErrorCode.INVALID_OPERATION
    if code in _CONNECT_ERROR_CODES:
        return SdkErrorCode.CONNECT_ERROR
    if code in _GENERAL_ERROR_CODES:
        return SdkErrorCode.GENERAL_ERROR
    if http_status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.TOO_MANY_REQUESTS):
        return SdkErrorCode.CONNECT_ERROR
    if http_status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return SdkErrorCode.CONNECT_ERROR
    if code is None and http_status in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
        # Gateway: "appid is invalid" (400) or "no Route matched" (404): wrong app or URL.
        return SdkErrorCode.CONNECT_ERROR
    if HTTPStatus.BAD_REQUEST <= http_status < HTTPStatus.INTERNAL_SERVER_ERROR:
        return SdkErrorCode.INVALID_PARAMETER
    return SdkErrorCode.GENERAL_ERROR


_UPLOADER_CONFIG_ERROR = 32


def _detail_int(details: Mapping[str, Any], key: str) -> int | None:
    value = details.get(key)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _sdk_code_for_error_event(details: Mapping[str, Any]) -> SdkErrorCode:
    module = _detail_int(details, "module")
    error_code = _detail_int(details, "errorCode")
    if module == ErrorModule.UPLOADER:
        if error_code == _UPLOADER_CONFIG_ERROR:
            return SdkErrorCode.UPLOADER_INIT_FAILED
        return SdkErrorCode.UPLOADER_FAILED
    if module == ErrorModule.CLOUD_RECORDING_SERVICE:
        if error_code == ErrorCode.UPLOAD_TIMEOUT:
            return SdkErrorCode.UPLOADER_FAILED
        if error_code == ErrorCode.SERVICE_START_TIMEOUT:
            return SdkErrorCode.RECORDER_EXPIRE_EXIT
        return SdkErrorCode.GENERAL_ERROR
    return SdkErrorCode.RECORDER_FAILED


def sdk_code_for_event(
    event_type: int, details: Mapping[str, Any] | EventDetails | None
) -> SdkErrorCode | None:
    """The seed error code an NCS event reports, or None when the event reports no error (§9.4).

    `details` is the event's `payload.details` as JSON (e.g. `Notification.payload.details`)
    or its typed model. This is the one mapping of events to error codes (§9.5).
    """
    if details is None:
        details = {}
    elif isinstance(details, EventDetails):
        details = details.to_wire()
    if event_type == EventType.CLOUD_RECORDING_ERROR:
        return _sdk_code_for_error_event(details)
    if event_type == EventType.CLOUD_RECORDING_WARNING:
        module = _detail_int(details, "module")
        if module == ErrorModule.UPLOADER:
            return SdkErrorCode.UPLOADER_FAILED
        return SdkErrorCode.RECORDER_FAILED
    if event_type == EventType.SESSION_EXIT:
        return SdkErrorCode.RECORDER_EXPIRE_EXIT if _detail_int(details, "exitStatus") else None
    if event_type == EventType.SESSION_FAILOVER:
        return SdkErrorCode.DISCONNECTED
    if event_type == EventType.UPLOADER_STARTED:
        return SdkErrorCode.UPLOADER_INIT_FAILED if _detail_int(details, "status") else None
    if event_type == EventType.RECORDER_STARTED:
        return SdkErrorCode.RECORDER_INIT_FAILED if _detail_int(details, "status") else None
    if event_type == EventType.RECORDER_LEAVE:
        leave_code = _detail_int(details, "leaveCode")
        if leave_code == LeaveCode.INIT:
            return SdkErrorCode.RECORDER_INIT_FAILED
        if leave_code is not None and leave_code & LeaveCode.NO_USERS:
            return SdkErrorCode.NO_USERS
        return None
    if event_type == EventType.DOWNLOAD_FAILED:
        return SdkErrorCode.UPLOADER_FAILED
    return None


def is_already_running(http_status: int, code: int | None) -> bool:
    """start answered 201 with code 7: the task runs already (not a failure, not a success)."""
    return http_status == HTTPStatus.CREATED and code == ErrorCode.ALREADY_STARTED


def is_already_stopped(http_status: int, code: int | None) -> bool:
    """stop answered 49 (already exiting) or 206/435 (nothing recorded): the task is over."""
    return code == ErrorCode.TASK_EXITING or (
        http_status == HTTPStatus.PARTIAL_CONTENT and code == ErrorCode.NO_RECORDED_DATA
    )


def is_retryable(http_status: int, code: int | None) -> bool:
    """True when the same request may be sent again after a back-off (§1, §5.2, §12).

    5xx, 429, 206 with code 65 and code 62 are retried; 200, 201/7, 206/435 and every other
    4xx (including 404, whose HA back-off is the caller's decision) are not.
    """
    if code == ErrorCode.REQUEST_TIMEOUT:
        return True
    if http_status == HTTPStatus.PARTIAL_CONTENT:
        return code == ErrorCode.REQUEST_INCOMPLETE
    if http_status == HTTPStatus.TOO_MANY_REQUESTS:
        return True
    return http_status >= HTTPStatus.INTERNAL_SERVER_ERROR
