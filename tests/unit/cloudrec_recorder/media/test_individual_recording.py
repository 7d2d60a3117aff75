"""IndividualRecording (one audio and one video HLS per uid) and the stop/remove edge cases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.media_files import decode_audio, decode_video, stream_kinds
from tests.unit.cloudrec_recorder.media.synth import (
    COLORS,
    TONES,
    Publisher,
    close_to,
    publish,
    run_all,
    tone_levels,
)

from cloudrec_recorder.media.config import (
    IndividualConfig,
    MixConfig,
    OutputFile,
    StreamTypes,
    TrackType,
)
from cloudrec_recorder.media.naming import TMP_PREFIX
from cloudrec_recorder.media.pipeline import IndividualRecording, MixRecording, RecordingNames

SECONDS = 2.5


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[OutputFile]]:
    spool = tmp_path_factory.mktemp("individual")
    announced: list[str] = []
    config = IndividualConfig(
        fps=15, bitrate_kbps=200, segment_seconds=1.0, first_segment_seconds=None
    )
    recording = IndividualRecording(spool, RecordingNames("sid", "room"), config, announced.append)
    files: list[OutputFile] = []

    async def record() -> None:
        recording.start()
        publishers = [Publisher("11", size=(240, 136)), Publisher("12", video=False)]
        await publish(recording, publishers, SECONDS)
        files.extend(await recording.stop())

    run_all([record()])
    return spool, announced, files


def test_individual_mode_writes_one_playlist_per_uid_and_media(
    recorded: tuple[Path, list[str], list[OutputFile]],
) -> None:
    _, _, files = recorded
    assert sorted((f.name, f.track_type, f.uid, f.mixed_all_user) for f in files) == [
        ("sid_room__uid_s_11__uid_e_audio.m3u8", TrackType.AUDIO, "11", False),
        ("sid_room__uid_s_11__uid_e_video.m3u8", TrackType.VIDEO, "11", False),
        ("sid_room__uid_s_12__uid_e_audio.m3u8", TrackType.AUDIO, "12", False),
    ]


def test_an_individual_video_file_holds_only_that_uids_picture_at_its_size(
    recorded: tuple[Path, list[str], list[OutputFile]],
) -> None:
    spool, _, _ = recorded
    playlist = spool / "sid_room__uid_s_11__uid_e_video.m3u8"
    assert stream_kinds(playlist) == ["video"]
    video = decode_video(playlist)
    assert (video.width, video.height) == (240, 136)
    image = video.frames[len(video.frames) // 2][1]
    assert close_to(image[68, 120], COLORS["11"])
    assert close_to(image[5, 5], COLORS["11"])


def test_an_individual_audio_file_holds_only_that_uids_tone(
    recorded: tuple[Path, list[str], list[OutputFile]],
) -> None:
    spool, _, _ = recorded
    for uid, other in (("11", "12"), ("12", "11")):
        playlist = spool / f"sid_room__uid_s_{uid}__uid_e_audio.m3u8"
        assert stream_kinds(playlist) == ["audio"]
        samples, rate, _ = decode_audio(playlist)
        levels = tone_levels(samples[rate // 2 : rate * 2], TONES.values())
        assert levels[TONES[uid]] > 20 * levels[TONES[other]], levels


def test_individual_segments_are_named_per_uid_and_type_and_all_announced(
    recorded: tuple[Path, list[str], list[OutputFile]],
) -> None:
    spool, announced, _ = recorded
    names = {p.name for p in spool.iterdir()}
    assert names == set(announced)
    assert not [n for n in names if n.startswith(TMP_PREFIX)]
    segments = [n for n in names if n.endswith(".ts")]
    prefixes = {n.rsplit("_", 1)[0] for n in segments}
    assert prefixes == {
        "sid_room__uid_s_11__uid_e_audio",
        "sid_room__uid_s_11__uid_e_video",
        "sid_room__uid_s_12__uid_e_audio",
    }
    assert all(len(n.rsplit("_", 1)[1]) == len("yyyyMMddHHmmssSSS.ts") for n in segments)


@pytest.mark.parametrize(
    ("stream_types", "expected"),
    [
        (StreamTypes.AUDIO_ONLY, ["sid_room__uid_s_11__uid_e_audio.m3u8"]),
        (StreamTypes.VIDEO_ONLY, ["sid_room__uid_s_11__uid_e_video.m3u8"]),
    ],
)
def test_individual_stream_types_write_only_that_media(
    tmp_path: Path, stream_types: StreamTypes, expected: list[str]
) -> None:
    config = IndividualConfig(
        segment_seconds=1.0, first_segment_seconds=None, stream_types=stream_types
    )
    recording = IndividualRecording(tmp_path, RecordingNames("sid", "room"), config, lambda n: None)

    async def record() -> list[OutputFile]:
        recording.start()
        await publish(recording, [Publisher("11", size=(64, 36))], 1.2)
        return await recording.stop()

    files = asyncio.run(record())
    assert [f.name for f in files] == expected
    assert {p.name for p in tmp_path.glob("*.m3u8")} == set(expected)


def test_stop_before_start_returns_no_files(tmp_path: Path) -> None:
    recording = MixRecording(tmp_path, RecordingNames("s", "c"), MixConfig(), lambda name: None)
    assert asyncio.run(recording.stop()) == []


def test_a_uid_removed_before_the_worker_runs_is_simply_absent(tmp_path: Path) -> None:
    announced: list[str] = []
    config = MixConfig(width=64, height=36, stream_types=StreamTypes.VIDEO_ONLY)
    recording = MixRecording(tmp_path, RecordingNames("s", "c"), config, announced.append)
    recording.remove("11")

    async def record() -> list[OutputFile]:
        recording.start()
        await asyncio.sleep(0.3)
        return await recording.stop()

    files = asyncio.run(record())
    assert [f.name for f in files] == ["s_c.m3u8"]
    assert announced[-1] == "s_c.m3u8"
    assert recording.failed is None


def test_an_individual_recording_that_received_nothing_leaves_no_files(tmp_path: Path) -> None:
    announced: list[str] = []
    recording = IndividualRecording(
        tmp_path, RecordingNames("s", "c"), IndividualConfig(), announced.append
    )

    async def record() -> list[OutputFile]:
        recording.start()
        await asyncio.sleep(0.2)
        return await recording.stop()

    assert asyncio.run(record()) == []
    assert announced == []
    assert list(tmp_path.iterdir()) == []
