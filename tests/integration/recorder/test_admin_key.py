"""A Janus whose VideoRoom sets ``lock_rtp_forward``: the recorder creates its RTP forwarders
with ``apps.<appId>.janus.adminKey`` and records; a wrong or missing key is an error that names
that setting (and the recording goes on without the publisher's media: a stop answers 435,
no recorded data).

Real Janus (its own, with ``lock_rtp_forward``), recorder process, aiortc publisher, versitygw.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from tests.fixtures.recorder import APP_ID, CallbackSink, RecorderProcess, start_recorder
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    mix_config,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_devenv.publisher import Publisher
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.media.naming import safe_cname

pytestmark = [pytest.mark.media, pytest.mark.timeout(150)]

WIDTH, HEIGHT = 160, 120


def locked_janus(workdir: Path) -> Janus:
    return Janus(
        workdir,
        port=free_port("127.0.0.1"),
        ws_port=free_port("127.0.0.1"),
        lock_rtp_forward=True,
    ).start()


def recorder_with_key(
    workdir: Path, janus: Janus, sink: CallbackSink, s3: S3Server, admin_key: str | None
) -> RecorderProcess:
    bucket = "akey-" + secrets.token_hex(4)
    s3.create_bucket(bucket)
    settings: dict[str, object] = {"wsUrl": janus.ws_url}
    if admin_key is not None:
        settings["adminKey"] = admin_key
    return start_recorder(workdir, janus, sink, s3, bucket, apps={APP_ID: {"janus": settings}})


async def test_with_lock_rtp_forward_the_recorder_forwards_with_its_admin_key_and_records(
    tmp_path: Path, callback_sink: CallbackSink, s3_server: S3Server
) -> None:
    janus = locked_janus(tmp_path / "janus")
    recorder = recorder_with_key(
        tmp_path / "recorder", janus, callback_sink, s3_server, janus.admin_key
    )
    publisher: Publisher | None = None
    try:
        room = janus.create_room("locked")
        publisher = await Publisher(janus.ws_url, room, "1001", width=WIDTH, height=HEIGHT).start()
        async with recorder.client() as client:
            rec = await start_recording(client, recorder, room, "900041", mix_config())
            await wait_status(client, recorder, rec, 5)
            forwarders = await asyncio.to_thread(janus.list_forwarders, room)
            assert {f["type"] for f in forwarders["1001"]} == {"audio", "video"}
            await asyncio.sleep(4)
            stopped = await stop_recording(client, recorder, rec)
        assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
        [playlist] = download(recorder, [f"rec/{rec.sid}_{safe_cname(room)}.m3u8"], tmp_path)
        video = decode_video(playlist)
        assert len(video.frames) >= 15
        _, last = video.frames[-1]
        height, width = last.shape[:2]
        assert close_to(colour_at(last, width // 8, height // 8), (255, 0, 0))  # its colour
        assert "adminKey" not in recorder.log_path.read_text()
        assert janus.admin_key not in recorder.log_path.read_text()  # a secret: never logged
    finally:
        if publisher is not None:
            await publisher.leave()
        recorder.process.stop()
        janus.stop()


@pytest.mark.parametrize("admin_key", ["not-the-key", None], ids=["wrong key", "no key"])
async def test_with_lock_rtp_forward_a_wrong_or_missing_admin_key_is_an_error_naming_the_setting(
    tmp_path: Path, callback_sink: CallbackSink, s3_server: S3Server, admin_key: str | None
) -> None:
    janus = locked_janus(tmp_path / "janus")
    recorder = recorder_with_key(tmp_path / "recorder", janus, callback_sink, s3_server, admin_key)
    publisher: Publisher | None = None
    try:
        room = janus.create_room("locked")
        publisher = await Publisher(janus.ws_url, room, "1001", width=WIDTH, height=HEIGHT).start()
        async with recorder.client() as client:
            rec = await start_recording(client, recorder, room, "900042", mix_config())
            expected = "apps.<appId>.janus.adminKey"
            for _ in range(100):
                if expected in recorder.log_path.read_text():
                    break
                await asyncio.sleep(0.1)
            log = recorder.log_path.read_text()
            assert expected in log
            assert "lock_rtp_forward" in log if admin_key is None else "not the VideoRoom's" in log
            forwarders = await asyncio.to_thread(janus.list_forwarders, room)
            assert not any(forwarders.values())
            # the recording goes on without media: a stop answers the protocol's 435
            response = await client.post(
                recorder.url(rec.path("stop")),
                json={"cname": rec.cname, "uid": rec.uid, "clientRequest": {}},
            )
            assert response.json()["code"] == 435, response.text
        if admin_key is not None:
            assert admin_key not in log  # a secret: never logged
    finally:
        if publisher is not None:
            await publisher.leave()
        recorder.process.stop()
        janus.stop()
