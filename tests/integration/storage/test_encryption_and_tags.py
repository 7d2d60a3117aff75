"""``storageConfig.extensionParams`` ``sse`` and ``tag`` on every object the uploader writes.

Through a recording proxy in front of versitygw: the tags are read back from versitygw (it
keeps them); server-side encryption, which versitygw accepts but does not keep, is read from
the requests the proxy saw. Both single PUTs and multipart uploads are covered.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tests.fixtures.s3proxy import RecordingProxy
from tests.fixtures.storage import FAST_POLICY, RecordedEvents, SpoolWriter, ts_segments

from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.target import target_from_storage_config
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage

FAST = dataclasses.replace(
    FAST_POLICY, multipart_threshold=6 * 1024 * 1024, part_size=5 * 1024 * 1024
)


@pytest.mark.parametrize(("sse", "header"), [("aes256", "AES256"), ("kms", "aws:kms")])
async def test_every_object_is_uploaded_encrypted_as_asked_and_carries_the_tags(
    s3_server: S3Server,
    s3_proxy: RecordingProxy,
    bucket: str,
    tmp_path: Path,
    sse: str,
    header: str,
) -> None:
    target = target_from_storage_config(
        vendor=11,
        region=0,
        bucket=bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        file_name_prefix=["rec"],
        extension_params={
            "endpoint": s3_proxy.endpoint,
            "sse": sse,
            "tag": "project=demo&team=rtc",
        },
    )
    events = RecordedEvents()
    spool = tmp_path / "spool" / "sid0123"
    uploader = Uploader(
        target,
        spool,
        BackupStore(tmp_path / "backup"),
        events,
        policy=FAST,
        sealing_key=Fernet(Fernet.generate_key()),
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    for data in ts_segments(3):
        writer.add_segment(data)
    writer.add_mp4(os.urandom(12 * 1024 * 1024))  # three parts of a multipart upload
    writer.end()
    result = await uploader.finish(within=30)
    await uploader.aclose()
    assert result.status == "uploaded", events.text()

    keys = s3_server.object_keys(bucket)
    assert {key.removeprefix("rec/") for key in keys} == set(writer.files())
    for key in keys:
        assert s3_server.object_tags(bucket, key) == {"project": "demo", "team": "rtc"}, key

    objects = f"/{bucket}/rec/"
    puts = s3_proxy.sent("PutObject", objects)
    multipart = s3_proxy.sent("CreateMultipartUpload", objects)
    assert {r.path.removeprefix(objects) for r in multipart} == {"sid0123_room1_0.mp4"}
    assert len(s3_proxy.sent("UploadPart", objects)) == 3
    assert {r.path.removeprefix(objects) for r in puts} >= set(writer.files()) - {
        "sid0123_room1_0.mp4"
    }
    for request in puts + multipart:
        assert request.headers.get("x-amz-server-side-encryption") == header, request
        assert request.headers.get("x-amz-tagging") == "project=demo&team=rtc", request


async def test_without_sse_and_tag_uploads_ask_for_neither(
    s3_server: S3Server, s3_proxy: RecordingProxy, bucket: str, tmp_path: Path
) -> None:
    target = target_from_storage_config(
        vendor=11,
        region=0,
        bucket=bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        extension_params={"endpoint": s3_proxy.endpoint},
    )
    spool = tmp_path / "spool" / "sid0123"
    uploader = Uploader(
        target, spool, BackupStore(tmp_path / "backup"), RecordedEvents(), policy=FAST
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    writer.add_segment(ts_segments(1)[0])
    writer.end()
    assert (await uploader.finish(within=30)).status == "uploaded"
    await uploader.aclose()
    puts = s3_proxy.sent("PutObject", f"/{bucket}/")
    assert len(puts) >= 2
    for request in puts:
        assert "x-amz-server-side-encryption" not in request.headers
        assert "x-amz-tagging" not in request.headers
    assert all(s3_server.object_tags(bucket, key) == {} for key in s3_server.object_keys(bucket))
