"""A hand-over taker's upload (upload.py): held until the giver is done, then delivered in
order, or thrown away whole when the hand-over did not complete."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.unit.cloudrec_recorder.recording.fakes import FakeUploader

from cloudrec_recorder.storage.spool import TAKING_FILE
from cloudrec_recorder.upload import RecordingUpload

SID = "0123456789abcdef0123456789abcdef"


async def started(spool: Path) -> tuple[RecordingUpload, FakeUploader]:
    uploader = FakeUploader()
    upload = RecordingUpload(
        uploader,  # type: ignore[arg-type]
        spool,
        prefix=("rec",),
        sid=SID,
        drain_timeout=1.0,
        keep_delivered_spool=False,
    )
    assert await upload.start()
    return upload, uploader


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_takers_files_wait_for_the_giver_and_then_go_up_in_order(tmp_path: Path) -> None:
    upload, uploader = await started(tmp_path / SID)
    upload.hold()
    assert (tmp_path / SID / TAKING_FILE).is_file()  # a restart would not deliver them
    upload.hand_over(f"{SID}_room_1.ts", None)
    upload.hand_over(f"{SID}_room_2.ts", None)
    await settle()
    assert uploader.ready == []
    upload.let_go()
    upload.hand_over(f"{SID}_room.m3u8", None)
    await settle()
    assert [name for name, _ in uploader.ready] == [
        f"{SID}_room_1.ts",
        f"{SID}_room_2.ts",
        f"{SID}_room.m3u8",
    ]
    assert not (tmp_path / SID / TAKING_FILE).exists()


async def test_an_abandoned_takers_files_never_go_up_and_its_spool_is_removed(
    tmp_path: Path,
) -> None:
    spool = tmp_path / SID
    upload, uploader = await started(spool)
    upload.hold()
    (spool / f"{SID}_room_1.ts").write_bytes(b"\x47" * 188)
    upload.hand_over(f"{SID}_room_1.ts", None)
    upload.hand_over(f"{SID}_room.m3u8", None)
    await settle()
    upload.abandoned = True
    assert await upload.finish() == "unknown"
    assert uploader.ready == [] and uploader.finished_within is None  # no finish, no manifest
    assert uploader.closed.is_set()
    assert not spool.exists()


async def test_an_abandoned_taker_leaves_an_earlier_parts_kept_spool_but_its_own_files(
    tmp_path: Path,
) -> None:
    """The sid came back to a replica that kept its earlier part's spool
    (``keepDeliveredSpool``): only the abandoned taker's files go."""
    spool = tmp_path / SID
    spool.mkdir()
    (spool / f"{SID}_room_0.ts").write_bytes(b"\x47" * 188)  # the earlier part's, delivered
    upload, _ = await started(spool)
    upload.hold()
    (spool / f"{SID}_room_9.ts").write_bytes(b"\x47" * 188)
    upload.hand_over(f"{SID}_room_9.ts", None)
    await settle()
    upload.abandoned = True
    await upload.finish()
    assert sorted(p.name for p in spool.iterdir() if not p.name.startswith(".")) == [
        f"{SID}_room_0.ts"
    ]
    assert not (spool / TAKING_FILE).exists()
