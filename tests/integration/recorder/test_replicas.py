"""Two recorder replicas: a request reaching the replica that does not own the resource id
is forwarded to the owner."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder
from tests.integration.recorder.checks import mix_request

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.sessions import new_resource_id, replica_of

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
) -> Iterator[tuple[RecorderProcess, RecorderProcess]]:
    tmp_path = tmp_path_factory.mktemp("replicas")
    bucket = "repl-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    port_a, port_b, dead = free_port(), free_port(), free_port()
    secret = secrets.token_urlsafe(18)
    peers = {
        "ra": f"http://127.0.0.1:{port_a}",
        "rb": f"http://127.0.0.1:{port_b}",
        "rc": f"http://127.0.0.1:{dead}",
    }
    common = {"customer_secret": secret, "peers": peers}
    a = start_recorder(
        tmp_path / "a",
        janus,
        callback_sink,
        s3_server,
        bucket,
        port=port_a,
        replicaId="ra",
        **common,
    )
    try:
        b = start_recorder(
            tmp_path / "b",
            janus,
            callback_sink,
            s3_server,
            bucket,
            port=port_b,
            replicaId="rb",
            **common,
        )
        try:
            yield a, b
        finally:
            b.process.stop()
    finally:
        a.process.stop()


async def test_a_recording_acquired_on_one_replica_is_driven_through_another(
    replicas: tuple[RecorderProcess, RecorderProcess], room: str
) -> None:
    a, b = replicas
    async with a.client() as on_a, b.client() as on_b:
        acquired = await on_a.post(a.url("acquire"), json={"cname": room, "uid": "7001"})
        rid = acquired.json()["resourceId"]
        assert replica_of(rid) == "ra"
        started = await on_b.post(
            b.url(f"resourceid/{rid}/mode/mix/start"),
            json={"cname": room, "uid": "7001", "clientRequest": mix_request(b)},
        )
        assert started.status_code == 200, started.text
        sid = started.json()["sid"]
        for client, owner in ((on_b, b), (on_a, a)):
            queried = await client.get(owner.url(f"resourceid/{rid}/sid/{sid}/mode/mix/query"))
            assert queried.status_code == 200, queried.text
            assert queried.json()["serverResponse"]["status"] == 4
        stopped = await on_b.post(
            b.url(f"resourceid/{rid}/sid/{sid}/mode/mix/stop"),
            json={"cname": room, "uid": "7001", "clientRequest": {}},
        )
        assert (stopped.status_code, stopped.json()["code"]) == (206, 435)
    # The owner did the work; the other replica only passed the requests on.
    started_line = f"Started recording appid=testapp cname={room} sid={sid}"
    assert started_line in a.log_path.read_text()
    assert started_line not in b.log_path.read_text()


async def test_a_replica_that_cannot_be_reached_answers_failed_to_find_worker(
    replicas: tuple[RecorderProcess, RecorderProcess],
) -> None:
    _, b = replicas
    rid = new_resource_id("rc")
    async with b.client() as client:
        response = await client.get(b.url(f"resourceid/{rid}/sid/abc/mode/mix/query"))
    assert response.status_code == 404
    assert response.json() == {"code": 404, "reason": "failed to find worker"}
