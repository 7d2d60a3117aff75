"""Janus goes away under running recordings: they end with the protocol's codes, never hang.

Every recording of a recorder process shares one WebSocket to Janus. When Janus restarts, the
WebSocket closes and Janus has forgotten every session on it; when Janus freezes (SIGSTOP), the
WebSocket stays open but nothing answers, and the recorder's pings go unanswered. Either way
each affected recording leaves with ``recorder_leave`` (41) leaveCode 0 and ends with
``session_exit`` (11) exitStatus 1 once its files are delivered (they are in the bucket), a
stop of an ended recording answers at once, and a start made once Janus is back records again
on a new WebSocket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder
from tests.fixtures.storage import new_bucket
from tests.integration.recorder.checks import (
    Started,
    mix_config,
    mix_request,
    query_status,
    start_recording,
    stop_recording,
    wait_status,
)

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.codes import ErrorCode, RecordingStatus
from cloudrec_protocol.events import EventType, ExitStatus, LeaveCode

pytestmark = [pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(240)]

ROOM = "outage"
RECORDER_UIDS = ("900081", "900082")
PUBLISHER = "1001"
ENDED_WITHIN = 30.0
"""Seconds from the outage to both recordings' ``recorder_leave``: the WebSocket's ping
(every 10 s, a pong due within 5 s) bounds it, with room for a loaded machine."""


@pytest.fixture
def own_janus(tmp_path: Path) -> Iterator[Janus]:
    """A Janus of this test's own, which it restarts or freezes."""
    janus = Janus(tmp_path / "janus").start()
    try:
        janus.create_room(ROOM)
        yield janus
    finally:
        janus.resume()
        janus.stop()


@pytest.fixture
def outage_recorder(
    tmp_path: Path, own_janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[RecorderProcess]:
    recorder = start_recorder(
        tmp_path / "recorder", own_janus, callback_sink, s3_server, new_bucket(s3_server)
    )
    try:
        yield recorder
    finally:
        recorder.process.stop()


async def record_two(client: httpx.AsyncClient, recorder: RecorderProcess) -> list[Started]:
    """Two recordings of the room (two Janus sessions on the recorder's one WebSocket)."""
    started = [
        await start_recording(client, recorder, ROOM, uid, mix_config(maxIdleTime=60))
        for uid in RECORDER_UIDS
    ]
    for rec in started:
        await wait_status(client, recorder, rec, RecordingStatus.IN_PROGRESS)
    return started


async def assert_ended_abnormally(recorder: RecorderProcess, started: list[Started]) -> None:
    deadline = time.monotonic() + ENDED_WITHIN
    for rec in started:
        left = await asyncio.to_thread(
            recorder.sink.wait_for,
            rec.sid,
            EventType.RECORDER_LEAVE,
            max(0.1, deadline - time.monotonic()),
        )
        assert left.payload["details"]["leaveCode"] == LeaveCode.INIT
    for rec in started:
        ended = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, EventType.SESSION_EXIT, 30)
        assert ended.payload["details"]["exitStatus"] == ExitStatus.ABNORMAL


async def assert_records_again(
    client: httpx.AsyncClient, recorder: RecorderProcess, janus: Janus, publish: PublishFactory
) -> None:
    async with publish(ROOM, PUBLISHER, janus_url=janus.ws_url, width=160, height=120, fps=10):
        rec = await start_recording(client, recorder, ROOM, "900083", mix_config())
        await wait_status(client, recorder, rec, RecordingStatus.IN_PROGRESS)
        body = await stop_recording(client, recorder, rec)
    assert body["serverResponse"]["fileList"]


async def test_recordings_end_with_the_protocols_codes_when_janus_restarts_and_the_next_records(
    own_janus: Janus, outage_recorder: RecorderProcess, publish: PublishFactory
) -> None:
    recorder = outage_recorder
    async with recorder.client() as client:
        async with publish(
            ROOM, PUBLISHER, janus_url=own_janus.ws_url, width=160, height=120, fps=10
        ):
            started = await record_two(client, recorder)
            forwarders = await asyncio.to_thread(own_janus.list_forwarders, ROOM)
            assert {f["type"] for f in forwarders[PUBLISHER]} >= {"audio", "video"}
            await asyncio.to_thread(own_janus.restart)
            await assert_ended_abnormally(recorder, started)
        keys = await asyncio.to_thread(recorder.s3.object_keys, recorder.bucket)
        for rec in started:
            assert await query_status(client, recorder, rec) == RecordingStatus.EXITED_ABNORMALLY
            assert any(rec.sid in k and k.endswith(".ts") for k in keys), f"{rec.sid}: {keys}"
            # the recording is over: a stop answers at once, exiting (code 49) or gone (404)
            began = time.monotonic()
            stop = await client.post(
                recorder.url(rec.path("stop")),
                json={"cname": rec.cname, "uid": rec.uid, "clientRequest": {}},
            )
            assert time.monotonic() - began < 5
            assert stop.status_code == 404 or stop.json().get("code") == 49, stop.text
        await asyncio.to_thread(own_janus.create_room, ROOM)
        await assert_records_again(client, recorder, own_janus, publish)


async def test_recordings_end_with_the_protocols_codes_when_janus_freezes_and_starts_do_not_hang(
    own_janus: Janus, outage_recorder: RecorderProcess, publish: PublishFactory
) -> None:
    recorder = outage_recorder
    async with recorder.client() as client:
        async with publish(
            ROOM, PUBLISHER, janus_url=own_janus.ws_url, width=160, height=120, fps=10
        ):
            started = await record_two(client, recorder)
            own_janus.pause()
            try:
                await assert_ended_abnormally(recorder, started)
                # a start while Janus hangs is answered (504, code 62), not held
                began = time.monotonic()
                acquired = await client.post(
                    recorder.url("acquire"), json={"cname": ROOM, "uid": "900084"}
                )
                rid = acquired.json()["resourceId"]
                refused = await client.post(
                    recorder.url(f"resourceid/{rid}/mode/mix/start"),
                    json={
                        "cname": ROOM,
                        "uid": "900084",
                        "clientRequest": mix_request(recorder),
                    },
                )
                assert time.monotonic() - began < 20
                assert refused.status_code == 504, refused.text
                assert refused.json()["code"] == ErrorCode.REQUEST_TIMEOUT
            finally:
                own_janus.resume()
    async with recorder.client() as client:
        await assert_records_again(client, recorder, own_janus, publish)
