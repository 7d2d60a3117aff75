"""What answers and callbacks of the recording service do to the resource."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest

from cloudrec_operator.reconcile.decide import next_step
from cloudrec_operator.reconcile.files import FileRecord
from cloudrec_operator.reconcile.model import (
    Acquire,
    Acquired,
    Cancel,
    Cancelled,
    Desired,
    Failure,
    Finish,
    Idle,
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
from cloudrec_protocol.codes import ErrorCode, RecordingStatus, sdk_code_for_event
from cloudrec_protocol.events import (
    ErrorLevel,
    ErrorModule,
    EventType,
    LeaveCode,
    parse_details,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
TIMING = Timing()
DESIRED = Desired(generation=1, layout_hash="L", subscribe_hash="S")
ON_FAILURE = Desired(generation=1, restart_policy="OnFailure")
WITH_CALLBACKS = Desired(generation=1, callbacks_expected=True)
STOPPED = Desired(generation=2, state="Stopped")


def named(*names: str) -> tuple[FileRecord, ...]:
    """Files reported by name alone (mix mode's string file list)."""
    return tuple(FileRecord(name) for name in names)


def names(files: tuple[FileRecord, ...]) -> tuple[str, ...]:
    return tuple(f.name for f in files)


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
        (RecordingStatus.INITIALIZED, Phase.CONNECTING, []),
        (RecordingStatus.READY, Phase.RECORDING, ["Started"]),
        (RecordingStatus.IN_PROGRESS, Phase.RECORDING, ["Started"]),
        (RecordingStatus.STOP_REQUESTED, Phase.STOPPING, []),
        (RecordingStatus.STOPPED, Phase.UPLOADING, ["Stopped"]),
        (RecordingStatus.EXITED, Phase.COMPLETED, ["Stopped", "Uploaded"]),
    ],
    ids=["starting", "ready", "in_progress", "stop_requested", "stopped", "exited"],
)
def test_query_status_maps_to_phase_and_events(
    status: RecordingStatus, phase: Phase, events: list[str]
) -> None:
    result = apply_outcome(DESIRED, CONNECTING, QUERY, Queried(status), NOW, TIMING)
    assert result.tracked.phase is phase
    assert reasons(result.events) == events


def test_query_alone_sees_the_upload_finish_once_as_the_callbacks_would_say_it() -> None:
    uploading = RECORDING.replace(phase=Phase.UPLOADING, stopped_at=ago(5))
    exited = apply_outcome(
        DESIRED, uploading, QUERY, Queried(RecordingStatus.EXITED, named("a.m3u8")), NOW, TIMING
    )
    assert exited.tracked.phase is Phase.COMPLETED
    assert exited.tracked.upload_status == "uploaded"
    assert exited.tracked.upload_progress == 100
    assert reasons(exited.events) == ["Uploaded"]
    assert exited.events[0].message == "Uploaded: 1 file(s), a.m3u8"
    # Nothing more is said about it: neither by a later query nor by a late callback.
    again = apply_outcome(
        DESIRED, exited.tracked, QUERY, Queried(RecordingStatus.EXITED), NOW, TIMING
    )
    late = apply_notification(
        DESIRED, exited.tracked, note(EventType.UPLOADED, status=0), NOW, TIMING
    )
    assert again.events == () and late.events == ()


def test_query_exit_after_a_backuped_callback_keeps_saying_backuped() -> None:
    uploading = RECORDING.replace(phase=Phase.UPLOADING, upload_status="backuped")
    result = apply_outcome(DESIRED, uploading, QUERY, Queried(RecordingStatus.EXITED), NOW, TIMING)
    assert result.tracked.upload_status == "backuped"
    assert reasons(result.events) == ["Backuped"]


def test_started_is_posted_once_per_recording() -> None:
    result = apply_outcome(
        DESIRED,
        RECORDING,
        QUERY,
        Queried(RecordingStatus.IN_PROGRESS, named("a.m3u8")),
        NOW,
        TIMING,
    )
    assert result.events == ()
    assert names(result.tracked.files) == ("a.m3u8",)


def test_recorder_that_never_becomes_ready_is_a_fatal_error() -> None:
    late = CONNECTING.replace(started_at=ago(120))
    result = apply_outcome(DESIRED, late, QUERY, Queried(RecordingStatus.STARTING), NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert result.tracked.last_error is not None
    assert result.tracked.last_error.code == SdkError.RECORDER_INIT_FAILED


def test_query_status_20_under_never_fails_the_recording() -> None:
    result = apply_outcome(
        DESIRED, RECORDING, QUERY, Queried(RecordingStatus.EXITED_ABNORMALLY), NOW, TIMING
    )
    assert result.tracked.phase is Phase.FAILED
    assert result.tracked.failed_reason == "FatalError"
    assert reasons(result.events) == ["FatalError"]
    assert result.events[0].warning


def test_fatal_error_under_on_failure_restarts_with_backoff_and_forgets_the_dead_files() -> None:
    before = RECORDING.replace(
        files=named("old.m3u8"), restarts=1, upload_progress=99, upload_status="backuped"
    )
    result = apply_outcome(
        ON_FAILURE, before, QUERY, Queried(RecordingStatus.EXITED_ABNORMALLY), NOW, TIMING
    )
    after = result.tracked
    assert after.phase is Phase.PENDING
    assert after.sid is None and after.resource_id is None
    assert after.restarts == 2
    assert after.retry_at == NOW + timedelta(seconds=10)
    # status.files and the upload describe the current recording only: none yet.
    assert after.files == () and after.upload_progress is None and after.upload_status is None


def test_the_uploaded_event_after_a_restart_names_only_the_new_recordings_files() -> None:
    dead = RECORDING.replace(files=named("dead.m3u8", "dead0.ts"))
    restarted = apply_outcome(
        ON_FAILURE, dead, QUERY, Queried(RecordingStatus.EXITED_ABNORMALLY), NOW, TIMING
    ).tracked
    again = restarted.replace(
        phase=Phase.UPLOADING, resource_id="r2", sid="s2", started_at=NOW, ready=True
    )
    empty = apply_notification(
        ON_FAILURE, again, note(EventType.UPLOADED, status=0, fileList=[]), NOW, TIMING
    )
    assert empty.tracked.files == ()
    assert [e.message for e in empty.events] == ["Uploaded: 0 file(s), no files"]
    new = apply_notification(
        ON_FAILURE,
        again,
        note(EventType.UPLOADED, status=0, fileList=[{"fileName": "new.m3u8"}]),
        NOW,
        TIMING,
    )
    assert names(new.tracked.files) == ("new.m3u8",)
    assert [e.message for e in new.events] == ["Uploaded: 1 file(s), new.m3u8"]


def test_404_soon_after_start_is_not_read_as_gone() -> None:
    young = CONNECTING.replace(started_at=ago(3))
    miss = Failure(
        HTTPStatus.NOT_FOUND,
        ErrorCode.WORKER_NOT_FOUND,
        SdkError.DISCONNECTED,
        False,
        "failed to find worker",
    )
    result = apply_outcome(DESIRED, young, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.CONNECTING
    assert result.tracked.not_found_since == NOW
    assert result.tracked.retry_at is not None and result.tracked.retry_at > NOW


def test_404_confirmed_after_the_retries_is_fatal_when_callbacks_announce_leaves() -> None:
    lost = RECORDING.replace(not_found_since=ago(31))
    miss = Failure(
        HTTPStatus.NOT_FOUND,
        ErrorCode.WORKER_NOT_FOUND,
        SdkError.DISCONNECTED,
        False,
        "failed to find worker",
    )
    result = apply_outcome(WITH_CALLBACKS, lost, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert reasons(result.events) == ["FatalError"]


def test_404_confirmed_without_callbacks_is_a_lost_recording_not_completion() -> None:
    ended = RECORDING.replace(not_found_since=ago(31))
    miss = Failure(
        HTTPStatus.NOT_FOUND,
        ErrorCode.WORKER_NOT_FOUND,
        SdkError.DISCONNECTED,
        False,
        "failed to find worker",
    )
    result = apply_outcome(DESIRED, ended, QUERY, miss, NOW, TIMING)
    assert result.tracked.phase is Phase.FAILED
    assert reasons(result.events) == ["FatalError"]


MISS = Failure(
    HTTPStatus.NOT_FOUND,
    ErrorCode.WORKER_NOT_FOUND,
    SdkError.DISCONNECTED,
    False,
    "failed to find worker",
)
STOPPING = RECORDING.replace(phase=Phase.STOPPING, files=named("a.m3u8"), upload_progress=99)


@pytest.mark.parametrize(
    ("desired", "before", "step"),
    [
        (STOPPED, STOPPING, Stop("r1", "s1")),
        (
            STOPPED,
            STOPPING.replace(phase=Phase.UPLOADING, stop_requested=True),
            QUERY,
        ),
        (
            Desired(generation=1, deleting=True),
            STOPPING.replace(phase=Phase.UPLOADING, stop_requested=True),
            QUERY,
        ),
    ],
    ids=["stop_answered_404", "query_after_stop_answered_404", "query_while_deleting"],
)
def test_a_recording_that_vanishes_after_stop_was_asked_fails_and_is_never_completed(
    desired: Desired, before: Tracked, step: Stop | Query
) -> None:
    first = apply_outcome(desired, before, step, MISS, NOW, TIMING)
    assert first.tracked.phase is before.phase, "a 404 may be a failover: retried first"
    assert first.tracked.retry_at is not None and first.events == ()
    later = NOW + timedelta(seconds=31)
    lost = apply_outcome(desired, first.tracked, step, MISS, later, TIMING)
    assert lost.tracked.phase is Phase.FAILED
    assert lost.tracked.failed_reason == "FatalError"
    assert lost.tracked.last_error is not None
    assert lost.tracked.last_error.code == SdkError.RECORDER_EXPIRE_EXIT
    assert reasons(lost.events) == ["FatalError"]
    assert lost.tracked.upload_status is None


def test_404_after_the_backend_was_unreachable_is_a_lost_recording() -> None:
    lost = RECORDING.replace(not_found_since=ago(31), unreachable=True)
    miss = Failure(
        HTTPStatus.NOT_FOUND,
        ErrorCode.WORKER_NOT_FOUND,
        SdkError.DISCONNECTED,
        False,
        "failed to find worker",
    )
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
    recovered = apply_outcome(
        DESIRED, second, QUERY, Queried(RecordingStatus.IN_PROGRESS), NOW, TIMING
    ).tracked
    assert recovered.degraded is None and recovered.failures == 0


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (
            Failure(HTTPStatus.UNAUTHORIZED, None, SdkError.CONNECT_ERROR, False, "Unauthorized"),
            "AuthenticationFailed",
        ),
        (
            Failure(
                HTTPStatus.BAD_REQUEST,
                ErrorCode.INVALID_PARAMETER,
                SdkError.INVALID_PARAMETER,
                False,
                "bad",
            ),
            "InvalidParameter",
        ),
        (
            Failure(
                HTTPStatus.BAD_REQUEST,
                ErrorCode.TOKEN_INVALID,
                SdkError.INVALID_PARAMETER,
                False,
                "token",
            ),
            "TokenRejected",
        ),
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
    expired = Failure(
        HTTPStatus.BAD_REQUEST,
        ErrorCode.RESOURCE_EXPIRED,
        SdkError.INVALID_OPERATION,
        False,
        "expired",
    )
    result = apply_outcome(DESIRED, before, Start("r1"), expired, NOW, TIMING)
    assert result.tracked.resource_id is None


@pytest.mark.parametrize(
    ("done", "phase", "events"),
    [
        (StopDone(named("a.m3u8", "a0.ts"), "uploaded"), Phase.COMPLETED, ["Stopped", "Uploaded"]),
        (StopDone(named("a.m3u8"), "backuped"), Phase.COMPLETED, ["Stopped", "Backuped"]),
        (StopDone(named("a.m3u8"), "unknown"), Phase.UPLOADING, ["Stopped"]),
    ],
    ids=["uploaded", "backuped", "unknown"],
)
def test_stop_result_sets_the_final_phase(done: StopDone, phase: Phase, events: list[str]) -> None:
    result = apply_outcome(DESIRED, RECORDING, Stop("r1", "s1"), done, NOW, TIMING)
    assert result.tracked.phase is phase
    assert reasons(result.events) == events
    assert "a.m3u8" in names(result.tracked.files)


def test_stop_with_nothing_recorded_completes_without_files() -> None:
    nothing = Failure(
        HTTPStatus.PARTIAL_CONTENT,
        ErrorCode.NO_RECORDED_DATA,
        SdkError.NO_RECORDED_DATA,
        False,
        "no recorded data",
    )
    result = apply_outcome(DESIRED, RECORDING, Stop("r1", "s1"), nothing, NOW, TIMING)
    assert result.tracked.phase is Phase.COMPLETED
    assert result.tracked.last_error is not None
    assert result.tracked.last_error.code == SdkError.NO_RECORDED_DATA


def test_stop_of_a_recording_already_exiting_waits_for_the_service_to_say_it_finished() -> None:
    exiting = Failure(
        HTTPStatus.BAD_REQUEST,
        ErrorCode.TASK_EXITING,
        SdkError.INVALID_OPERATION,
        False,
        "task is exiting",
    )
    result = apply_outcome(DESIRED, RECORDING, Stop("r1", "s1"), exiting, NOW, TIMING)
    assert result.tracked.phase is Phase.UPLOADING and result.tracked.stop_requested
    assert reasons(result.events) == ["Stopped"]
    done = apply_outcome(
        DESIRED, result.tracked, QUERY, Queried(RecordingStatus.EXITED), NOW, TIMING
    )
    assert done.tracked.phase is Phase.COMPLETED
    assert reasons(done.events) == ["Uploaded"]


def test_release_keeps_the_recording_and_says_released() -> None:
    result = apply_outcome(DESIRED, RECORDING, Release(), Released(), NOW, TIMING)
    assert result.tracked.phase is Phase.RELEASED
    assert reasons(result.events) == ["Released"]


def note(event_type: EventType | int, sid: str | None = None, **details: object) -> Notified:
    """A verified callback with the typed details its event brings."""
    return Notified(event_type, parse_details(event_type, details), sid=sid)


@pytest.mark.parametrize(
    ("before", "notification", "phase", "events"),
    [
        (CONNECTING, note(EventType.RECORDER_STARTED, status=0), Phase.RECORDING, ["Started"]),
        (
            RECORDING,
            note(EventType.RECORDER_LEAVE, leaveCode=LeaveCode.NO_USERS),
            Phase.UPLOADING,
            ["Stopped"],
        ),
        (
            RECORDING.replace(phase=Phase.UPLOADING),
            note(EventType.UPLOADED, status=0, fileList=[{"fileName": "a.m3u8"}]),
            Phase.COMPLETED,
            ["Uploaded"],
        ),
        (
            RECORDING.replace(phase=Phase.UPLOADING),
            note(EventType.BACKUPED, status=0, fileList=[]),
            Phase.COMPLETED,
            ["Backuped"],
        ),
        (
            RECORDING,
            note(
                EventType.CLOUD_RECORDING_ERROR,
                module=ErrorModule.RECORDER,
                errorLevel=ErrorLevel.MEDIUM,
                errorCode=7,
                errorMsg="x",
            ),
            Phase.RECORDING,
            ["RecorderFailure"],
        ),
        (
            RECORDING,
            note(
                EventType.CLOUD_RECORDING_ERROR,
                module=ErrorModule.UPLOADER,
                errorLevel=ErrorLevel.MEDIUM,
                errorCode=47,
                errorMsg="x",
            ),
            Phase.RECORDING,
            ["UploaderFailure"],
        ),
        (
            RECORDING,
            note(
                EventType.CLOUD_RECORDING_ERROR,
                module=ErrorModule.RECORDER,
                errorLevel=ErrorLevel.FATAL,
                errorCode=9,
                errorMsg="x",
            ),
            Phase.FAILED,
            ["FatalError"],
        ),
        (RECORDING, note(EventType.SESSION_EXIT, exitStatus=1), Phase.FAILED, ["FatalError"]),
        (
            RECORDING.replace(phase=Phase.UPLOADING),
            note(EventType.SESSION_EXIT, exitStatus=0),
            Phase.COMPLETED,
            ["Uploaded"],
        ),
        (
            RECORDING,
            note(EventType.UPLOADING_PROGRESS, progress=5000),
            Phase.RECORDING,
            ["UploadProgress"],
        ),
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
        result = apply_notification(
            DESIRED, tracked, note(EventType.UPLOADING_PROGRESS, progress=value), now, TIMING
        )
        tracked = result.tracked
        posted += [tracked.upload_progress for _ in result.events]
    assert posted == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 100]
    later = apply_notification(
        DESIRED,
        tracked.replace(upload_progress=100, progress_event_value=40),
        note(EventType.UPLOADING_PROGRESS, progress=4100),
        NOW + timedelta(minutes=5),
        TIMING,
    )
    assert reasons(later.events) == ["UploadProgress"]


def test_an_empty_recording_reports_no_upload_progress_however_long_it_runs() -> None:
    tracked = RECORDING
    for minute in range(30):
        result = apply_notification(
            DESIRED,
            tracked,
            note(EventType.UPLOADING_PROGRESS, progress=0),
            NOW + timedelta(minutes=minute),
            TIMING,
        )
        assert result.events == () and result.tracked == tracked


def test_upload_progress_in_status_moves_with_its_events_not_every_callback() -> None:
    tracked = RECORDING
    written = set()
    for step, value in enumerate(range(9000, 9990, 10)):  # a point every few seconds
        now = NOW + timedelta(seconds=3 * step)
        tracked = apply_notification(
            DESIRED, tracked, note(EventType.UPLOADING_PROGRESS, progress=value), now, TIMING
        ).tracked
        written.add(tracked.upload_progress)
    # Five minutes of callbacks: the status changes about once a minute, not 99 times.
    assert len(written) <= 6
    assert max(p for p in written if p is not None) >= 97


def test_callbacks_for_a_finished_recording_change_nothing() -> None:
    done = RECORDING.replace(phase=Phase.COMPLETED)
    result = apply_notification(
        DESIRED, done, note(EventType.RECORDER_STARTED, status=0), NOW, TIMING
    )
    assert result.tracked == done and result.events == ()


def test_a_late_callback_about_an_earlier_recording_changes_nothing() -> None:
    restarted = RECORDING.replace(sid="s2", restarts=1)
    leave = note(EventType.RECORDER_LEAVE, sid="s1", leaveCode=LeaveCode.NO_USERS)
    result = apply_notification(DESIRED, restarted, leave, NOW, TIMING)
    assert result.tracked == restarted and result.events == ()
    own = apply_notification(
        DESIRED,
        restarted,
        note(EventType.RECORDER_LEAVE, sid="s2", leaveCode=LeaveCode.NO_USERS),
        NOW,
        TIMING,
    )
    assert own.tracked.phase is Phase.UPLOADING


def test_start_answered_already_started_without_sid_waits_to_adopt_by_callback() -> None:
    before = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3))
    lost = Failure(
        HTTPStatus.CREATED,
        ErrorCode.ALREADY_STARTED,
        SdkError.INVALID_OPERATION,
        False,
        "already started",
    )
    after = apply_outcome(WITH_CALLBACKS, before, Start("r1"), lost, NOW, TIMING).tracked
    assert after.lost_start == "r1" and after.resource_id == "r1" and after.sid is None
    assert next_step(WITH_CALLBACKS, after, NOW + timedelta(seconds=5), TIMING) == Wait(60.0)
    adopted = apply_notification(
        WITH_CALLBACKS,
        after,
        note(EventType.UPLOADING_PROGRESS, sid="s9", progress=100),
        NOW,
        TIMING,
    )
    assert adopted.tracked.sid == "s9" and adopted.tracked.resource_id == "r1"
    assert adopted.tracked.lost_start is None
    assert reasons(adopted.events)[0] == "Connecting"


def test_lost_start_without_callbacks_acquires_again_and_waits_out_conflicts() -> None:
    lost = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3), lost_start="r1")
    assert next_step(DESIRED, lost, NOW, TIMING) == Acquire()
    conflict = Failure(
        HTTPStatus.BAD_REQUEST,
        ErrorCode.TASK_CONFLICT,
        SdkError.INVALID_OPERATION,
        False,
        "task conflict",
    )
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
    conflict = Failure(
        HTTPStatus.BAD_REQUEST,
        ErrorCode.TASK_CONFLICT,
        SdkError.INVALID_OPERATION,
        False,
        "uid already in channel",
    )
    result = apply_outcome(ON_FAILURE, after_fatal, Start("r2"), conflict, NOW, TIMING)
    assert result.tracked.phase is Phase.CONNECTING
    assert result.tracked.retry_at is not None


def test_concurrency_quota_exceeded_queues_the_recording_and_retries_later() -> None:
    over = Failure(
        HTTPStatus.BAD_REQUEST,
        ErrorCode.VENDOR_OVER_LOAD,
        SdkError.GENERAL_ERROR,
        False,
        "vendor_over_load",
    )
    result = apply_outcome(DESIRED, Tracked(), Acquire(), over, NOW, TIMING)
    assert result.tracked.phase is Phase.QUEUED
    assert result.tracked.retry_at == NOW + timedelta(seconds=1)


CONFLICT = Failure(
    HTTPStatus.BAD_REQUEST,
    ErrorCode.TASK_CONFLICT,
    SdkError.INVALID_OPERATION,
    False,
    "task conflict",
)


@pytest.mark.parametrize("desired", [DESIRED, ON_FAILURE], ids=["never", "on_failure"])
def test_a_first_start_refused_with_conflict_is_retried_within_a_window_then_fails(
    desired: Desired,
) -> None:
    first = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(1))
    retried = apply_outcome(desired, first, Start("r1"), CONFLICT, NOW, TIMING).tracked
    assert retried.phase is Phase.CONNECTING
    assert retried.degraded == "TaskConflict" and "retry 1 in 1s" in retried.degraded_message
    assert retried.retry_at == NOW + timedelta(seconds=1)
    assert retried.refused_start == "r1" and retried.conflict_since == NOW
    later = NOW + timedelta(seconds=TIMING.conflict_window - 1)
    still = apply_outcome(desired, retried, Start("r1"), CONFLICT, later, TIMING).tracked
    assert still.phase is Phase.CONNECTING and still.conflict_since == NOW
    end = NOW + timedelta(seconds=TIMING.conflict_window)
    failed = apply_outcome(desired, still, Start("r1"), CONFLICT, end, TIMING)
    assert failed.tracked.phase is Phase.FAILED
    assert failed.tracked.failed_reason == "TaskConflict"
    assert reasons(failed.events) == ["FatalError"]


def test_a_start_accepted_after_conflicts_forgets_them() -> None:
    refused = Tracked(
        phase=Phase.CONNECTING, resource_id="r1", refused_start="r1", conflict_since=ago(30)
    )
    accepted = apply_outcome(DESIRED, refused, Start("r1"), StartAccepted("s1"), NOW, TIMING)
    assert accepted.tracked.refused_start is None and accepted.tracked.conflict_since is None


def test_state_stopped_while_a_restart_is_pending_ends_failed_with_the_fatal_error() -> None:
    dead = apply_outcome(
        ON_FAILURE, RECORDING, QUERY, Queried(RecordingStatus.EXITED_ABNORMALLY), NOW, TIMING
    ).tracked
    assert dead.phase is Phase.PENDING and dead.restarts == 1
    assert next_step(STOPPED, dead, NOW, TIMING) == Cancel()
    ended = apply_outcome(STOPPED, dead, Cancel(), Cancelled(), NOW, TIMING).tracked
    assert ended.phase is Phase.FAILED and ended.failed_reason == "FatalError"
    assert ended.last_error is not None
    assert ended.last_error.code == SdkError.RECORDER_EXPIRE_EXIT
    assert ended.retry_at is None and ended.degraded is None
    assert next_step(STOPPED, ended, NOW, TIMING) == Idle()


def test_state_stopped_while_retrying_a_conflict_after_a_restart_reaches_a_final_phase() -> None:
    # The "stuck forever": a restart retrying on 53, then state: Stopped.
    restarting = Tracked(phase=Phase.CONNECTING, resource_id="r2", acquired_at=ago(2), restarts=1)
    retrying = apply_outcome(ON_FAILURE, restarting, Start("r2"), CONFLICT, NOW, TIMING).tracked
    step = next_step(STOPPED, retrying, NOW, TIMING)
    assert step == Cancel()
    ended = apply_outcome(STOPPED, retrying, step, Cancelled(), NOW, TIMING).tracked
    assert ended.phase is Phase.FAILED
    assert ended.resource_id is None


def test_state_stopped_before_any_recording_ran_rests_pending_without_a_resource_id() -> None:
    refused = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(2))
    retrying = apply_outcome(DESIRED, refused, Start("r1"), CONFLICT, NOW, TIMING).tracked
    ended = apply_outcome(STOPPED, retrying, Cancel(), Cancelled(), NOW, TIMING).tracked
    assert ended.phase is Phase.PENDING and ended.resource_id is None
    assert next_step(STOPPED, ended, NOW, TIMING) == Idle()


DELETING = Desired(generation=1, deleting=True, callbacks_expected=True)


def test_a_deleted_recording_whose_start_answer_was_lost_is_adopted_by_callback_and_stopped() -> (
    None
):
    unknown = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3))
    assert isinstance(next_step(DELETING, unknown, NOW, TIMING), Wait)
    started = note(EventType.RECORDER_STARTED, sid="s7", status=0)
    adopted = apply_notification(DELETING, unknown, started, NOW, TIMING)
    assert adopted.tracked.sid == "s7" and adopted.tracked.resource_id == "r1"
    assert reasons(adopted.events) == ["Connecting", "Started"]
    assert next_step(DELETING, adopted.tracked, NOW, TIMING) == Stop("r1", "s7")


def test_a_callback_does_not_adopt_for_a_resource_that_still_wants_to_record() -> None:
    # Only a lost start or a resource being stopped or deleted looks for a recording by
    # channel and uid: a late event of an earlier recording is not adopted.
    unknown = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3))
    late = apply_notification(
        WITH_CALLBACKS, unknown, note(EventType.RECORDER_STARTED, sid="s0"), NOW, TIMING
    )
    assert late.tracked.sid is None


def test_a_deleted_recording_whose_start_answer_was_lost_is_found_once_its_id_expired() -> None:
    unknown = Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3))
    expired = NOW + timedelta(minutes=5)
    probe = next_step(DELETING, unknown, expired, TIMING)
    assert probe == Start("r1")
    # It ran: the service names it ("already started" with the sid), and it is stopped.
    found = apply_outcome(DELETING, unknown, probe, StartAccepted("s7"), expired, TIMING)
    assert next_step(DELETING, found.tracked, expired, TIMING) == Stop("r1", "s7")
    # It never ran: the expired resource id is refused, and deletion proceeds.
    gone = Failure(
        HTTPStatus.BAD_REQUEST,
        ErrorCode.RESOURCE_EXPIRED,
        SdkError.INVALID_OPERATION,
        False,
        "resourceId expired",
    )
    none = apply_outcome(DELETING, unknown, probe, gone, expired, TIMING)
    assert next_step(DELETING, none.tracked, expired, TIMING) == Finish()


@pytest.mark.parametrize(
    ("details", "phase", "code"),
    [
        (
            {"module": ErrorModule.CLOUD_RECORDING_SERVICE, "errorLevel": ErrorLevel.FATAL},
            Phase.FAILED,
            SdkError.RECORDER_EXPIRE_EXIT,
        ),
        (
            {"module": ErrorModule.CLOUD_RECORDING_SERVICE, "errorLevel": ErrorLevel.MAJOR},
            Phase.RECORDING,
            SdkError.RECORDER_EXPIRE_EXIT,
        ),
        (
            {"module": ErrorModule.UPLOADER, "errorLevel": ErrorLevel.FATAL},
            Phase.FAILED,
            SdkError.UPLOADER_FAILED,
        ),
    ],
    ids=["service_fatal", "service_major", "uploader_fatal"],
)
def test_an_error_callback_gets_the_code_of_the_one_mapping_of_protocol_md_9_5(
    details: dict[str, object], phase: Phase, code: SdkError
) -> None:
    error = note(
        EventType.CLOUD_RECORDING_ERROR,
        errorCode=ErrorCode.SERVICE_START_TIMEOUT
        if details["module"] == ErrorModule.CLOUD_RECORDING_SERVICE
        else 47,
        errorMsg="x",
        **details,
    )
    result = apply_notification(DESIRED, RECORDING, error, NOW, TIMING)
    assert result.tracked.phase is phase
    assert result.tracked.last_error is not None
    assert result.tracked.last_error.code == code
    assert result.tracked.last_error.code == sdk_code_for_event(error.event_type, error.details)


def test_a_callback_whose_details_do_not_fit_changes_nothing() -> None:
    malformed = Notified(EventType.SESSION_EXIT, None, sid="s1")
    result = apply_notification(DESIRED, RECORDING, malformed, NOW, TIMING)
    assert result.tracked == RECORDING and result.events == ()


SNAP_1001 = "team/s1_room__uid_s_1001__uid_e_video_20261125115958000.jpg"
SNAP_1001_LATER = "team/s1_room__uid_s_1001__uid_e_video_20261125120008000.jpg"
SNAP_1002 = "team/s1_room__uid_s_1002__uid_e_video_20261125115959000.jpg"


def snapshot_note(name: str) -> Notified:
    return note(EventType.RECORDER_SNAPSHOT_FILE, fileName=name)


def test_a_snapshot_event_lists_the_jpg_with_its_uid_and_capture_time_and_says_so() -> None:
    result = apply_notification(DESIRED, RECORDING, snapshot_note(SNAP_1001), NOW, TIMING)
    [jpg] = result.tracked.files
    assert (jpg.name, jpg.uid, jpg.track_type) == (SNAP_1001, "1001", "Video")
    assert jpg.is_playable is False and jpg.mixed_all_user is False
    assert jpg.slice_start_time == int(ago(2).timestamp() * 1000)
    [event] = result.events
    assert event.reason == Reason.SNAPSHOT_UPLOADED == "SnapshotUploaded"
    assert event.message == f"Snapshot of uid 1001 uploaded: {SNAP_1001}" and not event.warning


def test_snapshot_events_are_one_per_uid_first_and_then_one_a_minute() -> None:
    tracked, posted = RECORDING, []
    for seconds, name in (
        (0, SNAP_1001),
        (1, SNAP_1002),  # another uid's first: an Event
        (10, SNAP_1001_LATER),  # ten seconds later, same uid: listed, no Event
        (10, SNAP_1001_LATER),  # delivered twice: nothing new
    ):
        result = apply_notification(
            DESIRED, tracked, snapshot_note(name), NOW + timedelta(seconds=seconds), TIMING
        )
        tracked = result.tracked
        posted.extend(e.message.rsplit("/", 1)[-1] for e in result.events)
    assert names(tracked.files) == (SNAP_1001, SNAP_1002, SNAP_1001_LATER)
    assert posted == [SNAP_1001.rsplit("/", 1)[-1], SNAP_1002.rsplit("/", 1)[-1]]
    later = snapshot_note(SNAP_1001.replace("115958", "120200"))
    result = apply_notification(DESIRED, tracked, later, NOW + timedelta(seconds=61), TIMING)
    assert reasons(result.events) == ["SnapshotUploaded"]


def test_snapshots_stay_with_the_playlists_through_the_uploaded_event() -> None:
    recording = apply_notification(DESIRED, STOPPING, snapshot_note(SNAP_1001), NOW, TIMING)
    done = apply_notification(
        DESIRED,
        recording.tracked,
        note(EventType.UPLOADED, status=0, fileList=[{"fileName": "a.m3u8"}]),
        NOW,
        TIMING,
    )
    assert done.tracked.phase is Phase.COMPLETED
    assert names(done.tracked.files) == ("a.m3u8", SNAP_1001)


def test_a_snapshot_event_after_the_recording_completed_still_lists_the_jpg() -> None:
    # event 45 is sent when the JPG reaches the bucket, on its own: it may come after the
    # stop answer that completed the recording
    completed = STOPPING.replace(phase=Phase.COMPLETED, upload_status="uploaded")
    result = apply_notification(DESIRED, completed, snapshot_note(SNAP_1001), NOW, TIMING)
    assert result.tracked.phase is Phase.COMPLETED
    assert names(result.tracked.files) == ("a.m3u8", SNAP_1001)
    assert reasons(result.events) == ["SnapshotUploaded"]
    # other events still change nothing once Completed
    failed = note(
        EventType.CLOUD_RECORDING_ERROR, errorLevel=5, module=0, errorCode=1, errorMsg="x"
    )
    assert apply_notification(DESIRED, completed, failed, NOW, TIMING).tracked == completed


def test_a_late_snapshot_of_a_lost_recording_is_not_listed_for_its_restart() -> None:
    restarting = Tracked(phase=Phase.PENDING, restarts=1)
    result = apply_notification(DESIRED, restarting, snapshot_note(SNAP_1001), NOW, TIMING)
    assert result.tracked == restarting and result.events == ()


@pytest.mark.parametrize(
    ("details", "message"),
    [
        (
            {"newUid": 3000000001, "fromReplica": "rec-0", "toReplica": "rec-1"},
            "Handed over from recorder replica rec-0 to rec-1 (recorder uid 3000000001)",
        ),
        ({"newUid": 42}, "Handed over to another recorder (recorder uid 42)"),
    ],
)
def test_a_hand_over_keeps_the_recording_ready_and_says_where_it_went(
    details: dict[str, object], message: str
) -> None:
    result = apply_notification(
        DESIRED, RECORDING, note(EventType.SESSION_FAILOVER, sid="s1", **details), NOW, TIMING
    )
    assert result.tracked.phase is Phase.RECORDING and result.tracked.ready
    assert [(e.reason, e.message, e.warning) for e in result.events] == [
        ("HandedOver", message, False)
    ]
