"""The uploader behind the recording: what the bucket's playlist shows, what stays in memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tests.fixtures.storage import FAST_POLICY, RecordedEvents, SpoolWriter, target_for, ts_segments

from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.files import playlist_segments
from cloudrec_recorder.storage.uploader import Uploader

pytestmark = pytest.mark.storage

PREFIX = "rec/day1/"


def uploader_for(server: S3Server, bucket: str, tmp_path: Path, events: RecordedEvents) -> Uploader:
    return Uploader(
        target_for(server, bucket),
        tmp_path / "spool" / "sid0123",
        BackupStore(tmp_path / "backup"),
        events,
        policy=FAST_POLICY,
        sealing_key=Fernet(Fernet.generate_key()),
    )


async def bucket_playlist(server: S3Server, bucket: str, key: str, listing: int) -> bytes:
    """The bucket's playlist once it lists ``listing`` segments (20 s at most)."""
    text = b""
    for _ in range(200):
        try:
            text = await asyncio.to_thread(server.get_object, bucket, key)
        except Exception:
            text = b""
        if len(playlist_segments(text.decode())) == listing:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"the bucket's playlist never listed {listing} segments: {text!r}")


async def test_while_a_segment_lags_the_bucket_gets_the_playlist_up_to_the_segment_before(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    uploader = uploader_for(s3_server, bucket, tmp_path, RecordedEvents())
    await uploader.start()
    held: list[str] = []
    announced_segments = 0

    def announce(name: str) -> None:  # the third segment's upload "lags": announced later
        nonlocal announced_segments
        if name.endswith(".ts"):
            announced_segments += 1
            if announced_segments == 3:
                held.append(name)
                return
        uploader.file_ready(name)

    writer = SpoolWriter(tmp_path / "spool" / "sid0123", announce)
    for data in ts_segments(4):
        writer.add_segment(data)
    assert held == [writer.segments[2]]
    key = PREFIX + writer.playlist_name

    shown = await bucket_playlist(s3_server, bucket, key, 2)
    assert playlist_segments(shown.decode()) == writer.segments[:2]
    assert b"#EXT-X-ENDLIST" not in shown
    second = writer.segments[1] + "\n"  # the version written when it was the last segment
    assert shown == (writer.playlist_text(ended=False).split(second)[0] + second).encode()

    uploader.file_ready(held.pop())
    writer.end()
    result = await uploader.finish(within=30)
    await uploader.aclose()
    assert result.status == "uploaded"
    final = await asyncio.to_thread(s3_server.get_object, bucket, key)
    assert final == (writer.dir / writer.playlist_name).read_bytes()


async def test_during_an_outage_only_the_newest_playlist_is_held_and_all_arrives_after(
    s3_server_fn: S3Server, tmp_path: Path
) -> None:
    server = s3_server_fn
    server.create_bucket("backlog")
    events = RecordedEvents()
    uploader = uploader_for(server, "backlog", tmp_path, events)
    await uploader.start()
    writer = SpoolWriter(tmp_path / "spool" / "sid0123", uploader.file_ready)
    segments = ts_segments(4)
    writer.add_segment(segments[0])
    await bucket_playlist(server, "backlog", PREFIX + writer.playlist_name, 1)

    await asyncio.to_thread(server.stop)
    for index in range(1, 40):  # 39 playlist versions written while nothing can be uploaded
        writer.add_segment(segments[index % 4])
        await asyncio.sleep(0.02)
    newest = (writer.dir / writer.playlist_name).read_bytes()
    for _ in range(200):
        if events.values("backuped"):
            break
        await asyncio.sleep(0.1)
    assert events.values("backuped"), "nothing went to the backup while the bucket was down"
    assert uploader.held_playlist_bytes() == len(newest)

    await asyncio.to_thread(server.start)
    writer.end()
    await uploader.finish(within=30)
    assert await uploader.wait_delivered(within=60)
    await uploader.aclose()
    final = await asyncio.to_thread(server.get_object, "backlog", PREFIX + writer.playlist_name)
    assert final == (writer.dir / writer.playlist_name).read_bytes()
    assert playlist_segments(final.decode()) == writer.segments
