"""The uploader against a real versitygw: files arrive whole, in order, and play."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tests.fixtures.storage import (
    COLOURS,
    FAST_POLICY,
    FPS,
    SEGMENT_SECONDS,
    RecordedEvents,
    SpoolWriter,
    decoded_colours,
    target_for,
    ts_segments,
)

from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.files import playlist_segments
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage

FAST = dataclasses.replace(
    FAST_POLICY,
    attempts=3,
    multipart_threshold=6 * 1024 * 1024,  # so a test file goes up in parts
    part_size=5 * 1024 * 1024,
)
PREFIX = "rec/day1/"


def bucket_objects(server: S3Server, bucket: str) -> dict[str, bytes]:
    return {key: server.get_object(bucket, key) for key in server.object_keys(bucket)}


def assert_close(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> None:
    assert all(abs(a - b) <= 12 for a, b in zip(colour, expected, strict=True)), (
        colour,
        expected,
    )


class PlaylistWatcher:
    """Reads the bucket's playlist over and over and notes segments it lists but lacks."""

    def __init__(self, server: S3Server, bucket: str, key: str) -> None:
        self.server, self.bucket, self.key = server, bucket, key
        self.missing: list[str] = []
        self.reads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                text = self.server.get_object(self.bucket, self.key).decode()
            except Exception:
                self._stop.wait(0.05)
                continue
            present = set(self.server.object_keys(self.bucket))
            self.reads += 1
            self.missing += [s for s in playlist_segments(text) if PREFIX + s not in present]
            self._stop.wait(0.05)

    def __enter__(self) -> PlaylistWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


async def test_every_file_reaches_the_bucket_byte_identical_and_the_playlist_plays(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    events = RecordedEvents()
    spool = tmp_path / "spool" / "sid0123"
    uploader = Uploader(
        target_for(s3_server, bucket),
        spool,
        BackupStore(tmp_path / "backup"),
        events,
        policy=FAST,
        sealing_key=Fernet(Fernet.generate_key()),
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    segments = ts_segments(6)
    with PlaylistWatcher(s3_server, bucket, PREFIX + writer.playlist_name) as watcher:
        for data in segments:
            writer.add_segment(data)
            await asyncio.sleep(0.25)
        writer.add_mp4(os.urandom(12 * 1024 * 1024))  # three parts of a multipart upload
        writer.end()
        result = await uploader.finish(within=30)
        await asyncio.sleep(0.3)
    await uploader.aclose()

    assert result.status == "uploaded"
    assert {f.file_name for f in result.files} == {
        PREFIX + "sid0123_room1.m3u8",
        PREFIX + "sid0123_room1_0.mp4",
    }
    stored = await asyncio.to_thread(bucket_objects, s3_server, bucket)
    assert stored == {PREFIX + name: data for name, data in writer.files().items()}
    assert watcher.reads > 0
    assert watcher.missing == [], "the bucket's playlist listed segments not yet in the bucket"

    played = tmp_path / "played"
    played.mkdir()
    for key, data in stored.items():
        (played / key.removeprefix(PREFIX)).write_bytes(data)
    colours = decoded_colours(played / writer.playlist_name)
    assert len(colours) == len(segments) * SEGMENT_SECONDS * FPS
    for index, colour in enumerate(colours):
        assert_close(colour, COLOURS[(index // (SEGMENT_SECONDS * FPS)) % len(COLOURS)])

    progress = [int(v) for v in events.values("progress")]  # type: ignore[call-overload]
    assert len(progress) >= 3
    assert progress == sorted(progress)
    assert progress[-1] == 10000
    assert max(progress[:-1]) < 10000
    assert events.kinds()[0] == "uploader_started"
    assert events.file_names("uploaded") == {f.file_name for f in result.files}
    assert events.values("error") == []
    assert events.values("backuped") == []


async def test_outage_sends_backuped_then_uploaded_and_the_bucket_ends_complete(
    s3_server_fn: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudrec_recorder")
    server = s3_server_fn
    server.create_bucket("outage")
    events = RecordedEvents()
    spool = tmp_path / "spool" / "sid0123"
    backup = BackupStore(tmp_path / "backup")
    uploader = Uploader(
        target_for(server, "outage"),
        spool,
        backup,
        events,
        policy=FAST,
        sealing_key=Fernet(Fernet.generate_key()),
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    segments = ts_segments(9)
    for data in segments[:3]:
        writer.add_segment(data)
        await asyncio.sleep(0.2)

    await asyncio.to_thread(server.stop)
    for data in segments[3:6]:
        writer.add_segment(data)
        await asyncio.sleep(0.3)
    for _ in range(100):
        if events.values("backuped"):
            break
        await asyncio.sleep(0.1)
    assert events.values("backuped"), "no backuped event while the bucket was down"
    assert backup.names("sid0123"), "nothing in the backup store while the bucket was down"

    await asyncio.to_thread(server.start)
    for data in segments[6:]:
        writer.add_segment(data)
        await asyncio.sleep(0.2)
    writer.end()
    result = await uploader.finish(within=30)
    assert result.status in ("uploaded", "backuped")
    assert await uploader.wait_delivered(within=30)
    await uploader.aclose()

    kinds = events.kinds()
    assert kinds.index("backuped") < len(kinds) - 1 - kinds[::-1].index("uploaded")
    assert 47 in events.codes("error")
    assert {32, 31} <= set(events.codes("warning"))
    reuploaded = events.file_names("uploaded")
    assert events.file_names("backuped") <= reuploaded

    stored = await asyncio.to_thread(bucket_objects, server, "outage")
    assert stored == {PREFIX + name: data for name, data in writer.files().items()}
    listed = playlist_segments(stored[PREFIX + writer.playlist_name].decode())
    assert listed == writer.segments
    assert len(set(listed)) == len(listed) == len(segments)
    assert backup.names("sid0123") == []
    progress = [int(v) for v in events.values("progress")]  # type: ignore[call-overload]
    assert progress == sorted(progress)
    assert progress[-1] == 10000

    secrets = (server.access_key, server.secret_key)
    written = [p for root in (spool, tmp_path / "backup") for p in root.rglob("*") if p.is_file()]
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in events.text()
        assert not [p for p in written if secret.encode() in p.read_bytes()]
