"""Individual mode stores each uid's video as it was received (protocol.md §8), not re-encoded.

Real recorder process, Janus and versitygw; aiortc publishers send VP8 (their encoder makes a
keyframe only when asked, so segments cut on keyframes prove the recorder asks). The stored
slices are read back from the bucket: WebM holding VP8 (a re-encoded track is H.264 in TS), each
starting on a keyframe, and every decoded frame is the picture the publisher drew.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import RecorderProcess
from tests.integration.recorder.checks import download, stop_recording, wait_status
from tests.integration.recorder.test_recording import start_recording, uids
from tests.media_files import decode_video, open_media, slices, stream_kinds

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for, render_frame
from cloudrec_protocol.filenames import file_cname

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "920001"
WIDTH, HEIGHT, FPS = 320, 180, 15
SEGMENT_SECONDS = 4  # the recorder's default hls_segment_seconds


def sent_picture(index: int, uid: str) -> npt.NDArray[np.int16]:
    """The picture publisher ``index`` (``uid``) draws in every frame, as RGB."""
    rgb = render_frame(WIDTH, HEIGHT, color_for(index), uid)
    yuv = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return np.asarray(yuv.to_ndarray(format="rgb24"), np.int16)


def difference(frame: npt.NDArray[np.uint8], picture: npt.NDArray[np.int16]) -> float:
    return float(np.abs(frame.astype(np.int16) - picture).mean())


def first_packet(path: Path) -> tuple[str, int, int, bool]:
    """Codec, size and keyframe flag of a slice's first packet."""
    with open_media(path) as container:
        stream = container.streams.video[0]
        packet = next(p for p in container.demux(stream) if p.size)
        ctx = stream.codec_context
        return ctx.name, ctx.width, ctx.height, packet.is_keyframe


async def test_individual_mode_stores_each_uids_vp8_as_sent_in_webm_slices_matching_the_pictures(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    users = uids(2)
    config = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30, "subscribeUidGroup": 0}
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config, mode="individual")
        async with publish(room, users, width=WIDTH, height=HEIGHT, fps=FPS):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(10)
            stopped = await stop_recording(client, recorder, rec)
    response = stopped["serverResponse"]
    files = {(f["uid"], f["trackType"]): f["fileName"] for f in response["fileList"]}
    pictures = [sent_picture(index, uid) for index, uid in enumerate(users)]
    for index, uid in enumerate(users):
        video, audio = download(recorder, [files[(uid, "video")], files[(uid, "audio")]], tmp_path)
        parts = slices(video)
        stem = f"{rec.sid}_{file_cname(room)}__uid_s_{uid}__uid_e_video_"
        assert all(p.name.startswith(stem) and p.suffix == ".webm" for p in parts), parts
        # the publisher's encoder makes keyframes only on request: several slices, each
        # opening on a keyframe, show the recorder asked at each segment boundary
        assert len(parts) >= 2, video.read_text()
        lengths = [
            float(line[8:].rstrip(","))
            for line in video.read_text().splitlines()
            if line.startswith("#EXTINF:")
        ]
        assert all(length <= SEGMENT_SECONDS + 1 for length in lengths[:-1]), lengths
        for part in parts:
            assert first_packet(part) == ("vp8", WIDTH, HEIGHT, True), part
        decoded = decode_video(video)
        seconds = decoded.frames[-1][0] - decoded.frames[0][0]
        assert seconds >= 6 and len(decoded.frames) >= 0.8 * FPS * seconds
        for time, frame in decoded.frames:
            assert difference(frame, pictures[index]) < 6, (uid, time)
            assert difference(frame, pictures[1 - index]) > 30, (uid, time)
        assert stream_kinds(audio) == ["audio"]
        with open_media(audio) as container:  # streamMode default: the documented AAC
            assert container.streams.audio[0].codec_context.name == "aac"


async def test_individual_mode_stores_an_h264_publishers_video_as_sent_in_ts_slices_matching_it(
    recorder: RecorderProcess, janus: Janus, publish: PublishFactory, tmp_path: Path
) -> None:
    # a room that takes H.264 only: the aiortc publisher sends H.264 (libx264 through PyAV)
    room = janus.create_room("h264-stored", videocodec="h264")
    uid = "1001"
    config = {"channelType": 0, "streamTypes": 1, "maxIdleTime": 30, "subscribeUidGroup": 0}
    try:
        async with recorder.client() as client:
            rec = await start_recording(
                client, recorder, room, RECORDER_UID, config, mode="individual"
            )
            async with publish(room, [uid], width=WIDTH, height=HEIGHT, fps=FPS):
                await wait_status(client, recorder, rec, 5)
                await asyncio.sleep(10)
                stopped = await stop_recording(client, recorder, rec)
    finally:
        janus.destroy_room(room)
    files = {
        (f["uid"], f["trackType"]): f["fileName"] for f in stopped["serverResponse"]["fileList"]
    }
    [video] = download(recorder, [files[(uid, "video")]], tmp_path)
    parts = slices(video)
    stem = f"{rec.sid}_{file_cname(room)}__uid_s_{uid}__uid_e_video_"
    assert parts and all(p.name.startswith(stem) and p.suffix == ".ts" for p in parts), parts
    for part in parts:
        assert first_packet(part) == ("h264", WIDTH, HEIGHT, True), part
    decoded = decode_video(video)
    seconds = decoded.frames[-1][0] - decoded.frames[0][0]
    assert seconds >= 6 and len(decoded.frames) >= 0.8 * FPS * seconds
    picture = sent_picture(0, uid)
    for time, frame in decoded.frames:
        assert difference(frame, picture) < 6, time
