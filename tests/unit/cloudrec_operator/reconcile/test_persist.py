"""Tracked state to and from the resource's status and annotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.cloudrec_operator.reconcile.test_startrequest import spec

from cloudrec_operator.api.enums import DesiredState, TrackType
from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingStatus
from cloudrec_operator.reconcile.files import FileRecord
from cloudrec_operator.reconcile.model import ErrorInfo, Phase, Tracked
from cloudrec_operator.reconcile.persist import (
    build_status,
    load_tracked,
    tracking_annotation,
)
from cloudrec_operator.reconcile.timing import backoff
from cloudrec_operator.reconcile.tracking import (
    MAX_FAILURES,
    NOT_OURS,
    TRACKING_ANNOTATION,
    Sealing,
    owner_of,
    seal,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

TRACKED = Tracked(
    phase=Phase.RECORDING,
    resource_id="r1",
    acquired_at=NOW - timedelta(seconds=20),
    sid="s1",
    started_at=NOW - timedelta(seconds=19),
    ready=True,
    files=(
        FileRecord("s1_room__uid_s_7__uid_e_video.m3u8", TrackType.VIDEO, "7", False, True, 1),
        FileRecord("s1_room__uid_s_7__uid_e_video_20261125120000000.jpg", TrackType.VIDEO, "7"),
        FileRecord("s1_room.m3u8"),
    ),
    files_omitted=5,
    snapshots_omitted=3,
    snapshot_event_at=NOW - timedelta(seconds=3),
    upload_progress=40,
    restarts=1,
    last_error=ErrorInfo(441, "The recorder exited", NOW),
    failures=2,
    retry_at=NOW + timedelta(seconds=4),
    applied_layout_hash="abc",
    notices=("n1", "n2"),
)
SEALING = Sealing(b"k" * 32, owner_of("team-a", "rec", "0b1e-uid"))


def conditions(status: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["type"]: c for c in status["conditions"]}  # type: ignore[attr-defined]


def test_status_and_annotation_round_trip() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    annotations = {TRACKING_ANNOTATION: tracking_annotation(TRACKED, SEALING)}
    assert load_tracked(status, annotations, SEALING) == (TRACKED, None)


def test_no_bookkeeping_means_no_annotation() -> None:
    assert tracking_annotation(Tracked(), SEALING) == ""


def test_a_recording_becoming_ready_changes_nothing_in_the_annotation() -> None:
    connecting = TRACKED.replace(phase=Phase.CONNECTING, ready=False)
    recording = TRACKED.replace(phase=Phase.RECORDING, ready=True)
    assert tracking_annotation(connecting, SEALING) == tracking_annotation(recording, SEALING)


@pytest.mark.parametrize(
    ("phase", "ready"),
    [(Phase.RECORDING, False), (Phase.RECORDING, True), (Phase.STOPPING, True)],
)
def test_ready_round_trips_also_where_it_differs_from_the_phase(phase: Phase, ready: bool) -> None:
    tracked = TRACKED.replace(phase=phase, ready=ready)
    status = build_status(spec(), tracked, 3, None, NOW)
    annotations = {TRACKING_ANNOTATION: tracking_annotation(tracked, SEALING)}
    assert load_tracked(status, annotations, SEALING) == (tracked, None)


def _forged(state: dict[str, object]) -> dict[str, str]:
    return {TRACKING_ANNOTATION: json.dumps({"sig": "0" * 64, "state": state})}


@pytest.mark.parametrize(
    ("what", "annotations", "sealing"),
    [
        ("unsigned plain JSON", {TRACKING_ANNOTATION: '{"failures": 4000000000}'}, SEALING),
        ("a forged signature", _forged({"lost_start": "their-resource-id"}), SEALING),
        ("not JSON", {TRACKING_ANNOTATION: "{{{"}, SEALING),
        ("a JSON list", {TRACKING_ANNOTATION: "[1, 2]"}, SEALING),
        ("a megabyte", {TRACKING_ANNOTATION: "x" * (1 << 20)}, SEALING),
        (
            "another object's seal",
            {TRACKING_ANNOTATION: tracking_annotation(TRACKED, SEALING)},
            Sealing(SEALING.key, owner_of("team-b", "rec", "0b1e-uid")),
        ),
        (
            "a seal of another key",
            {TRACKING_ANNOTATION: tracking_annotation(TRACKED, Sealing(b"x" * 32, SEALING.owner))},
            SEALING,
        ),
    ],
)
def test_an_annotation_the_operator_did_not_write_is_ignored_with_a_reason(
    what: str, annotations: dict[str, str], sealing: Sealing
) -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    tracked, problem = load_tracked(status, annotations, sealing)
    assert problem == NOT_OURS, what
    assert tracked.failures == 0 and tracked.lost_start is None
    assert tracked.sid == "s1"  # the status (users cannot write it) still counts


def test_out_of_range_values_even_correctly_signed_are_ignored_naming_the_field() -> None:
    raw = seal({"progress_event_value": 101}, SEALING)
    tracked, problem = load_tracked({}, {TRACKING_ANNOTATION: raw}, SEALING)
    assert problem is not None and "progress_event_value" in problem
    assert tracked.progress_event_value is None


def test_what_the_operator_writes_stays_within_the_bounds_it_reads() -> None:
    huge = TRACKED.replace(failures=MAX_FAILURES * 5, degraded_message="x" * 5000)
    tracked, problem = load_tracked(
        {}, {TRACKING_ANNOTATION: tracking_annotation(huge, SEALING)}, SEALING
    )
    assert problem is None
    assert tracked.failures == MAX_FAILURES
    assert len(tracked.degraded_message) == 1024


def test_applied_callbacks_are_kept_in_the_status_newest_32() -> None:
    many = TRACKED.replace(notices=tuple(f"n{i}" for i in range(99)))
    status = build_status(spec(), many, 3, None, NOW)
    assert status["appliedCallbacks"][-1] == "n98" and len(status["appliedCallbacks"]) == 32
    tracked, _ = load_tracked(status, {}, SEALING)
    assert tracked.notices == tuple(f"n{i}" for i in range(67, 99))


@pytest.mark.parametrize("attempt", [1, 7, 64, 4_000_000_000])
def test_the_backoff_is_capped_for_any_attempt_count(attempt: int) -> None:
    assert backoff(attempt, 1.0, 60.0) <= 60.0


def test_ready_is_true_with_observed_generation_once_recording() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    ready = conditions(status)["Ready"]
    assert ready["status"] == "True"
    assert ready["observedGeneration"] == 3
    assert status["observedGeneration"] == 3
    assert status["conditions"][0]["type"] == "Ready"


def test_terminal_failure_sets_ready_false_with_its_reason() -> None:
    failed = TRACKED.replace(phase=Phase.FAILED, ready=False, failed_reason="AuthenticationFailed")
    ready = conditions(build_status(spec(), failed, 1, None, NOW))["Ready"]
    assert ready["status"] == "False"
    assert ready["reason"] == "AuthenticationFailed"


@pytest.mark.parametrize(
    "tracked",
    [Tracked(), Tracked(phase=Phase.PENDING, last_error=ErrorInfo(53, "conflict", NOW))],
    ids=["never-seen-before-the-stop", "starts-refused-then-cancelled"],
)
def test_a_resource_stopped_before_any_recording_began_says_so_and_is_ready(
    tracked: Tracked,
) -> None:
    stopped = spec().model_copy(update={"state": DesiredState.STOPPED})
    ready = conditions(build_status(stopped, tracked, 2, None, NOW))["Ready"]
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == ("True", "Stopped", 2)
    assert ready["message"] == "Not recording: spec.state is Stopped and no recording was started"


def test_a_pending_resource_that_wants_a_recording_is_waiting_for_it() -> None:
    ready = conditions(build_status(spec(), Tracked(), 1, None, NOW))["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "Pending")


def test_missing_input_names_what_is_missing_in_ready_and_degraded() -> None:
    message = "Secret default/token not found"
    status = build_status(spec(), Tracked(), 1, None, NOW, message, "SecretNotFound")
    found = conditions(status)
    assert found["Ready"]["reason"] == "SecretNotFound"
    assert found["Ready"]["message"] == message
    assert found["Degraded"]["status"] == "True"


def test_status_is_identical_when_nothing_changed() -> None:
    first = build_status(spec(), TRACKED, 3, None, NOW)
    again = build_status(spec(), TRACKED, 3, first, NOW + timedelta(minutes=5))
    assert again == first


def test_last_error_carries_the_seed_code_and_its_name() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    assert status["lastError"]["code"] == 441
    assert status["lastError"]["reason"] == "RecorderExpireExit"


def test_private_bookkeeping_stays_out_of_the_status() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    assert "failures" not in str(status)
    assert "retry" not in str(status)


def test_a_status_with_too_many_or_too_long_file_names_still_builds_and_counts_the_rest() -> None:
    names = (*(f"seg{i}.m3u8" for i in range(1500)), "x" * 5000 + ".m3u8", "")
    tracked = TRACKED.replace(files=(), files_omitted=0, snapshots_omitted=0).with_files(
        tuple(FileRecord(n) for n in names)
    )
    status = build_status(spec(), tracked, 3, None, NOW)
    assert CloudRecordingStatus.load(status).files is not None
    assert len(status["files"]) == 1024
    assert status["files"][0]["fileName"] == "seg0.m3u8"
    assert status["filesOmitted"] == 1502 - 1024


def test_individual_files_carry_their_uid_and_track_into_the_status() -> None:
    status = build_status(spec(), TRACKED, 3, None, NOW)
    assert status["files"][0] == {
        "fileName": "s1_room__uid_s_7__uid_e_video.m3u8",
        "trackType": "Video",
        "uid": "7",
        "mixedAllUser": False,
        "isPlayable": True,
        "sliceStartTime": 1,
    }
    assert status["files"][2] == {"fileName": "s1_room.m3u8"}
    assert status["filesOmitted"] == 5
    assert "snapshots" not in str(status)  # the snapshot count stays in the annotation


def test_the_count_of_omitted_files_survives_an_operator_restart() -> None:
    """The operator writes the status, restarts (rebuilds from the status alone), then
    the service's next full list names the same 1502 files and then two more."""
    names = tuple(FileRecord(f"seg{i}.ts") for i in range(1502))
    base = TRACKED.replace(files=(), files_omitted=0, snapshots_omitted=0)
    written = build_status(spec(), base.with_files(names), 3, None, NOW)

    restarted, _ = load_tracked(written, {}, SEALING)
    assert build_status(spec(), restarted, 3, written, NOW)["filesOmitted"] == 478
    again = restarted.with_files(names)
    assert (len(again.files), again.files_omitted) == (1024, 478)
    more = again.with_files((*names, FileRecord("seg1502.ts"), FileRecord("seg1503.ts")))
    assert more.files_omitted == 480
