"""SnapshotRecording: one JPG per sending uid per interval, named per protocol.md §8."""

from __future__ import annotations

import io
import time
from pathlib import Path

import av
import numpy as np
import pytest
from tests.unit.cloudrec_recorder.media.synth import (
    COLORS,
    Publisher,
    close_to,
    publish,
    run_all,
    solid_frame,
)

from cloudrec_recorder.media.naming import TMP_PREFIX
from cloudrec_recorder.media.pipeline import RecordingNames
from cloudrec_recorder.media.snapshot import SnapshotConfig, SnapshotRecording, encode_jpeg
from cloudrec_recorder.storage.files import slice_time_ms

SECONDS = 3.2


def _decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name == "jpeg_pipe"
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], float, float]:
    spool = tmp_path_factory.mktemp("snapshots")
    announced: list[str] = []
    config = SnapshotConfig(interval_seconds=1.0, stale_seconds=0.5)
    recording = SnapshotRecording(spool, RecordingNames("sid", "room"), config, announced.append)
    began = time.time()

    async def record() -> None:
        recording.start()
        publishers = [
            Publisher("11", size=(240, 136)),
            Publisher("12", size=(160, 120), end=0.8),  # stops sending after 0.8 s
            Publisher("13", video=False),
        ]
        await publish(recording, publishers, SECONDS)
        assert await recording.stop() == []

    run_all([record()])
    return spool, announced, began, time.time()


def _of(uid: str, names: list[str]) -> list[str]:
    return sorted(n for n in names if f"__uid_s_{uid}__" in n)


def test_each_sending_uid_gets_one_jpg_per_interval(
    captured: tuple[Path, list[str], float, float],
) -> None:
    _, announced, _, _ = captured
    assert len(_of("11", announced)) == 3  # ticks at 0.5, 1.5 and 2.5 s
    assert _of("13", announced) == []  # audio only: nothing to capture


def test_a_uid_that_stopped_sending_gets_no_more_jpgs(
    captured: tuple[Path, list[str], float, float],
) -> None:
    _, announced, _, _ = captured
    assert len(_of("12", announced)) == 1


def test_snapshot_files_carry_the_protocol_name_and_capture_time(
    captured: tuple[Path, list[str], float, float],
) -> None:
    spool, announced, began, ended = captured
    for name in announced:
        assert name.startswith("sid_room__uid_s_1") and "__uid_e_video_" in name
        assert name.endswith(".jpg")
        stamp = slice_time_ms(name)
        assert stamp is not None and began * 1000 - 1 <= stamp <= ended * 1000 + 1
    stamps = [slice_time_ms(n) or 0 for n in _of("11", announced)]
    gaps = np.diff(stamps) / 1000
    assert np.all((gaps > 0.8) & (gaps < 1.2)), gaps
    assert sorted(p.name for p in spool.iterdir()) == sorted(announced)
    assert not any(p.name.startswith(TMP_PREFIX) for p in spool.iterdir())


def test_a_snapshot_shows_the_uids_picture_at_its_size(
    captured: tuple[Path, list[str], float, float],
) -> None:
    spool, announced, _, _ = captured
    image = _decode((spool / _of("11", announced)[-1]).read_bytes())
    assert image.shape == (136, 240, 3)
    assert close_to(image[68, 120], COLORS["11"], tolerance=12)
    image = _decode((spool / _of("12", announced)[0]).read_bytes())
    assert image.shape == (120, 160, 3)
    assert close_to(image[60, 80], COLORS["12"], tolerance=12)


@pytest.mark.parametrize("colour", [(230, 30, 30), (16, 16, 16), (250, 250, 250)])
def test_a_jpg_keeps_the_frames_colours_in_full_range(colour: tuple[int, int, int]) -> None:
    image = _decode(encode_jpeg(solid_frame(colour, 64, 48)))
    assert close_to(image[24, 32], colour, tolerance=8)


@pytest.mark.parametrize("interval", [0, 0.5, 3601])
def test_a_capture_interval_outside_1_to_3600_seconds_is_refused(interval: float) -> None:
    with pytest.raises(ValueError, match="captureInterval"):
        SnapshotConfig(interval_seconds=interval)


def test_a_paused_snapshot_task_takes_no_snapshot_and_none_of_what_was_sent_meanwhile(
    tmp_path: Path,
) -> None:
    announced: list[str] = []
    config = SnapshotConfig(interval_seconds=1.0, stale_seconds=2.0)
    recording = SnapshotRecording(tmp_path, RecordingNames("sid", "room"), config, announced.append)
    during: list[float] = []

    async def record() -> None:
        recording.start()
        recording.pause()
        paused_from = time.time()
        # 13 sends only while paused; its picture is still fresh (stale_seconds) at the resume
        await publish(recording, [Publisher("13", end=2.0)], 2.3)
        during.extend((paused_from, time.time()))
        recording.resume()
        await publish(recording, [Publisher("11")], 2.0)
        await recording.stop()

    run_all([record()])
    assert not _of("13", announced)
    assert _of("11", announced)
    paused_from, resumed = during
    taken = [(slice_time_ms(name) or 0) / 1000 for name in announced]
    assert not [t for t in taken if paused_from <= t < resumed], (during, taken)
