"""How one recording's files travel: to the bucket with retries, or to the backup, and back.

Segments and MP4s go through a queue served by the policy's ``concurrency`` workers
(:meth:`Delivery.worker`); a playlist goes up when the ledger says the bucket can list it
(:meth:`Delivery.pump_playlists`). A failure is retried with doubling back-off; wrong
credentials or a missing bucket are not retried. After that the file goes to the backup, the
bucket is treated as down (later files go straight to the backup, so recording never waits for
a dead bucket) and :meth:`Delivery.reuploader` probes the bucket and re-uploads the backed-up
files, segments before the playlists that list them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from botocore.exceptions import ClientError

from cloudrec_recorder.egress import refusal_in
from cloudrec_recorder.storage.backup_copies import BackupCopies
from cloudrec_recorder.storage.errors import (
    ERROR_FILE_PROCESSING,
    ERROR_STORAGE_CONFIG,
    ERROR_UPLOAD_FAILED,
    backoff_delays,
)
from cloudrec_recorder.storage.files import is_snapshot, object_key
from cloudrec_recorder.storage.journal import UploadJournal
from cloudrec_recorder.storage.ledger import Media, Playlist, PlaylistUpload, UploadLedger
from cloudrec_recorder.storage.objectstore import ObjectStore, file_digests, md5, read_with_digests
from cloudrec_recorder.storage.policy import UploadPolicy
from cloudrec_recorder.storage.reporter import UploadReporter
from cloudrec_recorder.storage.target import StorageTarget

__all__ = ["Delivery"]

log = logging.getLogger(__name__)


class _UploadFailedError(Exception):
    """One upload failed for good (after retries)."""


class Delivery:
    """Moves one recording's files; the uploader feeds it and reads the ledger."""

    def __init__(
        self,
        *,
        target: StorageTarget,
        policy: UploadPolicy,
        store: ObjectStore,
        ledger: UploadLedger,
        journal: UploadJournal,
        copies: BackupCopies,
        report: UploadReporter,
        source: Callable[[str], Path | None],
        spawn: Callable[[Awaitable[None]], None],
        changed: Callable[[], None],
    ) -> None:
        self.target = target
        self.recording = copies.recording
        self.policy = policy
        self.store = store
        self.ledger = ledger
        self.journal = journal
        self.copies = copies
        self.report = report
        self._source = source
        self._spawn = spawn
        self._changed = changed
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self.bucket_ok = True
        """False while the bucket is down (files go straight to the backup)."""

    def enqueue(self, media: Media) -> None:
        if not media.queued:
            media.queued = True
            self._queue.put_nowait(media.name)

    # ------------------------------------------------------------------ media files

    async def worker(self) -> None:
        while True:
            name = await self._queue.get()
            media = self.ledger.media[name]
            media.queued = False
            try:
                await self._deliver_media(media)
            except Exception:
                log.exception("Upload of %s for recording %s failed", name, self.recording)
                await self._to_backup(media)
            finally:
                self._queue.task_done()
                self.pump_playlists()
                self._changed()

    async def _deliver_media(self, media: Media) -> None:
        if media.state == "uploaded":
            return
        source = self._source(media.name)
        if source is None:
            await self.fault(f"file {media.name} vanished from the spool")
            return
        size = source.stat().st_size
        small = size <= self.policy.multipart_threshold
        if small:
            data, digest, sha256 = await asyncio.to_thread(read_with_digests, source)
        else:
            data = b""
            digest, sha256 = await asyncio.to_thread(file_digests, source)
        media.sha256 = sha256
        if self.journal.digest(media.name) == digest.hex():
            self._mark_uploaded(media)
            return
        if not self.bucket_ok:
            await self._to_backup(media)
            return

        async def attempt() -> None:
            if small:
                await self.store.put_bytes(media.name, data, digest)
            else:
                await self.store.put_multipart(media.name, source, size)

        try:
            await self._with_retries(attempt)
        except _UploadFailedError:
            await self._to_backup(media)
            return
        await self.journal.add(media.name, digest.hex())
        self._mark_uploaded(media)

    def _mark_uploaded(self, media: Media) -> None:
        had_copy = media.state == "backuped" or media.in_backup
        media.state = "uploaded"
        media.uploaded_at = time.monotonic()
        if is_snapshot(media.name):
            key = object_key(self.target.prefix, media.name)
            self._spawn(self.report.emit(self.report.sink.snapshot_uploaded, key))
        if had_copy:
            if media.reported_backup:
                self.report.reuploaded.append(media.name)
            self.copies.remove(media.name)
            media.in_backup = False

    async def _to_backup(self, media: Media) -> None:
        source = self._source(media.name)
        if source is None:
            await self.fault(f"file {media.name} vanished from the spool")
            return
        try:
            await self.copies.put_file(media.name, source)
        except OSError as error:
            await self.fault(f"cannot write {media.name} to the backup store: {error}")
            return
        media.state = "backuped"
        media.in_backup = True
        if not media.reported_backup:
            media.reported_backup = True
            self.report.backuped.append(media.name)
        self.bucket_ok = False

    # ------------------------------------------------------------------ playlists

    def pump_playlists(self) -> None:
        """Start playlist uploads (or backups) that can go now."""
        for playlist in self.ledger.playlists.values():
            if playlist.busy or playlist.version == playlist.uploaded_version:
                continue
            if self.bucket_ok:
                upload = self.ledger.next_upload(playlist)
                if upload is not None:
                    playlist.busy = True
                    self._spawn(self._deliver_playlist(playlist, upload))
            elif playlist.backuped_version != playlist.version:
                playlist.busy = True
                self._spawn(self._backup_playlist(playlist))

    async def _deliver_playlist(self, playlist: Playlist, upload: PlaylistUpload) -> None:
        digest = md5(upload.data)
        try:
            await self._with_retries(
                lambda: self.store.put_bytes(playlist.name, upload.data, digest)
            )
        except Exception as error:
            if not isinstance(error, _UploadFailedError):
                log.exception("Upload of %s for recording %s failed", playlist.name, self.recording)
            await self._backup_playlist(playlist)
            return
        await self.journal.add(playlist.name, digest.hex())
        if self.ledger.playlist_uploaded(playlist, upload):
            self.copies.remove(playlist.name)
            if playlist.reported_backup:
                playlist.reported_backup = False
                self.report.reuploaded.append(playlist.name)
        self.pump_playlists()
        self._changed()

    async def _backup_playlist(self, playlist: Playlist) -> None:
        version, data = playlist.version, playlist.data
        try:
            await self.copies.put_bytes(playlist.name, data)
        except OSError as error:
            await self.fault(f"cannot write {playlist.name} to the backup store: {error}")
        else:
            playlist.backuped_version = max(playlist.backuped_version, version)
            playlist.in_backup = True
            if not playlist.reported_backup:
                playlist.reported_backup = True
                self.report.backuped.append(playlist.name)
        playlist.busy = False
        self.bucket_ok = False
        self.pump_playlists()
        self._changed()

    # ------------------------------------------------------------------ the manifest

    async def put_manifest(self, name: str, data: bytes) -> bool:
        """Upload the manifest (after every other object); False when it failed for good,
        reported like any other upload failure (``uploader_error`` 47 or 32)."""
        try:
            await self._with_retries(lambda: self.store.put_bytes(name, data, md5(data)))
        except _UploadFailedError:
            return False
        except Exception:
            log.exception("Upload of %s for recording %s failed", name, self.recording)
            await self.report.error(ERROR_UPLOAD_FAILED, f"the manifest {name} was not uploaded")
            return False
        return True

    # ------------------------------------------------------------------ the bucket

    async def _with_retries(self, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run ``attempt`` with back-off; raise :class:`_UploadFailedError` when out of tries."""
        p = self.policy
        for delay in [*backoff_delays(p.attempts, p.backoff_initial, p.backoff_max), None]:
            try:
                await attempt()
                return
            except ClientError as error:
                kind, message = self.store.classify(error)
            except Exception as error:  # connection refused, timeouts, broken connections
                refused = refusal_in(error)
                kind = "config" if refused is not None else "transient"
                message = str(refused) if refused else f"{type(error).__name__}: {error}"
            if kind == "config":
                await self.report.error(ERROR_STORAGE_CONFIG, message)
                raise _UploadFailedError(message)
            if delay is None or not self.bucket_ok:
                await self.report.error(ERROR_UPLOAD_FAILED, message)
                raise _UploadFailedError(message)
            await asyncio.sleep(delay)

    async def check_bucket(self) -> None:
        """A HEAD on the bucket (shared with the starts of the same bucket at the same
        moment): a wrong configuration shows before the first file."""
        try:
            await self.store.check_bucket()
        except ClientError as error:
            kind, message = self.store.classify(error)
            if kind == "config":
                self.bucket_ok = False
                await self.report.error(ERROR_STORAGE_CONFIG, message)
        except Exception as error:
            refused = refusal_in(error)
            if refused is not None:
                self.bucket_ok = False
                await self.report.error(ERROR_STORAGE_CONFIG, str(refused))
                return
            log.warning(
                "Bucket check for recording %s failed: %s",
                self.recording,
                self.target.scrub(f"{type(error).__name__}: {error}"),
            )

    async def reuploader(self) -> None:
        """While the bucket is down: probe it; when it answers, re-upload the backup."""
        p = self.policy
        interval = p.reupload_interval
        while True:
            await asyncio.sleep(interval)
            if self.bucket_ok:
                interval = p.reupload_interval
                continue
            if not await self.store.probe():
                interval = min(p.reupload_interval_max, interval * 2)
                continue
            log.info("Bucket %s answers again, re-uploading", self.target.bucket)
            interval = p.reupload_interval
            self.bucket_ok = True
            self.report.outage_over()
            for media in self.ledger.media.values():
                if media.state == "backuped":
                    self.enqueue(media)
            self.pump_playlists()

    async def fault(self, message: str) -> None:
        await self.report.error(ERROR_FILE_PROCESSING, message)
