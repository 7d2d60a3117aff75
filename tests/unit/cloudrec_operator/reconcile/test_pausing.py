"""Pause and resume (``spec.state: Paused``): the decisions, their outcomes and the status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.cloudrec_operator.reconcile.test_startrequest import spec

from cloudrec_operator.api.enums import DesiredState
from cloudrec_operator.reconcile.decide import next_step
from cloudrec_operator.reconcile.model import (
    Applied,
    Cancel,
    Desired,
    Failure,
    Idle,
    Pause,
    Phase,
    Queried,
    Query,
    RefusePause,
    Resume,
    SdkError,
    Seat,
    Start,
    Step,
    Stop,
    Tracked,
    Update,
    Wait,
)
from cloudrec_operator.reconcile.observe import apply_outcome
from cloudrec_operator.reconcile.pausing import refusal
from cloudrec_operator.reconcile.persist import build_status
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_protocol.codes import RecordingStatus

NOW = datetime(2026, 12, 3, 8, 0, 0, tzinfo=UTC)
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
PAUSED = RUNNING.replace(phase=Phase.PAUSED)
SELF_HOSTED = Desired(generation=2, layout_hash="L", subscribe_hash="S", pause_supported=True)
WANTS_PAUSE = Desired(
    generation=2, state="Paused", layout_hash="L", subscribe_hash="S", pause_supported=True
)
HOSTED_WANTS_PAUSE = Desired(generation=2, state="Paused", layout_hash="L", subscribe_hash="S")

CASES: list[tuple[str, Desired, Tracked, Step]] = [
    ("a_running_recording_is_paused", WANTS_PAUSE, RUNNING, Pause("r1", "s1")),
    (
        "a_paused_recording_is_resumed_when_recording_is_wanted",
        SELF_HOSTED,
        PAUSED,
        Resume("r1", "s1"),
    ),
    ("a_paused_recording_that_stays_paused_is_queried_when_due", WANTS_PAUSE, PAUSED, Wait(29.0)),
    (
        "a_paused_recording_is_queried_like_a_running_one",
        WANTS_PAUSE,
        PAUSED.replace(last_query_at=ago(31)),
        Query("r1", "s1"),
    ),
    (
        "a_paused_recording_is_stopped_for_state_stopped",
        Desired(generation=3, state="Stopped", layout_hash="L", subscribe_hash="S"),
        PAUSED,
        Stop("r1", "s1"),
    ),
    (
        "a_paused_recording_is_stopped_when_deleted",
        Desired(generation=3, state="Paused", deleting=True, pause_supported=True),
        PAUSED,
        Stop("r1", "s1"),
    ),
    (
        "a_paused_recording_still_takes_new_subscribe_lists",
        Desired(
            generation=3, state="Paused", layout_hash="L", subscribe_hash="S2", pause_supported=True
        ),
        PAUSED,
        Update("r1", "s1"),
    ),
    (
        "a_recording_not_yet_confirmed_is_paused_only_once_it_runs",
        WANTS_PAUSE,
        RUNNING.replace(phase=Phase.CONNECTING, ready=False, last_query_at=None, started_at=ago(1)),
        Wait(1.0),
    ),
    ("a_backend_that_cannot_pause_refuses_it_once", HOSTED_WANTS_PAUSE, RUNNING, RefusePause()),
    (
        "a_refused_pause_is_not_asked_again_and_the_recording_goes_on",
        HOSTED_WANTS_PAUSE,
        RUNNING.replace(pause_refused=True),
        Wait(29.0),
    ),
    (
        "a_refusal_is_forgotten_once_the_spec_no_longer_asks_for_a_pause",
        Desired(generation=3, layout_hash="L", subscribe_hash="S"),
        RUNNING.replace(pause_refused=True),
        RefusePause(clear=True),
    ),
    ("a_resource_paused_before_it_started_starts_nothing", WANTS_PAUSE, Tracked(), Idle()),
    (
        "a_queued_resource_paused_leaves_the_queue",
        Desired(generation=2, state="Paused", pause_supported=True, queue=Seat(position=2)),
        Tracked(phase=Phase.QUEUED),
        Cancel(),
    ),
    (
        "a_start_whose_answer_is_unknown_goes_on_to_find_the_recording",
        WANTS_PAUSE,
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3)),
        Start("r1"),
    ),
]


@pytest.mark.parametrize(
    ("desired", "tracked", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_next_step(desired: Desired, tracked: Tracked, expected: Step) -> None:
    assert next_step(desired, tracked, NOW, TIMING) == expected


def test_a_pause_the_recorder_took_makes_the_phase_paused_with_an_event() -> None:
    result = apply_outcome(WANTS_PAUSE, RUNNING, Pause("r1", "s1"), Applied(), NOW, TIMING)
    assert result.tracked.phase is Phase.PAUSED and result.tracked.ready
    assert [(e.reason, e.warning) for e in result.events] == [("Paused", False)]


def test_a_resume_the_recorder_took_makes_the_phase_recording_with_an_event() -> None:
    result = apply_outcome(SELF_HOSTED, PAUSED, Resume("r1", "s1"), Applied(), NOW, TIMING)
    assert result.tracked.phase is Phase.RECORDING
    assert [e.reason for e in result.events] == ["Resumed"]


@pytest.mark.parametrize("status", [RecordingStatus.IN_PROGRESS, RecordingStatus.READY])
def test_a_query_saying_the_recorder_runs_keeps_a_paused_recording_paused(
    status: RecordingStatus,
) -> None:
    result = apply_outcome(WANTS_PAUSE, PAUSED, Query("r1", "s1"), Queried(status), NOW, TIMING)
    assert result.tracked.phase is Phase.PAUSED
    assert result.events == ()


def test_a_pause_the_recorder_refuses_is_reported_once_and_not_retried() -> None:
    refused = Failure(400, 2, SdkError.INVALID_PARAMETER, False, "clientRequest.onhold: unknown")
    result = apply_outcome(WANTS_PAUSE, RUNNING, Pause("r1", "s1"), refused, NOW, TIMING)
    assert result.tracked.pause_refused and result.tracked.phase is Phase.RECORDING
    (event,) = result.events
    assert (event.reason, event.warning) == ("PauseUnsupported", True)
    assert "onhold" in event.message
    assert next_step(WANTS_PAUSE, result.tracked, NOW, TIMING) == Wait(29.0)


def test_a_resume_that_fails_is_retried_after_a_back_off_and_stays_paused() -> None:
    refused = Failure(500, None, SdkError.GENERAL_ERROR, False, "boom")
    result = apply_outcome(SELF_HOSTED, PAUSED, Resume("r1", "s1"), refused, NOW, TIMING)
    assert result.tracked.phase is Phase.PAUSED
    assert result.tracked.degraded == "BackendUnavailable" and result.tracked.retry_at is not None


def test_a_refused_pause_posts_a_warning_and_its_clearing_posts_nothing() -> None:
    first = refusal(RUNNING, RefusePause())
    assert first.tracked.pause_refused
    assert [(e.reason, e.warning) for e in first.events] == [("PauseUnsupported", True)]
    cleared = refusal(first.tracked, RefusePause(clear=True))
    assert not cleared.tracked.pause_refused and cleared.events == ()


def _ready(state: DesiredState, tracked: Tracked) -> dict[str, object]:
    status = build_status(spec().model_copy(update={"state": state}), tracked, 2, None, NOW)
    found = {c["type"]: c for c in status["conditions"]}
    return {
        "phase": status["phase"],
        "ready": found["Ready"]["status"],
        "reason": found["Ready"]["reason"],
        "recording": found["Recording"]["status"],
    }


@pytest.mark.parametrize(
    ("state", "tracked", "expected"),
    [
        (
            DesiredState.PAUSED,
            PAUSED,
            {"phase": "Paused", "ready": "True", "reason": "Paused", "recording": "False"},
        ),
        (
            DesiredState.PAUSED,
            Tracked(),
            {"phase": "Pending", "ready": "True", "reason": "Paused", "recording": "False"},
        ),
        (
            DesiredState.PAUSED,
            RUNNING.replace(pause_refused=True),
            {
                "phase": "Recording",
                "ready": "False",
                "reason": "PauseUnsupported",
                "recording": "True",
            },
        ),
        (
            DesiredState.PAUSED,
            RUNNING,
            {"phase": "Recording", "ready": "True", "reason": "Recording", "recording": "True"},
        ),
    ],
    ids=[
        "paused-is-ready-with-reason-paused",
        "paused-before-it-started-is-ready",
        "a-refused-pause-is-not-ready",
        "on-its-way-to-paused-stays-ready",
    ],
)
def test_the_ready_condition_of_a_paused_recording(
    state: DesiredState, tracked: Tracked, expected: dict[str, object]
) -> None:
    assert _ready(state, tracked) == expected
