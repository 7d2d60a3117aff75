"""The fixed output clock: every frame due is written, and a starved worker catches up cheaply."""

from __future__ import annotations

import time
from pathlib import Path

import av
from tests.unit.cloudrec_recorder.media.synth import solid_frame

from cloudrec_recorder.media.config import TrackType
from cloudrec_recorder.media.encode import VideoParams
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.output import Output, OutputNames


def _output(spool: Path, started_ago: float) -> Output:
    return Output(
        spool,
        OutputNames("p.m3u8", lambda ms: f"s_{ms}.ts"),
        video=VideoParams(64, 36, 15, 100, 15),
        audio=None,
        schedule=SegmentSchedule(1.0),
        on_file_ready=lambda name: None,
        track_type=TrackType.VIDEO,
        uid="0",
        mixed_all_user=True,
        start_monotonic=time.monotonic() - started_ago,
    )


def test_a_worker_three_seconds_behind_writes_every_frame_but_composes_only_the_last_second(
    tmp_path: Path,
) -> None:
    output = _output(tmp_path, started_ago=3.0)
    composed: list[av.VideoFrame] = []

    def compose() -> av.VideoFrame:
        composed.append(solid_frame((200, 0, 0), 64, 36))
        return composed[-1]

    horizon = output.start_monotonic + 3.0
    next_due = output.advance(horizon, False, compose, None)
    output.finish()
    assert output.frames == 46  # 0 .. 3.0 s at 15 fps
    assert len(composed) == 1 + 16  # the first picture, then frames from 2.0 s (1 s behind) on
    assert next_due == output.start_monotonic + 46 / 15
    with av.open(str(tmp_path / "p.m3u8")) as container:
        assert len(list(container.decode(video=0))) == output.frames


def test_a_worker_on_time_composes_every_frame(tmp_path: Path) -> None:
    output = _output(tmp_path, started_ago=0.5)
    composed: list[av.VideoFrame] = []

    def compose() -> av.VideoFrame:
        composed.append(solid_frame((0, 200, 0), 64, 36))
        return composed[-1]

    output.advance(output.start_monotonic + 0.5, False, compose, None)
    output.finish()
    assert output.frames == 8  # 0 .. 0.467 s
    assert len(composed) == output.frames
