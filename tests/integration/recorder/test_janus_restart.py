"""A Janus restart under a running recording: the recording ends with the protocol's codes,
its files reach the bucket, nothing hangs, and the recorder records the restarted Janus."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import httpx
import pytest
from tests.fixtures.recorder import CallbackSink, start_recorder
from tests.integration.recorder.checks import mix_config, start_recording, wait_status

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_devenv.publisher import Publisher
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.events import EventType, LeaveCode

pytestmark = [pytest.mark.media, pytest.mark.timeout(150)]


async def test_a_janus_restart_ends_the_recording_with_its_leave_code_and_stops_receiving(
    tmp_path: Path, callback_sink: CallbackSink, s3_server: S3Server
) -> None:
    janus = Janus(
        tmp_path / "janus", port=free_port("127.0.0.1"), ws_port=free_port("127.0.0.1")
    ).start()
    bucket = "jrestart-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    recorder = start_recorder(tmp_path / "recorder", janus, callback_sink, s3_server, bucket)
    publisher: Publisher | None = None
    try:
        room = janus.create_room("restart")
        publisher = await Publisher(janus.ws_url, room, "1001", width=160, height=120).start()
        async with recorder.client() as client:
            rec = await start_recording(client, recorder, room, "900031", mix_config())
            await wait_status(client, recorder, rec, 5)
            forwarders = await asyncio.to_thread(janus.list_forwarders, room)
            assert {f["type"] for f in forwarders["1001"]} == {"audio", "video"}
            await asyncio.sleep(3)

            janus.stop()
            janus.start()  # same port: the recorder's session is unknown to the new process
            leave = await asyncio.to_thread(
                callback_sink.wait_for, rec.sid, EventType.RECORDER_LEAVE, 60
            )
            exit_event = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 11, 30)
            # the recording is over: a stop answers at once instead of hanging
            started = time.monotonic()
            stop = await client.post(
                recorder.url(rec.path("stop")),
                json={"cname": rec.cname, "uid": rec.uid, "clientRequest": {}},
            )
            assert time.monotonic() - started < 5
            # the protocol's answers for a task that ended: exiting (code 49) or gone (404)
            assert stop.status_code == 404 or stop.json().get("code") == 49, stop.text
            # the recorder still records new channels on the restarted Janus
            room = janus.create_room("after")
            await publisher.leave()
            publisher = await Publisher(janus.ws_url, room, "1002", width=160, height=120).start()
            again = await start_recording(client, recorder, room, "900032", mix_config())
            await wait_status(client, recorder, again, 5)
            response = await client.post(
                recorder.url(again.path("stop")),
                json={"cname": again.cname, "uid": again.uid, "clientRequest": {}},
            )
            assert response.status_code == 200, response.text
    finally:
        if publisher is not None:
            await publisher.leave()
        recorder.process.stop()
        janus.stop()
    assert leave.payload["details"]["leaveCode"] == LeaveCode.INIT
    assert exit_event.payload["details"]["exitStatus"] == 1  # abnormal: the channel went away
    assert any(key.endswith(".ts") for key in s3_server.object_keys(bucket)), "nothing uploaded"
    assert isinstance(stop, httpx.Response)
