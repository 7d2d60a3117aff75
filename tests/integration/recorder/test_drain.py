"""SIGTERM drains the recorder: no new work, running recordings stopped and their files finished."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, start_recorder
from tests.integration.recorder.checks import mix_config, start_recording, wait_status

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]


async def test_sigterm_refuses_new_work_and_finishes_running_recordings(
    tmp_path: Path,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    bucket = "drain-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    recorder = start_recorder(tmp_path, janus, callback_sink, s3_server, bucket)
    try:
        async with recorder.client() as client, publish(room, "1001", width=160, height=120):
            rec = await start_recording(client, recorder, room, "900002", mix_config())
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(3)
            assert recorder.process.pid is not None
            os.kill(recorder.process.pid, signal.SIGTERM)
            refused = await client.post(
                recorder.url("acquire"), json={"cname": room, "uid": "900003"}
            )
            assert refused.status_code == 503
            assert refused.json()["code"] == 501
            for _ in range(300):
                if not recorder.process.running():
                    break
                await asyncio.sleep(0.2)
        assert not recorder.process.running(), "the recorder did not exit after draining"
    finally:
        exit_code = recorder.process.stop()
    assert exit_code == 0
    assert callback_sink.wait_for(rec.sid, 41).payload["details"]["leaveCode"] == 16
    assert callback_sink.wait_for(rec.sid, 11).payload["details"]["exitStatus"] == 0
    keys = s3_server.object_keys(bucket)
    playlist = f"rec/{rec.sid}_"
    assert any(k.startswith(playlist) and k.endswith(".m3u8") for k in keys), keys
    assert any(k.endswith(".ts") for k in keys), keys
    text = s3_server.get_object(bucket, next(k for k in keys if k.endswith(".m3u8"))).decode()
    assert "#EXT-X-ENDLIST" in text
