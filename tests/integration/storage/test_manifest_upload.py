"""The recording's manifest goes up last and lists every object as the bucket holds it.

A real uploader against versitygw, through the recording proxy: segments, the playlist and a
multipart MP4 go up; then the manifest, after every other object's last request, before the
``uploaded`` event; its sizes and SHA-256 are those of the objects read back, and its
signature checks with the callback secret.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest
from tests.fixtures.s3proxy import RecordingProxy
from tests.fixtures.storage import FAST_POLICY, RecordedEvents, SpoolWriter, ts_segments

from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.manifest import Manifest, TimelineEntry, TimelineKind, signature_valid
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.manifest import ManifestSource
from cloudrec_recorder.storage.target import target_from_storage_config
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage

FAST = dataclasses.replace(
    FAST_POLICY, multipart_threshold=6 * 1024 * 1024, part_size=5 * 1024 * 1024
)
SECRET = "callback-secret-for-the-manifest"


async def test_the_manifest_is_uploaded_last_listing_every_object_with_its_size_and_sha256(
    s3_server: S3Server, s3_proxy: RecordingProxy, bucket: str, tmp_path: Path
) -> None:
    target = target_from_storage_config(
        vendor=11,
        region=0,
        bucket=bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        file_name_prefix=["rec"],
        extension_params={"endpoint": s3_proxy.endpoint},
    )
    events = RecordedEvents()
    spool = tmp_path / "spool" / "sid0123"
    source = ManifestSource(
        sid="sid0123",
        cname="room1",
        uid="900",
        secret=SECRET,
        timeline=lambda: [TimelineEntry(kind=TimelineKind.STARTED, at_ms=1)],
    )
    uploader = Uploader(
        target, spool, BackupStore(tmp_path / "backup"), events, policy=FAST, manifest=source
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    for data in ts_segments(3):
        writer.add_segment(data)
    writer.add_mp4(os.urandom(12 * 1024 * 1024))  # a multipart upload
    writer.end()
    result = await uploader.finish(within=30)
    assert await uploader.wait_delivered(30)
    await uploader.aclose()
    assert result.status == "uploaded", events.text()

    manifest_key = "rec/sid0123_room1.manifest.json"
    keys = set(s3_server.object_keys(bucket))
    assert keys == {f"rec/{name}" for name in writer.files()} | {manifest_key}
    manifest = Manifest.model_validate(json.loads(s3_server.get_object(bucket, manifest_key)))
    assert signature_valid(manifest, SECRET)
    assert not signature_valid(manifest, "another secret")
    assert [item.key for item in manifest.objects] == sorted(keys - {manifest_key})
    for item in manifest.objects:
        data = s3_server.get_object(bucket, item.key)
        assert (item.size, item.sha256) == (len(data), hashlib.sha256(data).hexdigest()), item.key

    writes = [
        r
        for r in s3_proxy.requests
        if r.path.startswith(f"/{bucket}/rec/")
        and r.operation in ("PutObject", "CompleteMultipartUpload")
    ]
    assert writes[-1].path == f"/{bucket}/{manifest_key}"  # after every other object
    assert [r.path for r in writes].count(f"/{bucket}/{manifest_key}") == 1
    assert "uploaded" in events.kinds()
