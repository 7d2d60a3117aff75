"""The recorder API over HTTPS, with a certificate of a private CA (as cert-manager issues).

The chart mounts a ``kubernetes.io/tls`` Secret into the recorder (``recorder.tls``) and
the CA into the operator (``--ca-file``). Here: the real recorder process serves HTTPS, the
operator's protocol client with the CA acquires a resource, and neither a client without
the CA nor a plain-HTTP client gets an answer carrying credentials.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder

from cloudrec_devenv.certs import CertificateAuthority
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_protocol.errors import TransportError
from cloudrec_protocol.models import AcquireClientRequest

pytestmark = [pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def tls_recorder(
    tmp_path_factory: pytest.TempPathFactory,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
) -> Iterator[tuple[RecorderProcess, Path]]:
    workdir = tmp_path_factory.mktemp("tls-recorder")
    ca = CertificateAuthority("recorder-ca")
    served = ca.issue("recorder", dns_names=["localhost"], ip_addresses=["127.0.0.1"], server=True)
    files = {"tls.crt": served.cert_pem, "tls.key": served.key_pem, "ca.crt": ca.cert_pem}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
        (workdir / name).chmod(0o600)
    bucket = "tls-" + secrets.token_hex(5)
    s3_server.create_bucket(bucket)
    tls = (workdir / "tls.crt", workdir / "tls.key", workdir / "ca.crt")
    running = start_recorder(workdir / "run", janus, callback_sink, s3_server, bucket, tls=tls)
    try:
        yield running, workdir / "ca.crt"
    finally:
        running.process.stop()


async def test_the_operator_client_trusting_the_recorder_ca_acquires_over_https(
    tls_recorder: tuple[RecorderProcess, Path],
) -> None:
    rec, ca_file = tls_recorder
    assert rec.base_url.startswith("https://")
    async with rec.recording_client(ca_file=str(ca_file)) as client:
        acquired = await client.acquire(rec.app_id, "tls-room", "4321", AcquireClientRequest())
    assert acquired.resource_id


async def test_a_client_without_the_ca_or_over_plain_http_gets_no_answer(
    tls_recorder: tuple[RecorderProcess, Path],
) -> None:
    rec, _ = tls_recorder
    client = RecordingClient(rec.base_url, rec.customer_id, rec.customer_secret, retries=0)
    async with client:
        with pytest.raises(TransportError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            await client.acquire(rec.app_id, "tls-room", "4322", AcquireClientRequest())
    plain = rec.base_url.replace("https://", "http://")
    async with httpx.AsyncClient(timeout=5, auth=rec.auth) as http:
        try:
            answer = await http.post(f"{plain}/v1/apps/{rec.app_id}/cloud_recording/acquire")
        except httpx.HTTPError:
            return  # the TLS port closed the plain connection
    assert answer.status_code == 400 and "resourceId" not in answer.text
