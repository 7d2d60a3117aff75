"""Tracked state to and from the resource's status and annotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.cloudrec_operator.reconcile.test_startrequest import spec

from cloudrec_operator.reconcile.model import ErrorInfo, Phase, Tracked
from cloudrec_operator.reconcile.persist import (
    TRACKING_ANNOTATION,
    build_status,
    load_tracked,
    tracking_annotation,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

TRACKED = Tracked(
    phase=Phase.RECORDING,
    resource_id="r1",
    acquired_at=NOW - timedelta(seconds=20),
    sid="s1",
    started_at=NOW - timedelta(seconds=19),
    ready=True,
    files=("a.m3u8", "a0.ts"),
    upload_progress=40,
    restarts=1,
    last_error=ErrorInfo(441, "The recorder exited", NOW),
    failures=2,
    retry_at=NOW + timedelta(seconds=4),
    applied_layout_hash="abc",
)


def conditions(status: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["type"]: c for c in status["conditions"]}  # type: ignore[attr-defined]


def test_status_and_annotation_round_trip() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    annotations = {TRACKING_ANNOTATION: tracking_annotation(TRACKED)}
    assert load_tracked(status, annotations) == TRACKED


def test_ready_is_true_with_observed_generation_once_recording() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    ready = conditions(status)["Ready"]
    assert ready["status"] == "True"
    assert ready["observedGeneration"] == 3
    assert status["observedGeneration"] == 3
    assert status["conditions"][0]["type"] == "Ready"


def test_terminal_failure_sets_ready_false_with_its_reason() -> None:
    failed = TRACKED.replace(phase=Phase.FAILED, ready=False, failed_reason="AuthenticationFailed")
    ready = conditions(build_status(spec(), failed, 1, None, NOW))["Ready"]
    assert ready["status"] == "False"
    assert ready["reason"] == "AuthenticationFailed"


def test_missing_input_names_what_is_missing_in_ready_and_degraded() -> None:
    message = "Secret default/token not found"
    status = build_status(spec(), Tracked(), 1, None, NOW, message, "SecretNotFound")
    found = conditions(status)
    assert found["Ready"]["reason"] == "SecretNotFound"
    assert found["Ready"]["message"] == message
    assert found["Degraded"]["status"] == "True"


def test_status_is_identical_when_nothing_changed() -> None:
    first = build_status(spec(), TRACKED, 3, None, NOW)
    again = build_status(spec(), TRACKED, 3, first, NOW + timedelta(minutes=5))
    assert again == first


def test_last_error_carries_the_seed_code_and_its_name() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    assert status["lastError"]["code"] == 441
    assert status["lastError"]["reason"] == "RecorderExpireExit"


def test_private_bookkeeping_stays_out_of_the_status() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    assert "failures" not in str(status)
    assert "retry" not in str(status)
