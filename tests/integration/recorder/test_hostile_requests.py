"""Any pod and any tenant against the real recorder process (issue 12, items 4, 5, 14-16).

One recorder process for the module, configured as a shared cluster's would be: the
administrator's credential (every app id), a tenant credential for app ``otherapp`` only,
quotas on ``otherapp``, a peer replica ``rz`` (a capturing HTTP server stands in for it), and
only the test's own versitygw allowed among non-public storage addresses. Each attack is a
helper that asserts the refusal (or, for take-over beats forged with the tenant's credential,
that they move nothing of another app's); each runs in a test of its own, and all of them run again
while another tenant's live recording goes on (its publisher a process of its own), whose HLS
in the bucket must have no gap (:mod:`tests.integration.live`). Settings that fail (item 14)
are tried on a recorder process of their own. A take-over record offering another app's live
sid (item 18) needs two real replicas that beat to each other: a test of its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fixtures.recorder import (
    APP_ID,
    CallbackSink,
    RecorderProcess,
    _serve_sink,
    start_recorder,
    start_replicas,
)
from tests.fixtures.storage import new_bucket
from tests.integration.live import PublisherProcess, hls_from_bucket
from tests.integration.recorder.checks import (
    Started,
    close_to,
    mix_request,
    query_status,
    start_recording,
    stop_recording,
)

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.sessions import new_resource_id
from cloudrec_recorder.takeover import Standby

pytestmark = [pytest.mark.media, pytest.mark.timeout(240)]

FPS = 15
OTHER_APP = "otherapp"
TENANT = "tenant-other"
RECORDER_UID = "900001"
CAP = 1024 * 1024


@dataclass
class Guarded:
    recorder: RecorderProcess
    tenant_secret: str
    peer: CallbackSink
    """Stands in for replica ``rz``: keeps every request forwarded to it."""

    @property
    def port(self) -> int:
        return int(self.recorder.base_url.rsplit(":", 1)[1])

    def tenant_auth(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(TENANT, self.tenant_secret)

    def url(self, app: str, path: str) -> str:
        return f"{self.recorder.base_url}/v1/apps/{app}/cloud_recording/{path}"


@pytest.fixture(scope="module")
def guarded(
    tmp_path_factory: pytest.TempPathFactory,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
) -> Iterator[Guarded]:
    peer = CallbackSink(secret="unused")
    peer_server = _serve_sink(peer)
    tenant_secret = secrets.token_urlsafe(18)
    janus_app = {"janus": {"wsUrl": janus.ws_url}}
    running = start_recorder(
        tmp_path_factory.mktemp("guarded"),
        janus,
        callback_sink,
        s3_server,
        new_bucket(s3_server),
        apps={
            APP_ID: janus_app,
            OTHER_APP: janus_app | {"maxConcurrentRecordings": 1, "acquiresPerMinute": 3},
        },
        credentials=[
            {"customerId": TENANT, "customerSecret": tenant_secret, "appIds": [OTHER_APP]}
        ],
        peers={"rz": peer.url.removesuffix("/callbacks")},
        # Acquired ids count until they expire: room for every test of the module on one recorder.
        maxConcurrentRecordings=64,
        metricsPort=free_port(),
    )
    try:
        yield Guarded(running, tenant_secret, peer)
    finally:
        running.process.stop()
        peer_server.shutdown()
        peer_server.server_close()


async def raw_exchange(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str]]:
    """Send a request head (and maybe part of a body); read the answer's status and JSON.

    The answer must come although the announced body never arrives in full: a server
    that waited for the body before deciding would never answer (the wait fails the test).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 15)
        headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), 15)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        payload = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 15)
        return int(status_line.split()[1]), json.loads(payload)
    finally:
        writer.close()


def request_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: recorder", "Content-Type: application/json"]
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode()


def basic(user: str, password: str) -> str:
    return "Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ------------------------------------------------------------------ the attacks


async def unauthenticated_huge_body(g: Guarded) -> None:
    path = f"/v1/apps/{APP_ID}/cloud_recording/acquire"
    status, body = await raw_exchange(g.port, request_head(path, "Content-Length: 33554432"))
    assert (status, body) == (401, {"message": "Unauthorized"})


async def authenticated_body_over_the_cap(g: Guarded) -> None:
    path = f"/v1/apps/{APP_ID}/cloud_recording/acquire"
    auth = basic(g.recorder.customer_id, g.recorder.customer_secret)
    declared = request_head(path, auth, f"Content-Length: {2 * CAP}")
    assert await raw_exchange(g.port, declared) == (
        413,
        {"message": f"Request body too large: at most {CAP} bytes"},
    )
    chunk = b"x" * (CAP + 10)
    chunked = request_head(path, auth, "Transfer-Encoding: chunked")
    first_chunk = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    assert await raw_exchange(g.port, chunked, first_chunk) == (
        413,
        {"message": f"Request body too large: at most {CAP} bytes"},
    )


def reached_peer(g: Guarded) -> list[dict[str, Any]]:
    """What reached the stand-in peer replica, less the recorder's own take-over beats
    (each replica posts one to every peer every second; they carry its ``boot``)."""
    return [n.body for n in g.peer.notifications if "boot" not in n.body]


async def unauthenticated_request_for_a_peers_resource_id(g: Guarded) -> None:
    rid = new_resource_id("rz")
    stop = g.url(APP_ID, f"resourceid/{rid}/sid/{'0' * 32}/mode/mix/stop")
    body = {"cname": "room", "uid": "1", "clientRequest": {}}
    before = len(reached_peer(g))
    async with httpx.AsyncClient(timeout=30) as anonymous:
        refused = await anonymous.post(stop, json=body)
        assert (refused.status_code, refused.json()) == (401, {"message": "Unauthorized"})
        wrong_app = await anonymous.post(stop, json=body, auth=g.tenant_auth())
        assert wrong_app.status_code == 401
        assert wrong_app.json()["message"].endswith("not valid for this app id")
    assert len(reached_peer(g)) == before, "an unauthenticated request was forwarded"


async def internal_storage_endpoints(g: Guarded, s3: S3Server) -> None:
    recorder_port = g.port
    s3_port = s3.endpoint.rsplit(":", 1)[1]
    cases = {
        "http://169.254.169.254": "169.254.169.254 is a cloud metadata address",
        "http://2852039166": "2852039166 is a cloud metadata address",
        "http://0xa9fea9fe": "0xa9fea9fe is a cloud metadata address",
        "http://0251.0376.0251.0376": "is a cloud metadata address (169.254.169.254)",
        "http://[fd00:ec2::254]": "fd00:ec2::254 is a cloud metadata address",
        "http://[::ffff:169.254.169.254]": "a cloud metadata address (inside an IPv6 address)",
        f"http://127.0.0.1:{recorder_port}": "127.0.0.1 is a loopback address",
        f"http://127.0.0.2:{s3_port}": "127.0.0.2 is a loopback address",
        f"http://localhost:{s3_port}": "host localhost resolves to",
        "http://10.0.0.7:9200": "10.0.0.7 is a private address",
    }
    async with g.recorder.client() as client:
        acquired = await client.post(
            g.recorder.url("acquire"), json={"cname": "egress", "uid": RECORDER_UID}
        )
        rid = acquired.json()["resourceId"]
        for endpoint, reason in cases.items():
            storage = g.recorder.storage_config() | {"extensionParams": {"endpoint": endpoint}}
            started = await client.post(
                g.recorder.url(f"resourceid/{rid}/mode/mix/start"),
                json={
                    "cname": "egress",
                    "uid": RECORDER_UID,
                    "clientRequest": mix_request(g.recorder) | {"storageConfig": storage},
                },
            )
            assert started.status_code == 400, (endpoint, started.text)
            answer = started.json()
            assert answer["code"] == 2, (endpoint, answer)
            assert answer["reason"].startswith("storageConfig.extensionParams.endpoint: ")
            assert reason in answer["reason"], (endpoint, answer["reason"])
            assert "egress.allowCidrs" in answer["reason"]


async def unprotected_documents(g: Guarded) -> None:
    admin = g.recorder.auth
    async with httpx.AsyncClient(base_url=g.recorder.base_url, timeout=30) as client:
        for path in ("/metrics", "/docs", "/openapi.json"):
            anonymous = await client.get(path)
            assert (anonymous.status_code, anonymous.json()) == (401, {"message": "Unauthorized"})
            assert (await client.get(path, auth=admin)).status_code == 200, path
        tenant = await client.get("/metrics", auth=g.tenant_auth())
        assert tenant.status_code == 403
        assert (await client.get("/openapi.json", auth=g.tenant_auth())).status_code == 200


async def tenant_over_its_quotas(g: Guarded) -> None:
    """Item 15: a tenant acquires beyond its app's quotas (whatever it holds already)."""
    acquire = {"cname": "quota", "uid": RECORDER_UID}
    async with httpx.AsyncClient(timeout=30, auth=g.tenant_auth()) as tenant:
        answers = [await tenant.post(g.url(OTHER_APP, "acquire"), json=acquire) for _ in range(4)]
    refused = [a for a in answers if a.status_code != 200]
    assert len(refused) >= 3, [a.text for a in answers]
    for answer in refused:
        assert (answer.status_code, answer.json()) == (
            429,
            {"message": "API rate limit exceeded"},
        ) or (
            answer.status_code == 400
            and answer.json()["code"] == 406
            and f"app {OTHER_APP} may have at most 1" in answer.json()["reason"]
        ), answer.text


async def forged_beats(g: Guarded, client: httpx.AsyncClient, rec: Started) -> None:
    """A tenant posts take-over beats under its own app id, as the peer replica ``rz``
    (restarted: a new boot each time) holding another app's live recording after 99
    take-overs. The recording must go on where it is: not fenced, not routed to ``rz``, and
    the answer must not name it."""
    before = len(reached_peer(g))
    async with httpx.AsyncClient(timeout=30, auth=g.tenant_auth()) as tenant:
        for _ in range(3):
            beat = {
                "replica": "rz",
                "boot": secrets.token_hex(8),
                "ready": True,
                "recordings": [],
                "held": [{"sid": rec.sid, "takeovers": 99}],
            }
            answer = await tenant.post(g.url(OTHER_APP, "takeover/beat"), json=beat)
            assert answer.status_code == 200, answer.text
            assert rec.sid not in answer.text
    assert await query_status(client, g.recorder, rec) == 5
    assert len(reached_peer(g)) == before, "another app's query was routed to the forger"


def forged_record(rec: Started, tenant_storage: dict[str, Any]) -> dict[str, Any]:
    """A take-over record a tenant makes up: another app's live sid (and resource id and
    room), the tenant's own uid and storage."""
    now_ms = int(time.time() * 1000)
    request = {
        "recordingConfig": {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": tenant_storage,
    }
    return Standby(
        sid=rec.sid,
        resource_id=rec.rid,
        cname=rec.cname,
        uid="900777",
        client_request=request,
        expired_hour=24,
        origin_epoch_ms=now_ms,
        first_frame_ms=now_ms,
    ).to_wire()


async def forged_record_of_another_apps_sid(
    pair: list[RecorderProcess], tenant_auth: httpx.BasicAuth, rec: Started, bucket: str
) -> None:
    """A tenant posts, under its own app id, take-over beats whose record offers another
    app's live recording (on ``ra``). ``ra`` holds that sid for the other app: the beat is
    refused with the reason, and its log names no secret. ``rb`` is told ``ra`` came back as
    a new process with that record: ``rb`` hears from ``ra`` itself that the sid is the other
    app's and does not take it over, and the other app's requests for the sid through ``rb``
    still reach ``ra``, which answers them."""
    ra, rb = pair
    storage = ra.storage_config() | {"bucket": bucket}
    record = forged_record(rec, storage)
    async with httpx.AsyncClient(timeout=30, auth=tenant_auth) as tenant:
        as_ra = {"replica": "ra", "boot": secrets.token_hex(8), "recordings": [record]}
        forged = await tenant.post(
            f"{rb.base_url}/v1/apps/{OTHER_APP}/cloud_recording/takeover/beat", json=as_ra
        )
        assert forged.status_code == 200, forged.text
        # ra's own next beat (its real boot) makes the forged "ra" look restarted: lost
        await asyncio.sleep(6)
        async with rb.client() as via_rb:
            for _ in range(3):
                answer = await via_rb.get(
                    f"{rb.base_url}/v1/apps/{APP_ID}/cloud_recording/{rec.path('query')}"
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["serverResponse"]["status"] == 5, answer.text
                await asyncio.sleep(1)
        beat = {"replica": "rb", "boot": secrets.token_hex(8), "recordings": [record]}
        on_holder = await tenant.post(
            f"{ra.base_url}/v1/apps/{OTHER_APP}/cloud_recording/takeover/beat", json=beat
        )
        assert on_holder.status_code == 400, on_holder.text
        assert on_holder.json()["code"] == 2
        assert "another app" in on_holder.json()["reason"], on_holder.text
    log = ra.log_path.read_text()
    assert "Beat refused" in log
    assert f"Not taken over sid={rec.sid} app={OTHER_APP}" in rb.log_path.read_text()
    assert storage["secretKey"] not in log and storage["secretKey"] not in on_holder.text


NUMERIC_SECRET = "4242424242"


async def settings_echoing_a_secret(workdir: Path) -> None:
    """Item 14: settings that fail validation, with a secret of digits in the environment:
    the real recorder process names the field and prints no secret."""
    config = workdir / "bad-settings.yaml"
    config.write_text("customerId: me\napps: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDREC_RECORDER_")}
    env["CLOUDREC_RECORDER_CUSTOMER_SECRET"] = NUMERIC_SECRET
    env["CLOUDREC_RECORDER_CREDENTIALS"] = "[{customerId: t, customerSecret: 987654}]"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cloudrec_recorder",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode == 2, output
    assert "credentials[0].appIds: Field required" in output
    assert NUMERIC_SECRET not in output and "987654" not in output


# ------------------------------------------------------------------ one test per attack


async def test_the_separate_metrics_port_serves_metrics_only_and_without_credentials(
    guarded: Guarded,
) -> None:
    port = guarded.recorder.settings["metricsPort"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert "cloudrec_recordings_active" in scraped.text
        assert guarded.recorder.customer_secret not in scraped.text
        acquire = await client.post(f"/v1/apps/{APP_ID}/cloud_recording/acquire", json={})
        assert "resourceId" not in acquire.text


async def test_an_unauthenticated_32_mib_body_is_answered_401_before_it_is_read(
    guarded: Guarded,
) -> None:
    await unauthenticated_huge_body(guarded)


async def test_an_authenticated_body_over_the_cap_is_refused_413_before_it_is_read(
    guarded: Guarded,
) -> None:
    await authenticated_body_over_the_cap(guarded)


async def test_an_unauthenticated_request_is_never_forwarded_to_a_peer_replica(
    guarded: Guarded,
) -> None:
    await unauthenticated_request_for_a_peers_resource_id(guarded)
    async with guarded.recorder.client() as admin:  # the same request, authenticated
        rid = new_resource_id("rz")
        forwarded = await admin.post(
            guarded.url(APP_ID, f"resourceid/{rid}/sid/{'0' * 32}/mode/mix/stop"),
            json={"cname": "room", "uid": "1", "clientRequest": {}},
        )
    assert forwarded.status_code == 200 and forwarded.json() == {"ok": True}
    assert reached_peer(guarded)[-1]["cname"] == "room"


async def test_storage_on_metadata_loopback_or_private_addresses_is_refused_with_code_2(
    guarded: Guarded, s3_server: S3Server
) -> None:
    await internal_storage_endpoints(guarded, s3_server)


async def test_a_recorder_whose_settings_fail_names_the_field_and_prints_no_secret(
    tmp_path: Path,
) -> None:
    await settings_echoing_a_secret(tmp_path)


async def test_docs_openapi_and_metrics_need_credentials_and_metrics_the_administrators(
    guarded: Guarded,
) -> None:
    await unprotected_documents(guarded)


async def test_a_tenant_credential_acts_on_its_own_app_only_within_its_quotas(
    guarded: Guarded,
) -> None:
    acquire = {"cname": "quota", "uid": RECORDER_UID}
    async with httpx.AsyncClient(timeout=30, auth=guarded.tenant_auth()) as tenant:
        first = await tenant.post(guarded.url(OTHER_APP, "acquire"), json=acquire)
        assert first.status_code == 200, first.text
        elsewhere = await tenant.post(guarded.url(APP_ID, "acquire"), json=acquire)
        assert elsewhere.status_code == 401
        assert elsewhere.json()["message"].endswith("not valid for this app id")
        over = [await tenant.post(guarded.url(OTHER_APP, "acquire"), json=acquire) for _ in "ab"]
        for answer in over:
            assert (answer.status_code, answer.json()["code"]) == (400, 406), answer.text
            assert f"app {OTHER_APP} may have at most 1" in answer.json()["reason"]
        async with guarded.recorder.client() as admin:  # the other tenants are unaffected
            theirs = await admin.post(guarded.url(APP_ID, "acquire"), json=acquire)
            assert theirs.status_code == 200, theirs.text
        limited = await tenant.post(guarded.url(OTHER_APP, "acquire"), json=acquire)
        assert (limited.status_code, limited.json()) == (
            429,
            {"message": "API rate limit exceeded"},
        )


@pytest.mark.parametrize(
    ("width", "height", "reason"),
    [
        (16, 129600, "width and height must be at most 1920 and 1920, got 16x129600"),
        (361, 640, "width and height must be even and at least 2, got 361x640"),
    ],
)
async def test_a_canvas_the_encoder_cannot_take_is_refused_with_code_2_before_recording(
    guarded: Guarded, width: int, height: int, reason: str
) -> None:
    canvas = {"width": width, "height": height, "fps": 15, "bitrate": 300}
    async with guarded.recorder.client() as client:
        acquired = await client.post(
            guarded.recorder.url("acquire"), json={"cname": "canvas", "uid": RECORDER_UID}
        )
        rid = acquired.json()["resourceId"]
        started = await client.post(
            guarded.recorder.url(f"resourceid/{rid}/mode/mix/start"),
            json={
                "cname": "canvas",
                "uid": RECORDER_UID,
                "clientRequest": mix_request(guarded.recorder, transcodingConfig=canvas),
            },
        )
    assert started.status_code == 400, started.text
    assert started.json()["code"] == 2
    assert started.json()["reason"] == f"recordingConfig.transcodingConfig: {reason}"


# ------------------------------------------------------------------ under attack


async def test_a_live_recording_has_no_gap_in_its_hls_while_every_attack_runs(
    guarded: Guarded, s3_server: S3Server, janus: Janus, room: str, tmp_path: Path
) -> None:
    recorder = guarded.recorder
    config = {
        "channelType": 0,
        "streamTypes": 2,
        "maxIdleTime": 120,
        "transcodingConfig": {"width": 320, "height": 240, "fps": FPS, "bitrate": 300},
    }
    with PublisherProcess(janus, room, "1001", tmp_path, size=(160, 120)) as publisher:
        async with recorder.client() as client:
            rec = await start_recording(client, recorder, room, RECORDER_UID, config)
            await asyncio.sleep(3)
            failing_recorder = asyncio.create_task(settings_echoing_a_secret(tmp_path))
            for _ in range(3):
                await asyncio.gather(
                    unauthenticated_huge_body(guarded),
                    authenticated_body_over_the_cap(guarded),
                    unauthenticated_request_for_a_peers_resource_id(guarded),
                    internal_storage_endpoints(guarded, s3_server),
                    unprotected_documents(guarded),
                    tenant_over_its_quotas(guarded),
                    forged_beats(guarded, client, rec),
                )
            await failing_recorder
            await asyncio.sleep(3)
            await asyncio.to_thread(publisher.assert_publishing)
            stopped = await stop_recording(client, recorder, rec)
    key = stopped["serverResponse"]["fileList"]
    hls = await asyncio.to_thread(
        hls_from_bucket, recorder.s3, recorder.bucket, key, tmp_path / "hls"
    )
    hls.assert_continuous(FPS, at_least=5.0)
    assert close_to(hls.last_colour, publisher.color)


@pytest.fixture
def guarded_pair(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[tuple[list[RecorderProcess], httpx.BasicAuth]]:
    """Two real replicas that beat to each other, serving ``otherapp`` too, with the tenant's
    credential for ``otherapp`` only."""
    tenant_secret = secrets.token_urlsafe(18)
    janus_app = {"janus": {"wsUrl": janus.ws_url}}
    running = start_replicas(
        tmp_path,
        janus,
        callback_sink,
        s3_server,
        new_bucket(s3_server),
        apps={APP_ID: janus_app, OTHER_APP: janus_app},
        credentials=[
            {"customerId": TENANT, "customerSecret": tenant_secret, "appIds": [OTHER_APP]}
        ],
    )
    try:
        yield running, httpx.BasicAuth(TENANT, tenant_secret)
    finally:
        for replica in running:
            replica.process.stop()


async def test_a_forged_take_over_record_naming_another_apps_live_sid_never_reaches_that_recording(
    guarded_pair: tuple[list[RecorderProcess], httpx.BasicAuth],
    s3_server: S3Server,
    janus: Janus,
    room: str,
    tmp_path: Path,
) -> None:
    pair, tenant_auth = guarded_pair
    ra = pair[0]
    config = {
        "channelType": 0,
        "streamTypes": 2,
        "maxIdleTime": 120,
        "transcodingConfig": {"width": 320, "height": 240, "fps": FPS, "bitrate": 300},
    }
    with PublisherProcess(janus, room, "1001", tmp_path, size=(160, 120)) as publisher:
        async with ra.client() as client:
            rec = await start_recording(client, ra, room, RECORDER_UID, config)
            await asyncio.sleep(4)  # the replicas beat: rb knows ra holds the sid
            await forged_record_of_another_apps_sid(pair, tenant_auth, rec, new_bucket(s3_server))
            assert await query_status(client, ra, rec) == 5
            await asyncio.sleep(2)
            await asyncio.to_thread(publisher.assert_publishing)
            stopped = await stop_recording(client, ra, rec)
    key = stopped["serverResponse"]["fileList"]
    hls = await asyncio.to_thread(hls_from_bucket, ra.s3, ra.bucket, key, tmp_path / "hls")
    hls.assert_continuous(FPS, at_least=5.0)
    assert close_to(hls.last_colour, publisher.color)
