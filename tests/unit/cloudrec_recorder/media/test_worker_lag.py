"""A media worker says how far it is behind the wall clock, warns once when a segment behind,
and marks its own start in the phase log (so a slow start splits into before and inside it)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import av
import pytest
from tests.unit.cloudrec_recorder.media.synth import COLORS, Publisher, publish

from cloudrec_recorder.media.config import MixConfig
from cloudrec_recorder.media.pipeline import MixRecording, RecordingNames

pytestmark = pytest.mark.timeout(30)

STALL = 1.5
"""Seconds one picture takes to compose in the stalled worker (a CPU-starved machine)."""


class Report:
    """Keeps what the worker reports (the recorder's metrics in the process)."""

    def __init__(self) -> None:
        self.episodes = 0
        self.done: list[float] = []

    def fell_behind(self) -> None:
        self.episodes += 1

    def worker_done(self, worst_lag: float) -> None:
        self.done.append(worst_lag)


def _mix(spool: Path) -> MixRecording:
    config = MixConfig(width=160, height=90, fps=15, bitrate_kbps=200, segment_seconds=1.0)
    return MixRecording(spool, RecordingNames("sid", "room"), config, lambda name: None)


def _stall_once(recording: MixRecording, stalled: threading.Event) -> None:
    """The recording's third picture takes ``STALL`` seconds to compose."""
    compose = recording._video_frame
    count = 0

    def slow() -> av.VideoFrame:
        nonlocal count
        count += 1
        if count == 3:
            stalled.set()
            time.sleep(STALL)
        return compose()

    recording._video_frame = slow  # type: ignore[method-assign]


async def _record_with_a_stall(recording: MixRecording) -> float:
    """Record 3 s with a stall; the lag read during the stall."""
    stalled = threading.Event()
    _stall_once(recording, stalled)
    publisher = Publisher(next(iter(COLORS)), size=(160, 90))
    recording.start()
    feeding = asyncio.ensure_future(publish(recording, [publisher], 3.0))
    await asyncio.to_thread(stalled.wait, 10)
    await asyncio.sleep(STALL * 0.8)
    during = recording.lag()
    await feeding
    await recording.stop()
    return during


def test_a_stalled_worker_reports_its_lag_while_stalled_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recording = _mix(tmp_path)
    recording.lag_report = report = Report()
    assert recording.lag() == 0.0  # not started
    with caplog.at_level(logging.INFO, logger="cloudrec_recorder.media.pipeline"):
        during = asyncio.run(_record_with_a_stall(recording))
    assert during >= STALL * 0.7  # read from the caller's thread while the worker is stuck
    assert recording.worst_lag >= STALL - 0.2  # one frame's time was still to come
    assert recording.lag() == 0.0  # finished
    behind = [r for r in caplog.records if r.getMessage().startswith("Media worker behind")]
    caught_up = [r for r in caplog.records if r.getMessage().startswith("Media worker caught")]
    assert len(behind) == 1 and behind[0].levelno == logging.WARNING
    assert "sid=sid" in behind[0].getMessage()
    assert len(caught_up) == 1  # it caught up (repeating the last picture)
    assert report.episodes == 1
    assert report.done == [recording.worst_lag]


async def _record(recording: MixRecording, seconds: float) -> None:
    publisher = Publisher(next(iter(COLORS)), size=(160, 90))
    recording.start()
    await publish(recording, [publisher], seconds)
    await recording.stop()


def test_the_worker_marks_when_it_is_ready_and_when_its_first_frame_is_encoded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cloudrec_recorder.phases"):
        asyncio.run(_record(_mix(tmp_path), 0.5))
    phases = [
        r.getMessage().split()[2].removeprefix("phase=")
        for r in caplog.records
        if r.name == "cloudrec_recorder.phases"
    ]
    assert phases == ["worker-ready", "first-encoded"]
    assert all("sid=sid " in r.getMessage() for r in caplog.records)
