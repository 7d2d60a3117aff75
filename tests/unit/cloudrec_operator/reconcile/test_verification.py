"""When a completed recording's bucket is checked against its manifest, and what shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloudrec_operator.api.conditions import VERIFIED, Condition, find_condition
from cloudrec_operator.api.enums import ConditionStatus, ServiceKind, Verification
from cloudrec_operator.reconcile.model import Phase, Reason
from cloudrec_operator.reconcile.verification import (
    MAX_MESSAGE,
    VerificationResult,
    verification_due,
    verification_event,
    verification_without_bucket,
    with_verified,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CHECKED = [Condition(type=VERIFIED, status=ConditionStatus.TRUE, reason="Verified")]


@pytest.mark.parametrize(
    ("mode", "phase", "upload", "conditions", "requested", "due"),
    [
        (Verification.SIZE, Phase.COMPLETED, "uploaded", [], False, True),
        (Verification.HASH, Phase.COMPLETED, "uploaded", [], False, True),
        (Verification.NONE, Phase.COMPLETED, "uploaded", [], False, False),
        (Verification.SIZE, Phase.RECORDING, None, [], False, False),
        (Verification.SIZE, Phase.UPLOADING, "uploaded", [], False, False),
        (Verification.SIZE, Phase.COMPLETED, "backuped", [], False, False),
        (Verification.SIZE, Phase.FAILED, "uploaded", [], False, False),
        (Verification.SIZE, Phase.COMPLETED, "uploaded", CHECKED, False, False),
        (Verification.SIZE, Phase.COMPLETED, "uploaded", CHECKED, True, True),
        (Verification.NONE, Phase.COMPLETED, "uploaded", CHECKED, True, False),
    ],
    ids=[
        "completed and uploaded",
        "hash mode",
        "verification None",
        "still recording",
        "not completed yet",
        "files in the backup",
        "failed",
        "checked already",
        "asked again",
        "asked again but None",
    ],
)
def test_a_recording_is_checked_once_completed_with_every_file_in_the_bucket(
    mode: Verification,
    phase: Phase,
    upload: str | None,
    conditions: list[Condition],
    requested: bool,
    due: bool,
) -> None:
    assert verification_due(mode, phase, upload, conditions, requested=requested) is due


@pytest.mark.parametrize(
    ("kind", "secret", "reason"),
    [
        (ServiceKind.HOSTED, True, "NoManifest"),
        (ServiceKind.HOSTED, False, "NoManifest"),
        (ServiceKind.SELF_HOSTED, False, "NoCallbackSecret"),
        (ServiceKind.SELF_HOSTED, True, None),
    ],
)
def test_without_a_manifest_or_a_secret_the_result_is_unknown_without_reading_the_bucket(
    kind: ServiceKind, secret: bool, reason: str | None
) -> None:
    result = verification_without_bucket(kind, secret)
    if reason is None:
        assert result is None
    else:
        assert result is not None and (result.outcome, result.reason) == ("Unknown", reason)


@pytest.mark.parametrize(
    ("outcome", "status", "event_reason", "warning"),
    [
        ("Verified", ConditionStatus.TRUE, Reason.VERIFIED, False),
        ("Failed", ConditionStatus.FALSE, Reason.VERIFICATION_FAILED, True),
        ("Unknown", ConditionStatus.UNKNOWN, Reason.VERIFICATION_UNKNOWN, False),
    ],
)
def test_the_result_sets_the_verified_condition_and_posts_its_event(
    outcome: str, status: ConditionStatus, event_reason: Reason, warning: bool
) -> None:
    result = VerificationResult(outcome, "SomeReason", "x" * (MAX_MESSAGE * 2))  # type: ignore[arg-type]
    conditions = with_verified([], result, 3, NOW)
    condition = find_condition(conditions, VERIFIED)
    assert condition is not None
    assert condition.status is status
    assert condition.observed_generation == 3
    assert len(condition.message) == MAX_MESSAGE
    event = verification_event(result)
    assert event.reason == event_reason
    assert event.warning is warning
    assert len(event.message) <= MAX_MESSAGE


@pytest.mark.parametrize(
    ("secret", "public_key", "problem", "reason"),
    [
        (False, True, None, None),
        (True, True, None, None),
        (False, False, None, "NoCallbackSecret"),
        (
            True,
            False,
            "manifestPublicKeyRef: Secret ns/k key 'k': not a PEM public key",
            "PublicKeyUnusable",
        ),
    ],
    ids=[
        "a-public-key-alone-is-enough",
        "both",
        "neither",
        "an-unusable-public-key-is-said-without-reading-the-bucket",
    ],
)
def test_a_manifest_public_key_lets_the_bucket_be_checked_without_the_callback_secret(
    secret: bool, public_key: bool, problem: str | None, reason: str | None
) -> None:
    result = verification_without_bucket(
        ServiceKind.SELF_HOSTED, secret, has_public_key=public_key, key_problem=problem
    )
    if reason is None:
        assert result is None
    else:
        assert result is not None and (result.outcome, result.reason) == ("Unknown", reason)
        assert problem is None or result.message == problem
