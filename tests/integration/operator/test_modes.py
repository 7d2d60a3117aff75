"""Recording modes through a CloudRecording, checked in the bucket by decoding.

Individual mode records each uid on its own: an Individual CloudRecording must reach
Recording, then Completed once stopped, with each publisher's own audio and video in the
bucket (the operator sends what individual mode needs, e.g. ``subscribeUidGroup``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready
from tests.integration.recorder.checks import close_to, colour_at, download, tone_strength
from tests.media_files import decode_audio, decode_video, stream_kinds

from cloudrec_devenv.publisher import color_for, tone_for

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(240)]

run = asyncio.to_thread


async def test_an_individual_cloudrecording_records_each_uid_and_completes_with_its_files(
    recordings: RecordingEnv, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    env = recordings
    users = ["1001", "1002"]
    async with publish(room, users, width=160, height=120):
        await run(
            env.apply,
            "individual",
            room,
            recordingConfig={
                "mode": "Individual",
                "subscribeAudioUids": users,
                "subscribeVideoUids": users,
            },
        )
        started = await run(env.wait, "individual", ready, 60.0, "Ready True")
        assert started["status"]["phase"] == "Recording"
        await asyncio.sleep(6)
        await run(env.patch_spec, "individual", {"state": "Stopped"})
        done = await run(env.wait_phase, "individual", "Completed", 90.0)
    assert env.condition(done, "Uploaded")["status"] == "True"
    reasons = await run(env.wait_reasons, "individual", "Stopped", "Uploaded")
    assert [r for r in reasons if r in ("Connecting", "Started", "Stopped", "Uploaded")] == [
        "Connecting",
        "Started",
        "Stopped",
        "Uploaded",
    ]
    listed = {f["fileName"] for f in done["status"]["files"]}
    in_bucket = set(env.recorder.s3.object_keys(env.recorder.bucket))
    assert listed <= in_bucket, f"listed but not in the bucket: {sorted(listed - in_bucket)}"
    sid = done["status"]["recordingId"]
    for index, uid in enumerate(users):
        [video] = [k for k in in_bucket if sid in k and f"__uid_s_{uid}__uid_e_video.m3u8" in k]
        [audio] = [k for k in in_bucket if sid in k and f"__uid_s_{uid}__uid_e_audio.m3u8" in k]
        video_path, audio_path = download(env.recorder, [video, audio], tmp_path)
        assert "#EXT-X-ENDLIST" in video_path.read_text()
        assert stream_kinds(video_path) == ["video"]
        assert stream_kinds(audio_path) == ["audio"]
        frame = decode_video(video_path).frames[-1][1]
        assert close_to(colour_at(frame, 20, 20), color_for(index)), f"uid {uid}'s video"
        samples, rate, _ = decode_audio(audio_path)
        assert tone_strength(samples[-2 * rate :], rate, tone_for(index)) > 0.5, f"uid {uid}"
