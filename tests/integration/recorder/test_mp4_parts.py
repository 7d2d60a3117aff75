"""A long MP4 recording is delivered as numbered parts (``_0.mp4``, ``_1.mp4``...).

The recorder here splits at 2 s (``mp4MaxSeconds``) instead of the service's 2 hours, so a
few seconds of a real channel give several parts; each must reach the bucket, play, show the
publisher and be listed, with its own start time, in the stop answer and in event 31.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, start_recorder
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    mix_config,
    probe_point,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_audio, decode_video, stream_kinds

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.media.config import VideoLayout
from cloudrec_recorder.media.layout import compute_layout
from cloudrec_recorder.media.naming import safe_cname

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]


async def test_a_long_mp4_recording_reaches_the_bucket_as_numbered_parts(
    tmp_path: Path,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    bucket = "parts-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    recorder = start_recorder(
        tmp_path / "recorder", janus, callback_sink, s3_server, bucket, mp4MaxSeconds=2
    )
    transcoding = {"width": 320, "height": 240, "fps": 15, "bitrate": 400, "mixedVideoLayout": 1}
    try:
        async with recorder.client() as client, publish(room, "1001", width=160, height=120):
            rec = await start_recording(
                client,
                recorder,
                room,
                "900005",
                mix_config(transcodingConfig=transcoding),
                av_file_type=("hls", "mp4"),
            )
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(7)
            stopped = await stop_recording(client, recorder, rec)
    finally:
        recorder.process.stop()
    response = stopped["serverResponse"]
    assert response["uploadingStatus"] == "uploaded"
    base = f"rec/{rec.sid}_{safe_cname(room)}"
    parts = sorted(
        (f for f in response["fileList"] if f["fileName"].endswith(".mp4")),
        key=lambda f: int(f["fileName"].rsplit("_", 1)[1].removesuffix(".mp4")),
    )
    assert [f["fileName"] for f in parts] == [f"{base}_{i}.mp4" for i in range(len(parts))]
    assert len(parts) >= 3, [f["fileName"] for f in parts]
    # A part ends at the first keyframe (an HLS segment boundary) once it holds 2 s; a mix's
    # boundaries fall at 1 s and then every 2 s (its first segment is short), so the first
    # part holds 3 s and every later one 2 s.
    starts = [int(f["sliceStartTime"]) for f in parts]
    lengths = [b - a for a, b in itertools.pairwise(starts)]
    assert 2500 <= lengths[0] <= 3500, starts
    assert all(1500 <= length <= 2500 for length in lengths[1:]), starts

    for part in parts:
        path = tmp_path / part["fileName"].rsplit("/", 1)[1]
        path.write_bytes(s3_server.get_object(bucket, part["fileName"]))
        video = decode_video(path)
        if len(video.frames) < 15:
            continue  # the last part can be a few frames long: stopped just after a split
        assert stream_kinds(path) == ["audio", "video"], part["fileName"]
        assert video.frames[0][0] < 0.1
        _, middle = video.frames[len(video.frames) // 2]
        [region] = compute_layout(VideoLayout.BEST_FIT, ["1001"], 320, 240)
        x, y = probe_point(region, [region])  # away from the publisher's moving marker
        assert close_to(colour_at(middle, x, y), color_for(0)), part["fileName"]
        samples, rate, _ = decode_audio(path)
        assert abs(len(samples) / rate - len(video.frames) / 15) < 0.2, part["fileName"]

    uploaded = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 31, 20)
    listed = {f["fileName"]: f["sliceStartTime"] for f in uploaded.payload["details"]["fileList"]}
    assert {f["fileName"]: f["sliceStartTime"] for f in parts}.items() <= listed.items()
