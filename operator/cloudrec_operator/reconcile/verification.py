"""Pure decisions of manifest verification: when to check, and what the result shows.

The check itself (reading the bucket) is the handlers' (``handlers.verifying``); here: whether
a recording is due for one (:func:`verification_due`), what needs no bucket at all
(:func:`verification_without_bucket`), and the ``Verified`` condition and Event of a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cloudrec_operator.api.conditions import VERIFIED, Condition, find_condition, set_condition
from cloudrec_operator.api.enums import ConditionStatus, ServiceKind, Verification
from cloudrec_operator.reconcile.model import EventRecord, Phase, Reason

__all__ = [
    "MAX_MESSAGE",
    "VerificationResult",
    "verification_due",
    "verification_event",
    "verification_without_bucket",
    "with_verified",
]

MAX_MESSAGE = 2048
"""The condition's and Event's message are cut to this many characters (the objects are
named first; how many more there are ends the list)."""

_STATUS = {
    "Verified": ConditionStatus.TRUE,
    "Failed": ConditionStatus.FALSE,
    "Unknown": ConditionStatus.UNKNOWN,
}


@dataclass(frozen=True)
class VerificationResult:
    """What a verification found (or why there was none)."""

    outcome: Literal["Verified", "Failed", "Unknown"]
    reason: str
    message: str


def verification_due(
    mode: Verification,
    phase: Phase,
    upload_status: str | None,
    conditions: Sequence[Condition],
    *,
    requested: bool = False,
) -> bool:
    """A completed recording whose files are all in the bucket is checked once (again when
    ``requested``); never with ``verification: None``, nor while files are in the backup."""
    if mode is Verification.NONE or phase is not Phase.COMPLETED:
        return False
    if upload_status != "uploaded":
        return False
    return requested or find_condition(conditions, VERIFIED) is None


def verification_without_bucket(
    service_kind: ServiceKind,
    has_secret: bool,
    *,
    has_public_key: bool = False,
    key_problem: str | None = None,
) -> VerificationResult | None:
    """The result when the bucket need not be read: a hosted backend writes no manifest; a
    manifest public key that cannot be used, or neither it nor the callback secret, leaves no
    signature to check. None: read the bucket."""
    if service_kind is ServiceKind.HOSTED:
        return VerificationResult(
            "Unknown",
            "NoManifest",
            "The hosted recording service writes no manifest; nothing vouches for the files",
        )
    if key_problem is not None:
        return VerificationResult("Unknown", "PublicKeyUnusable", key_problem)
    if not has_secret and not has_public_key:
        return VerificationResult(
            "Unknown",
            "NoCallbackSecret",
            "The backend has no callbackSecretRef (nor manifestPublicKeyRef): the manifest's "
            "signature cannot be checked",
        )
    return None


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def with_verified(
    conditions: Sequence[Condition], result: VerificationResult, generation: int, now: datetime
) -> list[Condition]:
    """``conditions`` with ``Verified`` set from ``result``."""
    condition = Condition(
        type=VERIFIED,
        status=_STATUS[result.outcome],
        reason=result.reason,
        message=_cut(result.message),
        observed_generation=generation,
    )
    return set_condition(conditions, condition, now)


def verification_event(result: VerificationResult) -> EventRecord:
    """``Verified`` (Normal), ``VerificationFailed`` (Warning) or ``VerificationUnknown``."""
    if result.outcome == "Verified":
        return EventRecord(Reason.VERIFIED, _cut(result.message))
    if result.outcome == "Failed":
        return EventRecord(
            Reason.VERIFICATION_FAILED, _cut(f"{result.reason}: {result.message}"), warning=True
        )
    return EventRecord(Reason.VERIFICATION_UNKNOWN, _cut(f"{result.reason}: {result.message}"))
