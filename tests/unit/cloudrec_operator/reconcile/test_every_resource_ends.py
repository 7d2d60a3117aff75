"""Every resource ends: whatever ``state`` and deletion say, from wherever it is.

The reconcile loop (``next_step``, then the step's answer through ``apply_outcome``) is
played against a small in-memory recording service, for every combination of the desired
state (Recording, Stopped), deletion (releasePolicy Stop or KeepInBackground) or none, and
where the resource is (nothing started, a start in flight that did or did not begin a
recording, a restart waiting out its back-off, recording, stopping). While the service
answers, the resource reaches what was asked: a final phase that tells the truth (Completed
for a recording that was stopped and uploaded, Failed for one that was lost, Pending with
nothing at the service when it was stopped before any recording began), its deletion with
nothing left recording (or Released, left running on purpose), or a confirmed recording.
While the service is down, it keeps retrying with a visible reason and a growing back-off,
and never lets go of a recording that may run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest

from cloudrec_operator.reconcile.decide import next_step
from cloudrec_operator.reconcile.files import FileRecord
from cloudrec_operator.reconcile.model import (
    TERMINAL_PHASES,
    Acquire,
    Acquired,
    Cancel,
    Cancelled,
    Desired,
    ErrorInfo,
    Failure,
    Finish,
    Idle,
    Outcome,
    Phase,
    Queried,
    Query,
    Release,
    Released,
    SdkError,
    Start,
    StartAccepted,
    Step,
    Stop,
    StopDone,
    Tracked,
    Wait,
)
from cloudrec_operator.reconcile.observe import apply_outcome
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_protocol.codes import ErrorCode, RecordingStatus

T0 = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
TIMING = Timing()
HORIZON = timedelta(minutes=30)
"""Long enough for any wait the decisions know (a resource id's life, the conflict window)."""


def ago(seconds: float) -> datetime:
    return T0 - timedelta(seconds=seconds)


@dataclass
class Service:
    """The recording service as far as the loop sees it: one channel and uid."""

    up: bool = True
    running: str | None = None
    """The sid recording now, if any."""
    issued: dict[str, datetime] = field(default_factory=dict)
    """Resource ids and when they were acquired (they expire after the id life)."""
    started: set[str] = field(default_factory=set)
    """Resource ids a start used."""
    sids: itertools.count[int] = field(default_factory=lambda: itertools.count(2))

    def answer(self, step: Step, now: datetime) -> Outcome:
        if isinstance(step, Release):
            return Released()  # no protocol call: the recording is left as it is
        if not self.up:
            return Failure(None, None, SdkError.CONNECT_ERROR, True, "refused", transport=True)
        if isinstance(step, Acquire):
            rid = f"r{len(self.issued) + 2}"
            self.issued[rid] = now
            return Acquired(rid)
        if isinstance(step, Start):
            if step.resource_id in self.started and self.running is not None:
                return StartAccepted(self.running)  # "already started", the sid echoed
            life = timedelta(seconds=TIMING.resource_id_lifetime)
            issued = self.issued.get(step.resource_id)
            if issued is None or now - issued >= life or step.resource_id in self.started:
                return Failure(
                    HTTPStatus.BAD_REQUEST,
                    ErrorCode.RESOURCE_EXPIRED,
                    SdkError.INVALID_PARAMETER,
                    False,
                    "resource id expired",
                )
            self.started.add(step.resource_id)
            self.running = f"s{next(self.sids)}"
            return StartAccepted(self.running)
        if isinstance(step, Query):
            if step.sid != self.running:
                return Failure(
                    HTTPStatus.NOT_FOUND,
                    ErrorCode.WORKER_NOT_FOUND,
                    SdkError.DISCONNECTED,
                    False,
                    "failed to find worker",
                )
            return Queried(RecordingStatus.IN_PROGRESS, (FileRecord("a.m3u8"),))
        if isinstance(step, Stop):
            self.running = None
            return StopDone((FileRecord("a.m3u8"), FileRecord("a0.ts")), "uploaded")
        raise AssertionError(f"unexpected step {step}")


def announce(step: Step, tracked: Tracked) -> Tracked:
    """What the reconciler writes before a step (``handlers.reconciler._announce``)."""
    if isinstance(step, Acquire) and tracked.phase is Phase.PENDING:
        return tracked.replace(phase=Phase.CONNECTING)
    if isinstance(step, Start) and tracked.refused_start is not None:
        return tracked.replace(refused_start=None)
    if isinstance(step, Stop) and tracked.phase in (Phase.CONNECTING, Phase.RECORDING):
        return tracked.replace(phase=Phase.STOPPING)
    return tracked


@dataclass
class Run:
    tracked: Tracked
    last: Step
    waits: list[tuple[float, str | None]]
    """Every wait: its delay, and the Degraded reason the resource showed meanwhile."""


def play(desired: Desired, tracked: Tracked, service: Service, *, steps: int = 400) -> Run:
    """The loop until it rests (Idle, Finish, Release), the recording is confirmed, the
    horizon passes or ``steps`` are spent."""
    now, waits = T0, []
    step: Step = Idle()
    for _ in range(steps):
        step = next_step(desired, tracked, now, TIMING)
        if isinstance(step, Idle | Finish):
            break
        if isinstance(step, Wait):
            steady = tracked.phase is Phase.RECORDING and tracked.ready
            if steady and service.up and desired.state == "Recording" and not desired.deleting:
                break
            waits.append((step.delay, tracked.degraded))
            now += timedelta(seconds=max(step.delay, 0.1))
            if now - T0 > HORIZON:
                break
            continue
        if isinstance(step, Cancel):
            tracked = apply_outcome(desired, tracked, step, Cancelled(), now, TIMING).tracked
            continue
        tracked = announce(step, tracked)
        outcome = service.answer(step, now)
        tracked = apply_outcome(desired, tracked, step, outcome, now, TIMING).tracked
        if isinstance(step, Release):
            break
    return Run(tracked, step, waits)


LOST = ErrorInfo(int(SdkError.RECORDER_EXPIRE_EXIT), "The recorder exited abnormally", ago(9))

SITUATIONS: dict[str, tuple[Tracked, str | None]] = {
    # where the resource is -> (what it knows, what runs at the service)
    "nothing-started": (Tracked(), None),
    "start-in-flight-that-began-a-recording": (
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3)),
        "s1",
    ),
    "start-in-flight-that-began-nothing": (
        Tracked(phase=Phase.CONNECTING, resource_id="r1", acquired_at=ago(3)),
        None,
    ),
    "restart-waiting-out-its-backoff": (
        Tracked(
            phase=Phase.PENDING,
            restarts=1,
            last_error=LOST,
            retry_at=T0 + timedelta(seconds=9),
            degraded="Restarting",
            degraded_message="Restarting the recording in 10s after a fatal error",
        ),
        None,
    ),
    "recording": (
        Tracked(
            phase=Phase.RECORDING,
            resource_id="r1",
            acquired_at=ago(100),
            sid="s1",
            started_at=ago(99),
            ready=True,
            last_query_at=ago(1),
            applied_layout_hash="",
            applied_subscribe_hash="",
        ),
        "s1",
    ),
    "stopping": (
        Tracked(
            phase=Phase.STOPPING,
            resource_id="r1",
            acquired_at=ago(100),
            sid="s1",
            started_at=ago(99),
            ready=True,
            last_query_at=ago(1),
            applied_layout_hash="",
            applied_subscribe_hash="",
        ),
        "s1",
    ),
}

RECORDED = {"start-in-flight-that-began-a-recording", "recording", "stopping"}
"""Situations where a recording runs at the service, to be stopped and uploaded."""

KEPT, DELETED, DELETED_IN_BACKGROUND = "kept", "deleted", "deleted-keep-in-background"
GRID = [
    (state, deletion, situation)
    for state in ("Recording", "Stopped")
    for deletion in (KEPT, DELETED, DELETED_IN_BACKGROUND)
    for situation in SITUATIONS
]


def grid_id(case: tuple[str, str, str]) -> str:
    return "-".join(case)


def setup(state: str, deletion: str, situation: str, up: bool) -> tuple[Desired, Tracked, Service]:
    tracked, running = SITUATIONS[situation]
    service = Service(up=up, running=running)
    if tracked.resource_id is not None:
        service.issued[tracked.resource_id] = tracked.acquired_at or T0
        if running is not None:
            service.started.add(tracked.resource_id)
    desired = Desired(
        generation=2,
        state=state,
        restart_policy="OnFailure",
        deleting=deletion != KEPT,
        release_policy="KeepInBackground" if deletion == DELETED_IN_BACKGROUND else "Stop",
    )
    return desired, tracked, service


@pytest.mark.parametrize(("state", "deletion", "situation"), GRID, ids=map(grid_id, GRID))
def test_with_the_service_answering_every_resource_reaches_what_was_asked_truthfully(
    state: str, deletion: str, situation: str
) -> None:
    desired, tracked, service = setup(state, deletion, situation, up=True)
    run = play(desired, tracked, service)
    end = run.tracked
    if deletion == DELETED_IN_BACKGROUND:
        # Left running on purpose: Released where a recording may run, gone otherwise.
        may_run = situation in RECORDED or situation == "start-in-flight-that-began-nothing"
        released = isinstance(run.last, Release) and end.phase is Phase.RELEASED
        assert released if may_run else isinstance(run.last, Finish), (run.last, end)
    elif deletion == DELETED:
        assert isinstance(run.last, Finish), f"deletion never finished: {run.last} {end}"
        assert service.running is None, "a recording runs with no resource left"
    elif state == "Recording":
        assert (end.phase, end.ready, end.sid) == (Phase.RECORDING, True, service.running)
    else:
        assert isinstance(run.last, Idle), f"never came to rest: {run.last} {end}"
        assert service.running is None, "state Stopped left a recording running"
        if situation in RECORDED:
            expected = Phase.COMPLETED  # stopped, and the service said its files are uploaded
        elif situation == "restart-waiting-out-its-backoff":
            expected = Phase.FAILED  # the recording was lost, and its restart is cancelled
        else:
            expected = Phase.PENDING  # nothing was ever recorded: at rest, nothing at the service
        assert end.phase is expected
        if expected is Phase.PENDING:
            assert (end.resource_id, end.sid, end.degraded) == (None, None, None)
        if expected is Phase.FAILED:
            assert end.failed_reason == "FatalError" and end.last_error == LOST


@pytest.mark.parametrize(("state", "deletion", "situation"), GRID, ids=map(grid_id, GRID))
def test_with_the_service_down_every_resource_ends_or_retries_visibly_with_backoff(
    state: str, deletion: str, situation: str
) -> None:
    desired, tracked, service = setup(state, deletion, situation, up=False)
    run = play(desired, tracked, service)
    end = run.tracked
    if isinstance(run.last, Release):
        # Released without a call: the recording (if any) runs on, on purpose.
        assert deletion == DELETED_IN_BACKGROUND and end.phase is Phase.RELEASED
        return
    at_rest = isinstance(run.last, Idle) and (
        end.phase in TERMINAL_PHASES
        or (state == "Stopped" and end.phase is Phase.PENDING and end.resource_id is None)
    )
    if at_rest:
        # Only where nothing can run at the service: nothing was started, or a lost
        # recording's restart was cancelled.
        assert situation in ("nothing-started", "restart-waiting-out-its-backoff")
        assert deletion == KEPT
        return
    if isinstance(run.last, Finish):
        assert situation in ("nothing-started", "restart-waiting-out-its-backoff")
        return
    assert not isinstance(run.last, Idle), f"rests in {end.phase} although it must go on"
    retries = [delay for delay, reason in run.waits if reason is not None]
    assert end.degraded in ("BackendUnreachable", "Restarting"), end
    assert end.degraded_message
    assert len(retries) >= 3 and max(retries) > min(retries), run.waits
