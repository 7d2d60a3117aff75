"""Unit tests of the Condition model and set_condition()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from cloudrec_operator.api.conditions import (
    DEGRADED,
    READY,
    RECORDING,
    UPLOADED,
    Condition,
    find_condition,
    is_condition_true,
    set_condition,
)
from cloudrec_operator.api.enums import ConditionStatus

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5, microseconds=123456)


def cond(
    type_: str, status: str, reason: str = "Because", when: datetime | None = None
) -> Condition:
    return Condition(
        type=type_, status=ConditionStatus(status), reason=reason, last_transition_time=when
    )


def test_unchanged_status_keeps_the_last_transition_time() -> None:
    before = [cond(READY, "True", "Recording", T0)]
    after = set_condition(before, cond(READY, "True", "StillRecording"), T1)
    assert after[0].last_transition_time == T0
    assert after[0].reason == "StillRecording"


def test_changed_status_moves_the_last_transition_time_to_now_in_whole_seconds() -> None:
    before = [cond(READY, "True", "Recording", T0)]
    after = set_condition(before, cond(READY, "False", "Stopping"), T1)
    assert after[0].last_transition_time == T1.replace(microsecond=0)
    assert after[0].status is ConditionStatus.FALSE


def test_a_new_condition_type_is_appended_with_now() -> None:
    before = [cond(READY, "True", when=T0)]
    after = set_condition(before, cond(UPLOADED, "False"), T1)
    assert [c.type for c in after] == [READY, UPLOADED]
    assert after[1].last_transition_time == T1.replace(microsecond=0)


@pytest.mark.parametrize(
    ("existing", "new", "order"),
    [
        ([], READY, [READY]),
        ([RECORDING, DEGRADED], READY, [READY, RECORDING, DEGRADED]),
        ([RECORDING, READY, UPLOADED], UPLOADED, [READY, RECORDING, UPLOADED]),
        ([UPLOADED, RECORDING], DEGRADED, [UPLOADED, RECORDING, DEGRADED]),
    ],
    ids=[
        "only-ready",
        "ready-added-last-goes-first",
        "ready-in-the-middle-moves-first",
        "no-ready",
    ],
)
def test_ready_always_comes_first_and_the_others_keep_their_order(
    existing: list[str], new: str, order: list[str]
) -> None:
    before = [cond(t, "True", when=T0) for t in existing]
    assert [c.type for c in set_condition(before, cond(new, "False"), T1)] == order


def test_the_input_list_is_not_changed() -> None:
    before = [cond(RECORDING, "True", when=T0), cond(READY, "True", when=T0)]
    snapshot = [c.model_copy(deep=True) for c in before]
    set_condition(before, cond(READY, "False"), T1)
    assert before == snapshot


def test_a_condition_without_a_transition_time_gets_now_even_with_the_same_status() -> None:
    before = [cond(READY, "True")]
    after = set_condition(before, cond(READY, "True"), T1)
    assert after[0].last_transition_time == T1.replace(microsecond=0)


def test_find_and_is_true_look_up_by_type() -> None:
    conditions = [cond(READY, "True", when=T0), cond(DEGRADED, "False", when=T0)]
    assert find_condition(conditions, DEGRADED) == conditions[1]
    assert find_condition(conditions, UPLOADED) is None
    assert is_condition_true(conditions, READY)
    assert not is_condition_true(conditions, DEGRADED)
    assert not is_condition_true(conditions, UPLOADED)


@pytest.mark.parametrize("reason", ["", "has space", "1StartsWithDigit", "EndsWith:"], ids=repr)
def test_reason_must_be_a_camel_case_word(reason: str) -> None:
    with pytest.raises(ValidationError):
        cond(READY, "True", reason)


def test_condition_dumps_in_kubernetes_form() -> None:
    condition = Condition(
        type=READY,
        status=ConditionStatus.TRUE,
        reason="Recording",
        message="recording channel demo",
        last_transition_time=T0,
        observed_generation=3,
    )
    assert condition.dump() == {
        "type": "Ready",
        "status": "True",
        "reason": "Recording",
        "message": "recording channel demo",
        "lastTransitionTime": "2026-01-01T12:00:00Z",
        "observedGeneration": 3,
    }
