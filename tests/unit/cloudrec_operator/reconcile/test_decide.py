"""The next step for a recording, from desired state and what is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudrec_operator.reconcile.decide import next_step
from cloudrec_operator.reconcile.model import (
    Acquire,
    Cancel,
    Desired,
    Finish,
    Idle,
    Phase,
    Query,
    Release,
    Start,
    Step,
    Stop,
    Tracked,
    Update,
    UpdateLayout,
    Wait,
)
from cloudrec_operator.reconcile.timing import Timing

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
TIMING = Timing()


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


RUNNING = Tracked(
    phase=Phase.RECORDING,
    resource_id="r1",
    acquired_at=ago(100),
    sid="s1",
    started_at=ago(99),
    ready=True,
    last_query_at=ago(1),
    applied_layout_hash="L",
    applied_subscribe_hash="S",
)
DESIRED = Desired(generation=1, layout_hash="L", subscribe_hash="S")
STARTING_UNKNOWN = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3))
"""Acquired, and a start may have been sent: its answer is unknown (a crash, a timeout)."""

CASES: list[tuple[str, Desired, Tracked, Step]] = [
    ("nothing_known_acquires", DESIRED, Tracked(), Acquire()),
    (
        "fresh_resource_id_starts_with_it",
        DESIRED,
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(10)),
        Start("r1"),
    ),
    (
        "unused_resource_id_older_than_its_life_is_acquired_again",
        DESIRED,
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(290), refused_start="r1"),
        Acquire(),
    ),
    (
        "an_old_resource_id_a_start_may_have_used_is_asked_again_not_replaced",
        DESIRED,
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(290)),
        Start("r1"),
    ),
    (
        "running_recording_is_queried_when_due",
        DESIRED,
        RUNNING.replace(last_query_at=ago(31)),
        Query("r1", "s1"),
    ),
    ("running_recording_waits_between_queries", DESIRED, RUNNING, Wait(29.0)),
    (
        "changed_layout_is_applied_with_update_layout",
        Desired(generation=2, layout_hash="L2", subscribe_hash="S"),
        RUNNING,
        UpdateLayout("r1", "s1"),
    ),
    (
        "changed_subscribe_lists_are_applied_with_update",
        Desired(generation=2, layout_hash="L", subscribe_hash="S2"),
        RUNNING,
        Update("r1", "s1"),
    ),
    (
        "individual_mode_never_calls_update_layout",
        Desired(generation=2, mix=False, layout_hash="L2", subscribe_hash="S"),
        RUNNING,
        Wait(29.0),
    ),
    (
        "state_stopped_stops_a_live_recording",
        Desired(generation=2, state="Stopped", layout_hash="L", subscribe_hash="S"),
        RUNNING,
        Stop("r1", "s1"),
    ),
    (
        "state_stopped_before_any_start_starts_nothing",
        Desired(generation=1, state="Stopped"),
        Tracked(),
        Idle(),
    ),
    ("completed_recording_needs_nothing", DESIRED, RUNNING.replace(phase=Phase.COMPLETED), Idle()),
    (
        "backoff_in_force_waits",
        DESIRED,
        Tracked(retry_at=NOW + timedelta(seconds=4)),
        Wait(4.0),
    ),
    (
        "missing_inputs_wait_without_calling_the_service",
        Desired(generation=1, blocked="Secret token not found"),
        Tracked(),
        Wait(60.0),
    ),
    (
        "deletion_with_stop_policy_stops",
        Desired(generation=1, deleting=True),
        RUNNING,
        Stop("r1", "s1"),
    ),
    (
        "deletion_with_keep_in_background_releases",
        Desired(generation=1, deleting=True, release_policy="KeepInBackground"),
        RUNNING,
        Release(),
    ),
    (
        "deletion_after_stop_finishes",
        Desired(generation=1, deleting=True),
        RUNNING.replace(stop_requested=True, phase=Phase.UPLOADING),
        Finish(),
    ),
    (
        "deletion_while_a_start_answer_is_unknown_waits_for_adoption_or_the_id_to_expire",
        Desired(generation=1, deleting=True),
        STARTING_UNKNOWN,
        Wait(30.0),
    ),
    (
        "deletion_once_the_resource_id_expired_asks_for_its_recording_by_starting_again",
        Desired(generation=1, deleting=True),
        STARTING_UNKNOWN.replace(acquired_at=ago(300)),
        Start("r1"),
    ),
    (
        "deletion_after_a_refused_start_finishes_at_once",
        Desired(generation=1, deleting=True),
        STARTING_UNKNOWN.replace(refused_start="r1", retry_at=NOW + timedelta(seconds=8)),
        Finish(),
    ),
    (
        "deletion_of_a_start_answered_already_started_asks_again_for_its_sid",
        Desired(generation=1, deleting=True),
        STARTING_UNKNOWN.replace(lost_start="r1"),
        Start("r1"),
    ),
    (
        "deletion_of_a_lost_start_finishes_once_adoption_is_over",
        Desired(generation=1, deleting=True),
        STARTING_UNKNOWN.replace(lost_start="r1", acquired_at=ago(121)),
        Finish(),
    ),
    (
        "deletion_with_keep_in_background_releases_a_start_whose_answer_is_unknown",
        Desired(generation=1, deleting=True, release_policy="KeepInBackground"),
        STARTING_UNKNOWN,
        Release(),
    ),
    (
        "deletion_while_stopping_sends_stop_again_until_the_service_took_it",
        Desired(generation=1, deleting=True),
        RUNNING.replace(phase=Phase.STOPPING),
        Stop("r1", "s1"),
    ),
    (
        "deletion_of_a_restart_waiting_out_its_backoff_finishes",
        Desired(generation=1, deleting=True),
        Tracked(phase=Phase.PENDING, restarts=1, retry_at=NOW + timedelta(seconds=9)),
        Finish(),
    ),
    (
        "state_stopped_before_the_operator_ever_saw_the_resource_starts_nothing_and_rests",
        Desired(generation=2, state="Stopped", restart_policy="OnFailure"),
        Tracked(),
        Idle(),
    ),
    (
        "state_stopped_while_a_restart_waits_out_its_backoff_ends_the_resource",
        Desired(generation=2, state="Stopped"),
        Tracked(phase=Phase.PENDING, restarts=1, retry_at=NOW + timedelta(seconds=9)),
        Cancel(),
    ),
    (
        "state_stopped_while_starts_are_refused_with_a_conflict_ends_the_resource",
        Desired(generation=2, state="Stopped"),
        STARTING_UNKNOWN.replace(
            restarts=1, refused_start="r1", retry_at=NOW + timedelta(seconds=8)
        ),
        Cancel(),
    ),
    (
        "state_stopped_with_missing_inputs_and_nothing_started_ends_the_resource",
        Desired(generation=2, state="Stopped", blocked="Secret ns/bucket not found"),
        STARTING_UNKNOWN.replace(refused_start="r1"),
        Cancel(),
    ),
    (
        "state_stopped_while_a_start_answer_is_unknown_waits_for_it",
        Desired(generation=2, state="Stopped"),
        STARTING_UNKNOWN,
        Wait(30.0),
    ),
    (
        "state_stopped_once_the_resource_id_expired_asks_for_its_recording",
        Desired(generation=2, state="Stopped"),
        STARTING_UNKNOWN.replace(acquired_at=ago(301)),
        Start("r1"),
    ),
    (
        "deletion_of_a_completed_recording_finishes",
        Desired(generation=1, deleting=True),
        RUNNING.replace(phase=Phase.COMPLETED),
        Finish(),
    ),
]


@pytest.mark.parametrize(
    ("desired", "tracked", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_next_step(desired: Desired, tracked: Tracked, expected: Step) -> None:
    assert next_step(desired, tracked, NOW, TIMING) == expected


def test_first_query_comes_soon_after_start_and_slows_once_confirmed() -> None:
    starting = RUNNING.replace(
        ready=False, phase=Phase.CONNECTING, started_at=ago(1), last_query_at=None
    )
    step = next_step(DESIRED, starting, NOW, TIMING)
    assert step == Wait(pytest.approx(1.0))  # type: ignore[arg-type]
    steady = next_step(DESIRED, RUNNING.replace(last_query_at=ago(0)), NOW, TIMING)
    assert isinstance(steady, Wait) and steady.delay == pytest.approx(TIMING.steady_query)


def test_a_start_the_service_confirmed_already_is_first_queried_at_the_steady_interval() -> None:
    # recorder_started (event 40) made it Ready before any query: no query 2 s after start.
    confirmed = RUNNING.replace(started_at=ago(1), last_query_at=None)
    step = next_step(DESIRED, confirmed, NOW, TIMING)
    assert step == Wait(pytest.approx(TIMING.steady_query - 1))  # type: ignore[arg-type]
    # after an operator restart (started long ago, never queried by this process): at once
    assert next_step(DESIRED, confirmed.replace(started_at=ago(100)), NOW, TIMING) == Query(
        "r1", "s1"
    )


def test_query_interval_never_exceeds_max_idle_time() -> None:
    short_idle = Desired(generation=1, layout_hash="L", subscribe_hash="S", max_idle_time=5)
    step = next_step(short_idle, RUNNING.replace(last_query_at=ago(0)), NOW, TIMING)
    assert isinstance(step, Wait) and step.delay == pytest.approx(5.0)


def test_a_backend_with_a_short_resource_id_life_is_acquired_again_and_probed_sooner() -> None:
    short = Timing(resource_id_lifetime=30.0)
    deleting = Desired(generation=1, deleting=True)
    assert next_step(DESIRED, STARTING_UNKNOWN.replace(acquired_at=ago(22)), NOW, short) == Start(
        "r1"
    )
    unused = STARTING_UNKNOWN.replace(refused_start="r1")
    assert next_step(DESIRED, unused.replace(acquired_at=ago(23)), NOW, short) == Acquire()
    assert next_step(deleting, STARTING_UNKNOWN.replace(acquired_at=ago(20)), NOW, short) == (
        Wait(10.0)
    )
    assert next_step(deleting, STARTING_UNKNOWN.replace(acquired_at=ago(30)), NOW, short) == (
        Start("r1")
    )
