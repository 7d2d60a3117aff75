"""How S3 failures map to the uploader's codes, and the retry back-off."""

from __future__ import annotations

import pytest

from cloudrec_recorder.storage.errors import backoff_delays, failure_kind


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("InvalidAccessKeyId", 403, "config"),
        ("SignatureDoesNotMatch", 403, "config"),
        ("NoSuchBucket", 404, "config"),
        ("404", 404, "config"),
        ("403", 403, "config"),
        ("AccessDenied", 403, "config"),
        (None, 401, "config"),
        ("InternalError", 500, "transient"),
        ("SlowDown", 503, "transient"),
        ("BadDigest", 400, "transient"),
        (None, None, "transient"),
    ],
)
def test_wrong_configuration_is_told_apart_from_passing_trouble(
    code: str | None, status: int | None, kind: str
) -> None:
    assert failure_kind(code, status) == kind


def test_backoff_doubles_between_tries_and_stops_at_the_cap() -> None:
    assert backoff_delays(5, 0.5, 3.0) == [0.5, 1.0, 2.0, 3.0]
    assert backoff_delays(1, 0.5, 3.0) == []
