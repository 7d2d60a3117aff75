"""A recorder killed mid-recording delivers what it had recorded once it runs again, and its
manifest's timeline says so (Restarted)."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, start_recorder
from tests.integration.recorder.checks import (
    manifest_timeline,
    mix_config,
    start_recording,
    wait_spool_removed,
    wait_status,
)

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.media.naming import safe_cname
from cloudrec_recorder.storage.uploader import DELIVERED_FILE

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]


async def test_files_of_a_killed_recorder_reach_the_bucket_after_restart(
    tmp_path: Path,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    bucket = "crash-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    key = secrets.token_urlsafe(24)
    first = start_recorder(
        tmp_path, janus, callback_sink, s3_server, bucket, storageEncryptionKey=key
    )
    try:
        async with first.client() as client, publish(room, "1001", width=160, height=120):
            rec = await start_recording(client, first, room, "900004", mix_config())
            await wait_status(client, first, rec, 5)
            await asyncio.sleep(5)
            first.process.kill()
            killed_ms = int(time.time() * 1000)
    finally:
        first.process.stop()
    spool = tmp_path / "spool" / rec.sid
    recorded = sorted(p.name for p in spool.glob("*.ts") if not p.name.startswith("."))
    assert recorded, "nothing was recorded before the kill"

    # An earlier run's recording that was delivered but whose spool is still there
    # (that run stopped before removing it): nothing in it is needed any more.
    delivered = tmp_path / "spool" / "0123456789abcdef0123456789abcdef"
    delivered.mkdir()
    (delivered / "0123456789abcdef0123456789abcdef_room_0.ts").write_bytes(b"\x47" * 188)
    (delivered / DELIVERED_FILE).write_bytes(b"")

    second = start_recorder(
        tmp_path, janus, callback_sink, s3_server, bucket, storageEncryptionKey=key
    )
    try:
        exit_event = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 11, 60)
    finally:
        second.process.stop()
    assert exit_event.payload["details"]["exitStatus"] == 1
    assert exit_event.payload["cname"] == room
    assert exit_event.signature_ok
    keys = set(s3_server.object_keys(bucket))
    assert {f"rec/{name}" for name in recorded} <= keys
    playlist = s3_server.get_object(bucket, f"rec/{rec.sid}_{safe_cname(room)}.m3u8").decode()
    listed = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert listed and all(f"rec/{name}" in keys for name in listed)
    # Delivered now, so its spool is removed, as was the earlier delivered one at start-up;
    # neither was ever uploaded twice or left behind.
    assert not delivered.exists()
    await wait_spool_removed(spool)
    # The manifest goes up last, as a running recording's does: its start as the recording
    # kept it, then that this replica restarted and delivered it (no Stopped: it never was).
    timeline = await manifest_timeline(s3_server, bucket, rec.sid)
    assert [entry["kind"] for entry in timeline] == ["Started", "Restarted"], timeline
    started, restarted = timeline
    assert started["atMs"] < killed_ms <= restarted["atMs"]
    assert restarted["detail"] == "recovered by replica r0"
