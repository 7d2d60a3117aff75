"""What real clients send, against the real recorder process (Janus, versitygw, publishers).

The community Go client sends ``"sse": ""`` and ``"tag": ""`` in every ``extensionParams``,
``"uid": ""`` in layout regions it means to fill in join order, and leaves out
``subscribeUidGroup`` when it is 0; acquire's ``startParameter`` comes without
``storageConfig``. These recordings must start and record as they would without those keys.
The full matrix of shapes is the table in ``tests/unit/cloudrec_recorder/test_conformance.py``;
here a few go the whole way: HTTP -> channel -> files in the bucket, read back and decoded.

``streamMode`` standard (a merged audio+video playlist per uid) and ``extensionParams``
``sse``/``tag`` (on every object) are checked on the bucket's files; the encryption header,
which versitygw does not keep, is read from a recording proxy in front of it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import RecorderProcess
from tests.fixtures.s3proxy import RecordingProxy
from tests.integration.recorder.checks import (
    Started,
    close_to,
    colour_at,
    download,
    stop_recording,
    tone_strength,
    wait_status,
)
from tests.media_files import decode_audio, decode_video, stream_kinds

from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_recorder.media.naming import safe_cname

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "910001"
TAGS = {"project": "demo", "team": "rtc"}


async def start(
    client: httpx.AsyncClient,
    recorder: RecorderProcess,
    room: str,
    mode: str,
    client_request: dict[str, Any],
    start_parameter: dict[str, Any] | None = None,
) -> tuple[httpx.Response, Started]:
    acquire_request = {"startParameter": start_parameter} if start_parameter else {}
    acquired = await client.post(
        recorder.url("acquire"),
        json={"cname": room, "uid": RECORDER_UID, "clientRequest": acquire_request},
    )
    assert acquired.status_code == 200, acquired.text
    rid = acquired.json()["resourceId"]
    response = await client.post(
        recorder.url(f"resourceid/{rid}/mode/{mode}/start"),
        json={"cname": room, "uid": RECORDER_UID, "clientRequest": client_request},
    )
    sid = response.json().get("sid", "") if response.status_code == 200 else ""
    return response, Started(rid, sid, room, RECORDER_UID, mode)


async def test_a_go_client_mix_start_with_empty_strings_records_with_the_fallbacks(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    storage = recorder.storage_config() | {
        "extensionParams": {"sse": "", "tag": "", "endpoint": recorder.s3.endpoint}
    }
    recording_config = {
        "channelType": 0,
        "streamTypes": 2,
        "maxIdleTime": 30,
        "subscribeUidGroup": 0,
        "transcodingConfig": {
            "width": 320,
            "height": 240,
            "fps": 25,  # not a listed rate: falls back to 15
            "bitrate": 400,
            "mixedVideoLayout": 3,
            "backgroundColor": "",
            "layoutConfig": [  # uid "": filled in join order
                {"uid": "", "x_axis": 0, "y_axis": 0, "width": 0.5, "height": 1, "render_mode": 0}
            ],
        },
    }
    request = {
        "recordingConfig": recording_config,
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": storage,
    }
    start_parameter = {k: v for k, v in request.items() if k != "storageConfig"}
    async with recorder.client() as client:
        response, rec = await start(client, recorder, room, "mix", request, start_parameter)
        assert response.status_code == 200, response.text
        async with publish(room, ["1001"], width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(4)
            stopped = await stop_recording(client, recorder, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    playlist_key = stopped["serverResponse"]["fileList"]
    assert playlist_key == f"rec/{rec.sid}_{safe_cname(room)}.m3u8"
    [playlist] = download(recorder, [playlist_key], tmp_path)
    video = decode_video(playlist)
    assert video.rate == 15
    frame = video.frames[-15][1]
    assert close_to(colour_at(frame, 20, 20), color_for(0))  # the region, left half
    assert close_to(colour_at(frame, 300, 20), (0, 0, 0))  # the background, right half


async def test_standard_stream_mode_adds_a_merged_playlist_and_every_object_is_encrypted_and_tagged(
    recorder: RecorderProcess,
    room: str,
    publish: PublishFactory,
    s3_proxy: RecordingProxy,
    tmp_path: Path,
) -> None:
    storage = recorder.storage_config(("std",)) | {
        "extensionParams": {
            "sse": "aes256",
            "tag": "project=demo&team=rtc",
            "endpoint": s3_proxy.endpoint,
        }
    }
    request = {
        "recordingConfig": {"channelType": 0, "streamTypes": 2, "streamMode": "standard"},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": storage,
    }  # no subscribeUidGroup: 0, for 1-2 uids
    async with recorder.client() as client:
        response, rec = await start(client, recorder, room, "individual", request)
        assert response.status_code == 200, response.text
        async with publish(room, ["1001"], width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(6)
            stopped = await stop_recording(client, recorder, rec)
    server_response = stopped["serverResponse"]
    assert server_response["uploadingStatus"] == "uploaded"
    files = {(f["uid"], f["trackType"]): f for f in server_response["fileList"]}
    stem = f"std/{rec.sid}_{safe_cname(room)}__uid_s_1001__uid_e_"
    merged = files[("1001", "audio_and_video")]
    assert merged["fileName"] == f"{stem}av.m3u8"
    assert merged["isPlayable"] is True and merged["mixedAllUser"] is False
    assert files[("1001", "audio")]["fileName"] == f"{stem}audio.m3u8"
    assert files[("1001", "video")]["fileName"] == f"{stem}video.m3u8"

    download(recorder, [f"{stem}audio.m3u8", f"{stem}video.m3u8"], tmp_path)
    [both] = download(recorder, [f"{stem}av.m3u8"], tmp_path)
    assert stream_kinds(both) == ["audio", "video"]
    frame = decode_video(both).frames[-1][1]
    assert close_to(colour_at(frame, 20, 20), color_for(0))
    samples, rate, _ = decode_audio(both)
    assert tone_strength(samples[-2 * rate :], rate, tone_for(0)) > 0.5

    keys = [k for k in recorder.s3.object_keys(recorder.bucket) if k.startswith(stem)]
    assert len(keys) > 4  # three playlists and the slices
    for key in keys:
        assert recorder.s3.object_tags(recorder.bucket, key) == TAGS, key
    puts = s3_proxy.sent("PutObject", f"/{recorder.bucket}/{stem}")
    assert {r.path.removeprefix(f"/{recorder.bucket}/") for r in puts} >= set(keys)
    for put in puts:
        assert put.headers.get("x-amz-server-side-encryption") == "AES256", put


async def test_original_stream_mode_keeps_each_uids_audio_as_sent_not_transcoded(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    request = {
        "recordingConfig": {"streamTypes": 0, "streamMode": "original", "subscribeUidGroup": 0},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": recorder.storage_config(("orig",)),
    }
    users = ["1001", "1002"]
    async with recorder.client() as client:
        response, rec = await start(client, recorder, room, "individual", request)
        assert response.status_code == 200, response.text
        async with publish(room, users, width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(6)
            stopped = await stop_recording(client, recorder, rec)
    server_response = stopped["serverResponse"]
    assert server_response["uploadingStatus"] == "uploaded"
    files = {(f["uid"], f["trackType"]): f["fileName"] for f in server_response["fileList"]}
    assert set(files) == {(uid, "audio") for uid in users}
    for index, uid in enumerate(users):
        [playlist] = download(recorder, [files[(uid, "audio")]], tmp_path)
        assert playlist.read_text().count(".ts") >= 2
        with av.open(str(playlist)) as container:
            codec = container.streams.audio[0].codec_context.name
        assert codec == "opus"  # as the publisher sent it (a transcoded track is aac)
        samples, rate, _ = decode_audio(playlist)
        assert tone_strength(samples[-3 * rate :], rate, tone_for(index)) > 0.5


@pytest.mark.parametrize(
    ("mode", "recording_config", "named"),
    [
        ("individual", {"streamTypes": 2, "streamMode": "original"}, "streamMode"),
        ("mix", {"decryptionMode": 5, "secret": "s"}, "recordingConfig.decryptionMode"),
        ("individual", {"streamMode": "loud"}, "streamMode"),
        ("mix", {"maxIdleTime": 3}, "maxIdleTime"),
    ],
    ids=["original-with-video", "decryption", "unknown-stream-mode", "idle-out-of-range"],
)
async def test_what_the_recorder_cannot_do_or_does_not_know_is_refused_by_name(
    recorder: RecorderProcess, room: str, mode: str, recording_config: dict[str, Any], named: str
) -> None:
    request = {
        "recordingConfig": recording_config,
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": recorder.storage_config(),
    }
    async with recorder.client() as client:
        response, _ = await start(client, recorder, room, mode, request)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 2
    assert named in response.json()["reason"]
