"""Every recording mode through a CloudRecording, checked in the bucket by decoding.

Six CloudRecordings record one room with two publishers at the same time (one stack, one run),
and between them they cover every value of every dimension: Mix and Individual; AudioOnly,
VideoOnly and AudioVideo in both modes; HLS alone and HLS with MP4 (MP4 exists in Mix only).
Each is stopped with ``state: Stopped``, must end Completed, and what it lists in
``status.files`` is downloaded and decoded: the publishers' colours in the video, their tones in
the audio, and nothing of a kind the resource did not ask for.

Snapshots (Individual mode, ``snapshotConfig``) are checked in the bucket: a snapshot-only
resource and one that records HLS too each upload JPGs of every publisher, decoded to the
publisher's colour.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.modes import ModeCase as Case
from tests.fixtures.modes import share, start_cases
from tests.fixtures.operator import RecordingEnv, ready
from tests.integration.recorder.checks import close_to, colour_at, download, tone_strength
from tests.media_files import decode_audio, decode_jpg, decode_video, stream_kinds

from cloudrec_devenv.publisher import color_for, tone_for

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.media, pytest.mark.timeout(360)]

PUBLISHERS = ["1001", "1002"]
RECORD_SECONDS = 8


CASES = (
    Case("Mix", "AudioVideo", ("HLS", "MP4")),
    Case("Mix", "AudioOnly", ("HLS",)),
    Case("Mix", "VideoOnly", ("HLS", "MP4")),
    Case("Individual", "AudioVideo", ("HLS",)),
    Case("Individual", "AudioOnly", ("HLS",)),
    Case("Individual", "VideoOnly", ("HLS",)),
)


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
        await start_cases(env, room, CASES, first_uid=920001)
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


SNAPSHOT_INTERVAL = 2
SNAPSHOT_CASES = {
    # name -> (streamTypes, outputFormats)
    "individual-snapshots-only": ("VideoOnly", []),
    "individual-hls-and-snapshots": ("AudioVideo", ["HLS"]),
}


def snapshots_of(env: RecordingEnv, sid: str, uid: str) -> list[str]:
    """The JPG keys of ``uid``'s video in recording ``sid``, in capture order (protocol.md
    §3.2.4: ``<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg``)."""
    pattern = re.compile(rf"/{re.escape(sid)}_[^/]*__uid_s_{uid}__uid_e_video_[0-9]{{17}}\.jpg$")
    return sorted(k for k in env.recorder.s3.object_keys(env.recorder.bucket) if pattern.search(k))


async def test_snapshots_through_a_cloudrecording_upload_a_jpg_of_each_publisher_in_its_colour(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    run = asyncio.to_thread
    async with publish(room, PUBLISHERS, width=160, height=120, fps=15):
        for number, (name, (streams, formats)) in enumerate(SNAPSHOT_CASES.items()):
            config = {
                "mode": "Individual",
                "streamTypes": streams,
                "outputFormats": formats,
                "maxIdleTime": 30,
                "snapshotConfig": {"captureInterval": SNAPSHOT_INTERVAL},
            }
            await run(env.apply, name, room, uid=str(920101 + number), recordingConfig=config)
        for name in SNAPSHOT_CASES:
            await run(env.wait, name, ready, 90.0, "Ready True")
        await asyncio.sleep(RECORD_SECONDS)
        for name in SNAPSHOT_CASES:
            await run(env.patch_spec, name, {"state": "Stopped"})
        done = {
            name: await run(env.wait_phase, name, "Completed", 120.0) for name in SNAPSHOT_CASES
        }
    failures = []
    for name, obj in done.items():
        sid = obj["status"]["recordingId"]
        keys = await run(env.recorder.s3.object_keys, env.recorder.bucket)
        mine = [k for k in keys if f"/{sid}_" in k]
        playlists = [k for k in mine if k.endswith(".m3u8")]
        if bool(playlists) != bool(SNAPSHOT_CASES[name][1]):
            failures.append(
                f"{name}: playlists {playlists} for outputFormats {SNAPSHOT_CASES[name][1]}"
            )
        for index, uid in enumerate(PUBLISHERS):
            jpgs = await run(snapshots_of, env, sid, uid)
            # Eight seconds and more at one JPG every two: a few of each publisher.
            if len(jpgs) < 3:
                failures.append(f"{name}: uid {uid} has {len(jpgs)} snapshot(s): {jpgs}")
                continue
            for key in (jpgs[0], jpgs[-1]):
                picture = decode_jpg(
                    await run(env.recorder.s3.get_object, env.recorder.bucket, key)
                )
                seen = colour_at(picture, 20, 20)
                if picture.shape[:2] != (120, 160) or not close_to(seen, color_for(index)):
                    failures.append(f"{name}: {key} is {picture.shape[:2]} in {seen}")
    assert not failures, "\n".join(failures)
