"""What answers and callbacks of the recording service do to the resource."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudrec_operator.reconcile.decide import next_step
from cloudrec_operator.reconcile.model import (
    Acquire,
    Acquired,
    Desired,
    Failure,
    Notified,
    Phase,
    Queried,
    Query,
    Reason,
    Release,
    Released,
    SdkError,
    Start,
    StartAccepted,
    Stop,
    StopDone,
    Tracked,
    Wait,
)
from cloudrec_operator.reconcile.observe import apply_notification, apply_outcome, note_blocked
from cloudrec_operator.reconcile.timing import Timing

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
TIMING = Timing()
DESIRED = Desired(generation=1, layout_hash="L", subscribe_hash="S")
ON_FAILURE = Desired(generation=1, restart_policy="OnFailure")
WITH_CALLBACKS = Desired(generation=1, callbacks_expected=True)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


CONNECTING = Tracked(
    phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(5), sid="s1", started_at=ago(4)
)
RECORDING = CONNECTING.replace(phase=Phase.RECORDING, ready=True, started_at=ago(120))
QUERY = Query("r1", "s1")


def reasons(events: tuple[object, ...]) -> list[str]:
    return [str(e.reason) for e in events]  # type: ignore[attr-defined]


def test_acquire_records_the_resource_id_and_its_time() -> None:
    result = apply_outcome(DESIRED, Tracked(), Acquire(), Acquired("r1"), NOW, TIMING)
    assert result.tracked.resource_id == "r1"
    assert result.tracked.acquired_at == NOW
    assert result.tracked.phase is Phase.CONNECTING
    assert result.events == ()


def test_start_accepted_is_the_connecting_callback_and_records_the_sid() -> None:
    before = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(1))
    result = apply_outcome(DESIRED, before, Start("r1"), StartAccepted("s1"), NOW, TIMING)
    assert result.tracked.sid == "s1"
    assert result.tracked.applied_layout_hash == "L"
    assert reasons(result.events) == ["Connecting"]


@pytest.mark.parametrize(
    ("status", "phase", "events"),
    [
        (1, Phase.CONNECTING, []),
        (4, Phase.RECORDING, ["Started"]),
        (5, Phase.RECORDING, ["Started"]),
        (6, Phase.STOPPING, []),
        (7, Phase.UPLOADING, ["Stopped"]),
        (8, Phase.COMPLETED, ["Stopped", "Uploaded"]),
    ],
    ids=["starting", "ready", "in_progress", "stop_requested", "stopped", "exited"],
)
def test_query_status_maps_to_phase_and_events(
    status: int, phase: Phase, events: list[str]
) -> None:
    result = apply_outcome(DESIRED, CONNECTING, QUERY, Queried(status), NOW, TIMING)
    assert result.tracked.phase is phase
    assert reasons(result.events) == events


def test_query_alone_sees_the_upload_finish_once_as_the_callbacks_would_say_it() -> None:
    uploading = RECORDING.replace(phase=Phase.UPLOADING, stopped_at=ago(5))
    exited = apply_outcome(DESIRED, uploading, QUERY, Queried(8, ("a.m3u8",)), NOW, TIMING)
    assert exited.tracked.phase is Phase.COMPLETED
    assert exited.tracked.upload_status == "uploaded"
    assert exited.tracked.upload_progress == 100
    assert reasons(exited.events) == ["Uploaded"]
    assert exited.events[0].message == "Uploaded: 1 file(s), a.m3u8"
    # Nothing more is said about it: neither by a later query nor by a late callback.
    again = apply_outcome(DESIRED, exited.tracked, QUERY, Queried(8), NOW, TIMING)
    late = apply_notification(DESIRED, exited.tracked, note(31, status=0), NOW, TIMING)
    assert again.events == () and late.events == ()


def test_query_exit_after_a_backuped_callback_keeps_saying_backuped() -> None:
    uploading = RECORDING.replace(phase=Phase.UPLOADING, upload_status="backuped")
    result = apply_outcome(DESIRED, uploading, QUERY, Queried(8), NOW, TIMING)
    assert result.tracked.upload_status == "backuped"
    assert reasons(result.events) == ["Backuped"]


def test_started_is_posted_once_per_recording() -> None:
    result = apply_outcome(DESIRED, RECORDING, QUERY, Queried(5, ("a.m3u8",)), NOW, TIMING)
    assert result.events == ()
    assert result.tracked.files == ("a.m3u8",)


def test_recorder_that_never_becomes_ready_is_a_fatal_error() -> None:
    late = CONNECTING.replace(started_at=ago(120))
    result = apply_outcome(DESIRED, late, QUERY, Queried(2), NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert result.tracked.last_error is not None
    assert result.tracked.last_error.code == SdkError.RECORDER_INIT_FAILED


def test_query_status_20_under_never_fails_the_recording() -> None:
    result = apply_outcome(DESIRED, RECORDING, QUERY, Queried(20), NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert result.tracked.failed_reason == "FatalError"
    assert reasons(result.events) == ["FatalError"]
    assert result.events[0].warning


def test_fatal_error_under_on_failure_restarts_with_backoff_and_keeps_files() -> None:
    before = RECORDING.replace(files=("old.m3u8",), restarts=1)
    result = apply_outcome(ON_FAILURE, before, QUERY, Queried(20), NOW, TIMING)
    after = result.tracked
    assert after.phase is Phase.PENDING
    assert after.sid is None and after.resource_id is None
    assert after.restarts == 2
    assert after.files == ("old.m3u8",)
    assert after.retry_at == NOW + timedelta(seconds=10)


def test_404_soon_after_start_is_not_read_as_gone() -> None:
    young = CONNECTING.replace(started_at=ago(3))
    miss = Failure(404, 404, SdkError.DISCONNECTED, False, "failed to find worker")
    result = apply_outcome(DESIRED, young, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.CONNECTING
    assert result.tracked.not_found_since == NOW
    assert result.tracked.retry_at is not None and result.tracked.retry_at > NOW


def test_404_confirmed_after_the_retries_is_fatal_when_callbacks_announce_leaves() -> None:
    lost = RECORDING.replace(not_found_since=ago(31))
    miss = Failure(404, 404, SdkError.DISCONNECTED, False, "failed to find worker")
    result = apply_outcome(WITH_CALLBACKS, lost, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert reasons(result.events) == ["FatalError"]


def test_404_confirmed_without_callbacks_is_the_idle_exit() -> None:
    ended = RECORDING.replace(not_found_since=ago(31))
    miss = Failure(404, 404, SdkError.DISCONNECTED, False, "failed to find worker")
    result = apply_outcome(DESIRED, ended, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.COMPLETED
    assert reasons(result.events) == ["Stopped"]


def test_404_after_the_backend_was_unreachable_is_a_lost_recording() -> None:
    lost = RECORDING.replace(not_found_since=ago(31), unreachable=True)
    miss = Failure(404, 404, SdkError.DISCONNECTED, False, "failed to find worker")
    result = apply_outcome(DESIRED, lost, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED


def test_transient_failures_back_off_exponentially_and_mark_degraded() -> None:
    down = Failure(None, None, SdkError.CONNECT_ERROR, True, "connection refused", transport=True)
    first = apply_outcome(DESIRED, RECORDING, QUERY, down, NOW, TIMING).tracked
    second = apply_outcome(DESIRED, first, QUERY, down, NOW, TIMING).tracked
    assert first.retry_at == NOW + timedelta(seconds=1)
    assert second.retry_at == NOW + timedelta(seconds=2)
    assert second.degraded == "BackendUnreachable"
    assert second.phase is Phase.RECORDING
    recovered = apply_outcome(DESIRED, second, QUERY, Queried(5), NOW, TIMING).tracked
    assert recovered.degraded is None and recovered.failures == 0


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Failure(401, None, SdkError.CONNECT_ERROR, False, "Unauthorized"), "AuthenticationFailed"),
        (Failure(400, 2, SdkError.INVALID_PARAMETER, False, "bad"), "InvalidParameter"),
        (Failure(400, 110, SdkError.INVALID_PARAMETER, False, "token"), "TokenRejected"),
    ],
    ids=["auth", "invalid_parameter", "token"],
)
def test_permanent_start_failures_fail_without_retry(failure: Failure, reason: str) -> None:
    before = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(1))
    result = apply_outcome(DESIRED, before, Start("r1"), failure, NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert result.tracked.failed_reason == reason
    assert result.tracked.retry_at is None


def test_expired_resource_id_on_start_is_acquired_again() -> None:
    before = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(200))
    expired = Failure(400, 433, SdkError.INVALID_OPERATION, False, "expired")
    result = apply_outcome(DESIRED, before, Start("r1"), expired, NOW, TIMING)
    assert result.tracked.resource_id is None


@pytest.mark.parametrize(
    ("done", "phase", "events"),
    [
        (StopDone(("a.m3u8", "a0.ts"), "uploaded"), Phase.COMPLETED, ["Stopped", "Uploaded"]),
        (StopDone(("a.m3u8",), "backuped"), Phase.COMPLETED, ["Stopped", "Backuped"]),
        (StopDone(("a.m3u8",), "unknown"), Phase.UPLOADING, ["Stopped"]),
    ],
    ids=["uploaded", "backuped", "unknown"],
)
def test_stop_result_sets_the_final_phase(done: StopDone, phase: Phase, events: list[str]) -> None:
    result = apply_outcome(DESIRED, RECORDING, Stop("r1", "s1"), done, NOW, TIMING)
    assert result.tracked.phase is phase
    assert reasons(result.events) == events
    assert "a.m3u8" in result.tracked.files


@pytest.mark.parametrize("code", [49, 435])
def test_stop_of_a_recording_already_over_completes(code: int) -> None:
    over = Failure(400, code, SdkError.INVALID_OPERATION, False, "already")
    result = apply_outcome(DESIRED, RECORDING, Stop("r1", "s1"), over, NOW, TIMING)
    assert result.tracked.phase is Phase.COMPLETED


def test_release_keeps_the_recording_and_says_released() -> None:
    result = apply_outcome(DESIRED, RECORDING, Release(), Released(), NOW, TIMING)
    assert result.tracked.phase is Phase.RELEASED
    assert reasons(result.events) == ["Released"]


def note(event_type: int, **details: object) -> Notified:
    return Notified(event_type, details)


@pytest.mark.parametrize(
    ("before", "notification", "phase", "events"),
    [
        (CONNECTING, note(40, status=0), Phase.RECORDING, ["Started"]),
        (RECORDING, note(41, leaveCode=4), Phase.UPLOADING, ["Stopped"]),
        (
            RECORDING.replace(phase=Phase.UPLOADING),
            note(31, status=0, fileList=[{"fileName": "a.m3u8"}]),
            Phase.COMPLETED,
            ["Uploaded"],
        ),
        (
            RECORDING.replace(phase=Phase.UPLOADING),
            note(32, status=0, fileList=[]),
            Phase.COMPLETED,
            ["Backuped"],
        ),
        (
            RECORDING,
            note(1, module=0, errorLevel=3, errorCode=7, errorMsg="x"),
            Phase.RECORDING,
            ["RecorderFailure"],
        ),
        (
            RECORDING,
            note(1, module=1, errorLevel=3, errorCode=47, errorMsg="x"),
            Phase.RECORDING,
            ["UploaderFailure"],
        ),
        (
            RECORDING,
            note(1, module=0, errorLevel=5, errorCode=9, errorMsg="x"),
            Phase.FAILED,
            ["FatalError"],
        ),
        (RECORDING, note(11, exitStatus=1), Phase.FAILED, ["FatalError"]),
        (
            RECORDING.replace(phase=Phase.UPLOADING),
            note(11, exitStatus=0),
            Phase.COMPLETED,
            ["Uploaded"],
        ),
        (RECORDING, note(33, progress=5000), Phase.RECORDING, ["UploadProgress"]),
        (RECORDING, note(99), Phase.RECORDING, []),
    ],
    ids=[
        "recorder_started",
        "recorder_leave_idle",
        "uploaded",
        "backuped",
        "recorder_error",
        "uploader_error",
        "fatal_error_level",
        "session_exit_abnormal",
        "session_exit_normal",
        "progress",
        "unknown_event",
    ],
)
def test_each_callback_becomes_its_event(
    before: Tracked, notification: Notified, phase: Phase, events: list[str]
) -> None:
    result = apply_notification(DESIRED, before, notification, NOW, TIMING)
    assert result.tracked.phase is phase
    assert reasons(result.events) == events
    for event in result.events:
        assert event.warning == (
            event.reason
            in (
                Reason.RECORDER_FAILURE,
                Reason.UPLOADER_FAILURE,
                Reason.FATAL_ERROR,
                Reason.BACKUPED,
            )
        )


def test_upload_progress_events_are_throttled_to_ten_points_or_a_minute() -> None:
    tracked = RECORDING
    posted = []
    for step, value in enumerate(range(0, 10001, 500)):
        now = NOW + timedelta(seconds=step)
        result = apply_notification(DESIRED, tracked, note(33, progress=value), now, TIMING)
        tracked = result.tracked
        posted += [tracked.upload_progress for _ in result.events]
    assert posted == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 100]
    later = apply_notification(
        DESIRED,
        tracked.replace(upload_progress=100, progress_event_value=40),
        note(33, progress=4100),
        NOW + timedelta(minutes=5),
        TIMING,
    )
    assert reasons(later.events) == ["UploadProgress"]


def test_an_empty_recording_reports_no_upload_progress_however_long_it_runs() -> None:
    tracked = RECORDING
    for minute in range(30):
        result = apply_notification(
            DESIRED, tracked, note(33, progress=0), NOW + timedelta(minutes=minute), TIMING
        )
        assert result.events == () and result.tracked == tracked


def test_upload_progress_in_status_moves_with_its_events_not_every_callback() -> None:
    tracked = RECORDING
    written = set()
    for step, value in enumerate(range(9000, 9990, 10)):  # a point every few seconds
        now = NOW + timedelta(seconds=3 * step)
        tracked = apply_notification(
            DESIRED, tracked, note(33, progress=value), now, TIMING
        ).tracked
        written.add(tracked.upload_progress)
    # Five minutes of callbacks: the status changes about once a minute, not 99 times.
    assert len(written) <= 6
    assert max(p for p in written if p is not None) >= 97


def test_callbacks_for_a_finished_recording_change_nothing() -> None:
    done = RECORDING.replace(phase=Phase.COMPLETED)
    result = apply_notification(DESIRED, done, note(20 + 20, status=0), NOW, TIMING)
    assert result.tracked == done and result.events == ()


def test_a_late_callback_about_an_earlier_recording_changes_nothing() -> None:
    restarted = RECORDING.replace(sid="s2", restarts=1)
    leave = Notified(41, {"leaveCode": 4}, sid="s1")
    result = apply_notification(DESIRED, restarted, leave, NOW, TIMING)
    assert result.tracked == restarted and result.events == ()
    own = apply_notification(
        DESIRED, restarted, Notified(41, {"leaveCode": 4}, sid="s2"), NOW, TIMING
    )
    assert own.tracked.phase is Phase.UPLOADING


def test_start_answered_already_started_without_sid_waits_to_adopt_by_callback() -> None:
    before = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3))
    lost = Failure(201, 7, SdkError.INVALID_OPERATION, False, "already started")
    after = apply_outcome(WITH_CALLBACKS, before, Start("r1"), lost, NOW, TIMING).tracked
    assert after.lost_start == "r1" and after.resource_id == "r1" and after.sid is None
    assert next_step(WITH_CALLBACKS, after, NOW + timedelta(seconds=5), TIMING) == Wait(60.0)
    adopted = apply_notification(
        WITH_CALLBACKS, after, Notified(33, {"progress": 100}, sid="s9"), NOW, TIMING
    )
    assert adopted.tracked.sid == "s9" and adopted.tracked.resource_id == "r1"
    assert adopted.tracked.lost_start is None
    assert reasons(adopted.events)[0] == "Connecting"


def test_lost_start_without_callbacks_acquires_again_and_waits_out_conflicts() -> None:
    lost = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3), lost_start="r1")
    assert next_step(DESIRED, lost, NOW, TIMING) == Acquire()
    conflict = Failure(400, 53, SdkError.INVALID_OPERATION, False, "task conflict")
    again = apply_outcome(
        DESIRED, lost.replace(resource_id="r2"), Start("r2"), conflict, NOW, TIMING
    )
    assert again.tracked.phase is not Phase.FAILED
    assert again.tracked.resource_id == "r2"
    assert again.tracked.retry_at is not None


def test_a_missing_input_is_announced_once_and_forgotten_when_it_appears() -> None:
    missing = Desired(
        generation=1, blocked="Secret ns/bucket not found", blocked_reason="SecretNotFound"
    )
    first = note_blocked(missing, Tracked())
    assert [(e.reason, e.warning) for e in first.events] == [("SecretNotFound", True)]
    assert note_blocked(missing, first.tracked).events == ()
    cleared = note_blocked(DESIRED, first.tracked)
    assert cleared.tracked.blocked_notice is None and cleared.events == ()


def test_conflict_after_a_restart_is_the_dead_recorders_ghost_and_is_retried() -> None:
    after_fatal = Tracked(phase=Phase.CONNECTING, resource_id="r2", acquired_at=ago(1), restarts=1)
    conflict = Failure(400, 53, SdkError.INVALID_OPERATION, False, "uid already in channel")
    result = apply_outcome(ON_FAILURE, after_fatal, Start("r2"), conflict, NOW, TIMING)
    assert result.tracked.phase is Phase.CONNECTING
    assert result.tracked.retry_at is not None


def test_concurrency_quota_exceeded_is_retried_later() -> None:
    over = Failure(400, 406, SdkError.GENERAL_ERROR, False, "vendor_over_load")
    result = apply_outcome(DESIRED, Tracked(), Acquire(), over, NOW, TIMING)
    assert result.tracked.phase is Phase.PENDING
    assert result.tracked.retry_at == NOW + timedelta(seconds=1)
