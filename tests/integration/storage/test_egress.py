"""The egress guard on every connection the uploader makes, against a real versitygw.

A start request's endpoint is checked once (after DNS resolution) before the recording
starts; a name may resolve elsewhere later (DNS rebinding) and a restarted recorder reopens
sealed targets without any start request. So the guard also sits in the S3 client's socket
factory and checks the address each connection is about to use: here the uploader gets a
loopback endpoint that no start-time check has seen, and not one byte reaches it unless the
administrator allows it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from tests.fixtures.storage import FAST_POLICY, RecordedEvents, SpoolWriter, target_for, ts_segments

from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.egress import EgressGuard, EgressPolicy
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.errors import ERROR_STORAGE_CONFIG
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage


async def upload_two_segments(
    s3_server: S3Server, bucket: str, tmp_path: Path, guard: EgressGuard, endpoint: str
) -> tuple[str, RecordedEvents]:
    events = RecordedEvents()
    spool = tmp_path / "spool" / "sid0123"
    uploader = Uploader(
        dataclasses.replace(target_for(s3_server, bucket), endpoint=endpoint),
        spool,
        BackupStore(tmp_path / "backup"),
        events,
        policy=FAST_POLICY,
        sealing_key=Fernet(Fernet.generate_key()),
        egress=guard,
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    for data in ts_segments(2):
        writer.add_segment(data)
    writer.end()
    result = await uploader.finish(within=20)
    await uploader.aclose()
    return result.status, events


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["address", "name"])
async def test_a_loopback_endpoint_gets_no_byte_on_any_connection_unless_allowed(
    s3_server: S3Server,
    bucket: str,
    tmp_path: Path,
    host: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = urlsplit(s3_server.endpoint).port
    endpoint = f"http://{host}:{port}"
    with caplog.at_level(logging.WARNING, logger="cloudrec_recorder.egress.guard"):
        status, events = await upload_two_segments(
            s3_server, bucket, tmp_path / "refused", EgressGuard(EgressPolicy()), endpoint
        )
    assert status == "backuped"
    assert await asyncio.to_thread(s3_server.object_keys, bucket) == []
    assert events.codes("error") == [ERROR_STORAGE_CONFIG], events.text()
    [(_, message)] = events.values("error")  # type: ignore[misc]
    assert message.startswith(f"connection to {host} refused: it resolves to a loopback address")
    refusals = [r.getMessage() for r in caplog.records if "Egress refused" in r.getMessage()]
    assert refusals and all("reason=loopback address" in m for m in refusals)

    allowed = EgressGuard(
        EgressPolicy.build(
            [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")], []
        )
    )
    status, _ = await upload_two_segments(
        s3_server, bucket, tmp_path / "allowed", allowed, endpoint
    )
    assert status == "uploaded"
    assert len(await asyncio.to_thread(s3_server.object_keys, bucket)) == 3
