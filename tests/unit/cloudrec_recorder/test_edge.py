"""What the recorder's front door admits, from the request line and headers alone (pure)."""

from __future__ import annotations

import pytest

from cloudrec_recorder.app import basic_auth_header
from cloudrec_recorder.edge import Credentials, Refusal, admit

CREDENTIALS = Credentials(
    [
        ("admin", "admin-secret", None),
        ("tenant-a", "a-secret", frozenset({"appA"})),
        ("tenant-b", "b-secret", frozenset({"appB", "appC"})),
    ]
)
LIMIT = 1024 * 1024


def header(user: str, password: str) -> bytes:
    return basic_auth_header(user, password).encode()


ACQUIRE_A = "/v1/apps/appA/cloud_recording/acquire"


@pytest.mark.parametrize(
    ("path", "authorization", "length", "status"),
    [
        ("/healthz", None, None, None),
        ("/readyz", None, None, None),
        (ACQUIRE_A, None, None, 401),
        (ACQUIRE_A, header("admin", "wrong"), None, 401),
        (ACQUIRE_A, header("nobody", "admin-secret"), None, 401),
        (ACQUIRE_A, b"Bearer abc", None, 401),
        (ACQUIRE_A, b"Basic !!!not-base64", None, 401),
        (ACQUIRE_A, b"Basic " + b"YWRtaW4=", None, 401),  # "admin" with no colon
        (ACQUIRE_A, header("admin", "admin-secret"), b"120", None),
        (ACQUIRE_A, header("tenant-a", "a-secret"), b"120", None),
        (ACQUIRE_A, header("tenant-b", "b-secret"), b"120", 401),
        ("/v1/apps/appC/cloud_recording/acquire", header("tenant-b", "b-secret"), None, None),
        (ACQUIRE_A, None, b"33554432", 401),  # 32 MiB unauthenticated: 401, never read
        (ACQUIRE_A, header("tenant-a", "a-secret"), str(LIMIT + 1).encode(), 413),
        (ACQUIRE_A, header("tenant-a", "a-secret"), str(LIMIT).encode(), None),
        (ACQUIRE_A, header("tenant-a", "a-secret"), b"12x", 400),
        ("/metrics", None, None, 401),
        ("/metrics", header("tenant-a", "a-secret"), None, 403),
        ("/metrics", header("admin", "admin-secret"), None, None),
        ("/drain", None, None, 401),
        ("/drain", header("tenant-a", "a-secret"), None, 403),  # a tenant cannot drain
        ("/drain", header("admin", "admin-secret"), None, None),
        ("/v1/apps/appA/cloud_recording/handover/offer", header("tenant-b", "b-secret"), None, 401),
        ("/openapi.json", None, None, 401),
        ("/docs", None, None, 401),
        ("/openapi.json", header("tenant-a", "a-secret"), None, None),
        ("/no/such/route", None, None, 401),
    ],
)
def test_a_request_is_admitted_only_with_credentials_for_its_app_and_a_body_under_the_cap(
    path: str, authorization: bytes | None, length: bytes | None, status: int | None
) -> None:
    outcome = admit(CREDENTIALS, path, authorization, length, LIMIT)
    assert (outcome.status if isinstance(outcome, Refusal) else None) == status


def test_a_credential_for_another_app_is_told_so() -> None:
    outcome = admit(CREDENTIALS, ACQUIRE_A, header("tenant-b", "b-secret"), None, LIMIT)
    assert isinstance(outcome, Refusal)
    assert outcome.message == "Invalid authentication credentials: not valid for this app id"


def test_a_body_over_the_cap_is_refused_naming_the_cap() -> None:
    outcome = admit(CREDENTIALS, ACQUIRE_A, header("admin", "admin-secret"), b"2000000", LIMIT)
    assert isinstance(outcome, Refusal)
    assert outcome.message == "Request body too large: at most 1048576 bytes"
