"""The chaos run's invariants, on hand-made observations (table tests)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_devenv.chaos.invariants import (
    Notice,
    RecordingLife,
    overlapping_recordings,
    playlist_problems,
    recording_lives,
    sid_mismatches,
    stuck_resources,
    unfinished_completions,
    unwanted_recordings,
)
from cloudrec_protocol.events import EventType

STARTED = int(EventType.RECORDER_STARTED)
LEFT = int(EventType.RECORDER_LEAVE)
EXITED = int(EventType.SESSION_EXIT)


def notice(at: int, event: int, sid: str, uid: str = "800001", cname: str = "room") -> Notice:
    return Notice(at, event, cname, uid, sid)


def resource(
    name: str,
    phase: str | None,
    *,
    sid: str | None = None,
    uid: str = "800001",
    deleting: bool = False,
    conditions: list[dict[str, str]] | None = None,
    state: str = "Recording",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T12:00:00Z"
    return {
        "metadata": meta,
        "spec": {"channelName": "room", "uid": uid, "state": state},
        "status": {"phase": phase, "recordingId": sid, "conditions": conditions or []},
    }


def test_a_notification_body_becomes_a_notice_and_one_without_sid_none() -> None:
    body = {
        "eventType": STARTED,
        "notifyMs": 5,
        "payload": {"cname": "room", "uid": "800001", "sid": "s1", "sendts": 3},
    }
    assert Notice.from_body(body) == Notice(3, STARTED, "room", "800001", "s1")
    assert Notice.from_body({"eventType": 1, "payload": {}}) is None


def test_a_recording_ends_at_its_leave_or_exit_or_at_the_next_recorder_kill() -> None:
    lives = recording_lives(
        [
            notice(10, STARTED, "a"),
            notice(20, LEFT, "a"),
            notice(25, EXITED, "a"),
            notice(30, STARTED, "b"),
            notice(50, STARTED, "c", uid="800002"),
        ],
        recorder_kills_ms=[5, 40],
    )
    assert [(life.sid, life.began_ms, life.ended_ms) for life in lives] == [
        ("a", 10, 20),
        ("b", 30, 40),
        ("c", 50, None),
    ]


@pytest.mark.parametrize(
    ("lives", "overlaps"),
    [
        ([RecordingLife("r", "1", "a", 0, 10), RecordingLife("r", "1", "b", 10, None)], 0),
        ([RecordingLife("r", "1", "a", 0, 10), RecordingLife("r", "1", "b", 5, None)], 1),
        ([RecordingLife("r", "1", "a", 0, None), RecordingLife("r", "1", "b", 5, 8)], 1),
        ([RecordingLife("r", "1", "a", 0, None), RecordingLife("r", "2", "b", 5, None)], 0),
        ([RecordingLife("r", "1", "a", 0, None), RecordingLife("q", "1", "b", 5, None)], 0),
    ],
    ids=["one-after-the-other", "overlap", "inside-a-running-one", "other-uid", "other-room"],
)
def test_two_recordings_of_one_channel_and_uid_at_once_are_a_duplicate(
    lives: list[RecordingLife], overlaps: int
) -> None:
    assert len(overlapping_recordings(lives)) == overlaps


def test_a_recording_no_resource_wants_is_named() -> None:
    found = unwanted_recordings(
        {"room": {"800001", "800002"}, "other": set()}, wanted={("room", "800001")}
    )
    assert found == ["uid 800002 is in room room but no resource wants that recording"]


def test_a_recording_resource_must_name_the_sid_the_recorder_records() -> None:
    resources = [
        resource("good", "Recording", sid="s1"),
        resource("stale", "Recording", sid="old", uid="800002"),
        resource("ghost", "Recording", sid="s3", uid="800003"),
        resource("done", "Completed", sid="gone", uid="800004"),
    ]
    running = {("room", "800001"): "s1", ("room", "800002"): "s2"}
    found = sid_mismatches(resources, running)
    assert len(found) == 2
    assert "ns/stale" in found[0] and "records s2" in found[0]
    assert "ns/ghost" in found[1] and "records nothing" in found[1]


STOPPED_READY = {"type": "Ready", "status": "True", "reason": "Stopped", "message": "idle"}
WAITING = {"type": "Ready", "status": "False", "reason": "Pending", "message": "Waiting"}


@pytest.mark.parametrize(
    ("obj", "stuck"),
    [
        (resource("a", "Completed"), False),
        (resource("a", "Failed"), False),
        (resource("a", "Released"), False),
        (resource("a", "Connecting"), True),
        (resource("a", None), True),
        (
            resource(
                "a",
                "Pending",
                conditions=[
                    {"type": "Degraded", "status": "True", "message": "backend unreachable"}
                ],
            ),
            False,
        ),
        (
            resource("a", "Pending", conditions=[{"type": "Degraded", "status": "False"}]),
            True,
        ),
        (resource("a", "Completed", deleting=True), True),
        (resource("a", "Pending", state="Stopped", conditions=[STOPPED_READY]), False),
        (resource("a", "Pending", state="Stopped", conditions=[WAITING]), True),
        (resource("a", "Pending", conditions=[STOPPED_READY]), True),
        (resource("a", "Connecting", state="Stopped", conditions=[STOPPED_READY]), True),
    ],
    ids=[
        "completed",
        "failed",
        "released",
        "connecting",
        "no-phase",
        "retrying-visibly",
        "not-degraded",
        "deleted-but-there",
        "stopped-before-any-start-at-rest",
        "stopped-but-says-it-waits-to-start",
        "at-rest-but-the-spec-wants-a-recording",
        "stopped-but-a-start-may-run",
    ],
)
def test_a_resource_neither_final_nor_visibly_retrying_is_stuck(
    obj: dict[str, Any], stuck: bool
) -> None:
    assert bool(stuck_resources([obj])) is stuck


ENDED = "#EXTM3U\n#EXTINF:2.0,\ns_room_1.ts\n#EXTINF:2.0,\ns_room_2.ts\n#EXT-X-ENDLIST\n"


@pytest.mark.parametrize(
    ("text", "keys", "problems"),
    [
        (ENDED, {"p/s_room_1.ts", "p/s_room_2.ts"}, []),
        (ENDED.replace("#EXT-X-ENDLIST\n", ""), {"p/s_room_1.ts", "p/s_room_2.ts"}, ["ENDLIST"]),
        (ENDED, {"p/s_room_1.ts"}, ["1 listed segment(s) not in the bucket"]),
        (None, set(), ["not in the bucket"]),
    ],
    ids=["complete", "never-ended", "segment-missing", "playlist-missing"],
)
def test_a_completed_playlist_must_end_and_every_segment_it_lists_be_there(
    text: str | None, keys: set[str], problems: list[str]
) -> None:
    found = playlist_problems({"p/s_room.m3u8": text}, keys)
    assert len(found) == len(problems)
    for line, expected in zip(found, problems, strict=True):
        assert expected in line


def test_completed_is_true_only_for_a_recording_the_recorder_said_had_exited() -> None:
    resources = [
        resource("finished", "Completed", sid="s1"),
        resource("died", "Completed", sid="s2", uid="800002"),
        resource("running", "Recording", sid="s3", uid="800003"),
    ]
    notices = [notice(1, STARTED, "s1"), notice(9, EXITED, "s1"), notice(2, STARTED, "s2")]
    found = unfinished_completions(resources, notices)
    assert len(found) == 1 and "ns/died" in found[0] and "s2" in found[0]
