"""A pause in the real pipelines: nothing of the paused interval reaches any file.

Each recording runs 3.4 s with a pause from 1.1 s to 2.2 s. Publisher 11 (red, its tone) sends
before the pause, 13 (blue, its tone) only during it, 12 (green, its tone) after it. What is
pushed during the pause is still handed to the pipeline here (the follower drops it in a real
recording; here the pipeline must drop it), so a blue pixel or 13's tone anywhere in a file
means the pause leaked; 11's last picture, held from before the pause, must be forgotten at
the resume (red in the MP4 part after the pause means it was not). The recordings run
together in one module fixture (about four seconds of wall time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from tests.media_files import decode_audio, decode_video
from tests.unit.cloudrec_recorder.media.synth import (
    COLORS,
    TONES,
    Publisher,
    publish,
    run_all,
    tone_levels,
)

from cloudrec_recorder.media.config import IndividualConfig, MixConfig, OutputFile, StreamTypes
from cloudrec_recorder.media.hls import DISCONTINUITY
from cloudrec_recorder.media.pipeline import (
    IndividualRecording,
    MixRecording,
    RecordingNames,
    RecordingWorker,
)

SECONDS = 3.4
PAUSE, RESUME = 1.1, 2.2
PAUSED = RESUME - PAUSE
BEFORE, DURING, AFTER = "11", "13", "12"


def publishers(video: bool = True) -> list[Publisher]:
    return [
        Publisher(BEFORE, video=video, end=PAUSE - 0.05),
        Publisher(DURING, video=video, start=PAUSE + 0.2, end=RESUME - 0.3),
        Publisher(AFTER, video=video, start=RESUME + 0.1),
    ]


def _ignore(name: str) -> None:
    """Files announced (the uploader's concern, not these tests')."""


@dataclass
class Run:
    spool: Path
    recording: RecordingWorker
    publishers: list[Publisher]
    files: list[OutputFile] = field(default_factory=list)
    seconds: float = 0.0


async def _record(run: Run) -> None:
    run.recording.start()
    started = time.monotonic()
    actions: list[tuple[float, Callable[[], None]]] = [
        (PAUSE, run.recording.pause),
        (RESUME, run.recording.resume),
    ]
    await publish(run.recording, run.publishers, SECONDS, actions)
    run.files = await run.recording.stop()
    run.seconds = time.monotonic() - started


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("pause")
    names = RecordingNames("sid", "room")
    base = {"fps": 15, "segment_seconds": 1.0, "first_segment_seconds": None}
    mix = MixConfig(width=320, height=180, bitrate_kbps=300, mp4=True, **base)  # type: ignore[arg-type]
    audio = MixConfig(stream_types=StreamTypes.AUDIO_ONLY, mp4=True, **base)  # type: ignore[arg-type]
    individual = IndividualConfig(bitrate_kbps=200, **base)  # type: ignore[arg-type]
    runs = {
        "mix": Run(tmp / "mix", MixRecording(tmp / "mix", names, mix, _ignore), publishers()),
        "audio": Run(
            tmp / "audio", MixRecording(tmp / "audio", names, audio, _ignore), publishers(False)
        ),
        "individual": Run(
            tmp / "individual",
            IndividualRecording(tmp / "individual", names, individual, _ignore),
            publishers(),
        ),
    }
    run_all([_record(run) for run in runs.values()])
    return runs


def _colours(frames: list[tuple[float, np.ndarray]]) -> set[str]:
    """Which publishers' colours the frames show anywhere (a grid of points 8 px apart,
    away from the regions' edges)."""
    points = np.concatenate([rgb[4:-4:8, 4:-4:8].reshape(-1, 3) for _, rgb in frames]).astype(int)
    return {
        uid
        for uid, colour in COLORS.items()
        if bool(np.any(np.all(np.abs(points - np.array(colour)) <= 20, axis=1)))
    }


def test_the_mix_shows_no_picture_sent_during_the_pause(runs: dict[str, Run]) -> None:
    frames = decode_video(runs["mix"].spool / "sid_room.m3u8").frames
    assert _colours(frames) == {BEFORE, AFTER}


def test_the_playlist_goes_on_after_a_discontinuity_and_holds_only_the_unpaused_time(
    runs: dict[str, Run],
) -> None:
    run = runs["mix"]
    text = (run.spool / "sid_room.m3u8").read_text()
    assert text.count(DISCONTINUITY) == 1
    assert text.endswith("#EXT-X-ENDLIST\n")
    before, after = text.split(DISCONTINUITY)
    assert "#EXTINF" in before and "#EXTINF" in after
    frames = decode_video(run.spool / "sid_room.m3u8").frames
    recorded = frames[-1][0] - frames[0][0]
    assert recorded == pytest.approx(run.seconds - PAUSED, abs=0.5)


def test_the_segments_are_named_by_their_real_start_after_the_pause(runs: dict[str, Run]) -> None:
    text = (runs["mix"].spool / "sid_room.m3u8").read_text()
    before, after = text.split(DISCONTINUITY)

    def start(name: str) -> datetime:  # <sid>_<cname>_<yyyyMMddHHmmssSSS>.ts (protocol.md §8)
        return datetime.strptime(name.rsplit("_", 1)[1].removesuffix(".ts"), "%Y%m%d%H%M%S%f")

    last_before = [line for line in before.splitlines() if line.endswith(".ts")][-1]
    first_after = next(line for line in after.splitlines() if line.endswith(".ts"))
    gap = (start(first_after) - start(last_before)).total_seconds()
    assert gap >= PAUSED


def test_the_mp4_goes_on_in_the_next_numbered_part_after_the_pause(runs: dict[str, Run]) -> None:
    run = runs["mix"]
    parts = [f for f in run.files if f.name.endswith(".mp4")]
    assert [f.name for f in parts] == ["sid_room_0.mp4", "sid_room_1.mp4"]
    first, second = (decode_video(run.spool / f.name).frames for f in parts)
    assert _colours(first) == {BEFORE}
    assert _colours(second) == {AFTER}
    assert second[0][0] == pytest.approx(0.0, abs=0.1)  # each part plays from zero
    starts = [f.slice_start_time_ms for f in parts]
    assert starts[1] - starts[0] >= (PAUSE + PAUSED - 0.3) * 1000


def test_audio_sent_during_the_pause_is_in_no_file(runs: dict[str, Run]) -> None:
    run = runs["audio"]
    for name in ("sid_room.m3u8", "sid_room_0.mp4", "sid_room_1.mp4"):
        samples, rate, _ = decode_audio(run.spool / name)
        levels = tone_levels(samples, TONES.values(), rate)
        assert levels[TONES[DURING]] * 20 < max(levels[TONES[BEFORE]], levels[TONES[AFTER]]), (
            name,
            levels,
        )
    assert (run.spool / "sid_room.m3u8").read_text().count(DISCONTINUITY) == 1


def test_an_individual_recording_has_no_file_of_a_uid_seen_only_during_the_pause(
    runs: dict[str, Run],
) -> None:
    run = runs["individual"]
    assert {f.uid for f in run.files} == {BEFORE, AFTER}
    for uid in (BEFORE, AFTER):
        frames = decode_video(run.spool / f"sid_room__uid_s_{uid}__uid_e_video.m3u8").frames
        assert DURING not in _colours(frames)


def test_a_pause_and_a_resume_asked_twice_change_nothing(tmp_path: Path) -> None:
    config = MixConfig(stream_types=StreamTypes.AUDIO_ONLY, fps=15)
    recording = MixRecording(tmp_path, RecordingNames("sid", "room"), config, _ignore)
    recording.resume()  # not paused: nothing to resume
    assert not recording.paused
    recording.pause()
    recording.pause()
    assert recording.paused
    recording.resume()
    assert not recording.paused
