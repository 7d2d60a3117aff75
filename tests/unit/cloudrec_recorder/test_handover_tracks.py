"""An individual recording's hand-over: one cut per output, each on its own clock
(handover.py's decisions, media/track_cuts.py's table)."""

from __future__ import annotations

import math
import time

import pytest

from cloudrec_recorder.handover import (
    GiverMarks,
    TakerReport,
    TrackClock,
    choose_cuts,
    tracks_taken,
)
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.track_cuts import Mark, TrackCuts, match_shift

A, V = "s_c__uid_s_1__uid_e_audio.m3u8", "s_c__uid_s_1__uid_e_video.m3u8"


def _clock(playlist: str, origin_ms: int, *, video: bool = False) -> TrackClock:
    return TrackClock(playlist=playlist, uid="1", video=video, origin_epoch_ms=origin_ms)


@pytest.mark.parametrize(
    ("origins", "now_ms", "cuts"),
    [
        # each output's own clock: 6.3 s and 5.0 s in, 1.5 s margin, 2 s segments after 2 s
        ({A: 10_000, V: 11_300}, 16_300, {A: 8.0, V: 8.0}),
        ({A: 10_000, V: 10_700}, 16_600, {A: 10.0, V: 8.0}),
        # a track that started just now: its first segment boundary past the margin
        ({A: 16_000}, 16_000, {A: 2.0}),
        ({}, 16_000, {}),
    ],
)
def test_each_output_is_cut_at_its_own_first_boundary_a_margin_after_now(
    origins: dict[str, int], now_ms: int, cuts: dict[str, float]
) -> None:
    clocks = [_clock(name, origin) for name, origin in origins.items()]
    schedule = SegmentSchedule(2.0, first_seconds=2.0)
    assert choose_cuts(schedule, clocks, now_ms, 1.5) == cuts


@pytest.mark.parametrize(
    ("offered", "report", "taken"),
    [
        ([A, V], TakerReport(cuts={A: 8.0, V: 8.0}, first_segment=True), True),
        ([A, V], TakerReport(cuts={A: 8.0}, first_segment=True), False),  # V has no cut yet
        ([A, V], TakerReport(cuts={A: 8.0, V: 8.0}, first_segment=False), False),
        ([A], TakerReport(cuts={A: 8.0, V: 8.0}, first_segment=True), True),
        ([], TakerReport(cuts={}, first_segment=False), False),
        # an idle stored track (its uid left) has no cut to wait for
        ([A, f"idle:{V}"], TakerReport(cuts={A: 8.0}, first_segment=True), True),
    ],
)
def test_the_giver_ends_its_files_once_every_output_has_a_segment_from_its_cut(
    offered: list[str], report: TakerReport, taken: bool
) -> None:
    clocks = [
        TrackClock(
            playlist=name.removeprefix("idle:"),
            uid="1",
            video=False,
            origin_epoch_ms=0,
            copied=name.startswith("idle:"),
            idle=name.startswith("idle:"),
        )
        for name in offered
    ]
    assert tracks_taken(clocks, report) is taken


@pytest.mark.parametrize(
    ("giver", "own", "shift"),
    [
        # the same packets, this replica's times 1000 behind the giver's
        ([("a", 5960), ("b", 6920), ("c", 7880)], [("a", 4960), ("b", 5920), ("c", 6880)], 1000),
        # only two packets in common: not enough to be sure
        ([("a", 5960), ("b", 6920)], [("a", 4960), ("b", 5920), ("z", 6880)], None),
        # silence: the same bytes many times vote for several shifts; most agree on one
        (
            [("s", 0), ("s", 960), ("s", 1920), ("t", 2880)],
            [("s", 40), ("s", 1000), ("t", 1960), ("u", 2920)],
            920,
        ),
        ([("s", 0), ("s", 960)], [("s", 0), ("s", 960)], None),  # too few agree
        (
            [("s", 0), ("a", 960), ("b", 1920), ("c", 2880), ("s", 3840)],
            [("s", 100), ("a", 1060), ("b", 2020), ("c", 2980)],
            -100,
        ),
        ([], [("a", 1)], None),
    ],
)
def test_a_taker_finds_the_shift_to_the_givers_times_from_the_packets_both_received(
    giver: list[Mark], own: list[Mark], shift: int | None
) -> None:
    assert match_shift(giver, own) == shift


@pytest.mark.parametrize(
    ("keyframes", "end_at", "admitted"),
    [
        # the giver's stored video ends at the first keyframe at or after its cut (8.0)
        ([2.0, 8.4], 8.0, [7.9, 8.0, 8.2]),
        ([2.0, 8.0], 8.0, [7.9]),
        ([2.0], 8.0, [7.9, 8.0, 8.2, 8.4, 9.0]),  # no keyframe past the cut yet: it goes on
    ],
)
def test_a_stored_video_cut_takes_effect_at_the_first_keyframe_at_or_after_it(
    keyframes: list[float], end_at: float, admitted: list[float]
) -> None:
    giver, taker = Cut(on_keyframes=True), Cut(taking=True, on_keyframes=True)
    giver.end_at = taker.not_before = end_at
    for t in keyframes:
        giver.keyframe(t)
        taker.keyframe(t)
    times = [7.9, 8.0, 8.2, 8.4, 9.0]
    assert [t for t in times if giver.admits(t)] == admitted
    # the taker keeps exactly what the giver does not (once both saw the keyframe)
    if len(keyframes) > 1:
        assert [t for t in times if taker.admits(t)] == [t for t in times if t not in admitted]
    giver.end_at = math.inf  # the hand-over failed: the giver goes on
    assert giver.admits(9.0)


def test_a_track_clock_refuses_a_playlist_name_with_a_path() -> None:
    with pytest.raises(ValueError, match="playlist"):
        TrackClock(playlist="../x.m3u8", uid="1", video=False, origin_epoch_ms=0)


def test_a_giver_reports_its_outputs_makes_no_new_ones_and_cuts_each_at_the_takers_cut() -> None:
    cuts = TrackCuts()
    audio = cuts.open(A, "1", None)
    assert audio is not None and audio.cut.admits(100.0)
    [clock] = cuts.freeze()
    assert (clock.playlist, clock.video, clock.origin_epoch_ms) == (A, False, audio.start_epoch_ms)
    assert cuts.open(V, "1", (160, 120)) is None  # started after the offer: the taker's
    cuts.end_at({A: 8.0, V: 4.0})
    assert audio.cut.admits(7.9) and not audio.cut.admits(8.0)
    cuts.thaw()  # the hand-over failed: everything goes on here
    assert audio.cut.end_at == math.inf
    assert cuts.open(V, "1", (160, 120)) is not None


def test_a_taker_runs_the_givers_outputs_on_their_clocks_from_their_cuts_held_until_released() -> (
    None
):
    cuts = TrackCuts()
    origin = round(time.time() * 1000) - 6_000
    cuts.offer([_clock(V, origin, video=True).media()])
    cuts.take({V: 8.0})
    assert [c.playlist for c in cuts.offered()] == [V]
    stored = "s_c__uid_s_2__uid_e_video.m3u8"
    assert cuts.open_stored(stored, "2", video=True, timestamp=0, rate=90_000) is not None
    video = cuts.open(V, "1", (160, 120))
    other = cuts.open(A, "2", None)  # a uid the giver never had: the taker's own from its start
    assert video is not None and other is not None
    assert video.start_epoch_ms == origin
    assert video.start_monotonic == pytest.approx(time.monotonic() - 6.0, abs=0.05)
    assert not video.cut.admits(7.9) and video.cut.admits(8.0)
    assert other.cut.admits(0.0) and not other.cut.holding
    assert cuts.holding and cuts.cuts == {V: 8.0}
    cuts.release({V: "#EXTINF:2.000,\na.ts\n#EXT-X-DISCONTINUITY\n"})
    assert not cuts.holding
    assert video.cut.prefix(V).startswith("#EXTINF:2.000,\na.ts")


def test_an_idle_stored_track_ends_after_its_newest_packet_and_goes_on_if_its_uid_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    giver = TrackCuts()
    stored = giver.open_stored(A, "1", video=False, timestamp=0, rate=48_000)
    assert stored is not None
    giver.note(A, b"packet", 96_000)  # 2 s into the track
    monkeypatch.setattr(time, "monotonic", lambda: 10**6)  # long silent since
    [clock] = giver.freeze()
    assert clock.idle and clock.copied
    assert stored.cut.admits(2.0) and not stored.cut.admits(2.01)
    taker = TrackCuts()
    taker.offer([clock])
    back = taker.open_stored(A, "1", video=False, timestamp=480, rate=48_000)
    assert back is not None and back.start_epoch_ms == clock.origin_epoch_ms
    assert back.cut.admits(0.0)  # whatever it sends is the taker's (the giver ended it)
    # its times continue the giver's clock at the wall-clock time it came back (now)
    assert abs(480 + back.shift) < 48_000 * 0.05
    # a later hand-over by the taker: it makes no new output either
    taker.freeze()
    assert taker.open_stored(V, "1", video=True, timestamp=0, rate=90_000) is None


def test_a_beat_tells_each_outputs_clock_without_ending_any_and_marks_silent_stored_ones_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a take-over goes on with (takeover.py): the outputs made, a taker's offered ones
    not made yet; nothing frozen, nothing cut."""
    cuts = TrackCuts()
    video = cuts.open(V, "1", (160, 120))
    stored = cuts.open_stored(A, "1", video=False, timestamp=0, rate=48_000)
    assert video is not None and stored is not None
    cuts.note(A, b"packet", 960)
    assert {(c.playlist, c.copied, c.idle) for c in cuts.clocks()} == {
        (V, False, False),
        (A, True, False),
    }
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 5)  # A silent for 5 s
    assert {(c.playlist, c.idle) for c in cuts.clocks()} == {(V, False), (A, True)}
    assert cuts.open(V.replace("_1_", "_2_"), "2", None) is not None  # still makes outputs
    assert stored.cut.admits(100.0) and video.cut.admits(100.0)
    taker = TrackCuts()
    taker.offer([_clock("bak0_" + A, 5)])
    assert [c.playlist for c in taker.clocks()] == ["bak0_" + A]


def test_a_giver_sending_too_many_packet_marks_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="marks"):
        GiverMarks.model_validate({"marks": {A: [["ab", 1]] * 600}})
