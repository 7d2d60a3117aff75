"""A bucket that refuses files, and a recorder that dies: nothing recorded is lost."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tests.fixtures.storage import (
    FAST_POLICY,
    RecordedEvents,
    SpoolWriter,
    new_bucket,
    target_for,
    ts_segments,
)

from cloudrec_devenv.process import ManagedProcess
from cloudrec_devenv.s3 import S3Server
from cloudrec_devenv.tools import REPO_ROOT
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.backup_bucket import BackupBucket
from cloudrec_recorder.storage.files import playlist_segments
from cloudrec_recorder.storage.recovery import recover
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage

PREFIX = "rec/day1/"
RECORDING = "sid0123"


def bucket_objects(server: S3Server, bucket: str) -> dict[str, bytes]:
    return {key: server.get_object(bucket, key) for key in server.object_keys(bucket)}


def assert_no_secret_anywhere(
    secrets: tuple[str, ...], caplog: pytest.LogCaptureFixture, events: RecordedEvents, *roots: Path
) -> None:
    written = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in events.text()
        assert not [p for p in written if secret.encode() in p.read_bytes()]


async def record(uploader: Uploader, spool: Path, count: int) -> SpoolWriter:
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    for data in ts_segments(count):
        writer.add_segment(data)
        await asyncio.sleep(0.05)
    writer.end()
    return writer


async def test_wrong_credentials_give_error_32_and_every_file_lands_in_the_backup(
    s3_server: S3Server, bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudrec_recorder")
    wrong_secret = "wrong-" + s3_server.secret_key[::-1]
    events = RecordedEvents()
    spool = tmp_path / "spool" / RECORDING
    backup = BackupStore(tmp_path / "backup")
    uploader = Uploader(
        target_for(s3_server, bucket, secret_key=wrong_secret),
        spool,
        backup,
        events,
        policy=FAST_POLICY,
        sealing_key=Fernet(Fernet.generate_key()),
    )
    writer = await record(uploader, spool, 4)
    result = await uploader.finish(within=20)
    await uploader.aclose()

    assert result.status == "backuped"
    assert events.codes("error") == [32]
    assert 32 in events.codes("warning")
    assert await asyncio.to_thread(s3_server.object_keys, bucket) == []
    files = writer.files()
    for name, data in files.items():
        assert backup.path(RECORDING, name).read_bytes() == data
    assert events.file_names("backuped") == {PREFIX + name for name in files}
    assert [int(v) for v in events.values("progress")][-1] == 10000  # type: ignore[call-overload]
    assert_no_secret_anywhere(
        (s3_server.access_key, s3_server.secret_key, wrong_secret),
        caplog,
        events,
        tmp_path / "spool",
        tmp_path / "backup",
    )


async def test_a_missing_bucket_gives_error_32_then_the_files_arrive_once_it_exists(
    s3_server: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudrec_recorder")
    events = RecordedEvents()
    spool = tmp_path / "spool" / RECORDING
    backup = BackupStore(tmp_path / "backup")
    uploader = Uploader(
        target_for(s3_server, "not-created-yet"),
        spool,
        backup,
        events,
        policy=FAST_POLICY,
        sealing_key=Fernet(Fernet.generate_key()),
    )
    writer = await record(uploader, spool, 3)
    result = await uploader.finish(within=20)
    assert result.status == "backuped"
    assert events.codes("error") == [32]
    assert "not-created-yet does not exist" in str(events.values("error"))
    assert sorted(backup.names(RECORDING)) == sorted(writer.files())

    await asyncio.to_thread(s3_server.create_bucket, "not-created-yet")
    assert await uploader.wait_delivered(within=20)
    await uploader.aclose()
    stored = await asyncio.to_thread(bucket_objects, s3_server, "not-created-yet")
    assert stored == {PREFIX + name: data for name, data in writer.files().items()}
    assert backup.names(RECORDING) == []
    assert events.kinds().index("backuped") < events.kinds().index("uploaded")
    assert_no_secret_anywhere(
        (s3_server.access_key, s3_server.secret_key), caplog, events, tmp_path
    )


def start_child(server: S3Server, bucket: str, tmp_path: Path, key: bytes) -> ManagedProcess:
    env = dict(os.environ)
    env.update(
        CHILD_ACCESS_KEY=server.access_key,
        CHILD_SECRET_KEY=server.secret_key,
        CHILD_SEALING_KEY=key.decode(),
    )
    argv = [
        sys.executable,
        "-m",
        "tests.integration.storage.uploader_child",
        server.endpoint,
        bucket,
        str(tmp_path / "spool" / RECORDING),
        str(tmp_path / "backup"),
        "8",
    ]
    return ManagedProcess("uploader-child", argv, tmp_path / "child.log", env=env, cwd=REPO_ROOT)


async def recover_and_check(
    server: S3Server, bucket: str, tmp_path: Path, key: bytes, caplog: pytest.LogCaptureFixture
) -> RecordedEvents:
    spool = tmp_path / "spool" / RECORDING
    before = {p.name: p.read_bytes() for p in spool.iterdir() if not p.name.startswith(".")}
    assert len([n for n in before if n.endswith(".ts")]) == 8
    # What a run killed in the middle of a large upload leaves: an unfinished multipart
    # upload of this recording (its parts stored, invisible, billed), and another
    # recording's that is none of this recovery's business.
    mine, other = PREFIX + "sid0123_room1_0.mp4", PREFIX + "sid9999_room2_0.mp4"
    for upload in (mine, other):
        await asyncio.to_thread(server.begin_multipart_upload, bucket, upload, b"\0" * 1024)
    events = RecordedEvents()
    backup = BackupStore(tmp_path / "backup")
    recovered = await recover(
        tmp_path / "spool", backup, Fernet(key), lambda _sid: events, policy=FAST_POLICY, within=20
    )
    assert await asyncio.to_thread(server.unfinished_uploads, bucket) == [other]
    assert [r.recording for r in recovered] == [RECORDING]
    uploader = recovered[0].uploader
    assert await uploader.wait_delivered(within=20)
    await uploader.aclose()
    stored = await asyncio.to_thread(bucket_objects, server, bucket)
    assert stored == {PREFIX + name: data for name, data in before.items()}
    playlist = stored[PREFIX + "sid0123_room1.m3u8"].decode()
    assert all(PREFIX + s in stored for s in playlist_segments(playlist))
    assert backup.names(RECORDING) == []
    assert (spool / ".cloudrec-delivered").exists()
    again = await recover(tmp_path / "spool", backup, Fernet(key), lambda _sid: events)
    for extra in again:
        await extra.uploader.aclose()
    assert again == [], "a delivered recording was taken up again"
    assert_no_secret_anywhere((server.access_key, server.secret_key), caplog, events, tmp_path)
    return events


async def test_after_sigkill_mid_upload_recover_delivers_every_file(
    s3_server: S3Server, bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudrec_recorder")
    key = Fernet.generate_key()
    child = start_child(s3_server, bucket, tmp_path, key).start()
    try:
        await asyncio.to_thread(
            child.wait_until, lambda: "written" in child.log_tail(200), timeout=60
        )
    finally:
        child.kill()
    await recover_and_check(s3_server, bucket, tmp_path, key, caplog)


async def test_after_sigkill_during_an_outage_recover_delivers_the_backup(
    s3_server_fn: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudrec_recorder")
    server = s3_server_fn
    bucket = new_bucket(server)
    await asyncio.to_thread(server.stop)
    key = Fernet.generate_key()
    child = start_child(server, bucket, tmp_path, key).start()
    try:
        await asyncio.to_thread(
            child.wait_until, lambda: "event backuped" in child.log_tail(200), timeout=60
        )
        await asyncio.to_thread(
            child.wait_until, lambda: "written" in child.log_tail(200), timeout=60
        )
        await asyncio.sleep(1.0)
    finally:
        child.kill()
    assert BackupStore(tmp_path / "backup").names(RECORDING), "nothing was backed up"
    await asyncio.to_thread(server.start)
    events = await recover_and_check(server, bucket, tmp_path, key, caplog)
    assert events.file_names("uploaded") >= {PREFIX + "sid0123_room1.m3u8"}


async def test_when_the_backup_volume_is_lost_the_second_bucket_brings_the_files_back(
    s3_server: S3Server, s3_server_fn: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudrec_recorder")
    customer, customer_bucket = s3_server_fn, new_bucket(s3_server_fn)
    mirror_bucket = new_bucket(s3_server)
    mirror = await BackupBucket(target_for(s3_server, mirror_bucket, prefix=("backups",))).start()
    await asyncio.to_thread(customer.stop)
    key = Fernet.generate_key()
    spool = tmp_path / "spool" / RECORDING
    uploader = Uploader(
        target_for(customer, customer_bucket),
        spool,
        BackupStore(tmp_path / "backup"),
        RecordedEvents(),
        policy=FAST_POLICY,
        sealing_key=Fernet(key),
        backup_bucket=mirror,
    )
    writer = await record(uploader, spool, 4)
    result = await uploader.finish(within=20)
    await uploader.aclose()
    assert result.status == "backuped"
    files = writer.files()
    mirrored = await asyncio.to_thread(bucket_objects, s3_server, mirror_bucket)
    assert sorted(mirrored) == sorted(
        f"backups/{RECORDING}/{name}" for name in [*files, ".cloudrec-target"]
    )
    for secret in (customer.access_key, customer.secret_key):
        assert not [k for k, data in mirrored.items() if secret.encode() in data]

    shutil.rmtree(tmp_path / "spool")  # the recorder's volumes are gone with it
    shutil.rmtree(tmp_path / "backup")
    await asyncio.to_thread(customer.start)
    events = RecordedEvents()
    recovered = await recover(
        tmp_path / "spool",
        BackupStore(tmp_path / "backup"),
        Fernet(key),
        lambda _sid: events,
        policy=FAST_POLICY,
        within=20,
        backup_bucket=mirror,
    )
    assert [r.recording for r in recovered] == [RECORDING]
    assert await recovered[0].uploader.wait_delivered(within=20)
    await recovered[0].uploader.aclose()
    await mirror.aclose()
    stored = await asyncio.to_thread(bucket_objects, customer, customer_bucket)
    assert stored == {PREFIX + name: data for name, data in files.items()}
    assert await asyncio.to_thread(s3_server.object_keys, mirror_bucket) == []
    assert_no_secret_anywhere((customer.access_key, customer.secret_key), caplog, events, tmp_path)
