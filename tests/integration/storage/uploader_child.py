"""Child process of the crash tests: writes a spool, uploads it, waits to be killed.

``python -m tests.integration.storage.uploader_child ENDPOINT BUCKET SPOOL_DIR BACKUP_ROOT
COUNT``; credentials and the sealing key come from the environment
(``CHILD_ACCESS_KEY``, ``CHILD_SECRET_KEY``, ``CHILD_SEALING_KEY``). Prints
``segment <i>`` after announcing each segment and ``written`` at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr
from tests.fixtures.storage import SpoolWriter, ts_segments

from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.files import FileInfo
from cloudrec_recorder.storage.target import StorageTarget
from cloudrec_recorder.storage.uploader import Uploader, UploadPolicy


class PrintedEvents:
    async def uploader_started(self) -> None:
        print("event uploader_started", flush=True)

    async def uploaded(self, files: Sequence[FileInfo]) -> None:
        print(f"event uploaded {len(files)}", flush=True)

    async def backuped(self, files: Sequence[FileInfo]) -> None:
        print(f"event backuped {len(files)}", flush=True)

    async def progress(self, value: int) -> None:
        print(f"event progress {value}", flush=True)

    async def uploader_warning(self, code: int, message: str) -> None:
        print(f"event warning {code} {message}", flush=True)

    async def snapshot_uploaded(self, file_name: str) -> None:
        print(f"event snapshot {file_name}", flush=True)

    async def uploader_error(self, code: int, message: str) -> None:
        print(f"event error {code} {message}", flush=True)


async def main(endpoint: str, bucket: str, spool: Path, backup_root: Path, count: int) -> None:
    target = StorageTarget(
        endpoint=endpoint,
        region="us-east-1",
        bucket=bucket,
        access_key=SecretStr(os.environ["CHILD_ACCESS_KEY"]),
        secret_key=SecretStr(os.environ["CHILD_SECRET_KEY"]),
        prefix=("rec", "day1"),
    )
    policy = UploadPolicy(
        attempts=2, backoff_initial=0.05, connect_timeout=5.0, reupload_interval=0.2
    )
    uploader = Uploader(
        target,
        spool,
        BackupStore(backup_root),
        PrintedEvents(),
        policy=policy,
        sealing_key=Fernet(os.environ["CHILD_SEALING_KEY"].encode()),
    )
    await uploader.start()
    writer = SpoolWriter(spool, uploader.file_ready)
    for index, data in enumerate(ts_segments(count)):
        writer.add_segment(data)
        print(f"segment {index}", flush=True)
        await asyncio.sleep(0.02)
    print("written", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    endpoint, bucket, spool, backup_root, count = sys.argv[1:6]
    asyncio.run(main(endpoint, bucket, Path(spool), Path(backup_root), int(count)))
