"""Typed protocol errors built from HTTP answers (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_protocol.codes import SdkErrorCode
from cloudrec_protocol.errors import (
    MAX_PROTOCOL_REASON_CHARS,
    AlreadyRunningError,
    AlreadyStoppedError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NoRecordedDataError,
    NotFoundError,
    ProtocolError,
    QuotaExceededError,
    RateLimitedError,
    RequestIncompleteError,
    ResourceExpiredError,
    ResponseError,
    ServiceError,
    TransportError,
    error_from_response,
    not_the_protocol,
)
from cloudrec_protocol.models import ErrorBody, GatewayErrorBody


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "reason", "sdk", "retryable"),
    [
        (400, b'{"code":2,"reason":"bad fps"}', InvalidRequestError, 2, "bad fps", 432, False),
        (201, {"code": 7, "reason": "started"}, AlreadyRunningError, 7, "started", 433, False),
        (400, '{"code":49}', AlreadyStoppedError, 49, "Bad Request", 433, False),
        (206, {"code": 435}, NoRecordedDataError, 435, "Partial Content", 435, False),
        (206, {"code": 65}, RequestIncompleteError, 65, "Partial Content", 430, True),
        (400, {"code": 53}, ConflictError, 53, "Bad Request", 433, False),
        (400, {"code": 433}, ResourceExpiredError, 433, "Bad Request", 433, False),
        (
            400,
            {"code": 406, "reason": "vendor_over_load"},
            QuotaExceededError,
            406,
            None,
            442,
            False,
        ),
        (401, {"message": "Unauthorized"}, AuthenticationError, None, "Unauthorized", 430, False),
        (
            404,
            {"code": 404, "reason": "failed to find worker"},
            NotFoundError,
            404,
            None,
            431,
            False,
        ),
        (
            404,
            {"message": "no Route matched with those values"},
            NotFoundError,
            None,
            None,
            430,
            False,
        ),
        (429, {"message": "API rate limit exceeded"}, RateLimitedError, None, None, 430, True),
        (500, {"code": 500, "reason": "internal_error"}, ServiceError, 500, None, 442, True),
        (
            500,
            {"resourceId": "r", "sid": "", "code": 15},
            ServiceError,
            15,
            "Internal Server Error",
            442,
            True,
        ),
        (
            504,
            b"<html>gateway timeout</html>",
            ServiceError,
            None,
            "HTTP 504 Gateway Timeout: the answer is not a recording service error "
            "(its body is not shown)",
            430,
            True,
        ),
        (502, None, ServiceError, None, "Bad Gateway", 430, True),
    ],
)
def test_answers_become_typed_errors_with_protocol_and_seed_codes(
    status: int,
    body: Any,
    cls: type[ResponseError],
    code: int | None,
    reason: str | None,
    sdk: int,
    retryable: bool,
) -> None:
    error = error_from_response(status, body)
    assert type(error) is cls
    assert isinstance(error, ProtocolError)
    assert (error.http_status, error.code, error.sdk_code, error.retryable) == (
        status,
        code,
        sdk,
        retryable,
    )
    if reason is not None:
        assert error.reason == reason


def test_the_406_quota_error_is_still_an_invalid_request() -> None:
    error = error_from_response(400, {"code": 406, "reason": "vendor_over_load"})
    assert isinstance(error, QuotaExceededError)
    assert isinstance(error, InvalidRequestError)
    assert error.sdk_code == SdkErrorCode.GENERAL_ERROR


def test_an_already_running_error_keeps_the_echoed_sid() -> None:
    error = error_from_response(201, {"code": 7, "resourceId": "rid", "sid": "sid-1"})
    assert isinstance(error.body, ErrorBody)
    assert error.body.sid == "sid-1"


def test_a_gateway_body_is_kept_as_a_gateway_error_body() -> None:
    error = error_from_response(401, b'{"message": "Invalid authentication credentials"}')
    assert isinstance(error.body, GatewayErrorBody)
    assert error.reason == "Invalid authentication credentials"
    assert str(error) == ("HTTP 401: Invalid authentication credentials (seed error ConnectError)")


def test_the_reason_is_stripped_of_secrets_and_truncated() -> None:
    body = {"code": 2, "reason": "bad key topsecret-123 " + "x" * 1000}
    error = error_from_response(400, body, redact=["topsecret-123"])
    assert "topsecret-123" not in str(error)
    assert "[redacted]" in error.reason
    assert len(error.reason) == MAX_PROTOCOL_REASON_CHARS


def test_a_malformed_code_is_reported_without_crashing() -> None:
    error = error_from_response(400, {"code": "not-a-number"})
    assert type(error) is InvalidRequestError
    assert error.code is None
    assert "not-a-number" not in error.reason
    assert error.reason == not_the_protocol(400)


@pytest.mark.parametrize(
    "body",
    [
        b'{"username":"admin","roles":["superuser"],"password_hash":"$2a$10$abc"}',
        b"root:x:0:0:root:/root:/bin/bash",
        b"<html><title>Internal admin</title></html>",
        {"code": {"nested": "secret"}},
    ],
)
def test_an_answer_that_is_not_the_protocols_is_never_echoed(body: Any) -> None:
    error = error_from_response(403, body)
    assert error.reason == not_the_protocol(403)
    for word in ("admin", "root", "secret", "html"):
        assert word not in str(error)


def test_a_transport_error_is_a_retryable_connect_error() -> None:
    error = TransportError("ConnectError: connection refused")
    assert (error.http_status, error.code) == (None, None)
    assert error.sdk_code == SdkErrorCode.CONNECT_ERROR
    assert error.retryable
    assert str(error) == "no answer: ConnectError: connection refused (seed error ConnectError)"
