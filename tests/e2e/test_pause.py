"""Pause and resume through a CloudRecording, checked in the bucket by decoding (issue 15).

Three CloudRecordings record one room at once (one run): Mix audio+video into HLS and MP4,
Individual audio+video, and Mix audio only into HLS and MP4. Publishers 1001 and 1002 send all
along; ``spec.state: Paused`` pauses every recording, and only then does publisher 1009 come in,
in a colour and a tone nobody else sends, and leave again before ``state: Recording`` resumes
them. Each recording must keep its sid, pass through phase Paused with Ready True (kstatus
Current), post the Events Paused and Resumed, record again after the resume (a slice stamped
after it in the bucket, for every track), and end Completed with files that never show 1009:
no pixel of its colour in any decoded frame, no trace of its tone, no file of its own. The
playlists go on after one ``#EXT-X-DISCONTINUITY``; each MP4 goes on in a second numbered
part; the manifest's timeline lists the pause and the resume.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.modes import ModeCase as Case
from tests.fixtures.modes import share, start_cases
from tests.fixtures.operator import RecordingEnv, ready
from tests.integration.gitops.test_kstatus import kstatus
from tests.integration.recorder.checks import download, tone_strength
from tests.media_files import decode_audio, decode_video

from cloudrec_devenv.publisher import PALETTE, color_for, tone_for
from cloudrec_protocol.manifest import manifest_name

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.media, pytest.mark.timeout(360)]

PUBLISHERS = ["1001", "1002"]
HIDDEN = "1009"
"""Publishes only while the recordings are paused."""
HIDDEN_COLOUR = PALETTE["magenta"]
HIDDEN_TONE = tone_for(5)
RECORD_SECONDS = 4
HIDDEN_SECONDS = 3
DISCONTINUITY = "#EXT-X-DISCONTINUITY"


CASES = (
    Case("Mix", "AudioVideo", ("HLS", "MP4"), label="pause-mix"),
    Case("Individual", "AudioVideo", ("HLS",), label="pause-individual"),
    Case("Mix", "AudioOnly", ("HLS", "MP4"), label="pause-mix-audio"),
)


def fetch(env: RecordingEnv, key: str, into: Path) -> Path:
    """One object (a playlist with every segment it lists, or a file) from the bucket."""
    if key.endswith(".m3u8"):
        [path] = download(env.recorder, [key], into)
        return path
    path = into / key.rsplit("/", 1)[-1]
    path.write_bytes(env.recorder.s3.get_object(env.recorder.bucket, key))
    return path


def check_media(case: Case, path: Path) -> None:
    """Nothing of the hidden publisher, and something of the others."""
    if case.mode == "Individual":
        video, audio = "__uid_e_video" in path.name, "__uid_e_audio" in path.name
    else:
        video, audio = case.video, True
    if video:
        frames = decode_video(path).frames
        leaked = [t for t, frame in frames if share(frame, HIDDEN_COLOUR) > 0.005]
        assert not leaked, f"{path.name}: the paused publisher's colour at {leaked[:5]}"
        shown = [color_for(n) for n in range(len(PUBLISHERS))]
        assert any(share(f, c) > 0.05 for _, f in frames for c in shown), path.name
    if audio:
        samples, rate, _ = decode_audio(path)
        hidden = tone_strength(samples, rate, HIDDEN_TONE)
        assert hidden < 0.1, f"{path.name}: the paused publisher's tone at {hidden:.2f}"


def check_files(case: Case, obj: dict[str, Any], env: RecordingEnv, into: Path) -> None:
    keys = [f["fileName"] for f in obj["status"]["files"]]
    assert not [k for k in keys if f"__uid_s_{HIDDEN}__" in k], keys
    playlists = [k for k in keys if k.endswith(".m3u8")]
    mp4s = sorted(k for k in keys if k.endswith(".mp4"))
    assert playlists, keys
    if "MP4" in case.formats:
        # the part open at the pause, then the next numbered part after the resume
        assert [k.rsplit("_", 1)[-1] for k in mp4s] == ["0.mp4", "1.mp4"], mp4s
    for key in playlists + mp4s:
        path = fetch(env, key, into)
        if path.suffix == ".m3u8":
            text = path.read_text()
            assert text.count(DISCONTINUITY) == 1, f"{path.name}:\n{text}"
        check_media(case, path)
    sid = obj["status"]["recordingId"]
    folder = playlists[0].rsplit("/", 1)[0]
    manifest = env.recorder.s3.get_object(
        env.recorder.bucket, f"{folder}/{manifest_name(sid, obj['spec']['channelName'])}"
    )
    kinds = [entry["kind"] for entry in json.loads(manifest)["timeline"]]
    assert kinds == ["Started", "Paused", "Resumed", "Stopped"], kinds


SLICE = re.compile(r"_(\d{17})\.(ts|webm)$")
"""A slice's name ends with its start, ``yyyyMMddHHmmssSSS`` in UTC (protocol.md §8)."""


def resumed_slices(env: RecordingEnv, case: Case, sid: str, since: float) -> set[str]:
    """The tracks (``mix``, or ``<uid>-<audio|video>``) with a slice in the bucket that
    started after ``since`` (epoch seconds)."""
    tracks = set()
    for key in env.recorder.s3.object_keys(env.recorder.bucket):
        match = SLICE.search(key)
        if match is None or f"/{sid}_" not in key:
            continue
        start = datetime.strptime(match.group(1), "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
        if start.timestamp() < since:
            continue
        found = re.search(r"__uid_s_(\d+)__uid_e_(audio|video)_", key)
        tracks.add("mix" if found is None else f"{found.group(1)}-{found.group(2)}")
    return tracks


def expected_tracks(case: Case) -> set[str]:
    if case.mode == "Mix":
        return {"mix"}
    return {f"{uid}-{kind}" for uid in PUBLISHERS for kind in ("audio", "video")}


async def recorded_after(env: RecordingEnv, sids: dict[str, str], since: float) -> None:
    """Until every recording has media from after ``since`` in the bucket (a stored video
    track goes on only from a keyframe it asks for; on a loaded machine that takes a while)."""
    deadline = time.monotonic() + 60
    missing: dict[str, set[str]] = {}
    while time.monotonic() < deadline:
        missing = {}
        for case in CASES:
            found = await asyncio.to_thread(resumed_slices, env, case, sids[case.name], since)
            if expected_tracks(case) - found:
                missing[case.name] = expected_tracks(case) - found
        if not missing:
            return
        await asyncio.sleep(1)
    raise AssertionError(f"no media after the resume: {missing}")


def is_paused(obj: dict[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") == "Paused" and ready(obj)


async def test_a_paused_recording_captures_nothing_and_resumes_into_the_same_files(
    recordings: RecordingEnv, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    env = recordings
    run = asyncio.to_thread
    async with publish(room, PUBLISHERS, width=160, height=120, fps=15):
        started = await start_cases(env, room, CASES, first_uid=930001)
        sids = {name: obj["status"]["recordingId"] for name, obj in started.items()}
        await asyncio.sleep(RECORD_SECONDS)

        for case in CASES:
            await run(env.patch_spec, case.name, {"state": "Paused"})
        for case in CASES:
            paused = await run(env.wait, case.name, is_paused, 30.0, "phase Paused, Ready True")
            assert paused["status"]["recordingId"] == sids[case.name]
            assert await run(kstatus, paused) == "Current"  # Flux: a paused recording is healthy
            # kubectl wait keeps its meaning: a paused recording is Ready
            await run(
                env.kubectl, "wait", "--for=condition=Ready", f"crec/{case.name}", "--timeout=5s"
            )
        async with publish(
            room, HIDDEN, color=HIDDEN_COLOUR, tone_hz=HIDDEN_TONE, width=160, height=120, fps=15
        ):
            await asyncio.sleep(HIDDEN_SECONDS)
        await asyncio.sleep(1.5)  # nothing of it still on its way

        for case in CASES:
            await run(env.patch_spec, case.name, {"state": "Recording"})
        for case in CASES:
            await run(env.wait_phase, case.name, "Recording", 30.0)
        resumed_at = time.time()
        await asyncio.sleep(RECORD_SECONDS)
        await recorded_after(env, sids, resumed_at)
        for case in CASES:
            await run(env.patch_spec, case.name, {"state": "Stopped"})
        done = {case: await run(env.wait_phase, case.name, "Completed", 120.0) for case in CASES}

    failures = []
    for case, obj in done.items():
        assert obj["status"]["recordingId"] == sids[case.name], case.name
        reasons = await run(env.reasons, case.name)
        assert [r for r in reasons if r in ("Paused", "Resumed")] == ["Paused", "Resumed"], (
            case.name,
            reasons,
        )
        into = tmp_path / case.name
        into.mkdir()
        try:
            await run(check_files, case, obj, env, into)
        except AssertionError as error:
            failures.append(f"{case.name}: {error}")
    assert not failures, "\n".join(failures)
