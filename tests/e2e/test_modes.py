"""Every recording mode through a CloudRecording, checked in the bucket by decoding.

Six CloudRecordings record one room with two publishers at the same time (one stack, one run),
and between them they cover every value of every dimension: Mix and Individual; AudioOnly,
VideoOnly and AudioVideo in both modes; HLS alone and HLS with MP4 (MP4 exists in Mix only).
Each is stopped with ``state: Stopped``, must end Completed, and what it lists in
``status.files`` is downloaded and decoded: the publishers' colours in the video, their tones in
the audio, and nothing of a kind the resource did not ask for.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready
from tests.integration.recorder.checks import colour_at, download, tone_strength
from tests.media_files import decode_audio, decode_video, stream_kinds

from cloudrec_devenv.publisher import color_for, tone_for

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.media, pytest.mark.timeout(360)]

PUBLISHERS = ["1001", "1002"]
RECORD_SECONDS = 8


@dataclass(frozen=True)
class Case:
    mode: str
    streams: str
    formats: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.mode}-{self.streams}-{'-'.join(self.formats)}".lower()

    @property
    def audio(self) -> bool:
        return self.streams != "VideoOnly"

    @property
    def video(self) -> bool:
        return self.streams != "AudioOnly"


CASES = (
    Case("Mix", "AudioVideo", ("HLS", "MP4")),
    Case("Mix", "AudioOnly", ("HLS",)),
    Case("Mix", "VideoOnly", ("HLS", "MP4")),
    Case("Individual", "AudioVideo", ("HLS",)),
    Case("Individual", "AudioOnly", ("HLS",)),
    Case("Individual", "VideoOnly", ("HLS",)),
)


def share(frame: npt.NDArray[np.uint8], rgb: tuple[int, int, int]) -> float:
    """Fraction of the frame's pixels within 40 of ``rgb`` in every channel."""
    close = np.all(np.abs(frame.astype(np.int16) - np.array(rgb)) < 40, axis=-1)
    return float(close.mean())


def kinds(case: Case) -> list[str]:
    return sorted(kind for kind, wanted in (("audio", case.audio), ("video", case.video)) if wanted)


def check_mix(case: Case, files: list[dict[str, Any]], env: RecordingEnv, into: Path) -> None:
    names = [f["fileName"] for f in files]
    [playlist_key] = [n for n in names if n.endswith(".m3u8")]
    mp4_keys = [n for n in names if n.endswith(".mp4")]
    assert bool(mp4_keys) == ("MP4" in case.formats), names
    [playlist] = download(env.recorder, [playlist_key], into)
    media = [playlist]
    for key in mp4_keys:
        path = into / key.rsplit("/", 1)[-1]
        path.write_bytes(env.recorder.s3.get_object(env.recorder.bucket, key))
        media.append(path)
    for path in media:
        assert stream_kinds(path) == kinds(case), path.name
        if case.video:
            frame = decode_video(path).frames[-15][1]  # a second before the end
            for index in range(len(PUBLISHERS)):
                assert share(frame, color_for(index)) > 0.05, f"{path.name}: no publisher {index}"
        if case.audio:
            samples, rate, _ = decode_audio(path)
            assert np.abs(samples).max() > 0.05, f"{path.name}: silent"
            for index in range(len(PUBLISHERS)):
                strength = tone_strength(samples, rate, tone_for(index))
                assert strength > 0.3, f"{path.name}: tone {index} at {strength:.2f}"


def check_individual(
    case: Case, files: list[dict[str, Any]], env: RecordingEnv, into: Path
) -> None:
    # The uid and track as the protocol's file name spells them (status.files carries no uid
    # for them yet): <sid>_<cname>__uid_s_<uid>__uid_e_<audio|video>.m3u8
    playlists = {}
    for f in files:
        match = re.search(r"__uid_s_(\d+)__uid_e_(audio|video)\.m3u8$", f["fileName"])
        if match:
            playlists[(match.group(1), match.group(2).capitalize())] = f["fileName"]
    tracks = {"audio": "Audio", "video": "Video"}
    expected = {(uid, tracks[kind]) for uid in PUBLISHERS for kind in kinds(case)}
    assert set(playlists) == expected, sorted(playlists)
    for index, uid in enumerate(PUBLISHERS):
        if case.video:
            [path] = download(env.recorder, [playlists[(uid, "Video")]], into)
            assert stream_kinds(path) == ["video"]
            frame = decode_video(path).frames[-1][1]
            assert share(frame, color_for(index)) > 0.5, f"uid {uid}: {colour_at(frame, 20, 20)}"
        if case.audio:
            [path] = download(env.recorder, [playlists[(uid, "Audio")]], into)
            assert stream_kinds(path) == ["audio"]
            samples, rate, _ = decode_audio(path)
            assert np.abs(samples).max() > 0.05, f"uid {uid}: silent"
            assert tone_strength(samples, rate, tone_for(index)) > 0.5


async def test_every_mode_stream_type_and_format_records_the_publishers_into_the_bucket(
    recordings: RecordingEnv, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    env = recordings
    run = asyncio.to_thread
    async with publish(room, PUBLISHERS, width=160, height=120, fps=15):
        for number, case in enumerate(CASES):
            config: dict[str, Any] = {
                "mode": case.mode,
                "streamTypes": case.streams,
                "outputFormats": list(case.formats),
                "maxIdleTime": 30,
            }
            if case.mode == "Mix":
                config["transcodingConfig"] = {
                    "width": 320,
                    "height": 240,
                    "fps": 15,
                    "bitrate": 400,
                    "layout": "BestFit",
                }
            await run(env.apply, case.name, room, uid=str(920001 + number), recordingConfig=config)
        for case in CASES:
            await run(env.wait, case.name, ready, 90.0, "Ready True")
        await asyncio.sleep(RECORD_SECONDS)
        for case in CASES:
            await run(env.patch_spec, case.name, {"state": "Stopped"})
        done = {case: await run(env.wait_phase, case.name, "Completed", 120.0) for case in CASES}
    failures = []
    for case, obj in done.items():
        into = tmp_path / case.name
        into.mkdir()
        check = check_mix if case.mode == "Mix" else check_individual
        try:
            await run(check, case, obj["status"]["files"], env, into)
        except AssertionError as error:
            failures.append(f"{case.name}: {error}")
    assert not failures, "\n".join(failures)
