"""The backup side of one recording's uploads: its copies in the backup store and bucket.

When the customer's bucket fails, files go to the :class:`~cloudrec_recorder.storage.backup.
BackupStore` (and, when configured, a second bucket mirroring it), with the storage target
sealed beside them so a restarted recorder can deliver them; when they reach the customer's
bucket, the copies are removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.fernet import Fernet

from cloudrec_recorder.storage.backup import TARGET_FILE, BackupStore, write_atomically
from cloudrec_recorder.storage.backup_bucket import BackupBucket
from cloudrec_recorder.storage.target import StorageTarget, seal_target

__all__ = ["BackupCopies"]


class BackupCopies:
    """One recording's copies in the backup store (and the backup bucket, if any)."""

    def __init__(
        self,
        store: BackupStore,
        recording: str,
        target: StorageTarget,
        *,
        sealing_key: Fernet | None,
        bucket: BackupBucket | None,
        spawn: Callable[[Awaitable[None]], None],
    ) -> None:
        self.store = store
        self.recording = recording
        self.target = target
        self._fernet = sealing_key
        self.bucket = bucket
        self._spawn = spawn
        self._mirrored: set[str] = set()
        """Names that may have a copy in the backup bucket (deleted on delivery)."""
        self._sealed = False

    def path(self, name: str) -> Path:
        return self.store.path(self.recording, name)

    def has(self, name: str) -> bool:
        """A copy of ``name`` is in the backup store (e.g. left by an earlier run)."""
        known = self.path(name).is_file()
        if known:
            self._mirrored |= {name, TARGET_FILE}
        return known

    async def put_file(self, name: str, source: Path) -> None:
        """Copy spool file ``source`` as ``name``; raises ``OSError`` when the store fails."""
        copy = await asyncio.to_thread(self.store.put_file, self.recording, name, source)
        await self._seal()
        if self.bucket is not None and await self.bucket.put_file(self.recording, name, copy):
            self._mirrored.add(name)

    async def put_bytes(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``; raises ``OSError`` when the store fails."""
        await asyncio.to_thread(self.store.put_bytes, self.recording, name, data)
        await self._seal()
        if self.bucket is not None and await self.bucket.put(self.recording, name, data):
            self._mirrored.add(name)

    def remove(self, name: str) -> None:
        """``name`` reached the customer's bucket: its copies can go."""
        self.store.remove(self.recording, name)
        if self.bucket is not None:
            self._spawn(self.bucket.remove(self.recording, name))

    async def drop_all(self) -> None:
        """Everything is delivered: remove the sealed target and every mirrored copy."""
        await asyncio.to_thread(self._drop_store)
        if self.bucket is not None:
            # Copies whose removal was spawned earlier may still be there: delete all.
            for name in sorted(self._mirrored):
                await self.bucket.remove(self.recording, name)
            self._mirrored.clear()

    def _drop_store(self) -> None:
        (self.store.directory(self.recording) / TARGET_FILE).unlink(missing_ok=True)
        self.store.discard_if_empty(self.recording)

    async def _seal(self) -> None:
        """Seal the storage target beside the copies, once (a restart needs it to deliver)."""
        if self._fernet is None or self._sealed:
            return
        self._sealed = True
        token = seal_target(self.target, self._fernet)
        try:
            await asyncio.to_thread(
                write_atomically, self.store.directory(self.recording) / TARGET_FILE, token
            )
        except BaseException:
            self._sealed = False
            raise
        if self.bucket is not None and await self.bucket.put(self.recording, TARGET_FILE, token):
            self._mirrored.add(TARGET_FILE)
