"""Protocol conformance of the real recorder process (protocol.md §3, §5, §6).

Every request goes over HTTP to ``python -m cloudrec_recorder``, configured against a real
Janus (rooms are channels) and a real versitygw bucket.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import (
    MAX_RECORDINGS,
    TTL_SECONDS,
    CallbackSink,
    RecorderProcess,
    start_recorder,
)
from tests.integration.recorder.checks import mix_request

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.errors import (
    AlreadyRunningError,
    AlreadyStoppedError,
    NoRecordedDataError,
    NotFoundError,
)
from cloudrec_protocol.models import AcquireClientRequest, StartRequest

pytestmark = pytest.mark.media


async def acquire(
    client: httpx.AsyncClient, recorder: RecorderProcess, cname: str, uid: str
) -> str:
    response = await client.post(
        recorder.url("acquire"), json={"cname": cname, "uid": uid, "clientRequest": {}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"cname": cname, "uid": uid, "resourceId": body["resourceId"]}
    return str(body["resourceId"])


async def start(
    client: httpx.AsyncClient,
    recorder: RecorderProcess,
    rid: str,
    cname: str,
    uid: str,
    client_request: dict[str, Any] | None = None,
    mode: str = "mix",
) -> httpx.Response:
    return await client.post(
        recorder.url(f"resourceid/{rid}/mode/{mode}/start"),
        json={"cname": cname, "uid": uid, "clientRequest": client_request or mix_request(recorder)},
    )


async def stop(
    client: httpx.AsyncClient, recorder: RecorderProcess, rid: str, sid: str, cname: str, uid: str
) -> httpx.Response:
    return await client.post(
        recorder.url(f"resourceid/{rid}/sid/{sid}/mode/mix/stop"),
        json={"cname": cname, "uid": uid, "clientRequest": {"async_stop": False}},
    )


async def test_a_request_with_a_wrong_secret_gets_the_gateway_401(
    recorder: RecorderProcess,
) -> None:
    async with httpx.AsyncClient(auth=httpx.BasicAuth(recorder.customer_id, "wrong")) as client:
        response = await client.post(recorder.url("acquire"), json={"cname": "a", "uid": "1"})
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid authentication credentials"}


async def test_an_unknown_route_gets_the_gateway_404(recorder: RecorderProcess) -> None:
    async with recorder.client() as client:
        response = await client.post(f"/v1/apps/{recorder.app_id}/cloud_recording/acquired")
    assert response.status_code == 404
    assert response.json() == {"message": "no Route matched with those values"}


async def test_a_bad_start_body_is_code_2_naming_the_field(
    recorder: RecorderProcess, room: str
) -> None:
    async with recorder.client() as client:
        rid = await acquire(client, recorder, room, "5001")
        request = mix_request(recorder, maxIdleTime=1)
        response = await start(client, recorder, rid, room, "5001", request)
    assert response.status_code == 400
    assert response.json()["code"] == 2
    assert "maxIdleTime" in response.json()["reason"]


async def test_decryption_is_refused_with_code_2(recorder: RecorderProcess, room: str) -> None:
    async with recorder.client() as client:
        rid = await acquire(client, recorder, room, "5002")
        request = mix_request(recorder, decryptionMode=1, secret="s")
        response = await start(client, recorder, rid, room, "5002", request)
    assert response.status_code == 400
    assert response.json()["code"] == 2
    assert "cannot decrypt channels yet" in response.json()["reason"]


async def test_a_room_that_does_not_exist_is_refused_as_an_invalid_channel(
    recorder: RecorderProcess,
) -> None:
    async with recorder.client() as client:
        rid = await acquire(client, recorder, "no-such-room", "5003")
        response = await start(client, recorder, rid, "no-such-room", "5003")
    assert response.status_code == 400
    assert response.json()["code"] == 401


async def test_a_resource_id_expires_before_start(recorder: RecorderProcess, room: str) -> None:
    async with recorder.client() as client:
        rid = await acquire(client, recorder, room, "5004")
        await asyncio.sleep(TTL_SECONDS + 1)
        response = await start(client, recorder, rid, room, "5004")
    assert response.status_code == 400
    assert response.json()["code"] == 433


async def test_query_of_an_unknown_sid_is_404(recorder: RecorderProcess, room: str) -> None:
    async with recorder.client() as client:
        rid = await acquire(client, recorder, room, "5005")
        response = await client.get(recorder.url(f"resourceid/{rid}/sid/deadbeef/mode/mix/query"))
    assert response.status_code == 404
    assert response.json() == {"code": 404, "reason": "failed to find worker"}


async def test_acquire_beyond_the_concurrency_limit_is_code_406(
    recorder: RecorderProcess, room: str
) -> None:
    answers = []
    async with recorder.client() as client:
        for uid in range(6001, 6002 + MAX_RECORDINGS):
            answers.append(
                await client.post(recorder.url("acquire"), json={"cname": room, "uid": str(uid)})
            )
        refused = [r for r in answers if r.status_code != 200]
        assert refused, "no acquire was refused"
        assert refused[0].status_code == 400
        assert refused[0].json()["code"] == 406
        # Give the reserved slots back: wait out the resource ids' validity.
        await asyncio.sleep(TTL_SECONDS + 0.5)


async def test_an_empty_channel_records_nothing_and_answers_the_protocol_codes(
    recorder: RecorderProcess, room: str
) -> None:
    async with recorder.client() as client:
        rid = await acquire(client, recorder, room, "5006")
        started = await start(client, recorder, rid, room, "5006")
        assert started.status_code == 200, started.text
        sid = started.json()["sid"]
        assert started.json() == {"cname": room, "uid": "5006", "resourceId": rid, "sid": sid}

        again = await start(client, recorder, rid, room, "5006")
        assert (again.status_code, again.json()["code"]) == (201, 7)
        assert (again.json()["resourceId"], again.json()["sid"]) == (rid, sid)

        rid2 = await acquire(client, recorder, room, "5006")
        conflict = await start(client, recorder, rid2, room, "5006")
        assert (conflict.status_code, conflict.json()["code"]) == (400, 53)

        queried = await client.get(recorder.url(f"resourceid/{rid}/sid/{sid}/mode/mix/query"))
        assert queried.status_code == 200
        assert queried.json()["serverResponse"]["status"] == 4

        stopped = await stop(client, recorder, rid, sid, room, "5006")
        assert (stopped.status_code, stopped.json()["code"]) == (206, 435)

        repeated = await stop(client, recorder, rid, sid, room, "5006")
        assert (repeated.status_code, repeated.json()["code"]) == (400, 49)

    started_event = recorder.sink.wait_for(sid, 40)
    assert started_event.signature_ok
    assert started_event.body["productId"] == 3
    assert started_event.payload["details"]["msgName"] == "recorder_started"
    leave = recorder.sink.wait_for(sid, 41)
    assert leave.payload["details"]["leaveCode"] == 16
    recorder.sink.wait_for(sid, 11)
    sequences = [n.payload["sequence"] for n in recorder.sink.for_sid(sid)]
    assert sorted(sequences) == list(range(len(sequences)))


async def test_a_uid_already_in_the_channel_is_a_conflict(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    async with recorder.client() as client, publish(room, "5007", width=160, height=120):
        rid = await acquire(client, recorder, room, "5007")
        response = await start(client, recorder, rid, room, "5007")
    assert response.status_code == 400
    assert response.json()["code"] == 53
    assert "already in channel" in response.json()["reason"]


async def test_metrics_count_requests_and_callbacks_and_show_the_media_workers_lag(
    recorder: RecorderProcess,
) -> None:
    async with recorder.client() as client:
        text = (await client.get("/metrics")).text
    assert "cloudrec_recordings_active" in text
    assert 'cloudrec_requests_total{route="/v1/apps/{appid}/cloud_recording/acquire"' in text
    assert "cloudrec_callbacks_sent_total" in text
    lag = [line for line in text.splitlines() if line.startswith("cloudrec_media_lag_seconds ")]
    assert len(lag) == 1 and float(lag[0].split()[1]) >= 0.0
    assert "cloudrec_media_lag_episodes_total" in text
    assert "cloudrec_media_lag_worst_seconds_bucket" in text


async def test_a_missing_or_refused_token_is_refused_and_a_valid_one_records(
    tmp_path: Path,
    janus_with_tokens: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
) -> None:
    room = "tokens-" + secrets.token_hex(3)
    janus_with_tokens.create_room(room)
    bucket = "tok-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    apps = {"testapp": {"janus": {"wsUrl": janus_with_tokens.ws_url, "tokenAuth": True}}}
    own = start_recorder(tmp_path, janus_with_tokens, callback_sink, s3_server, bucket, apps=apps)
    try:
        async with own.client() as client:
            rid = await acquire(client, own, room, "5008")
            missing = await start(client, own, rid, room, "5008", mix_request(own))
            assert (missing.status_code, missing.json()["code"]) == (400, 2)
            assert "clientRequest.token" in missing.json()["reason"]
            request = {
                **mix_request(own),
                "token": "1,janus,janus.plugin.videoroom:bm90LXNpZ25lZA==",
            }
            refused = await start(client, own, rid, room, "5008", request)
            assert (refused.status_code, refused.json()["code"]) == (400, 110)
            assert "bm90LXNpZ25lZA" not in own.log_path.read_text()

            request = {**mix_request(own), "token": janus_with_tokens.token()}
            accepted = await start(client, own, rid, room, "5008", request)
            assert accepted.status_code == 200, accepted.text
            sid = accepted.json()["sid"]
            stopped = await stop(client, own, rid, sid, room, "5008")
            assert stopped.json()["code"] == 435
    finally:
        own.process.stop()
        janus_with_tokens.destroy_room(room)


async def test_the_protocol_client_round_trips_with_typed_errors(
    recorder: RecorderProcess, room: str
) -> None:
    request = StartRequest.model_validate(
        {"cname": room, "uid": "5009", "clientRequest": mix_request(recorder)}
    )
    async with recorder.recording_client(retries=0) as client:
        acquired = await client.acquire(recorder.app_id, room, "5009", AcquireClientRequest())
        rid = acquired.resource_id
        started = await client.start(recorder.app_id, rid, "mix", request)
        with pytest.raises(AlreadyRunningError):
            await client.start(recorder.app_id, rid, "mix", request)
        queried = await client.query(recorder.app_id, rid, started.sid, "mix")
        assert queried.server_response.status == RecordingStatus.READY
        assert queried.server_response.file_list_mode == "string"
        with pytest.raises(NoRecordedDataError):
            await client.stop(recorder.app_id, rid, started.sid, "mix", room, "5009")
        with pytest.raises(AlreadyStoppedError):
            await client.stop(recorder.app_id, rid, started.sid, "mix", room, "5009")
        with pytest.raises(NotFoundError):
            await client.query(recorder.app_id, rid, "0" * 32, "mix")


async def test_a_storage_vendor_the_recorder_cannot_write_to_is_code_2(
    recorder: RecorderProcess, room: str
) -> None:
    request = mix_request(recorder)
    request["storageConfig"] = {**request["storageConfig"], "vendor": 5, "region": 0}
    async with recorder.client() as client:
        rid = await acquire(client, recorder, room, "5010")
        response = await start(client, recorder, rid, room, "5010", request)
    assert response.status_code == 400
    assert response.json()["code"] == 2
    assert "vendor" in response.json()["reason"]


def test_no_secret_reaches_the_recorders_log(recorder: RecorderProcess) -> None:
    log = recorder.log_path.read_text()
    assert "Started recording" in log  # the tests above did record
    for secret in (recorder.customer_secret, recorder.s3.secret_key, recorder.sink.secret):
        assert secret not in log
