"""What an answer of the recording service (or a callback) means for the resource.

``apply_outcome`` turns the outcome of a step into the new ``Tracked`` and the
Events to post; ``apply_notification`` does the same for a verified event
callback. Phase rules (protocol.md §6, §7.6, §9.4):

* start accepted -> Connecting (Event Connecting); query 4/5 or event 40 ->
  Recording (Event Started, Ready);
* event 41, query 6-7 or stop answered 49 -> Uploading (Event Stopped); event
  31/32, event 11 exitStatus 0, query 8 (exited), stop "uploaded"/"backuped" or
  stop 435 (nothing recorded) -> Completed (Event Uploaded/Backuped, and Stopped
  first if it was missed): Completed only when the service said so;
* query 20, event 11 exitStatus 1, event 1 errorLevel 5, or a 404 from query,
  stop or update that outlasts the failover grace (even after a stop was asked
  for: the recording vanished without saying its files were uploaded) ->
  FatalError: a new recording after backoff under restartPolicy OnFailure
  (while the spec still wants one), phase Failed otherwise. A restarted
  recording starts with empty files and upload status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from cloudrec_protocol.codes import ErrorCode, RecordingStatus, is_running, sdk_code_for_event
from cloudrec_protocol.events import (
    BackupedDetails,
    ErrorDetails,
    ErrorLevel,
    ErrorModule,
    EventDetails,
    EventType,
    FileInfosDetails,
    LeaveCode,
    RecorderLeaveDetails,
    RecorderSliceStartDetails,
    RecorderStartedDetails,
    SessionExitDetails,
    SessionFailoverDetails,
    SnapshotFileDetails,
    StatusUpdateDetails,
    UploadedDetails,
    UploaderStartedDetails,
    UploadingProgressDetails,
)

from .decide import start_may_have_run
from .files import FileRecord, Listed, from_file_list, from_snapshot
from .model import (
    TERMINAL_PHASES,
    Acquire,
    Acquired,
    Applied,
    Cancelled,
    Desired,
    ErrorInfo,
    EventRecord,
    Failure,
    Notified,
    Outcome,
    Pause,
    Phase,
    Queried,
    Query,
    Reason,
    Release,
    Released,
    Resume,
    SdkError,
    Start,
    StartAccepted,
    Step,
    Stop,
    StopDone,
    Tracked,
    Transition,
    Update,
    UpdateLayout,
)
from .pausing import applied, refused_by_recorder
from .queue import at_capacity
from .takeover import on_failover, still_degraded
from .timing import NOT_FOUND_GRACE, START_CONFIRM_DEADLINE, Timing, backoff, not_found_delay

#: Body codes meaning the resource id can no longer be used: acquire again.
RESOURCE_ID_UNUSABLE = frozenset({ErrorCode.RESOURCE_EXPIRED, ErrorCode.RESOURCE_UNPARSABLE})
TOKEN_REFUSED = frozenset({ErrorCode.TOKEN_EXPIRED, ErrorCode.TOKEN_INVALID})


def _healthy(tracked: Tracked) -> Tracked:
    degraded, message = still_degraded(tracked)
    return tracked.replace(failures=0, retry_at=None, degraded=degraded, degraded_message=message)


def _started(tracked: Tracked, now: datetime) -> Transition:
    if tracked.ready and tracked.phase in (Phase.RECORDING, Phase.PAUSED):
        return Transition(tracked)  # running (a paused recording runs too)
    return Transition(
        tracked.replace(phase=Phase.RECORDING, ready=True, not_found_since=None),
        (EventRecord(Reason.STARTED, f"Recorder is recording (sid {tracked.sid})"),),
    )


def _stopped(tracked: Tracked, now: datetime, how: str) -> Transition:
    if tracked.phase in (Phase.UPLOADING, *TERMINAL_PHASES):
        return Transition(tracked)
    return Transition(
        tracked.replace(phase=Phase.UPLOADING, stopped_at=tracked.stopped_at or now),
        (EventRecord(Reason.STOPPED, f"Recording stopped: {how}"),),
    )


def _completed(
    tracked: Tracked, now: datetime, upload_status: str | None, files: tuple[FileRecord, ...]
) -> Transition:
    events: list[EventRecord] = []
    first = _stopped(tracked, now, "the recorder left the channel")
    tracked = first.tracked
    events.extend(first.events)
    status = upload_status or tracked.upload_status
    # Every file of the recording (those seen before, by query or callback, and these).
    tracked = tracked.with_files(files)
    every = tracked.listed()
    if tracked.phase is not Phase.COMPLETED:
        if status == "uploaded":
            events.append(EventRecord(Reason.UPLOADED, _files_message("Uploaded", every)))
        elif status == "backuped":
            events.append(
                EventRecord(
                    Reason.BACKUPED,
                    _files_message("Some files went to the backup store", every),
                    warning=True,
                )
            )
    progress = 100 if status in ("uploaded", "backuped") else tracked.upload_progress
    return Transition(
        tracked.replace(
            phase=Phase.COMPLETED,
            upload_status=status,
            upload_progress=progress,
            ready=tracked.ready,
        ),
        tuple(events),
    )


def _files_message(prefix: str, listed: Listed) -> str:
    names = listed.names()
    playlists = [f for f in names if f.endswith(".m3u8")]
    shown = playlists[0] if playlists else (names[0] if names else "no files")
    return f"{prefix}: {len(names) + listed.omitted} file(s), {shown}"


def _error(code: int, message: str, now: datetime) -> ErrorInfo:
    return ErrorInfo(code=int(code), message=message[:500], time=now)


def _fatal(
    desired: Desired, tracked: Tracked, now: datetime, timing: Timing, code: int, message: str
) -> Transition:
    """The recording is lost: restart it under OnFailure, fail it otherwise."""
    if tracked.phase in TERMINAL_PHASES:
        return Transition(tracked)
    error = _error(code, message, now)
    event = EventRecord(Reason.FATAL_ERROR, f"{message} (error {code})", warning=True)
    if (
        desired.restart_policy == "OnFailure"
        and desired.state != "Stopped"
        and not desired.deleting
    ):
        restarts = tracked.restarts + 1
        delay = backoff(restarts, timing.restart_backoff_base, timing.restart_backoff_cap)
        # Files and upload belong to the lost recording: the new one starts empty.
        fresh = Tracked(
            phase=Phase.PENDING,
            restarts=restarts,
            last_error=error,
            retry_at=_after(now, delay),
            degraded="Restarting",
            degraded_message=f"Restarting the recording in {delay:.0f}s after a fatal error",
        )
        return Transition(fresh, (event,))
    return Transition(
        tracked.replace(
            phase=Phase.FAILED,
            ready=False,
            last_error=error,
            failed_reason="FatalError",
            stopped_at=tracked.stopped_at or now,
            retry_at=None,
        ),
        (event,),
    )


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def _permanent(tracked: Tracked, now: datetime, failure: Failure, what: str) -> Transition:
    reason = _failure_reason(failure)
    message = f"{what} failed: {failure.message}"
    return Transition(
        tracked.replace(
            phase=Phase.FAILED,
            ready=False,
            last_error=_error(failure.sdk_code, message, now),
            failed_reason=reason,
            retry_at=None,
        ),
        (EventRecord(Reason.FATAL_ERROR, f"{message} (error {failure.sdk_code})", warning=True),),
    )


def _failure_reason(failure: Failure) -> str:
    if failure.http_status == HTTPStatus.UNAUTHORIZED:
        return "AuthenticationFailed"
    if failure.code in TOKEN_REFUSED:
        return "TokenRejected"
    if failure.code == ErrorCode.TASK_CONFLICT:
        return "TaskConflict"
    if (
        failure.sdk_code == SdkError.INVALID_PARAMETER
        or failure.http_status == HTTPStatus.BAD_REQUEST
    ):
        return "InvalidParameter"
    return "RequestFailed"


def _transient(
    tracked: Tracked,
    now: datetime,
    timing: Timing,
    failure: Failure,
    what: str,
    reason: str | None = None,
) -> Transition:
    failures = tracked.failures + 1
    delay = backoff(failures, timing.transient_backoff_base, timing.transient_backoff_cap)
    if reason is None:
        reason = "BackendUnreachable" if failure.transport else "BackendUnavailable"
    return Transition(
        tracked.replace(
            failures=failures,
            retry_at=_after(now, delay),
            degraded=reason,
            degraded_message=f"{what} failed ({failure.message}); retry {failures} in {delay:.0f}s",
            unreachable=tracked.unreachable or failure.transport,
            last_error=_error(failure.sdk_code, f"{what} failed: {failure.message}", now),
        )
    )


def _not_found(
    desired: Desired, tracked: Tracked, now: datetime, timing: Timing, what: str
) -> Transition:
    """404 "failed to find worker" from query, update or stop (protocol.md §10 #4).

    Retried with back-off first (a failover answers 404 for a while). Then the recording
    is lost, whatever was asked of it: the service never said it finished and uploaded.
    """
    since = tracked.not_found_since or now
    anchor = max(t for t in (tracked.started_at, tracked.failover_at, since) if t is not None)
    young = anchor != since and now - anchor < NOT_FOUND_GRACE
    delay = not_found_delay(since, now)
    if young or delay is not None:
        wait = delay if delay is not None else NOT_FOUND_GRACE.total_seconds()
        return Transition(tracked.replace(not_found_since=since, retry_at=_after(now, wait)))
    code = SdkError.RECORDER_EXPIRE_EXIT if tracked.ready else SdkError.RECORDER_INIT_FAILED
    return _fatal(
        desired, tracked, now, timing, code, f"The service no longer knows the recording ({what})"
    )


def note_blocked(desired: Desired, tracked: Tracked) -> Transition:
    """A Warning Event when an input goes missing (once per message), none while it stays."""
    if desired.blocked == tracked.blocked_notice:
        return Transition(tracked)
    if desired.blocked is None:
        return Transition(tracked.replace(blocked_notice=None))
    event = EventRecord(desired.blocked_reason or "MissingInput", desired.blocked, warning=True)
    return Transition(tracked.replace(blocked_notice=desired.blocked), (event,))


def apply_outcome(
    desired: Desired, tracked: Tracked, step: Step, outcome: Outcome, now: datetime, timing: Timing
) -> Transition:
    """The new state after ``step`` produced ``outcome``."""
    if isinstance(outcome, Acquired):
        return Transition(
            _healthy(tracked).replace(
                phase=Phase.CONNECTING if tracked.phase is Phase.PENDING else tracked.phase,
                resource_id=outcome.resource_id,
                acquired_at=now,
            )
        )
    if isinstance(outcome, StartAccepted):
        return Transition(
            _healthy(tracked).replace(
                phase=Phase.CONNECTING,
                sid=outcome.sid,
                started_at=now,
                ready=False,
                last_query_at=None,
                not_found_since=None,
                unreachable=False,
                lost_start=None,
                refused_start=None,
                conflict_since=None,
                applied_layout_hash=desired.layout_hash,
                applied_subscribe_hash=desired.subscribe_hash,
            ),
            (
                EventRecord(
                    Reason.CONNECTING, f"Recording accepted by the service (sid {outcome.sid})"
                ),
            ),
        )
    if isinstance(outcome, Queried):
        return _queried(desired, _healthy(tracked), outcome, now, timing)
    if isinstance(outcome, StopDone):
        tracked = _healthy(tracked).replace(stop_requested=True)
        first = _stopped(tracked, now, "stop requested")
        if outcome.upload_status in ("uploaded", "backuped"):
            done = _completed(first.tracked, now, outcome.upload_status, outcome.files)
            return Transition(done.tracked, first.events + done.events)
        return Transition(first.tracked.with_files(outcome.files), first.events)
    if isinstance(outcome, Applied):
        if isinstance(step, Pause | Resume):
            return applied(_healthy(tracked), step)
        if isinstance(step, UpdateLayout):
            return Transition(_healthy(tracked).replace(applied_layout_hash=desired.layout_hash))
        return Transition(_healthy(tracked).replace(applied_subscribe_hash=desired.subscribe_hash))
    if isinstance(outcome, Released):
        return Transition(
            tracked.replace(phase=Phase.RELEASED),
            (EventRecord(Reason.RELEASED, "Released; the recording continues in the background"),),
        )
    if isinstance(outcome, Cancelled):
        return _cancelled(tracked)
    if isinstance(outcome, Failure):
        return _failed(desired, tracked, step, outcome, now, timing)
    return apply_notification(desired, tracked, outcome, now, timing)


def _cancelled(tracked: Tracked) -> Transition:
    """``state: Stopped`` and nothing runs at the service: no more starts. After a fatal
    error (restarts) the recording was lost and its restart is cancelled: Failed, with
    the fatal error's reason; otherwise nothing ever ran: Pending."""
    rest = _healthy(tracked).replace(
        resource_id=None,
        acquired_at=None,
        lost_start=None,
        refused_start=None,
        conflict_since=None,
        ready=False,
    )
    if tracked.restarts:
        return Transition(
            rest.replace(
                phase=Phase.FAILED,
                failed_reason=tracked.failed_reason or "FatalError",
                stopped_at=tracked.stopped_at,
            )
        )
    return Transition(rest.replace(phase=Phase.PENDING))


def _queried(
    desired: Desired, tracked: Tracked, outcome: Queried, now: datetime, timing: Timing
) -> Transition:
    tracked = tracked.replace(
        last_query_at=now, not_found_since=None, unreachable=False
    ).with_files(outcome.files)
    status = outcome.status
    if status is not None and is_running(status):
        return _started(tracked, now)
    if status is RecordingStatus.STOP_REQUESTED:
        if tracked.phase in (Phase.CONNECTING, Phase.RECORDING, Phase.PAUSED):
            return Transition(tracked.replace(phase=Phase.STOPPING))
        return Transition(tracked)
    if status is RecordingStatus.STOPPED:
        return _stopped(tracked, now, "the service reports the recorder stopped")
    if status is RecordingStatus.EXITED:
        # Exited: the service finished with the session and its upload, the query's word
        # for event 11 exitStatus 0 (protocol.md §6.1, §7.6). A query-only backend learns
        # of the upload here, so it gets the same Uploaded Event as the callback path
        # (unless a callback already said some files went to the backup store).
        return _completed(tracked, now, tracked.upload_status or "uploaded", ())
    if status is RecordingStatus.EXITED_ABNORMALLY:
        return _fatal(
            desired,
            tracked,
            now,
            timing,
            SdkError.RECORDER_EXPIRE_EXIT,
            "The recorder exited abnormally",
        )
    # Not started yet (0-3), or no status.
    if tracked.started_at is not None and now - tracked.started_at > START_CONFIRM_DEADLINE:
        return _fatal(
            desired,
            tracked,
            now,
            timing,
            SdkError.RECORDER_INIT_FAILED,
            f"The recorder did not start within {START_CONFIRM_DEADLINE.seconds}s",
        )
    return Transition(tracked)


def _failed(
    desired: Desired, tracked: Tracked, step: Step, failure: Failure, now: datetime, timing: Timing
) -> Transition:
    what = type(step).__name__.lower()
    if isinstance(step, Stop):
        if failure.code == ErrorCode.NO_RECORDED_DATA:
            # The service ended the recording: there was nothing to upload.
            tracked = tracked.replace(
                stop_requested=True,
                last_error=_error(SdkError.NO_RECORDED_DATA, "Nothing was recorded", now),
            )
            return _completed(_healthy(tracked), now, None, ())
        if failure.code == ErrorCode.TASK_EXITING:
            # Already stopping: its end (query 8, callbacks 31/32/11) is still to come.
            return _stopped(_healthy(tracked).replace(stop_requested=True), now, "stop requested")
    not_found = failure.http_status == HTTPStatus.NOT_FOUND
    if not_found and isinstance(step, Query | Update | UpdateLayout | Pause | Resume | Stop):
        return _not_found(desired, tracked, now, timing, what)
    if isinstance(step, Start):
        if failure.code in RESOURCE_ID_UNUSABLE:
            return Transition(tracked.replace(resource_id=None, acquired_at=None))
        if failure.code == ErrorCode.ALREADY_STARTED:
            # The answer to an earlier start with this resource id was lost, and the
            # service did not echo the sid (ours does: the handler adopts it then).
            # Never start a second recording beside it: wait for a callback that names
            # its sid (adoption), or for it to end.
            return _transient(
                tracked.replace(lost_start=step.resource_id),
                now,
                timing,
                dataclasses.replace(failure, retryable=True),
                "start (an earlier start's answer was lost)",
            )
        if failure.code == ErrorCode.TASK_CONFLICT:
            return _conflict(tracked, step, failure, now, timing)
        if failure.code == ErrorCode.VENDOR_OVER_LOAD:
            tracked = tracked.replace(refused_start=step.resource_id)
    if failure.code == ErrorCode.VENDOR_OVER_LOAD and isinstance(step, Acquire | Start):
        # The backend is at capacity: wait in its queue for room (queue.py).
        return at_capacity(desired, tracked, failure.message, now, timing)
    if failure.code == ErrorCode.VENDOR_OVER_LOAD:
        # "vendor_over_load": too many concurrent tasks; later, with backoff (§5.2).
        return _transient(tracked, now, timing, dataclasses.replace(failure, retryable=True), what)
    if failure.retryable or failure.transport:
        return _transient(tracked, now, timing, failure, what)
    if isinstance(step, Update | UpdateLayout | Pause | Resume):
        return _refused_change(desired, tracked, step, failure, now, timing)
    if isinstance(step, Acquire | Start | Query | Stop | Release):
        return _permanent(tracked, now, failure, what)
    return Transition(tracked)


def _refused_change(
    desired: Desired,
    tracked: Tracked,
    step: Update | UpdateLayout | Pause | Resume,
    failure: Failure,
    now: datetime,
    timing: Timing,
) -> Transition:
    """A live change refused for good (not retryable): the recording goes on."""
    what = type(step).__name__.lower()
    if isinstance(step, Pause):
        # The recorder does not take onhold: the recording goes on unpaused (pausing.py).
        return refused_by_recorder(tracked, failure)
    if isinstance(step, Resume):
        # Still paused: asked again after a back-off (Degraded says why).
        return _transient(tracked, now, timing, failure, what)
    # A refused update keeps the recording; say so and do not retry it.
    event = EventRecord(Reason.RECORDER_FAILURE, f"{what} refused: {failure.message}", warning=True)
    applied = (
        {"applied_layout_hash": desired.layout_hash}
        if isinstance(step, UpdateLayout)
        else {"applied_subscribe_hash": desired.subscribe_hash}
    )
    return Transition(
        tracked.replace(last_error=_error(failure.sdk_code, failure.message, now), **applied),
        (event,),
    )


def _conflict(
    tracked: Tracked, step: Start, failure: Failure, now: datetime, timing: Timing
) -> Transition:
    """53: the channel holds a recorder with this uid, and this start began nothing.

    A conflict clears by itself: the lost recording ends, or the participant of a recorder
    killed mid-start times out. Retried whatever ``restartPolicy`` says: for as long as a
    lost recording of ours runs, otherwise for ``timing.conflict_window``.
    """
    since = tracked.conflict_since or now
    refused = tracked.replace(refused_start=step.resource_id, conflict_since=since)
    waited = (now - since).total_seconds()
    if tracked.lost_start is None and waited >= timing.conflict_window:
        return _permanent(refused, now, failure, "start")
    return _transient(
        refused,
        now,
        timing,
        dataclasses.replace(failure, retryable=True),
        "start (the channel still holds this uid)",
        reason="TaskConflict",
    )


# ---------------------------------------------------------------- callbacks


def _on_error(
    desired: Desired, tracked: Tracked, d: ErrorDetails, now: datetime, t: Timing
) -> Transition:
    sdk = sdk_code_for_event(EventType.CLOUD_RECORDING_ERROR, d) or SdkError.GENERAL_ERROR
    message = d.error_msg[:300]
    if d.error_level >= ErrorLevel.FATAL:
        text = f"Fatal error {d.error_code} in module {d.module}: {message}"
        return _fatal(desired, tracked, now, t, sdk, text)
    uploader = d.module == ErrorModule.UPLOADER
    reason = Reason.UPLOADER_FAILURE if uploader else Reason.RECORDER_FAILURE
    text = f"error {d.error_code} (level {d.error_level}): {message}"
    return Transition(
        tracked.replace(last_error=_error(sdk, text, now)),
        (EventRecord(reason, f"{text} (error {int(sdk)})", warning=True),),
    )


def _on_status(
    desired: Desired, tracked: Tracked, d: StatusUpdateDetails, now: datetime, t: Timing
) -> Transition:
    status = RecordingStatus(d.status) if d.status in _STATUSES else None
    return _queried(desired, tracked, Queried(status, from_file_list(d.file_list)), now, t)


_STATUSES = frozenset(RecordingStatus)


def _on_files(
    desired: Desired, tracked: Tracked, d: FileInfosDetails, now: datetime, t: Timing
) -> Transition:
    return Transition(tracked.with_files(from_file_list(d.file_list)))


def _on_snapshot(
    desired: Desired, tracked: Tracked, d: SnapshotFileDetails, now: datetime, t: Timing
) -> Transition:
    """45: a snapshot JPG is in the bucket. Listed in status.files; a SnapshotUploaded
    Event for each uid's first one and then at most one every ``progress_event_interval``
    seconds (a snapshot task makes one every few seconds per uid)."""
    snapshot = from_snapshot(d)
    if tracked.sid is None or snapshot.name in tracked.listed().names():
        # no recording (a late event of one lost before a restart), or listed already
        return Transition(tracked)
    before = tracked.files
    tracked = tracked.with_files((snapshot,), one_by_one=True)
    first_of_uid = (
        snapshot.uid is not None
        and len(tracked.files) > len(before)  # listed (the list has room)
        and not any(f.snapshot and f.uid == snapshot.uid for f in before)
    )
    last = tracked.snapshot_event_at
    due = first_of_uid or last is None or (now - last).total_seconds() >= t.progress_event_interval
    if not due:
        return Transition(tracked)
    whose = f"uid {snapshot.uid}" if snapshot.uid is not None else "a uid"
    event = EventRecord(Reason.SNAPSHOT_UPLOADED, f"Snapshot of {whose} uploaded: {snapshot.name}")
    return Transition(tracked.replace(snapshot_event_at=now), (event,))


def _on_exit(
    desired: Desired, tracked: Tracked, d: SessionExitDetails, now: datetime, t: Timing
) -> Transition:
    sdk = sdk_code_for_event(EventType.SESSION_EXIT, d)
    if sdk is None:
        # "0: normal (recording ended, files uploaded)" (protocol.md §7.6).
        return _completed(tracked, now, tracked.upload_status or "uploaded", ())
    return _fatal(desired, tracked, now, t, sdk, "The recording session exited abnormally")


def _on_failover(
    desired: Desired, tracked: Tracked, d: SessionFailoverDetails, now: datetime, t: Timing
) -> Transition:
    """12: the recording moved to another recorder (takeover.py)."""
    return on_failover(tracked, d, now)


def _on_uploader_started(
    desired: Desired, tracked: Tracked, d: UploaderStartedDetails, now: datetime, t: Timing
) -> Transition:
    sdk = sdk_code_for_event(EventType.UPLOADER_STARTED, d)
    if sdk is None:
        return Transition(tracked)
    text = f"The uploader did not start (status {d.status})"
    return Transition(
        tracked.replace(last_error=_error(sdk, text, now)),
        (EventRecord(Reason.UPLOADER_FAILURE, text, warning=True),),
    )


def _on_uploaded(
    desired: Desired,
    tracked: Tracked,
    d: UploadedDetails | BackupedDetails,
    now: datetime,
    t: Timing,
) -> Transition:
    status = "uploaded" if isinstance(d, UploadedDetails) else "backuped"
    files = from_file_list(d.file_list)
    if tracked.phase in (Phase.STOPPING, Phase.UPLOADING) or tracked.stop_requested:
        return _completed(tracked, now, status, files)
    return Transition(tracked.with_files(files).replace(upload_status=status))


def _on_progress(
    desired: Desired, tracked: Tracked, d: UploadingProgressDetails, now: datetime, t: Timing
) -> Transition:
    return _progress(tracked, d.progress, now, t)


def _on_recorder_started(
    desired: Desired,
    tracked: Tracked,
    d: RecorderStartedDetails | RecorderSliceStartDetails,
    now: datetime,
    t: Timing,
) -> Transition:
    sdk = sdk_code_for_event(d.EVENT_TYPE, d)
    if sdk is not None:
        return _fatal(desired, tracked, now, t, sdk, "The recorder did not start")
    return _started(tracked, now)


def _on_leave(
    desired: Desired, tracked: Tracked, d: RecorderLeaveDetails, now: datetime, t: Timing
) -> Transition:
    leave = d.leave_code
    if leave == LeaveCode.INIT:
        sdk = sdk_code_for_event(EventType.RECORDER_LEAVE, d) or SdkError.RECORDER_INIT_FAILED
        return _fatal(desired, tracked, now, t, sdk, "The recorder failed to initialise")
    how = f"leaveCode {leave}"
    if leave & LeaveCode.NO_USERS:
        how = "the channel was idle (maxIdleTime)"
    if leave & LeaveCode.CLIENT_LEAVE:
        how = "stop requested"
    return _stopped(tracked, now, how)


_Rule = Callable[[Desired, Tracked, Any, datetime, Timing], Transition]

#: The typed details each event brings -> its rule (protocol.md §7.6; the SDK callback
#: each one stands for in §9.4). Events not listed change nothing.
NOTIFICATION_RULES: dict[type[EventDetails], _Rule] = {
    ErrorDetails: _on_error,
    StatusUpdateDetails: _on_status,
    FileInfosDetails: _on_files,
    SessionExitDetails: _on_exit,
    SessionFailoverDetails: _on_failover,
    UploaderStartedDetails: _on_uploader_started,
    UploadedDetails: _on_uploaded,
    BackupedDetails: _on_uploaded,
    UploadingProgressDetails: _on_progress,
    RecorderStartedDetails: _on_recorder_started,
    RecorderLeaveDetails: _on_leave,
    RecorderSliceStartDetails: _on_recorder_started,
    SnapshotFileDetails: _on_snapshot,
}


AFTER_THE_END: frozenset[type[EventDetails]] = frozenset({SnapshotFileDetails})
"""Events still applied once the recording is Completed: a snapshot's event 45 is sent when
the JPG reaches the bucket and delivered on its own, so it may come after the stop answer
or the query that completed the recording. It only lists the file."""


def awaits_adoption(desired: Desired, tracked: Tracked) -> bool:
    """A callback naming a sid for this channel and uid is this resource's recording: its
    start was answered "already started" without the sid, or (while the resource is being
    stopped or deleted) a start's answer is unknown."""
    if tracked.sid is not None or tracked.phase in TERMINAL_PHASES:
        return False
    finding = desired.deleting or desired.state == "Stopped"
    return tracked.lost_start is not None or (finding and start_may_have_run(tracked))


def apply_notification(
    desired: Desired, tracked: Tracked, note: Notified, now: datetime, timing: Timing
) -> Transition:
    """A verified event callback (protocol.md §7.6 and the mapping in §9.4)."""
    if note.sid and tracked.sid and note.sid != tracked.sid:
        # About another recording: an earlier one of this resource (restarted after a
        # fatal error), named by a late or held event. It changes nothing here.
        return Transition(tracked)
    adopted: tuple[EventRecord, ...] = ()
    if note.sid and awaits_adoption(desired, tracked):
        tracked = tracked.replace(
            sid=note.sid,
            resource_id=tracked.lost_start or tracked.resource_id,
            lost_start=None,
            refused_start=None,
            conflict_since=None,
            phase=Phase.CONNECTING,
            started_at=now,
            ready=False,
            failures=0,
            retry_at=None,
            degraded=None,
            degraded_message="",
            applied_layout_hash=desired.layout_hash,
            applied_subscribe_hash=desired.subscribe_hash,
        )
        adopted = (
            EventRecord(Reason.CONNECTING, f"Adopted the running recording (sid {note.sid})"),
        )
    details = note.details
    rule = None if details is None else NOTIFICATION_RULES.get(type(details))
    late = type(details) in AFTER_THE_END and tracked.phase is Phase.COMPLETED
    if rule is None or (tracked.phase in TERMINAL_PHASES and not late):
        return Transition(tracked, adopted)
    result = rule(desired, tracked, details, now, timing)
    return Transition(result.tracked, adopted + result.events)


def _progress(tracked: Tracked, raw: int, now: datetime, timing: Timing) -> Transition:
    # Progress moves by a point every few seconds while recording; status and Events follow
    # it at most every `progress_event_points` points or `progress_event_interval` seconds
    # (and at 100), so a long recording costs about one API write a minute, not one per
    # callback.
    percent = max(0, min(100, raw // 100))
    last_value, last_at = tracked.progress_event_value, tracked.progress_event_at
    if last_value is None and percent == 0:
        # Nothing uploaded yet (an empty channel records nothing): no Event, no write.
        return Transition(tracked)
    due = (
        last_value is None
        or last_at is None
        or percent - last_value >= timing.progress_event_points
        or (now - last_at).total_seconds() >= timing.progress_event_interval
        or (percent == 100 and last_value != 100)
    )
    if not due or last_value == percent:
        return Transition(tracked)
    return Transition(
        tracked.replace(
            upload_progress=percent, progress_event_value=percent, progress_event_at=now
        ),
        (EventRecord(Reason.UPLOAD_PROGRESS, f"Uploaded {percent}% of the recorded files"),),
    )


__all__ = ["apply_notification", "apply_outcome", "awaits_adoption"]
