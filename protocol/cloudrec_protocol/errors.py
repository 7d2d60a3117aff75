"""Errors of the cloud recording REST protocol, each carrying the protocol's and the seed's codes.

Hierarchy:

* ProtocolError
  * TransportError                  no answer: connect failure, timeout (CONNECT_ERROR, retryable)
  * ResponseError                   the service answered with something other than 200
    * AuthenticationError           401: missing or wrong Basic credentials
    * NotFoundError                 404: no route, or code 404 "failed to find worker"
    * RateLimitedError              429: "API rate limit exceeded" (retryable)
    * InvalidRequestError           other 4xx: code 2, 8, 400, 401, 405, 432, 1013, ...
      * ConflictError               code 53: another task with this cname + uid exists
      * ResourceExpiredError        code 433 / 1001: the resourceId is stale; acquire again
      * QuotaExceededError          code 406: concurrent-task limit reached
    * AlreadyRunningError           201 with code 7: start repeated on a running task
    * AlreadyStoppedError           code 49: stop on a task already stopped or exiting
    * NoRecordedDataError           206 with code 435: stop found nothing recorded
    * RequestIncompleteError        206 with code 65 (retryable)
    * ServiceError                  5xx (retryable)

Every error has `http_status` (None for a transport error), `code` (the body's `code`, None
for gateway bodies), `reason` (the service's text, or the transport failure's class),
`sdk_code` (the seed's `RecordingErrorCode`, §9.5) and `retryable` (§1, §12). `reason`
never holds request data: the client sends no secrets in URLs, and `error_from_response`
removes any `redact` strings from the text and truncates it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from cloudrec_protocol.codes import (
    ErrorCode,
    SdkErrorCode,
    is_retryable,
    sdk_code_for_response,
)
from cloudrec_protocol.models import ErrorBody, GatewayErrorBody

__all__ = [
    "MAX_REASON_CHARS",
    "AlreadyRunningError",
    "AlreadyStoppedError",
    "AuthenticationError",
    "ConflictError",
    "InvalidRequestError",
    "NoRecordedDataError",
    "NotFoundError",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitedError",
    "RequestIncompleteError",
    "ResourceExpiredError",
    "ResponseError",
    "ServiceError",
    "TransportError",
    "error_class_for",
    "error_from_response",
    "not_the_protocol",
]

MAX_REASON_CHARS = 300
MAX_PROTOCOL_REASON_CHARS = 120
"""Characters of a service's own error text (`reason`, `message`) kept in an error."""
_REDACTED = "[redacted]"


class ProtocolError(Exception):
    """Base of every protocol error."""

    def __init__(
        self,
        reason: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        sdk_code: SdkErrorCode | None = None,
        retryable: bool | None = None,
        body: ErrorBody | GatewayErrorBody | None = None,
    ) -> None:
        self.reason = reason
        self.http_status = http_status
        self.code = code
        status = http_status if http_status is not None else 0
        self.sdk_code = sdk_code if sdk_code is not None else sdk_code_for_response(status, code)
        self.retryable = retryable if retryable is not None else is_retryable(status, code)
        self.body = body
        """The parsed error body (for echoed `resourceId`/`sid` of a 201/7), if any."""
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = []
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        head = " ".join(parts) or "no answer"
        return f"{head}: {self.reason} (seed error {self.sdk_code.reason})"


class TransportError(ProtocolError):
    """No HTTP answer: connection refused or reset, DNS failure, timeout."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, sdk_code=SdkErrorCode.CONNECT_ERROR, retryable=True)


class ResponseError(ProtocolError):
    """The service answered with a status other than 200."""


class AuthenticationError(ResponseError):
    """401: Basic credentials missing, wrong, or not valid for the App ID."""


class NotFoundError(ResponseError):
    """404: wrong route, or the task is gone (code 404; may be an HA migration, §10)."""


class RateLimitedError(ResponseError):
    """429: too many requests per second."""


class InvalidRequestError(ResponseError):
    """A 4xx that resending will not fix."""


class ConflictError(InvalidRequestError):
    """Code 53: another task with the same cname and uid exists."""


class ResourceExpiredError(InvalidRequestError):
    """Code 433 (older than 5 minutes) or 1001 (unparsable): acquire a new resourceId."""


class QuotaExceededError(InvalidRequestError):
    """Code 406: the concurrent-task limit is reached; retry later."""


class AlreadyRunningError(ResponseError):
    """201 with code 7: start was repeated on a running task (treat as running; query)."""


class AlreadyStoppedError(ResponseError):
    """Code 49: the task is already stopped or exiting (treat as stopped)."""


class NoRecordedDataError(ResponseError):
    """206 with code 435: stop found nothing recorded (no media ever arrived)."""


class RequestIncompleteError(ResponseError):
    """206 with code 65: the request reached the backend but timed out; resend it."""


class ServiceError(ResponseError):
    """5xx: internal error, no resources, backend timeout."""


_BY_CODE: Mapping[int, type[ResponseError]] = {
    ErrorCode.ALREADY_STARTED: AlreadyRunningError,
    ErrorCode.TASK_EXITING: AlreadyStoppedError,
    ErrorCode.NO_RECORDED_DATA: NoRecordedDataError,
    ErrorCode.REQUEST_INCOMPLETE: RequestIncompleteError,
    ErrorCode.TASK_CONFLICT: ConflictError,
    ErrorCode.RESOURCE_EXPIRED: ResourceExpiredError,
    ErrorCode.RESOURCE_UNPARSABLE: ResourceExpiredError,
    ErrorCode.VENDOR_OVER_LOAD: QuotaExceededError,
}
_BY_STATUS: Mapping[int, type[ResponseError]] = {
    HTTPStatus.UNAUTHORIZED: AuthenticationError,
    HTTPStatus.NOT_FOUND: NotFoundError,
    HTTPStatus.TOO_MANY_REQUESTS: RateLimitedError,
}


def error_class_for(http_status: int, code: int | None) -> type[ResponseError]:
    """The error class for an answer with `http_status` and body `code`."""
    if http_status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ServiceError
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if http_status in _BY_STATUS:
        return _BY_STATUS[http_status]
    if HTTPStatus.BAD_REQUEST <= http_status < HTTPStatus.INTERNAL_SERVER_ERROR:
        return InvalidRequestError
    return ResponseError


def _clean(text: str, redact: Iterable[str]) -> str:
    for secret in redact:
        if secret:
            text = text.replace(secret, _REDACTED)
    text = " ".join(text.split())
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    return text


def _parse_body(body: bytes | str | Mapping[str, Any] | None) -> Any:
    if body is None or isinstance(body, Mapping):
        return body
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def error_from_response(
    http_status: int,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    redact: Iterable[str] = (),
) -> ResponseError:
    """The typed error for a non-200 answer (pure).

    `body` is the raw body (bytes or text) or its parsed JSON object. A body with `code` is a
    service error, one with `message` a gateway error, and their text (at most
    `MAX_PROTOCOL_REASON_CHARS`) becomes the reason. Anything else is not the protocol's: its
    reason is the status code and a fixed text, never the body, which would otherwise be
    echoed to whoever reads the error (a backend URL pointed at another service would have
    its answers shown in the CloudRecording's status and Events). Every string in `redact`
    is removed from the reason.
    """
    parsed = _parse_body(body)
    parsed_body: ErrorBody | GatewayErrorBody | None = None
    code: int | None = None
    reason = ""
    if isinstance(parsed, Mapping):
        try:
            if "code" in parsed:
                parsed_body = ErrorBody.model_validate(parsed)
                code = parsed_body.code
                reason = parsed_body.reason or ""
            elif "message" in parsed:
                parsed_body = GatewayErrorBody.model_validate(parsed)
                reason = parsed_body.message
        except ValidationError:
            parsed_body = None
    if parsed_body is None and parsed not in (None, ""):
        reason = not_the_protocol(http_status)
    elif not reason:
        reason = _default_reason(http_status)
    else:
        reason = _clean(reason, redact)
        if len(reason) > MAX_PROTOCOL_REASON_CHARS:
            reason = reason[: MAX_PROTOCOL_REASON_CHARS - 1] + "…"
    cls = error_class_for(http_status, code)
    return cls(_clean(reason, redact), http_status=http_status, code=code, body=parsed_body)


def not_the_protocol(http_status: int) -> str:
    """The fixed reason of an answer whose body is not a recording service error."""
    return (
        f"HTTP {http_status} {_default_reason(http_status)}: the answer is not a recording "
        "service error (its body is not shown)"
    )


def _default_reason(http_status: int) -> str:
    try:
        return HTTPStatus(http_status).phrase
    except ValueError:
        return "unexpected answer"
