"""Event 12 on a CloudRecording (reconcile/takeover.py): a hand-over or a take-over."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloudrec_operator.api.enums import Phase
from cloudrec_operator.reconcile.model import Tracked
from cloudrec_operator.reconcile.takeover import on_failover, still_degraded
from cloudrec_protocol.events import SessionFailoverDetails

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
RECORDING = Tracked(phase=Phase.RECORDING, ready=True, sid="s1", started_at=NOW)
TAKEN = "Taken over by replica rb (recorder uid 3000000001) after recorder replica ra was lost"


@pytest.mark.parametrize(
    ("details", "reason", "warning", "message", "degraded"),
    [
        (
            {"newUid": 3000000001, "fromReplica": "ra", "toReplica": "rb"},
            "HandedOver",
            False,
            "Handed over from recorder replica ra to rb (recorder uid 3000000001)",
            None,
        ),
        (
            {"newUid": 42},
            "HandedOver",
            False,
            "Handed over to another recorder (recorder uid 42)",
            None,
        ),
        (
            {"newUid": 3000000001, "fromReplica": "ra", "toReplica": "rb", "gapMs": 6340},
            "TakenOver",
            True,
            TAKEN + ": 6.3s of media missing",
            "TakenOver",
        ),
        (
            {"newUid": 42, "gapMs": 0},
            "TakenOver",
            True,
            "Taken over by another recorder (recorder uid 42) after its recorder was lost: "
            "0.0s of media missing",
            "TakenOver",
        ),
    ],
)
def test_a_take_over_is_degraded_with_its_gap_and_a_hand_over_is_not(
    details: dict[str, object], reason: str, warning: bool, message: str, degraded: str | None
) -> None:
    d = SessionFailoverDetails.model_validate({"msgName": "session_failover", **details})
    result = on_failover(RECORDING, d, NOW)
    assert [(e.reason, e.message, e.warning) for e in result.events] == [(reason, message, warning)]
    after = result.tracked
    assert after.phase is Phase.RECORDING and after.ready, "the recording goes on"
    assert after.failover_at == NOW and after.not_found_since is None
    assert after.degraded == degraded
    assert after.degraded_message == (message if degraded else "")


@pytest.mark.parametrize(
    ("degraded", "message", "kept"),
    [
        ("TakenOver", "Taken over ... 6.3s of media missing", True),
        ("Unreachable", "query failed; retry 1 in 2s", False),
        (None, "", False),
    ],
)
def test_a_good_answer_ends_a_transient_degradation_but_not_a_take_overs_gap(
    degraded: str | None, message: str, kept: bool
) -> None:
    tracked = RECORDING.replace(degraded=degraded, degraded_message=message)
    assert still_degraded(tracked) == ((degraded, message) if kept else (None, ""))
