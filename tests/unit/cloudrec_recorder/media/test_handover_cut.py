"""A hand-over's cut (media/cut.py): the giver's files end at it, the taker's begin at it, and
on one clock the two playlists join with no frame missing or twice."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import av
import pytest
from tests.media_files import open_media
from tests.unit.cloudrec_recorder.media.synth import solid_frame

from cloudrec_recorder.handover import playlist_entries
from cloudrec_recorder.media.config import TrackType
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.encode import VideoParams
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.output import Output, OutputNames

FPS = 15


def _output(spool: Path, start: float, origin_ms: int, cut: Cut) -> Output:
    spool.mkdir()
    return Output(
        spool,
        OutputNames("p.m3u8", lambda ms: f"s_{ms}.ts"),
        video=VideoParams(64, 36, FPS, 100, FPS),
        audio=None,
        schedule=SegmentSchedule(1.0),
        on_file_ready=lambda name: None,
        track_type=TrackType.VIDEO,
        uid="0",
        mixed_all_user=True,
        start_monotonic=start,
        start_epoch_ms=origin_ms,
        cut=cut,
    )


def _frame_times(spool: Path, names: list[str]) -> list[float]:
    times = []
    for name in names:
        with open_media(spool / name) as container:
            times += [float(f.time) for f in container.decode(video=0) if f.time is not None]
    return times


def test_giver_and_taker_files_meet_at_the_cut_with_no_frame_missing_or_twice(
    tmp_path: Path,
) -> None:
    start, origin = time.monotonic() - 2.0, 1_000_000
    giver_cut = Cut()
    giver = _output(tmp_path / "giver", start, origin, giver_cut)
    giver.advance(start + 2.5, False, lambda: solid_frame((200, 0, 0), 64, 36), None)
    giver_cut.end_at = 3.0  # the taker named the cut; the giver goes on past it
    giver.advance(start + 4.0, False, lambda: solid_frame((200, 0, 0), 64, 36), None)
    giver.finish()

    taker_cut = Cut(taking=True)
    taker = _output(tmp_path / "taker", start, origin, taker_cut)
    elapsed = time.monotonic() - start
    assert taker.frames == pytest.approx(elapsed * FPS, abs=1.5)  # the frame due now
    taker_cut.not_before = 3.0
    taker.advance(start + 4.99, False, lambda: solid_frame((0, 0, 200), 64, 36), None)
    assert not (tmp_path / "taker" / "p.m3u8").exists()  # held for the giver's entries
    taker_cut.release({"p.m3u8": playlist_entries((tmp_path / "giver/p.m3u8").read_text())})
    taker.finish()

    given, taken = giver.hls.segments, taker.hls.segments
    assert given == [f"s_{origin + 1000 * i}.ts" for i in range(3)]  # 0-1, 1-2, 2-3
    assert taken == [f"s_{origin + 1000 * i}.ts" for i in (3, 4)]  # 3-4, 4-5
    text = (tmp_path / "taker" / "p.m3u8").read_text()
    assert text.count("#EXT-X-DISCONTINUITY") == 1
    lines = [line for line in text.splitlines() if not line.startswith("#EXTINF")]
    assert lines[5:] == [*given, "#EXT-X-DISCONTINUITY", *taken, "#EXT-X-ENDLIST"]
    times = _frame_times(tmp_path / "giver", given) + _frame_times(tmp_path / "taker", taken)
    assert times[0] == 0.0 and times[-1] == pytest.approx(5.0 - 1 / FPS, abs=1e-3)
    assert all(b - a == pytest.approx(1 / FPS, abs=1e-3) for a, b in itertools.pairwise(times))


def test_a_giver_that_learns_the_cut_late_drops_the_segment_begun_past_it(tmp_path: Path) -> None:
    start = time.monotonic() - 4.0
    cut = Cut()
    giver = _output(tmp_path / "giver", start, 0, cut)
    giver.advance(start + 3.5, False, lambda: solid_frame((200, 0, 0), 64, 36), None)
    cut.end_at = 3.0
    giver.advance(start + 4.0, False, lambda: solid_frame((200, 0, 0), 64, 36), None)
    giver.finish()
    assert giver.hls.segments == ["s_0.ts", "s_1000.ts", "s_2000.ts"]
    assert sorted(p.name for p in (tmp_path / "giver").iterdir()) == [
        "p.m3u8",
        "s_0.ts",
        "s_1000.ts",
        "s_2000.ts",
    ]


def _red() -> av.VideoFrame:
    return solid_frame((200, 0, 0), 64, 36)


def test_a_giver_whose_hand_over_fails_keeps_what_it_held_back_past_the_cut(
    tmp_path: Path,
) -> None:
    """While the hand-over is undecided the giver writes on past the cut but lists nothing
    from it; the taker fails (``end_at`` back to infinity): the held segments are its own, in
    order, and no frame is missing."""
    start = time.monotonic() - 6.0
    cut = Cut()
    cut.keep_past_end = True
    giver = _output(tmp_path / "giver", start, 0, cut)
    giver.advance(start + 2.5, False, _red, None)
    cut.end_at = 3.0
    giver.advance(start + 5.5, False, _red, None)
    assert giver.hls.segments == ["s_0.ts", "s_1000.ts", "s_2000.ts"]  # 3-4, 4-5 held back
    assert "s_3000.ts" not in (tmp_path / "giver" / "p.m3u8").read_text()
    cut.end_at = math.inf  # the hand-over failed
    giver.advance(start + 5.9, False, _red, None)
    giver.finish()
    names = giver.hls.segments
    assert names == [f"s_{1000 * i}.ts" for i in range(6)]
    times = _frame_times(tmp_path / "giver", names)
    assert all(b - a == pytest.approx(1 / FPS, abs=1e-3) for a, b in itertools.pairwise(times))


def test_a_giver_whose_hand_over_completes_throws_away_what_it_held_back(tmp_path: Path) -> None:
    start = time.monotonic() - 6.0
    cut = Cut()
    cut.keep_past_end = True
    giver = _output(tmp_path / "giver", start, 0, cut)
    giver.advance(start + 2.5, False, _red, None)
    cut.end_at = 3.0
    giver.advance(start + 5.5, False, _red, None)
    giver.finish()  # the taker has it from the cut on
    assert giver.hls.segments == ["s_0.ts", "s_1000.ts", "s_2000.ts"]
    assert sorted(p.name for p in (tmp_path / "giver").iterdir()) == [
        "p.m3u8",
        "s_0.ts",
        "s_1000.ts",
        "s_2000.ts",
    ]
