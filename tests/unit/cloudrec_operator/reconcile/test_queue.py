"""The queue of recordings waiting for a backend's capacity: order, who starts, the steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudrec_operator.reconcile.decide import next_step
from cloudrec_operator.reconcile.model import (
    Acquire,
    Cancel,
    Desired,
    Enqueue,
    Failure,
    Finish,
    Phase,
    SdkError,
    Seat,
    Start,
    Step,
    Tracked,
    Wait,
)
from cloudrec_operator.reconcile.observe import apply_outcome
from cloudrec_operator.reconcile.queue import (
    QUEUE_RECHECK,
    Waiter,
    admit,
    enqueued,
    heads,
    ordered,
    positions,
    queue_position,
    seat,
)
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_protocol.codes import ErrorCode

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
TIMING = Timing()


def waiter(name: str, created: str = "2026-12-02T10:00:00Z", priority: int = 0) -> Waiter:
    return Waiter("ns", name, priority, created)


A = waiter("a", "2026-12-02T10:00:01Z")
B = waiter("b", "2026-12-02T10:00:02Z")
C = waiter("c", "2026-12-02T10:00:03Z")
URGENT = waiter("urgent", "2026-12-02T10:00:09Z", priority=5)
LOW = waiter("low", "2026-12-02T09:00:00Z", priority=-1)


ORDER_CASES: list[tuple[str, list[Waiter], list[str]]] = [
    ("older_first", [C, A, B], ["a", "b", "c"]),
    ("higher_priority_jumps_the_queue", [A, B, URGENT], ["urgent", "a", "b"]),
    ("lower_priority_waits_behind_younger", [LOW, A], ["a", "low"]),
    (
        "same_creation_second_orders_by_name",
        [waiter("y"), waiter("x")],
        ["x", "y"],
    ),
    (
        "other_namespace_breaks_the_tie_before_the_name",
        [Waiter("ns2", "a"), Waiter("ns1", "b")],
        ["b", "a"],
    ),
    ("one_entry_per_recording", [A, A, B], ["a", "b"]),
    ("empty_queue", [], []),
]


@pytest.mark.parametrize(("case", "waiters", "names"), ORDER_CASES, ids=[c[0] for c in ORDER_CASES])
def test_the_queue_orders_by_priority_then_creation_time(
    case: str, waiters: list[Waiter], names: list[str]
) -> None:
    assert [w.name for w in ordered(waiters)] == names


def test_positions_count_from_one_at_the_head() -> None:
    assert positions([C, URGENT, A]) == {("ns", "urgent"): 1, ("ns", "a"): 2, ("ns", "c"): 3}


HEAD_CASES: list[tuple[str, int | None, list[str]]] = [
    ("room_for_two_admits_the_first_two", 2, ["urgent", "a"]),
    ("no_room_admits_nobody", 0, []),
    ("a_negative_room_admits_nobody", -3, []),
    ("more_room_than_waiters_admits_all", 10, ["urgent", "a", "b"]),
    ("unknown_room_admits_the_head_alone", None, ["urgent"]),
]


@pytest.mark.parametrize(("case", "free", "names"), HEAD_CASES, ids=[c[0] for c in HEAD_CASES])
def test_the_head_of_the_queue_starts_as_far_as_the_backend_has_room(
    case: str, free: int | None, names: list[str]
) -> None:
    assert [w.name for w in heads([B, A, URGENT], free)] == names


def test_a_recording_holding_a_refused_resource_id_is_admitted_beside_the_heads() -> None:
    holding = [("ns", "c")]
    assert [w.name for w in admit([A, B, C], 1, holding)] == ["a", "c"]
    assert [w.name for w in admit([A, B, C], 0, holding)] == ["c"]
    # a backend that does not say how much room it has: the head alone probes
    assert [w.name for w in admit([A, B, C], None, holding)] == ["a"]


def test_a_recording_alone_and_not_queued_has_no_seat() -> None:
    assert seat(A, [], queued=False, admitted=False) is None
    assert seat(A, [A], queued=False, admitted=False) is None


def test_a_new_recording_takes_its_place_among_those_waiting() -> None:
    assert seat(B, [A, C], queued=False, admitted=False) == Seat(position=2)
    assert seat(URGENT, [A, C], queued=False, admitted=True) == Seat(1, admitted=True)


def test_a_queued_recording_alone_is_first() -> None:
    assert seat(A, [A], queued=True, admitted=False) == Seat(position=1)


QUEUED = Tracked(phase=Phase.QUEUED)
QUEUED_WITH_ID = Tracked(
    phase=Phase.QUEUED,
    resource_id="r1",
    acquired_at=NOW - timedelta(seconds=5),
    refused_start="r1",
)
FIRST = Desired(generation=1, queue=Seat(1))
ADMITTED = Desired(generation=1, queue=Seat(1, admitted=True))

STEP_CASES: list[tuple[str, Desired, Tracked, Step]] = [
    ("a_queued_recording_not_admitted_waits", FIRST, QUEUED, Wait(QUEUE_RECHECK)),
    ("an_admitted_queued_recording_acquires", ADMITTED, QUEUED, Acquire()),
    (
        "an_admitted_recording_refused_at_start_starts_with_its_resource_id",
        ADMITTED,
        QUEUED_WITH_ID,
        Start("r1"),
    ),
    (
        "a_new_recording_behind_others_joins_the_queue",
        Desired(1, queue=Seat(3)),
        Tracked(),
        Enqueue(),
    ),
    ("a_new_recording_admitted_acquires", ADMITTED, Tracked(), Acquire()),
    ("a_new_recording_with_no_queue_acquires", Desired(1), Tracked(), Acquire()),
    (
        "a_queued_recording_set_to_stopped_leaves_the_queue",
        Desired(1, state="Stopped", queue=Seat(2)),
        QUEUED,
        Cancel(),
    ),
    (
        "a_queued_recording_with_a_refused_resource_id_set_to_stopped_leaves_the_queue",
        Desired(1, state="Stopped", queue=Seat(2)),
        QUEUED_WITH_ID,
        Cancel(),
    ),
    (
        "a_deleted_queued_recording_finishes_at_once",
        Desired(1, deleting=True, queue=Seat(1)),
        QUEUED,
        Finish(),
    ),
    (
        "a_deleted_queued_recording_refused_at_start_finishes_at_once",
        Desired(1, deleting=True, queue=Seat(1)),
        QUEUED_WITH_ID,
        Finish(),
    ),
    (
        "an_admitted_head_of_a_hosted_queue_waits_out_its_back_off",
        ADMITTED,
        Tracked(phase=Phase.QUEUED, retry_at=NOW + timedelta(seconds=4)),
        Wait(4.0),
    ),
    (
        "a_recording_already_connecting_ignores_the_queue",
        Desired(1, queue=None),
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=NOW),
        Start("r1"),
    ),
]


@pytest.mark.parametrize(
    ("case", "desired", "tracked", "expected"), STEP_CASES, ids=[c[0] for c in STEP_CASES]
)
def test_the_next_step_of_a_recording_that_meets_a_queue(
    case: str, desired: Desired, tracked: Tracked, expected: Step
) -> None:
    assert next_step(desired, tracked, NOW, TIMING) == expected


OVER_LOAD = Failure(
    http_status=400,
    code=ErrorCode.VENDOR_OVER_LOAD,
    sdk_code=SdkError.INVALID_PARAMETER,
    retryable=False,
    message="vendor_over_load: at most 2 concurrent recordings",
)


def test_a_start_refused_at_capacity_queues_the_recording_with_an_event() -> None:
    connecting = Tracked(phase=Phase.CONNECTING)
    after = apply_outcome(
        Desired(1, capacity_known=True), connecting, Acquire(), OVER_LOAD, NOW, TIMING
    )
    assert after.tracked.phase is Phase.QUEUED
    assert after.tracked.retry_at is None  # the capacity query says when to try again
    assert after.tracked.degraded is None
    assert [(e.reason, e.warning) for e in after.events] == [("Queued", False)]
    assert "at most 2 concurrent recordings" in after.events[0].message


def test_a_hosted_backend_at_capacity_is_tried_again_after_a_growing_back_off() -> None:
    first = apply_outcome(Desired(1), Tracked(), Acquire(), OVER_LOAD, NOW, TIMING).tracked
    second = apply_outcome(Desired(1), first, Acquire(), OVER_LOAD, NOW, TIMING)
    assert first.retry_at == NOW + timedelta(seconds=1)
    assert second.tracked.retry_at == NOW + timedelta(seconds=2)
    assert second.events == ()  # already queued: no second Event


def test_a_start_refused_at_capacity_with_a_resource_id_keeps_it_for_the_next_start() -> None:
    tracked = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=NOW)
    after = apply_outcome(Desired(1), tracked, Start("r1"), OVER_LOAD, NOW, TIMING).tracked
    assert (after.phase, after.resource_id, after.refused_start) == (Phase.QUEUED, "r1", "r1")


def test_joining_the_queue_names_the_position() -> None:
    after = enqueued(Desired(1, queue=Seat(3)), Tracked())
    assert after.tracked.phase is Phase.QUEUED
    assert after.events[0].reason == "Queued"
    assert "position 3" in after.events[0].message


def test_the_status_shows_a_position_only_while_queued() -> None:
    assert queue_position(Phase.QUEUED, 2) == 2
    assert queue_position(Phase.CONNECTING, 2) is None
    assert queue_position(None, 1) is None
