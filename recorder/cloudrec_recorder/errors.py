"""Errors the recorder answers with, shaped as the protocol's two error bodies.

``ApiError`` (service error) becomes ``{"code": N, "reason": "..."}`` with its HTTP
status; ``GatewayError`` becomes ``{"message": "..."}`` (401, unknown route, 429).
The constructors below name every protocol code the recorder uses (protocol.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping

from cloudrec_protocol.codes import ErrorCode
from cloudrec_recorder.recordingkey import clash_reason


class ApiError(Exception):
    """A protocol error: HTTP status + body ``code`` + ``reason``."""

    def __init__(
        self, status: int, code: int, reason: str, echo: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} code {code}: {reason}")
        self.status = status
        self.code = code
        self.reason = reason
        self.echo: dict[str, str] = dict(echo or {})
        """Ids echoed in the body beside code and reason (``resourceId``, ``sid``)."""


class GatewayError(Exception):
    """An error the protocol's API gateway would answer: ``{"message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def invalid_parameter(reason: str) -> ApiError:
    """400 / 2: a bad request body or parameter; ``reason`` names the field."""
    return ApiError(400, ErrorCode.INVALID_PARAMETER, reason)


def sid_of_another_app(what: str) -> ApiError:
    """400 / 2: an offer or a take-over record under one app id names a sid another app's
    recording has on this replica (recordingkey.py): refused, never merged."""
    return invalid_parameter(clash_reason(what))


def already_started(resource_id: str, sid: str | None) -> ApiError:
    """201 / 7: start repeated with a resource id that already started a task.

    The body echoes the resource id and the sid of the running task, so a caller whose first
    start answer was lost can adopt the recording instead of waiting for it to end.
    """
    echo = {"resourceId": resource_id} | ({"sid": sid} if sid else {})
    return ApiError(
        201, ErrorCode.ALREADY_STARTED, "task already started with this resourceId", echo
    )


def repeated_stop() -> ApiError:
    """400 / 49: stop on a task that is already stopping or has exited."""
    return ApiError(400, ErrorCode.TASK_EXITING, "invalid operation: the task is already exiting")


def no_recorded_data() -> ApiError:
    """206 / 435: stop on a task that never received media."""
    return ApiError(206, ErrorCode.NO_RECORDED_DATA, "no recorded data: nobody sent media")


def upload_timeout() -> ApiError:
    """400 / 50: a synchronous stop whose upload did not finish in the window."""
    return ApiError(400, ErrorCode.UPLOAD_TIMEOUT, "upload timeout: files are still uploading")


def task_conflict(cname: str, uid: str) -> ApiError:
    """400 / 53: another task already records this cname with this uid."""
    return ApiError(
        400,
        ErrorCode.TASK_CONFLICT,
        f"task conflict: another task records cname {cname!r} as uid {uid}",
    )


def uid_in_channel(cname: str, uid: str) -> ApiError:
    """400 / 53: the recorder's uid is already used by someone in the channel."""
    return ApiError(
        400, ErrorCode.TASK_CONFLICT, f"task conflict: uid {uid} is already in channel {cname!r}"
    )


def not_found() -> ApiError:
    """404 / 404: no such task (unknown sid, exited long ago, or past resourceExpiredHour)."""
    return ApiError(404, ErrorCode.WORKER_NOT_FOUND, "failed to find worker")


def invalid_appid() -> ApiError:
    """400 / 400: the app id is not configured on this recorder."""
    return ApiError(400, ErrorCode.INVALID_APPID, "invalid_appid")


def channel_not_found(cname: str) -> ApiError:
    """400 / 401: the channel server has no room with this name."""
    return ApiError(
        400,
        ErrorCode.INVALID_CHANNEL_NAME,
        f"invalid_channel_name: no room {cname!r} on the channel server",
    )


def over_load(limit: int) -> ApiError:
    """400 / 406: this process already runs its maximum of concurrent recordings."""
    return ApiError(
        400, ErrorCode.VENDOR_OVER_LOAD, f"vendor_over_load: at most {limit} concurrent recordings"
    )


def app_over_load(appid: str, limit: int) -> ApiError:
    """400 / 406: this app id already has its quota of recordings (and pending acquires)."""
    return ApiError(
        400, 406, f"vendor_over_load: app {appid} may have at most {limit} concurrent recordings"
    )


def rate_limited() -> GatewayError:
    """429 (gateway): this app id sent more ``acquire`` requests than its quota allows."""
    return GatewayError(429, "API rate limit exceeded")


def token_invalid() -> ApiError:
    """400 / 110: the channel server refused the token."""
    return ApiError(400, ErrorCode.TOKEN_INVALID, "invalid token: the channel server refused it")


def resource_mismatch(what: str) -> ApiError:
    """400 / 432: appid, cname or uid differ from the acquire that made the resource id."""
    return ApiError(
        400, ErrorCode.RESOURCE_MISMATCH, f"parameter invalid: {what} does not match the resourceId"
    )


def resource_expired() -> ApiError:
    """400 / 433: the resource id waited longer than its validity for start."""
    return ApiError(400, ErrorCode.RESOURCE_EXPIRED, "resourceId expired: acquire again")


def resource_unparsable() -> ApiError:
    """400 / 1001: the resource id was not made by this recorder."""
    return ApiError(
        400, ErrorCode.RESOURCE_UNPARSABLE, "resourceId cannot be parsed: acquire again"
    )


def draining() -> ApiError:
    """503 / 501: the process is shutting down and takes no new work (retry elsewhere)."""
    return ApiError(
        503,
        ErrorCode.NO_WORKER_MANAGER,
        "no_worker_manager_available: the recorder is shutting down",
    )


def channel_unreachable(detail: str) -> ApiError:
    """504 / 62: the channel server did not answer."""
    return ApiError(
        504, ErrorCode.REQUEST_TIMEOUT, f"request timeout: channel server unreachable ({detail})"
    )


def internal(detail: str) -> ApiError:
    """500 / 500: anything unexpected."""
    return ApiError(500, ErrorCode.INTERNAL_ERROR, f"internal_error: {detail}")
