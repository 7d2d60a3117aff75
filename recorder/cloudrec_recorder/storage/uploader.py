"""Upload a recording's spool to the customer's S3-compatible bucket while it records.

The S3 calls are :mod:`~cloudrec_recorder.storage.objectstore`'s, the bookkeeping (what is
where, what the bucket's playlist may list) :mod:`~cloudrec_recorder.storage.ledger`'s and the
upload journal :mod:`~cloudrec_recorder.storage.journal`'s; this module drives them.

How a recording's files travel (``Uploader``):

* The media writer announces each final file (``file_ready(name)``, spool
  contract: written as ``.tmp-*`` then renamed). Segments and MP4s go to a
  queue served by ``concurrency`` workers (MD5-checked PUTs; large files in parts).
* A playlist is read the moment it is announced (a consistent snapshot, since
  the writer replaces it atomically) and uploaded only when every segment it
  lists is in the bucket, so the bucket's playlist never references a missing
  segment; while uploads lag, the bucket gets the newest version cut after its
  last segment already up (see the ledger).
* A failure is retried with doubling back-off (``attempts``); wrong credentials
  or a missing bucket are not retried. After that the file is copied to the
  :class:`~cloudrec_recorder.storage.backup.BackupStore` (and, when given, to a
  second bucket, :mod:`~cloudrec_recorder.storage.backup_bucket`), the bucket is treated as
  down (later files go straight to the backup, so recording never waits for a
  dead bucket) and a background task probes the bucket and re-uploads the
  backed-up files, segments before the playlists that list them.
* Events (``EventSink``): ``uploader_started`` (30) at start; ``snapshot_uploaded`` (the
  recorder's event 45) for each snapshot JPG as it reaches the bucket, directly or
  re-uploaded; ``backuped`` (32) for files that went to the backup, with warning 32;
  ``uploaded`` (31) for files re-uploaded from the backup, with warning 31, and at the end
  for the recording's playable files; ``progress`` (33) every ``progress_interval`` and a
  final 10000; ``uploader_error`` 32 (storage configuration), 47 (upload failed)
  or 51 (unreadable spool file), once per outage.
* Progress is the delivered share (bucket or backup) of the bytes recorded so
  far, 0-10000. It never goes down and stays below 10000 until ``finish``.
* The manifest (our extension, :mod:`cloudrec_protocol.manifest`): when every file is in the
  bucket, ``<sid>_<cname>.manifest.json`` goes up last, listing every object with its size
  and SHA-256 and the recording's timeline, signed with the callback secret; then event 31.
  Its failure is reported like any upload failure (``uploader_error`` 47).
* Restart safety: the storage target is sealed (encrypted, see
  :mod:`cloudrec_recorder.storage.target`) into the spool directory, uploads are
  journalled there (``.cloudrec-uploaded``), and a fully delivered recording gets
  ``.cloudrec-delivered``; :mod:`cloudrec_recorder.storage.recovery` uses these
  after a restart. Credentials never reach logs, events or exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet

from cloudrec_protocol.manifest import ManifestObject
from cloudrec_recorder.egress import EgressGuard
from cloudrec_recorder.storage.backup import TARGET_FILE, BackupStore, write_atomically
from cloudrec_recorder.storage.backup_bucket import BackupBucket
from cloudrec_recorder.storage.backup_copies import BackupCopies
from cloudrec_recorder.storage.delivery import Delivery
from cloudrec_recorder.storage.files import (
    FileInfo,
    file_info,
    is_output_name,
    is_playlist,
    merged_file_list,
    object_key,
    slice_time_ms,
)
from cloudrec_recorder.storage.journal import JOURNAL_FILE, UploadJournal
from cloudrec_recorder.storage.ledger import Media, Playlist, UploadLedger
from cloudrec_recorder.storage.manifest import ManifestSource, manifest_document, upload_name
from cloudrec_recorder.storage.objectstore import ObjectStore
from cloudrec_recorder.storage.policy import UploadPolicy
from cloudrec_recorder.storage.reporter import EventSink, UploadReporter
from cloudrec_recorder.storage.target import StorageTarget, seal_target

__all__ = [
    "DELIVERED_FILE",
    "JOURNAL_FILE",
    "EventSink",
    "UploadPolicy",
    "UploadResult",
    "UploadStatus",
    "Uploader",
]

log = logging.getLogger(__name__)

DELIVERED_FILE = ".cloudrec-delivered"
"""Written when every file of a finished recording is in the customer's bucket."""

UploadStatus = Literal["uploaded", "backuped", "unknown"]


@dataclass(frozen=True)
class UploadResult:
    """What ``finish`` reports: the ``uploadingStatus`` and the ``fileList``."""

    status: UploadStatus
    files: tuple[FileInfo, ...]


class Uploader:
    """Uploads one recording's spool directory; see the module docstring."""

    def __init__(
        self,
        storage: StorageTarget,
        spool_dir: Path,
        backup: BackupStore,
        events: EventSink,
        *,
        policy: UploadPolicy | None = None,
        sealing_key: Fernet | None = None,
        backup_bucket: BackupBucket | None = None,
        egress: EgressGuard | None = None,
        manifest: ManifestSource | None = None,
    ) -> None:
        """``egress`` checks every connection's address (the recorder always passes one;
        None: the endpoint is the caller's own, as in storage tests and benchmarks);
        ``manifest``: what the manifest needs (None: no manifest is written)."""
        self.target = storage
        self.spool_dir = spool_dir
        self.recording = spool_dir.name
        self.policy = policy or UploadPolicy()
        self._fernet = sealing_key
        self.manifest = manifest
        self.store = ObjectStore(storage, self.policy, egress=egress)
        self.ledger = UploadLedger()
        self.journal = UploadJournal(spool_dir)
        self.copies = BackupCopies(
            backup,
            self.recording,
            storage,
            sealing_key=sealing_key,
            bucket=backup_bucket,
            spawn=self._spawn,
        )
        self.report = UploadReporter(events, self.recording, scrub=storage.scrub, info=self._info)
        self.delivery = Delivery(
            target=storage,
            policy=self.policy,
            store=self.store,
            ledger=self.ledger,
            journal=self.journal,
            copies=self.copies,
            report=self.report,
            source=self._source,
            spawn=self._spawn,
            changed=self._notify,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._stack = AsyncExitStack()
        self._final: UploadResult | None = None
        self._delivering = False
        self._delivered = asyncio.Event()
        self.given_files: tuple[FileInfo, ...] = ()
        """A taken-over recording's: the giver's ``fileList`` (hand-over)."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the S3 client, check the bucket, send ``uploader_started`` and begin."""
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.journal.load()
        if self._fernet is not None:
            await asyncio.to_thread(
                write_atomically,
                self.spool_dir / TARGET_FILE,
                seal_target(self.target, self._fernet),
            )
        else:
            log.warning(
                "Recording %s has no storage encryption key: undelivered files cannot be "
                "uploaded after a restart",
                self.recording,
            )
        await self.store.open(self._stack)
        await self.delivery.check_bucket()
        await self.report.emit(self.report.sink.uploader_started)
        self._tasks = [
            asyncio.create_task(self.delivery.worker(), name=f"upload-{self.recording}-{i}")
            for i in range(self.policy.concurrency)
        ]
        self._tasks += [
            asyncio.create_task(self._progress_ticker(), name=f"progress-{self.recording}"),
            asyncio.create_task(self._event_flusher(), name=f"events-{self.recording}"),
            asyncio.create_task(self.delivery.reuploader(), name=f"reupload-{self.recording}"),
        ]

    async def aclose(self) -> None:
        """Stop every task and close the client; undelivered files stay on disk."""
        tasks = [*self._tasks, *self._side_tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._side_tasks.clear()
        await self._stack.aclose()

    async def abort_unfinished_uploads(self) -> list[str]:
        """Abort the multipart uploads an earlier run of this recording left unfinished."""
        return await self.store.abort_unfinished_uploads(self.recording)

    # ------------------------------------------------------------------ input

    def file_ready(self, name: str, start_ms: int | None = None) -> None:
        """A spool file became final (called on the event loop by the recorder).

        ``start_ms`` is when the file's media starts (epoch ms), for files whose name does
        not say it (an MP4 after the first); by default it comes from the name.
        """
        if not is_output_name(name):
            return
        source = self._source(name)
        if source is None:
            self._spawn(self.delivery.fault(f"file {name} is neither in the spool nor backup"))
            return
        if not is_playlist(name) and name in self.ledger.media:
            return
        try:
            data = source.read_bytes() if is_playlist(name) else b""
            size = source.stat().st_size
        except OSError as error:
            self._spawn(self.delivery.fault(f"cannot read {name}: {error}"))
            return
        if is_playlist(name):
            self._new_playlist_version(name, data, from_backup=source.parent != self.spool_dir)
            return
        start = start_ms if start_ms is not None else slice_time_ms(name)
        in_backup = self.copies.has(name)
        media = Media(name, size, time.monotonic(), start, in_backup=in_backup)
        self.ledger.media[name] = media
        if in_backup:  # known to the backup already: re-upload through the normal queue
            media.state = "backuped"
            media.reported_backup = True
        self.delivery.enqueue(media)

    def _new_playlist_version(self, name: str, data: bytes, *, from_backup: bool) -> None:
        playlist = self.ledger.playlists.get(name)
        if playlist is None:  # first sight (after a restart a copy may be in the backup)
            playlist = self.ledger.playlists[name] = Playlist(name)
            playlist.in_backup = playlist.reported_backup = self.copies.has(name)
        digest = self.journal.digest(name)
        if self.ledger.record_version(
            playlist, data, in_bucket_digest=digest, from_backup=from_backup
        ):
            self.delivery.pump_playlists()
            self._notify()

    def _source(self, name: str) -> Path | None:
        for path in (self.spool_dir / name, self.copies.path(name)):
            if path.is_file():
                return path
        return None

    # ------------------------------------------------------------------ state

    def progress(self) -> int:
        """Delivered share (bucket or backup) of the recorded bytes, 0-10000."""
        final = self._final is not None and self._final.status != "unknown"
        return self.ledger.progress(final=final)

    def latencies(self) -> list[float]:
        """Seconds from ``file_ready`` to the object being in the bucket, per segment."""
        return self.ledger.latencies()

    def held_playlist_bytes(self) -> int:
        """Bytes of playlist text held in memory: one version (the newest) per playlist."""
        return self.ledger.held_playlist_bytes()

    def delivered_elsewhere(
        self,
        names: Iterable[str],
        objects: Iterable[ManifestObject] = (),
        files: Iterable[FileInfo] = (),
    ) -> None:
        """These files are in the bucket already: a hand-over's giver delivered them, and
        this recording's playlists (which list them first) may go up. ``objects`` (the
        giver's manifest) go into this recording's manifest."""
        self.ledger.elsewhere.update(names)
        self.ledger.given.update((o.key, o) for o in objects)
        self.given_files = tuple(files)
        self.delivery.pump_playlists()

    def manifest_objects(self) -> tuple[ManifestObject, ...]:
        """What the manifest lists now (a hand-over's giver passes them on)."""
        return self.ledger.manifest_objects(lambda name: object_key(self.target.prefix, name))

    def playable_files(self) -> tuple[FileInfo, ...]:
        """The ``fileList``: playlists and MP4s, with their first slice time (a taken-over
        recording's: the giver's too)."""
        own = self.ledger.playable_files(self._info)
        return merged_file_list(self.given_files, own) if self.given_files else own

    @property
    def delivered(self) -> bool:
        """Every file of the finished recording is in the customer's bucket."""
        return self._delivered.is_set()

    def _info(self, name: str, start_ms: int | None = None) -> FileInfo:
        if start_ms is None:
            start_ms = slice_time_ms(name) or 0
        return file_info(object_key(self.target.prefix, name), name, start_ms)

    def _notify(self) -> None:
        self._changed.set()
        if self._final is not None and not self._delivering and self.ledger.all_in_bucket():
            self._delivering = True
            self._spawn(self._on_delivered())

    async def _wait_for(self, condition: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
        return True

    # ------------------------------------------------------------------ finish

    async def finish(self, within: float) -> UploadResult:
        """No more files: wait up to ``within`` seconds for every file to reach bucket or backup.

        Status ``uploaded`` (all in the bucket), ``backuped`` (some only in the
        backup; re-uploading goes on) or ``unknown`` (still uploading after
        ``within`` seconds; it goes on too). Sends the final progress and, when all is
        in the bucket, event 31 with the file list.
        """
        self.delivery.pump_playlists()
        settled = await self._wait_for(self.ledger.settled, within)
        await self.report.flush()
        status: UploadStatus = "unknown"
        if settled:
            status = "uploaded" if self.ledger.all_in_bucket() else "backuped"
        self._final = UploadResult(status, self.playable_files())
        if status != "unknown":
            await self.report.emit(self.report.sink.progress, self.progress())
        self._notify()
        return self._final

    async def wait_delivered(self, within: float) -> bool:
        """Wait until a finished recording is entirely in the customer's bucket."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._delivered.wait(), within)
        return self._delivered.is_set()

    async def _on_delivered(self) -> None:
        await self.report.flush()
        if self._final is None or self._final.status != "uploaded":
            # Finished while something was still pending or in the backup:
            # this is the moment everything is in the bucket.
            self._final = UploadResult("uploaded", self.playable_files())
            await self.report.emit(self.report.sink.progress, self.progress())
        await self._put_manifest()
        await self.report.emit(self.report.sink.uploaded, self.playable_files())
        await asyncio.to_thread(write_atomically, self.spool_dir / DELIVERED_FILE, b"")
        await self.copies.drop_all()
        self._delivered.set()

    async def _put_manifest(self) -> None:
        """The manifest, last: every object now in the bucket, with its size and SHA-256."""
        if self.manifest is None:
            return
        objects = self.ledger.manifest_objects(lambda name: object_key(self.target.prefix, name))
        data = manifest_document(self.manifest, objects)
        name = await upload_name(self.manifest, objects, self.store)
        if await self.delivery.put_manifest(name, data):
            log.info("Recording %s: %s (%d objects) uploaded", self.recording, name, len(objects))
        await self.report.flush()

    # ------------------------------------------------------------------ background

    async def _progress_ticker(self) -> None:
        while True:
            await asyncio.sleep(self.policy.progress_interval)
            if self._final is not None and self._final.status != "unknown":
                if self._delivered.is_set():
                    return
                continue
            await self.report.emit(self.report.sink.progress, self.progress())

    async def _event_flusher(self) -> None:
        while True:
            await asyncio.sleep(self.policy.event_batch_interval)
            await self.report.flush()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
