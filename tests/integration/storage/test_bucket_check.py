"""The start-time bucket check is shared by the starts of one bucket at the same moment.

Through a recording proxy in front of versitygw, which counts the HEADs on the bucket.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from pydantic import SecretStr
from tests.fixtures.s3proxy import RecordingProxy
from tests.fixtures.storage import FAST_POLICY, RecordedEvents

from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.storage import objectstore
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.target import StorageTarget
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage

STARTS = 20


def proxied(s3_server: S3Server, proxy: RecordingProxy, bucket: str, **keys: str) -> StorageTarget:

    return StorageTarget(
        endpoint=proxy.endpoint,
        region=s3_server.region,
        bucket=bucket,
        access_key=SecretStr(keys.get("access_key", s3_server.access_key)),
        secret_key=SecretStr(keys.get("secret_key", s3_server.secret_key)),
        prefix=("rec",),
    )


async def start_uploaders(target: StorageTarget, tmp_path: Path, count: int) -> list[Uploader]:
    policy = dataclasses.replace(FAST_POLICY, reupload_interval=60.0)
    uploaders = [
        Uploader(
            target,
            tmp_path / "spool" / f"sid{i:04d}",
            BackupStore(tmp_path / "backup"),
            RecordedEvents(),
            policy=policy,
        )
        for i in range(count)
    ]
    await asyncio.gather(*(u.start() for u in uploaders))
    return uploaders


def heads(proxy: RecordingProxy, bucket: str) -> int:
    return len([r for r in proxy.sent("HEAD") if r.path.rstrip("/") == f"/{bucket}"])


async def test_starts_of_one_bucket_at_the_same_moment_send_one_head(
    s3_server: S3Server, s3_proxy: RecordingProxy, bucket: str, tmp_path: Path
) -> None:
    uploaders = await start_uploaders(proxied(s3_server, s3_proxy, bucket), tmp_path, STARTS)
    try:
        assert heads(s3_proxy, bucket) == 1
    finally:
        await asyncio.gather(*(u.aclose() for u in uploaders))


async def test_a_start_after_the_reuse_window_or_with_other_credentials_checks_again(
    s3_server: S3Server,
    s3_proxy: RecordingProxy,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(objectstore, "BUCKET_CHECK_REUSE_SECONDS", 0.2)
    target = proxied(s3_server, s3_proxy, bucket)
    uploaders = await start_uploaders(target, tmp_path / "a", 1)
    await asyncio.sleep(0.5)
    uploaders += await start_uploaders(target, tmp_path / "b", 1)
    assert heads(s3_proxy, bucket) == 2
    wrong = proxied(s3_server, s3_proxy, bucket, secret_key="not-the-secret")
    refused = await start_uploaders(wrong, tmp_path / "c", 1)
    uploaders += refused
    try:
        assert heads(s3_proxy, bucket) == 3
        assert not refused[0].delivery.bucket_ok
    finally:
        await asyncio.gather(*(u.aclose() for u in uploaders))
