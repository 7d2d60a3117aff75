"""A recording's files end at the instant it was stopped, however late they are finished.

The recorder notes the stop (the manifest's ``Stopped``), then leaves Janus, which takes a
request per forwarder, and only then waits for the files. Media written up to the moment
the files are finished would make the recording longer than its Started..Stopped time.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.media_files import decode_video
from tests.unit.cloudrec_recorder.media.synth import COLORS, Publisher, publish

from cloudrec_recorder.media.config import MixConfig
from cloudrec_recorder.media.pipeline import MixRecording, RecordingNames

FPS = 15


def _recorded_seconds(playlist: Path) -> float:
    return sum(
        float(line.split(":", 1)[1].split(",", 1)[0])
        for line in playlist.read_text().splitlines()
        if line.startswith("#EXTINF:")
    )


async def _record_and_end_early(spool: Path) -> tuple[MixRecording, float, float]:
    config = MixConfig(width=160, height=90, fps=FPS, bitrate_kbps=200, segment_seconds=1.0)
    recording = MixRecording(spool, RecordingNames("sid", "room"), config, lambda name: None)
    publisher = Publisher(next(iter(COLORS)), size=(160, 90))
    before = time.monotonic()
    recording.start()
    await publish(recording, [publisher], 1.5)
    stopped_at = time.monotonic()
    recording.end(stopped_at)
    await publish(recording, [publisher], 0.6)  # the channel is being left: frames still come
    await recording.stop()
    return recording, stopped_at - before, stopped_at - recording._start_monotonic


def test_the_files_hold_the_time_to_the_stop_and_nothing_that_came_after_it(
    tmp_path: Path,
) -> None:
    _, at_most, to_stop = asyncio.run(_record_and_end_early(tmp_path))
    playlist = tmp_path / "sid_room.m3u8"
    assert "#EXT-X-ENDLIST" in playlist.read_text()
    seconds = _recorded_seconds(playlist)
    assert to_stop - 1 / FPS <= seconds <= at_most + 1 / FPS + 1e-3
    assert len(decode_video(playlist).frames) <= round(at_most * FPS) + 1
