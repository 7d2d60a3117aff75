"""What the recorder records: real Janus, aiortc publishers, files decoded from the bucket.

Each test starts the recording first, then the publishers one after another, so the join
order (which the layouts follow) is known. The full layout matrix (every layout with 1-17
users) is covered on synthetic frames in ``tests/unit/cloudrec_recorder/media``; here a
representative set goes through the whole path: WebRTC -> decode -> compose -> HLS -> S3.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import RecorderProcess
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    mix_config,
    probe_point,
    query_status,
    start_recording,
    stop_recording,
    tone_strength,
    wait_spool_removed,
    wait_status,
)
from tests.media_files import decode_audio, decode_video, stream_kinds

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_recorder.media.config import VideoLayout
from cloudrec_recorder.media.layout import compute_layout
from cloudrec_recorder.media.naming import safe_cname

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "900001"


def uids(count: int) -> list[str]:
    return [str(1001 + i) for i in range(count)]


def assert_layout(
    frame: Any, layout: VideoLayout, users: list[str], width: int, height: int, **kw: Any
) -> None:
    regions = compute_layout(layout, users, width, height, **kw)
    for region in regions:
        x, y = probe_point(region, regions)
        expected = color_for(users.index(region.uid))
        actual = colour_at(frame, x, y)
        assert close_to(actual, expected), (
            f"{layout.name}: uid {region.uid} at ({x},{y}) shows {actual}, expected {expected}"
        )


@pytest.mark.parametrize(
    ("layout", "count", "size", "fps", "mp4"),
    [
        (VideoLayout.FLOAT, 2, (320, 240), 15, False),
        (VideoLayout.BEST_FIT, 4, (640, 360), 10, False),
        (VideoLayout.VERTICAL, 5, (640, 360), 15, False),
        (VideoLayout.BEST_FIT, 1, (320, 240), 15, True),
    ],
    ids=["float-2", "bestfit-4", "vertical-5", "bestfit-1-with-mp4"],
)
async def test_the_mix_shows_each_publishers_colour_where_its_layout_puts_it(
    recorder: RecorderProcess,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
    layout: VideoLayout,
    count: int,
    size: tuple[int, int],
    fps: int,
    mp4: bool,
) -> None:
    width, height = size
    users = uids(count)
    lead = users[-1] if layout is VideoLayout.VERTICAL else None
    transcoding: dict[str, Any] = {
        "width": width,
        "height": height,
        "fps": fps,
        "bitrate": 600,
        "mixedVideoLayout": int(layout),
    }
    if lead:
        transcoding["maxResolutionUid"] = lead
    async with recorder.client() as client:
        rec = await start_recording(
            client,
            recorder,
            room,
            RECORDER_UID,
            mix_config(transcodingConfig=transcoding),
            av_file_type=("hls", "mp4") if mp4 else ("hls",),
        )
        assert await query_status(client, recorder, rec) == 4
        async with publish(room, users, width=160, height=120, fps=fps):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(5)
            stopped = await stop_recording(client, recorder, rec)
    response = stopped["serverResponse"]
    assert response["uploadingStatus"] == "uploaded"
    playlist_key = f"rec/{rec.sid}_{safe_cname(room)}.m3u8"
    if mp4:
        assert response["fileListMode"] == "json"
        names = [f["fileName"] for f in response["fileList"]]
        mp4_key = f"rec/{rec.sid}_{safe_cname(room)}_0.mp4"
        assert sorted(names) == sorted([playlist_key, mp4_key])
        movie = tmp_path / "movie.mp4"
        movie.write_bytes(recorder.s3.get_object(recorder.bucket, mp4_key))
        assert stream_kinds(movie) == ["audio", "video"]
        assert_layout(decode_video(movie).frames[-fps][1], layout, users, width, height)
    else:
        assert response["fileListMode"] == "string"
        assert response["fileList"] == playlist_key
    [playlist] = download(recorder, [playlist_key], tmp_path)
    video = decode_video(playlist)
    assert (video.width, video.height) == (width, height)
    assert video.rate == fps
    assert stream_kinds(playlist) == ["audio", "video"]
    _, last = video.frames[-fps]  # a second before the end: everyone is in
    assert_layout(last, layout, users, width, height, max_resolution_uid=lead)
    await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 11, 20)
    received = recorder.sink.for_sid(rec.sid)
    assert all(n.signature_ok for n in received)
    assert {30, 31, 33, 40, 41, 42, 43, 44, 11} <= {n.event_type for n in received}
    [slice_start] = [n.payload["details"] for n in received if n.event_type == 42]
    assert slice_start["streamUid"] == "0" and slice_start["mixedAllUser"] is True
    uploaded = next(n.payload["details"] for n in received if n.event_type == 31)
    assert playlist_key in [f["fileName"] for f in uploaded["fileList"]]


async def test_the_mixed_audio_holds_the_subscribed_tones_and_no_other(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    users = uids(3)
    config = mix_config(streamTypes=0, subscribeAudioUids=users[:2], audioProfile=1)
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config)
        async with publish(room, users, video=False):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(5)
            stopped = await stop_recording(client, recorder, rec)
    [playlist] = download(recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    assert stream_kinds(playlist) == ["audio"]
    samples, rate, _ = decode_audio(playlist)
    assert rate == 48_000
    tail = samples[-3 * rate :]
    assert tone_strength(tail, rate, tone_for(0)) > 0.2
    assert tone_strength(tail, rate, tone_for(1)) > 0.2
    assert tone_strength(tail, rate, tone_for(2)) < 0.05


async def test_a_publisher_joining_and_leaving_appears_and_disappears(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    first, second = uids(2)
    transcoding = {"width": 320, "height": 240, "fps": 15, "bitrate": 500, "mixedVideoLayout": 1}
    config = mix_config(streamTypes=1, transcodingConfig=transcoding)
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config)
        async with publish(room, first, color=color_for(0), width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(3)
            async with publish(room, second, color=color_for(1), width=160, height=120):
                await asyncio.sleep(4)
            await asyncio.sleep(4)
            stopped = await stop_recording(client, recorder, rec)
    [playlist] = download(recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    assert stream_kinds(playlist) == ["video"]
    video = decode_video(playlist)
    alone = compute_layout(VideoLayout.BEST_FIT, [first], 320, 240)
    both = compute_layout(VideoLayout.BEST_FIT, [first, second], 320, 240)
    right = probe_point(both[1], both)
    colours = [colour_at(frame, *right) for _, frame in video.frames]
    shown = [close_to(c, color_for(1)) for c in colours]
    assert not shown[0], "the second publisher shows before it joined"
    assert any(shown), "the second publisher never showed"
    assert not shown[-1], "the second publisher still shows after it left"
    assert close_to(colour_at(video.frames[-1][1], *probe_point(alone[0], alone)), color_for(0))


def _worst_lags_counted(text: str) -> float:
    """How many recordings' worst worker lags the recorder's metrics hold."""
    for line in text.splitlines():
        if line.startswith("cloudrec_media_lag_worst_seconds_count "):
            return float(line.split()[1])
    raise AssertionError("no cloudrec_media_lag_worst_seconds_count in /metrics")


async def test_a_recordings_worker_start_and_worst_lag_are_in_its_phase_log_and_the_metrics(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    transcoding = {"width": 320, "height": 240, "fps": 15, "bitrate": 500}
    config = mix_config(streamTypes=1, transcodingConfig=transcoding)
    async with recorder.client() as client:
        before = _worst_lags_counted((await client.get("/metrics")).text)
        rec = await start_recording(client, recorder, room, RECORDER_UID, config)
        async with publish(room, uids(1), width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(2)
            await stop_recording(client, recorder, rec)
        after = _worst_lags_counted((await client.get("/metrics")).text)
    assert after >= before + 1
    phases = [
        line.split(" phase=", 1)[1].split()
        for line in recorder.log_path.read_text().splitlines()
        if f"Phase sid={rec.sid} " in line
    ]
    names = [words[0] for words in phases]
    assert names.index("media-start") < names.index("worker-ready") < names.index("first-encoded")
    [finished] = [words for words in phases if words[0] == "files-finished"]
    assert [w for w in finished if w.startswith("worst-lag=")]


async def test_update_layout_switches_the_layout_mid_recording(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    users = uids(2)
    transcoding = {"width": 320, "height": 240, "fps": 15, "bitrate": 500, "mixedVideoLayout": 0}
    config = mix_config(streamTypes=1, transcodingConfig=transcoding)
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config)
        async with publish(room, users, width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(3)
            switched = await client.post(
                recorder.url(rec.path("updateLayout")),
                json={"cname": room, "uid": RECORDER_UID, "clientRequest": {"mixedVideoLayout": 1}},
            )
            assert switched.status_code == 200, switched.text
            await asyncio.sleep(4)
            stopped = await stop_recording(client, recorder, rec)
    [playlist] = download(recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    frame = decode_video(playlist).frames[-15][1]
    assert_layout(frame, VideoLayout.BEST_FIT, users, 320, 240)


async def test_individual_mode_writes_each_uids_audio_and_video(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    users = uids(2)
    config = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30, "subscribeUidGroup": 0}
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config, mode="individual")
        async with publish(room, users, width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(5)
            stopped = await stop_recording(client, recorder, rec)
    response = stopped["serverResponse"]
    assert response["fileListMode"] == "json"
    files = {(f["uid"], f["trackType"]): f["fileName"] for f in response["fileList"]}
    for index, uid in enumerate(users):
        video_key = files[(uid, "video")]
        audio_key = files[(uid, "audio")]
        assert video_key == f"rec/{rec.sid}_{safe_cname(room)}__uid_s_{uid}__uid_e_video.m3u8"
        video_path, audio_path = download(recorder, [video_key, audio_key], tmp_path)
        assert stream_kinds(video_path) == ["video"]
        assert stream_kinds(audio_path) == ["audio"]
        frame = decode_video(video_path).frames[-1][1]
        assert close_to(colour_at(frame, 20, 20), color_for(index))
        samples, rate, _ = decode_audio(audio_path)
        assert tone_strength(samples[-2 * rate :], rate, tone_for(index)) > 0.5


async def test_an_idle_channel_is_left_after_max_idle_time(
    recorder: RecorderProcess, room: str
) -> None:
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, mix_config(maxIdleTime=5))
        leave = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 41, 15)
        assert leave.payload["details"]["leaveCode"] == 4
        await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 11, 15)
        assert await query_status(client, recorder, rec) == 8
        again = await client.post(
            recorder.url(rec.path("stop")), json={"cname": room, "uid": RECORDER_UID}
        )
        assert (again.status_code, again.json()["code"]) == (400, 49)


async def test_update_switches_the_audio_subscription_mid_recording(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    first, second = uids(2)
    config = mix_config(streamTypes=0, subscribeAudioUids=[first])
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config)
        async with publish(room, [first, second], video=False):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(4)
            updated = await client.post(
                recorder.url(rec.path("update")),
                json={
                    "cname": room,
                    "uid": RECORDER_UID,
                    "clientRequest": {
                        "streamSubscribe": {"audioUidList": {"subscribeAudioUids": [second]}}
                    },
                },
            )
            assert updated.status_code == 200, updated.text
            await asyncio.sleep(4)
            stopped = await stop_recording(client, recorder, rec)
    [playlist] = download(recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    samples, rate, _ = decode_audio(playlist)
    before, after = samples[-7 * rate : -5 * rate], samples[-2 * rate :]
    assert tone_strength(before, rate, tone_for(0)) > 0.5
    assert tone_strength(before, rate, tone_for(1)) < 0.05
    assert tone_strength(after, rate, tone_for(1)) > 0.5
    assert tone_strength(after, rate, tone_for(0)) < 0.05


async def test_async_stop_answers_at_once_and_the_upload_finishes_later(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, mix_config())
        async with publish(room, uids(1), width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(3)
            response = await client.post(
                recorder.url(rec.path("stop")),
                json={"cname": room, "uid": RECORDER_UID, "clientRequest": {"async_stop": True}},
            )
        assert response.status_code == 200, response.text
        assert response.json()["serverResponse"]["uploadingStatus"] == "unknown"
        uploaded = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 31, 30)
        names = [f["fileName"] for f in uploaded.payload["details"]["fileList"]]
        assert f"rec/{rec.sid}_{safe_cname(room)}.m3u8" in names
        exit_event = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 11, 30)
        assert exit_event.payload["details"]["exitStatus"] == 0
        assert await query_status(client, recorder, rec) == 8
    # Everything is in the bucket: the recording's spool no longer takes disk space.
    await wait_spool_removed(recorder.spool_dir / rec.sid)


async def test_a_channel_with_a_publisher_is_not_idle(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, mix_config(maxIdleTime=5))
        async with publish(room, uids(1), width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(7)
            assert await query_status(client, recorder, rec) == 5
            await stop_recording(client, recorder, rec)
    leave = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 41, 10)
    assert leave.payload["details"]["leaveCode"] == 16


async def test_a_channel_that_disappears_ends_the_recording_abnormally(
    recorder: RecorderProcess, room: str, janus: Janus
) -> None:
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, mix_config())
        await asyncio.to_thread(janus.destroy_room, room)
        leave = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 41, 20)
        assert leave.payload["details"]["leaveCode"] == 0
        exit_event = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 11, 20)
        assert exit_event.payload["details"]["exitStatus"] == 1
        assert await query_status(client, recorder, rec) == 20


async def test_two_recordings_of_one_channel_both_leave_it_once_the_publishers_are_gone(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    # The other recorder in the room is no user: it must not keep this one from idling.
    async with recorder.client() as client:
        first = await start_recording(client, recorder, room, "900011", mix_config(maxIdleTime=5))
        second = await start_recording(client, recorder, room, "900012", mix_config(maxIdleTime=5))
        async with publish(room, uids(1), width=160, height=120):
            await wait_status(client, recorder, first, 5)
            await wait_status(client, recorder, second, 5)
        for rec in (first, second):
            leave = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 41, 20)
            assert leave.payload["details"]["leaveCode"] == 4
