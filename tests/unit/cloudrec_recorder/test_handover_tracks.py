"""An individual recording's hand-over: one cut per output, each on its own clock
(handover.py's decisions, media/track_cuts.py's table)."""

from __future__ import annotations

import math
import time

import pytest

from cloudrec_recorder.handover import (
    TakerReport,
    TrackClock,
    choose_cuts,
    individual_refusal,
    tracks_taken,
)
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.track_cuts import TrackCuts

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
    ],
)
def test_the_giver_ends_its_files_once_every_output_has_a_segment_from_its_cut(
    offered: list[str], report: TakerReport, taken: bool
) -> None:
    assert tracks_taken(offered, report) is taken


@pytest.mark.parametrize(
    ("copies_audio", "copies_video", "reason"),
    [
        (False, False, None),
        (True, False, "its audio is stored as received (streamMode original)"),
        (False, True, "its video is stored as received"),
        (True, True, "its audio is stored as received (streamMode original)"),
    ],
)
def test_an_individual_recording_with_a_track_stored_as_received_says_why_it_stays(
    copies_audio: bool, copies_video: bool, reason: str | None
) -> None:
    assert individual_refusal(copies_audio=copies_audio, copies_video=copies_video) == reason


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
