"""The manifest timeline a recording keeps: its course in order, kept in the spool for a
restart, and passed from giver to taker along a chain of hand-overs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_recorder.handover import GiverDone, Offer
from cloudrec_recorder.restart import (
    TIMELINE_FILE,
    read_timeline,
    restarted_timeline,
    write_timeline,
)
from cloudrec_recorder.taking import Taking
from cloudrec_recorder.timeline import RecordingTimeline

SEGMENT = 4000
K = TimelineKind


class Cut:
    def release(self, entries: dict[str, str]) -> None:
        pass


class Mixer:
    cut = Cut()

    def rewrite_playlists(self) -> None:
        pass


class Media:
    """The taker's media parts, as far as a release reads them (a mix)."""

    mixer = Mixer()
    tracks = None


class Events:
    def session_failover(self, *_: Any) -> None:
        pass


def kinds(entries: list[TimelineEntry]) -> list[tuple[TimelineKind, int]]:
    return [(entry.kind, entry.at_ms) for entry in entries]


def test_the_course_is_listed_by_time_between_start_and_stop_and_kept_in_the_spool(
    tmp_path: Path,
) -> None:
    course = RecordingTimeline(tmp_path, SEGMENT)
    course.keep()
    assert not (tmp_path / TIMELINE_FILE).exists()  # nothing before the first media
    course.start(1000, 1000)
    course.media(2000)
    course.media(12000)  # the publisher was away 10 s
    course.pause(13000)
    course.resume(20000)
    course.media(20500)
    assert read_timeline(tmp_path) == course.entries()  # every change is kept
    course.stop(30000)
    assert kinds(course.entries()) == [
        (K.STARTED, 1000),
        (K.GAP, 2000),
        (K.PAUSED, 13000),
        (K.RESUMED, 20000),
        (K.GAP, 20500),  # nobody from the last media to the stop
        (K.STOPPED, 30000),
    ]
    assert [e.until_ms for e in course.entries() if e.kind is K.GAP] == [12000, 30000]


def test_a_restarted_recorders_timeline_is_what_the_recording_kept_then_restarted(
    tmp_path: Path,
) -> None:
    kept = [TimelineEntry(kind=K.STARTED, at_ms=5), TimelineEntry(kind=K.PAUSED, at_ms=9)]
    write_timeline(tmp_path, kept)
    entries = restarted_timeline(tmp_path, "r1", now_ms=70)
    assert entries[:2] == kept
    assert (entries[2].kind, entries[2].at_ms, entries[2].detail) == (
        K.RESTARTED,
        70,
        "recovered by replica r1",
    )
    # Nothing kept (a recording that never had media), or something unreadable: the restart.
    (tmp_path / TIMELINE_FILE).write_text("{not json")
    assert kinds(restarted_timeline(tmp_path, "r1", now_ms=80)) == [(K.RESTARTED, 80)]
    assert read_timeline(tmp_path / "missing") == []


def offer(giver: str, origin_ms: int) -> Offer:
    return Offer(
        sid="0123456789abcdef0123456789abcdef",
        resource_id="res",
        cname="room",
        uid="527",
        mode="mix",
        client_request={},
        expired_hour=24,
        giver=giver,
        taker_uid="3000000000",
        origin_epoch_ms=origin_ms,
        first_frame_ms=origin_ms,
    )


def test_after_n_hand_overs_the_last_takers_timeline_has_all_n_in_order(tmp_path: Path) -> None:
    for n in range(4):
        (tmp_path / f"r{n}").mkdir()
    first = RecordingTimeline(tmp_path / "r0", SEGMENT)
    first.start(0, 0)
    first.media(1000)
    first.media(9000)  # a gap on the first replica
    course, passed = first, first.passed_on()
    for n, (giver, cut_s) in enumerate((("r0", 20.0), ("r1", 40.0), ("r2", 60.0))):
        taking = Taking(offer(giver, 0), here=f"r{n + 1}", margin=1.0, cut=cut_s)
        course = RecordingTimeline(tmp_path / f"r{n + 1}", SEGMENT)
        course.marks = taking.marks
        course.start(0, int(cut_s * 1000) - 1500)
        taking.release(Media(), GiverDone(timeline=passed), Events())  # type: ignore[arg-type]
        passed = course.passed_on()
    for at in (62000, 66000, 69000):
        course.media(at)
    course.stop(70000)
    assert [(e.kind, e.at_ms, e.detail) for e in course.entries()] == [
        (K.STARTED, 0, None),
        (K.GAP, 1000, None),
        (K.HANDED_OVER, 20000, "from replica r0"),
        (K.HANDED_OVER, 40000, "from replica r1"),
        (K.HANDED_OVER, 60000, "from replica r2"),
        (K.STOPPED, 70000, None),
    ]


def test_what_a_giver_passes_on_survives_the_wire(tmp_path: Path) -> None:
    course = RecordingTimeline(tmp_path, SEGMENT)
    course.start(0, 0)
    course.media(5000)
    course.stop(6000)
    done = GiverDone(timeline=course.passed_on())
    again = GiverDone.model_validate(done.to_wire())
    assert kinds(again.timeline) == [(K.GAP, 0)]  # not its start nor its stop
