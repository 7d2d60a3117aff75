"""Upload a recording's spool to the customer's S3-compatible bucket while it records.

Library: **aiobotocore** (pinned). It is botocore (the AWS SDK's own request
signing, endpoint rules, error parsing and multipart API) on aiohttp, so it runs
on the recorder's event loop without threads and speaks to every S3-compatible
vendor the way AWS's SDK does. aioboto3 only adds boto3's resource layer and
managed transfers on top of aiobotocore (not needed: we do our own multipart to
control MD5s and retries); obstore (Rust ``object_store``) is fast but hides
Content-MD5 and per-part control and is one more native wheel to keep up.

How a recording's files travel (``Uploader``):

* The media writer announces each final file (``file_ready(name)``, spool
  contract: written as ``.tmp-*`` then renamed). Segments and MP4s go to a
  queue served by ``concurrency`` workers; each upload carries ``Content-MD5``
  (the store verifies it; every vendor supports it), files above
  ``multipart_threshold`` go up in parts, each part with its own MD5.
* A playlist is read the moment it is announced (a consistent snapshot, since
  the writer replaces it atomically) and uploaded only when every segment it
  lists is in the bucket, so the bucket's playlist never references a missing
  segment. Only its newest version is held: while uploads lag behind the
  recording, the bucket gets that version cut after its last segment already
  up (a playlist only grows, so that is an earlier version), so the bucket's
  playlist keeps advancing, and memory and work per new version do not grow
  with the backlog (each segment is checked once, only appended lines are
  parsed).
* A failure is retried with doubling back-off (``attempts``); wrong credentials
  or a missing bucket are not retried. After that the file is copied to the
  :class:`~cloudrec_recorder.storage.backup.BackupStore` (and, when given, to a
  second bucket, :mod:`~cloudrec_recorder.storage.backup_bucket`), the bucket is treated as
  down (later files go straight to the backup, so recording never waits for a
  dead bucket) and a background task probes the bucket and re-uploads the
  backed-up files, segments before the playlists that list them.
* Events (``EventSink``): ``uploader_started`` (30) at start; ``backuped`` (32)
  for files that went to the backup, with warning 32; ``uploaded`` (31) for files
  re-uploaded from the backup, with warning 31, and at the end for the
  recording's playable files; ``progress`` (33) every ``progress_interval`` and a
  final 10000; ``uploader_error`` 32 (storage configuration), 47 (upload failed)
  or 51 (unreadable spool file), once per outage.
* Progress is the delivered share (bucket or backup) of the bytes recorded so
  far, 0-10000. It never goes down and stays below 10000 until ``finish``.
* Restart safety: the storage target is sealed (encrypted, see
  :mod:`cloudrec_recorder.storage.target`) into the spool directory, uploads are
  journalled there (``.cloudrec-uploaded``), and a fully delivered recording gets
  ``.cloudrec-delivered``; :mod:`cloudrec_recorder.storage.recovery` uses these
  after a restart. Credentials never reach logs, events or exceptions.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError
from cryptography.fernet import Fernet

from cloudrec_recorder.storage.backup import TARGET_FILE, BackupStore, write_atomically
from cloudrec_recorder.storage.backup_bucket import BackupBucket
from cloudrec_recorder.storage.errors import (
    ERROR_FILE_PROCESSING,
    ERROR_STORAGE_CONFIG,
    ERROR_UPLOAD_FAILED,
    WARNING_BACKUPED,
    WARNING_REUPLOADED,
    backoff_delays,
    failure_kind,
)
from cloudrec_recorder.storage.files import (
    FileInfo,
    file_info,
    grown_playlist,
    is_output_name,
    is_playlist,
    object_key,
    playlist_prefix,
    ready_count,
    slice_time_ms,
)
from cloudrec_recorder.storage.session import ClientPool, credential_digest, shared_session
from cloudrec_recorder.storage.target import StorageTarget, seal_target

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

_S3_CLIENTS: ClientPool[S3Client] = ClientPool()
"""S3 clients shared by the recordings with the same endpoint, credentials and timeouts."""
SHARED_CLIENT_CONNECTIONS = 64
"""Connections of one shared client (each recording still runs ``concurrency`` uploads)."""

log = logging.getLogger(__name__)

JOURNAL_FILE = ".cloudrec-uploaded"
"""Append-only ``<name>\\t<md5 hex>`` lines, one per object now in the bucket."""
DELIVERED_FILE = ".cloudrec-delivered"
"""Written when every file of a finished recording is in the customer's bucket."""

UploadStatus = Literal["uploaded", "backuped", "unknown"]


class EventSink(Protocol):
    """What the uploader tells the recorder (which turns it into events 30-33, 1, 2)."""

    async def uploader_started(self) -> None: ...

    async def uploaded(self, files: Sequence[FileInfo]) -> None: ...

    async def backuped(self, files: Sequence[FileInfo]) -> None: ...

    async def progress(self, value: int) -> None: ...

    async def uploader_warning(self, code: int, message: str) -> None: ...

    async def uploader_error(self, code: int, message: str) -> None: ...


@dataclass(frozen=True)
class UploadPolicy:
    """Knobs of the uploader; the defaults suit a recording on a normal network."""

    concurrency: int = 4
    """Uploads in flight at once."""
    attempts: int = 3
    """Tries per file before it goes to the backup (transient failures only)."""
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    multipart_threshold: int = 16 * 1024 * 1024
    """Files larger than this go up in parts (MP4s)."""
    part_size: int = 8 * 1024 * 1024
    """Part size of multipart uploads (S3 wants at least 5 MiB but for the last)."""
    progress_interval: float = 10.0
    """Seconds between progress events (event 33)."""
    event_batch_interval: float = 1.0
    """Seconds over which backuped / re-uploaded files are gathered into one event."""
    reupload_interval: float = 2.0
    """First wait before probing a bucket that failed; doubles up to the maximum."""
    reupload_interval_max: float = 30.0


@dataclass(frozen=True)
class UploadResult:
    """What ``finish`` reports: the ``uploadingStatus`` and the ``fileList``."""

    status: UploadStatus
    files: tuple[FileInfo, ...]


class _UploadFailedError(Exception):
    """One upload failed for good (after retries); ``kind`` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


_State = Literal["pending", "uploaded", "backuped"]


@dataclass(slots=True)
class _Media:
    name: str
    size: int
    ready_at: float
    start_ms: int | None
    """The slice time in the name (parsed once)."""
    state: _State = "pending"
    queued: bool = False
    reported_backup: bool = False
    in_backup: bool = False
    uploaded_at: float | None = None


@dataclass(slots=True)
class _Playlist:
    """A playlist: only its newest version is held, whatever the upload backlog.

    Older versions are never kept: a playlist only grows, so the version the bucket may get
    next is the newest one cut after its last listed segment that is in the bucket already
    (``ready``; see :func:`~cloudrec_recorder.storage.files.playlist_prefix`).
    """

    name: str
    data: bytes = b""
    refs: list[str] = field(default_factory=list)
    version: int = 0
    uploaded_version: int = 0
    backuped_version: int = 0
    busy: bool = False
    ready: int = 0
    """How many of the first ``refs`` are in the bucket (a cursor that only moves forward)."""
    published: int = 0
    """How many ``refs`` the copy in the bucket lists (0: none or unknown)."""
    in_backup: bool = False
    """A copy (maybe older) is in the backup store."""
    reported_backup: bool = False


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _read_part(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as src:
        src.seek(offset)
        return src.read(size)


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
    ) -> None:
        self.target = storage
        self.spool_dir = spool_dir
        self.recording = spool_dir.name
        self.backup = backup
        self.events = events
        self.policy = policy or UploadPolicy()
        self._fernet = sealing_key
        self.backup_bucket = backup_bucket
        """Optional second bucket mirroring the backup store (started by the caller)."""
        self._mirrored: set[str] = set()
        """Names that may have a copy in the backup bucket (deleted on delivery)."""
        self._media: dict[str, _Media] = {}
        self._playlists: dict[str, _Playlist] = {}
        self._journal: dict[str, str] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None
        self._bucket_ok = True
        self._reported_errors: set[int] = set()
        self._backuped_batch: list[str] = []
        self._reuploaded_batch: list[str] = []
        self._progress = 0
        self._finished = False
        self._final: UploadResult | None = None
        self._delivering = False
        self._delivered = asyncio.Event()
        self._target_in_backup = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the S3 client, check the bucket, send ``uploader_started`` and begin."""
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self._load_journal()
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
        p = self.policy
        config = AioConfig(
            connect_timeout=p.connect_timeout,
            read_timeout=p.read_timeout,
            retries={"total_max_attempts": 1},
            max_pool_connections=SHARED_CLIENT_CONNECTIONS,
            signature_version="s3v4",
            s3={"addressing_style": self.target.addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        token = self.target.session_token
        access = self.target.access_key.get_secret_value()
        secret = self.target.secret_key.get_secret_value()
        session_token = token.get_secret_value() if token else None
        key = (
            self.target.endpoint,
            self.target.region,
            self.target.addressing_style,
            p.connect_timeout,
            p.read_timeout,
            credential_digest(access, secret, session_token),
        )
        self._client = await _S3_CLIENTS.acquire(
            key,
            lambda: shared_session().create_client(
                "s3",
                endpoint_url=self.target.endpoint,
                region_name=self.target.region,
                aws_access_key_id=access,
                aws_secret_access_key=secret,
                aws_session_token=session_token,
                config=config,
            ),
        )
        self._stack.push_async_callback(_S3_CLIENTS.release, key)
        await self._check_bucket()
        await self._emit(self.events.uploader_started)
        self._tasks = [
            asyncio.create_task(self._worker(), name=f"upload-{self.recording}-{i}")
            for i in range(p.concurrency)
        ]
        self._tasks += [
            asyncio.create_task(self._progress_ticker(), name=f"progress-{self.recording}"),
            asyncio.create_task(self._event_flusher(), name=f"events-{self.recording}"),
            asyncio.create_task(self._reuploader(), name=f"reupload-{self.recording}"),
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
        self._client = None

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
            self._spawn(
                self._error(
                    ERROR_FILE_PROCESSING, f"file {name} is neither in the spool nor backup"
                )
            )
            return
        if is_playlist(name):
            try:
                data = source.read_bytes()
            except OSError as error:
                self._spawn(self._error(ERROR_FILE_PROCESSING, f"cannot read {name}: {error}"))
                return
            self._new_playlist_version(name, data, from_backup=source.parent != self.spool_dir)
            return
        if name in self._media:
            return
        try:
            size = source.stat().st_size
        except OSError as error:
            self._spawn(self._error(ERROR_FILE_PROCESSING, f"cannot read {name}: {error}"))
            return
        in_backup = self.backup.path(self.recording, name).is_file()
        start = start_ms if start_ms is not None else slice_time_ms(name)
        media = _Media(name, size, time.monotonic(), start, in_backup=in_backup)
        self._media[name] = media
        if in_backup:
            # Known to the backup already: re-upload through the normal queue.
            media.state = "backuped"
            media.reported_backup = True
            self._mirrored |= {name, TARGET_FILE}
        self._enqueue(media)

    def _new_playlist_version(self, name: str, data: bytes, *, from_backup: bool) -> None:
        playlist = self._playlists.get(name)
        if playlist is None:
            # First sight (after a restart a copy may sit in the backup already).
            playlist = self._playlists[name] = _Playlist(name)
            playlist.in_backup = self.backup.path(self.recording, name).is_file()
            playlist.reported_backup = playlist.in_backup
            if playlist.in_backup:
                self._mirrored |= {name, TARGET_FILE}
        if data == playlist.data:
            return
        refs, grown = grown_playlist(playlist.data, playlist.refs, data)
        if not grown:  # rewritten rather than appended to: look at every segment again
            playlist.ready = playlist.published = 0
        playlist.data = data
        playlist.refs = refs
        playlist.version += 1
        if self._journal.get(name) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            playlist.uploaded_version = playlist.version
            playlist.ready = playlist.published = len(refs)
        elif from_backup:
            playlist.backuped_version = playlist.version
        self._pump_playlists()
        self._notify()

    def _enqueue(self, media: _Media) -> None:
        if not media.queued:
            media.queued = True
            self._queue.put_nowait(media.name)

    def _source(self, name: str) -> Path | None:
        for path in (self.spool_dir / name, self.backup.path(self.recording, name)):
            if path.is_file():
                return path
        return None

    # ------------------------------------------------------------------ state

    def progress(self) -> int:
        """Delivered share (bucket or backup) of the recorded bytes, 0-10000."""
        total = done = 0
        for media in self._media.values():
            total += media.size
            if media.state != "pending":
                done += media.size
        for playlist in self._playlists.values():
            total += len(playlist.data)
            if playlist.version in (playlist.uploaded_version, playlist.backuped_version):
                done += len(playlist.data)
        value = 10000 * done // total if total else 0
        if self._final is None or self._final.status == "unknown":
            value = min(value, 9999)
        self._progress = max(self._progress, value)
        return self._progress

    def latencies(self) -> list[float]:
        """Seconds from ``file_ready`` to the object being in the bucket, per segment."""
        return [
            m.uploaded_at - m.ready_at for m in self._media.values() if m.uploaded_at is not None
        ]

    def held_playlist_bytes(self) -> int:
        """Bytes of playlist text held in memory: one version (the newest) per playlist."""
        return sum(len(playlist.data) for playlist in self._playlists.values())

    @property
    def delivered(self) -> bool:
        """Every file of the finished recording is in the customer's bucket."""
        return self._delivered.is_set()

    def _settled(self) -> bool:
        if any(m.state == "pending" for m in self._media.values()):
            return False
        return all(
            not p.busy and p.version in (p.uploaded_version, p.backuped_version)
            for p in self._playlists.values()
        )

    def _all_in_bucket(self) -> bool:
        return all(m.state == "uploaded" for m in self._media.values()) and all(
            not p.busy and p.uploaded_version == p.version for p in self._playlists.values()
        )

    def _notify(self) -> None:
        self._changed.set()
        if self._final is not None and not self._delivering and self._all_in_bucket():
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

    def playable_files(self) -> tuple[FileInfo, ...]:
        """The ``fileList``: playlists and MP4s, with their first slice time."""
        infos: list[FileInfo] = []
        for name in sorted(self._playlists):
            listed = (self._media.get(r) for r in self._playlists[name].refs)
            stamps = [m.start_ms for m in listed if m is not None and m.start_ms is not None]
            infos.append(self._info(name, min(stamps, default=0)))
        every = [m.start_ms for m in self._media.values() if m.start_ms is not None]
        for name in sorted(self._media):
            if name.endswith(".mp4"):
                own = self._media[name].start_ms
                infos.append(self._info(name, own if own is not None else min(every, default=0)))
        return tuple(infos)

    def _info(self, name: str, start_ms: int | None = None) -> FileInfo:
        if start_ms is None:
            start_ms = slice_time_ms(name) or 0
        return file_info(object_key(self.target.prefix, name), name, start_ms)

    # ------------------------------------------------------------------ finish

    async def finish(self, within: float) -> UploadResult:
        """No more files: wait up to ``within`` seconds for every file to reach bucket or backup.

        Status ``uploaded`` (all in the bucket), ``backuped`` (some only in the
        backup; re-uploading goes on) or ``unknown`` (still uploading after
        ``within`` seconds; it goes on too). Sends the final progress and, when all is
        in the bucket, event 31 with the file list.
        """
        self._finished = True
        self._pump_playlists()
        settled = await self._wait_for(self._settled, within)
        await self._flush_events()
        files = self.playable_files()
        if not settled:
            status: UploadStatus = "unknown"
        elif self._all_in_bucket():
            status = "uploaded"
        else:
            status = "backuped"
        self._final = UploadResult(status, files)
        if status != "unknown":
            await self._emit(self.events.progress, self.progress())
        self._notify()
        return self._final

    async def wait_delivered(self, within: float) -> bool:
        """Wait until a finished recording is entirely in the customer's bucket."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._delivered.wait(), within)
        return self._delivered.is_set()

    async def _on_delivered(self) -> None:
        await self._flush_events()
        if self._final is None or self._final.status != "uploaded":
            # Finished while something was still pending or in the backup:
            # this is the moment everything is in the bucket.
            self._final = UploadResult("uploaded", self.playable_files())
            await self._emit(self.events.progress, self.progress())
        await self._emit(self.events.uploaded, self.playable_files())
        await asyncio.to_thread(write_atomically, self.spool_dir / DELIVERED_FILE, b"")
        await asyncio.to_thread(self._drop_backup)
        if self.backup_bucket is not None:
            # Copies whose removal was spawned earlier may still be there: delete all.
            for name in sorted(self._mirrored):
                await self.backup_bucket.remove(self.recording, name)
            self._mirrored.clear()
        self._delivered.set()

    def _drop_backup(self) -> None:
        (self.backup.directory(self.recording) / TARGET_FILE).unlink(missing_ok=True)
        self.backup.discard_if_empty(self.recording)

    # ------------------------------------------------------------------ workers

    async def _worker(self) -> None:
        while True:
            name = await self._queue.get()
            media = self._media[name]
            media.queued = False
            try:
                await self._deliver_media(media)
            except Exception:
                log.exception("Upload of %s for recording %s failed", name, self.recording)
                await self._to_backup(media)
            finally:
                self._queue.task_done()
                self._pump_playlists()
                self._notify()

    async def _deliver_media(self, media: _Media) -> None:
        if media.state == "uploaded":
            return
        source = self._source(media.name)
        if source is None:
            await self._error(ERROR_FILE_PROCESSING, f"file {media.name} vanished from the spool")
            return
        size = source.stat().st_size
        small = size <= self.policy.multipart_threshold
        if small:
            data, digest = await asyncio.to_thread(_read_with_md5, source)
        else:
            data, digest = b"", await asyncio.to_thread(self._file_md5, source)
        if self._journal.get(media.name) == digest.hex():
            self._mark_uploaded(media)
            return
        if not self._bucket_ok:
            await self._to_backup(media)
            return

        async def attempt() -> None:
            if small:
                await self._put_bytes(media.name, data, digest)
            else:
                await self._put_multipart(media.name, source, size)

        try:
            await self._with_retries(attempt)
        except _UploadFailedError:
            await self._to_backup(media)
            return
        await self._journal_add(media.name, digest.hex())
        self._mark_uploaded(media)

    def _mark_uploaded(self, media: _Media) -> None:
        was_backuped = media.state == "backuped"
        media.state = "uploaded"
        media.uploaded_at = time.monotonic()
        if was_backuped or media.in_backup:
            if media.reported_backup:
                self._reuploaded_batch.append(media.name)
            self._remove_backup_copy(media.name)
            media.in_backup = False

    async def _to_backup(self, media: _Media) -> None:
        source = self._source(media.name)
        if source is None:
            await self._error(ERROR_FILE_PROCESSING, f"file {media.name} vanished from the spool")
            return
        try:
            copy = await asyncio.to_thread(self.backup.put_file, self.recording, media.name, source)
            await self._seal_into_backup()
            if self.backup_bucket is not None:
                if await self.backup_bucket.put_file(self.recording, media.name, copy):
                    self._mirrored.add(media.name)
        except OSError as error:
            await self._error(
                ERROR_FILE_PROCESSING, f"cannot write {media.name} to the backup store: {error}"
            )
            return
        media.state = "backuped"
        media.in_backup = True
        if not media.reported_backup:
            media.reported_backup = True
            self._backuped_batch.append(media.name)
        self._bucket_ok = False

    async def _seal_into_backup(self) -> None:
        if self._fernet is None or self._target_in_backup:
            return
        self._target_in_backup = True
        path = self.backup.directory(self.recording) / TARGET_FILE
        token = seal_target(self.target, self._fernet)
        try:
            await asyncio.to_thread(write_atomically, path, token)
        except BaseException:
            self._target_in_backup = False
            raise
        if self.backup_bucket is not None:
            if await self.backup_bucket.put(self.recording, TARGET_FILE, token):
                self._mirrored.add(TARGET_FILE)

    def _remove_backup_copy(self, name: str) -> None:
        self.backup.remove(self.recording, name)
        if self.backup_bucket is not None:
            self._spawn(self.backup_bucket.remove(self.recording, name))

    def _pump_playlists(self) -> None:
        """Start playlist uploads (or backups) that can go now."""
        for playlist in self._playlists.values():
            if playlist.busy or playlist.version == playlist.uploaded_version:
                continue
            if self._bucket_ok:
                ready = self._next_upload(playlist)
                if ready is not None:
                    playlist.busy = True
                    self._spawn(self._deliver_playlist(playlist, *ready))
            elif playlist.backuped_version != playlist.version:
                playlist.busy = True
                self._spawn(self._backup_playlist(playlist))

    def _next_upload(self, playlist: _Playlist) -> tuple[int | None, bytes, int] | None:
        """What the bucket can get now: (version or None for a part of it, data, listed count).

        The whole newest version once every segment it lists is in the bucket; before that, the
        newest version cut after its last segment in the bucket, when that lists more than the
        bucket's copy does (the bucket's playlist keeps advancing while uploads lag behind).
        """
        playlist.ready = ready_count(playlist.refs, playlist.ready, self._in_bucket)
        if playlist.ready == len(playlist.refs):
            return playlist.version, playlist.data, playlist.ready
        if playlist.ready > playlist.published:
            return None, playlist_prefix(playlist.data, playlist.ready), playlist.ready
        return None

    def _in_bucket(self, name: str) -> bool:
        media = self._media.get(name)
        return media is not None and media.state == "uploaded"

    async def _deliver_playlist(
        self, playlist: _Playlist, version: int | None, data: bytes, listed: int
    ) -> None:
        """Upload ``data``: version ``version`` whole, or (None) a part of the newest."""
        digest = _md5(data)
        try:
            await self._with_retries(lambda: self._put_bytes(playlist.name, data, digest))
        except _UploadFailedError:
            await self._backup_playlist(playlist)
            return
        except Exception:
            log.exception("Upload of %s for recording %s failed", playlist.name, self.recording)
            await self._backup_playlist(playlist)
            return
        await self._journal_add(playlist.name, digest.hex())
        playlist.published = listed
        if version is not None:
            playlist.uploaded_version = version
        playlist.busy = False
        if playlist.in_backup and version == playlist.version:
            self._remove_backup_copy(playlist.name)
            playlist.in_backup = False
            playlist.backuped_version = 0
            if playlist.reported_backup:
                playlist.reported_backup = False
                self._reuploaded_batch.append(playlist.name)
        self._pump_playlists()
        self._notify()

    async def _backup_playlist(self, playlist: _Playlist) -> None:
        version, data = playlist.version, playlist.data
        try:
            await asyncio.to_thread(self.backup.put_bytes, self.recording, playlist.name, data)
            await self._seal_into_backup()
            if self.backup_bucket is not None:
                if await self.backup_bucket.put(self.recording, playlist.name, data):
                    self._mirrored.add(playlist.name)
        except OSError as error:
            await self._error(
                ERROR_FILE_PROCESSING, f"cannot write {playlist.name} to the backup store: {error}"
            )
        else:
            playlist.backuped_version = max(playlist.backuped_version, version)
            playlist.in_backup = True
            if not playlist.reported_backup:
                playlist.reported_backup = True
                self._backuped_batch.append(playlist.name)
        playlist.busy = False
        self._bucket_ok = False
        self._pump_playlists()
        self._notify()

    # ------------------------------------------------------------------ S3

    def _file_md5(self, path: Path) -> bytes:
        md5 = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as src:
            while chunk := src.read(1 << 20):
                md5.update(chunk)
        return md5.digest()

    def _key(self, name: str) -> str:
        return object_key(self.target.prefix, name)

    async def abort_unfinished_uploads(self) -> list[str]:
        """Abort the multipart uploads an earlier run of this recording left unfinished.

        A process killed in the middle of a large upload leaves its parts in the bucket,
        invisible but stored (and billed) until aborted. Every object key of a recording
        starts with its prefix and sid, so those are the uploads listed. Returns the keys;
        a store that cannot list uploads is logged and skipped (the file itself is uploaded
        again either way).
        """
        assert self._client is not None, "start() first"
        client, bucket, prefix = self._client, self.target.bucket, self._key(self.recording)
        aborted: list[str] = []
        try:
            paginator = client.get_paginator("list_multipart_uploads")
            async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    key, upload_id = upload.get("Key"), upload.get("UploadId")
                    if key is None or upload_id is None or not key.startswith(prefix):
                        continue
                    await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                    aborted.append(key)
        except Exception as error:  # best effort: the bucket may be down or not list uploads
            log.warning(
                "Unfinished uploads of recording %s not cleaned up: %s",
                self.recording,
                type(error).__name__,
            )
        if aborted:
            log.info(
                "Aborted %d unfinished upload(s) of recording %s", len(aborted), self.recording
            )
        return aborted

    async def _put_bytes(self, name: str, data: bytes, digest: bytes) -> None:
        assert self._client is not None
        await self._client.put_object(
            Bucket=self.target.bucket,
            Key=self._key(name),
            Body=data,
            ContentMD5=_b64(digest),
            ContentType=_content_type(name),
        )

    async def _put_multipart(self, name: str, path: Path, size: int) -> None:
        assert self._client is not None
        client, bucket, key = self._client, self.target.bucket, self._key(name)
        created = await client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=_content_type(name)
        )
        upload_id = created["UploadId"]
        parts: list[CompletedPartTypeDef] = []
        try:
            offset, number = 0, 1
            while offset < size:
                chunk = await asyncio.to_thread(_read_part, path, offset, self.policy.part_size)
                answer = await client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ContentMD5=_b64(_md5(chunk)),
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
                offset += len(chunk)
                number += 1
            await client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    async def _with_retries(self, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run ``attempt`` with back-off; raise :class:`_UploadFailedError` when out of tries."""
        p = self.policy
        delays = [*backoff_delays(p.attempts, p.backoff_initial, p.backoff_max), None]
        for delay in delays:
            try:
                await attempt()
                return
            except _UploadFailedError as error:
                kind, message = error.kind, str(error)
            except ClientError as error:
                kind, message = self._classify_client_error(error)
            except Exception as error:  # connection refused, timeouts, broken connections
                kind, message = "transient", f"{type(error).__name__}: {error}"
            if kind == "config":
                await self._error(ERROR_STORAGE_CONFIG, message)
                raise _UploadFailedError(kind, message)
            if delay is None or not self._bucket_ok:
                await self._error(ERROR_UPLOAD_FAILED, message)
                raise _UploadFailedError(kind, message)
            await asyncio.sleep(delay)

    def _classify_client_error(self, error: Any) -> tuple[str, str]:
        response = getattr(error, "response", {}) or {}
        code = str(response.get("Error", {}).get("Code", "")) or None
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        kind = failure_kind(code, int(status) if status is not None else None)
        if kind == "config":
            what = {
                "NoSuchBucket": f"bucket {self.target.bucket} does not exist",
                "404": f"bucket {self.target.bucket} does not exist",
                "InvalidAccessKeyId": "the access key is not known to the storage",
                "SignatureDoesNotMatch": "the secret key does not match the access key",
            }.get(code or "", f"the storage refused the request ({code or status})")
            return kind, f"storage configuration is wrong: {what}"
        return kind, f"storage answered {code or status}"

    async def _check_bucket(self) -> None:
        """One HEAD on the bucket: a wrong configuration shows before the first file."""
        assert self._client is not None
        try:
            await self._client.head_bucket(Bucket=self.target.bucket)
        except ClientError as error:
            kind, message = self._classify_client_error(error)
            if kind == "config":
                self._bucket_ok = False
                await self._error(ERROR_STORAGE_CONFIG, message)
        except Exception as error:
            log.warning(
                "Bucket check for recording %s failed: %s",
                self.recording,
                self.target.scrub(f"{type(error).__name__}: {error}"),
            )

    async def _probe(self) -> bool:
        assert self._client is not None
        try:
            await self._client.head_bucket(Bucket=self.target.bucket)
        except Exception:
            return False
        return True

    # ------------------------------------------------------------------ background

    async def _reuploader(self) -> None:
        """While the bucket is down: probe it; when it answers, re-upload the backup."""
        p = self.policy
        interval = p.reupload_interval
        while True:
            await asyncio.sleep(interval)
            if self._bucket_ok:
                interval = p.reupload_interval
                continue
            if not await self._probe():
                interval = min(p.reupload_interval_max, interval * 2)
                continue
            log.info("Bucket %s answers again, re-uploading", self.target.bucket)
            interval = p.reupload_interval
            self._bucket_ok = True
            self._reported_errors.clear()
            for media in self._media.values():
                if media.state == "backuped":
                    self._enqueue(media)
            self._pump_playlists()

    async def _progress_ticker(self) -> None:
        while True:
            await asyncio.sleep(self.policy.progress_interval)
            if self._final is not None and self._final.status != "unknown":
                if self._delivered.is_set():
                    return
                continue
            await self._emit(self.events.progress, self.progress())

    async def _event_flusher(self) -> None:
        while True:
            await asyncio.sleep(self.policy.event_batch_interval)
            await self._flush_events()

    async def _flush_events(self) -> None:
        backuped, self._backuped_batch = self._backuped_batch, []
        reuploaded, self._reuploaded_batch = self._reuploaded_batch, []
        if backuped:
            await self._emit(
                self.events.uploader_warning,
                WARNING_BACKUPED,
                f"{len(backuped)} file(s) went to the backup store",
            )
            await self._emit(self.events.backuped, [self._info(n) for n in backuped])
        if reuploaded:
            await self._emit(
                self.events.uploader_warning,
                WARNING_REUPLOADED,
                f"{len(reuploaded)} file(s) re-uploaded to your storage",
            )
            await self._emit(self.events.uploaded, [self._info(n) for n in reuploaded])

    # ------------------------------------------------------------------ helpers

    async def _error(self, code: int, message: str) -> None:
        """Send uploader error ``code`` once per outage (credentials scrubbed)."""
        if code in self._reported_errors:
            return
        self._reported_errors.add(code)
        text = self.target.scrub(message)
        log.warning("Uploader error %d for recording %s: %s", code, self.recording, text)
        await self._emit(self.events.uploader_error, code, text)

    async def _emit(self, method: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await method(*args)
        except Exception:
            log.exception("Event sink failed for recording %s", self.recording)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    def _load_journal(self) -> None:
        path = self.spool_dir / JOURNAL_FILE
        if not path.exists():
            return
        for line in path.read_text().splitlines():
            name, _, digest = line.partition("\t")
            if name and digest:
                self._journal[name] = digest

    async def _journal_add(self, name: str, digest: str) -> None:
        self._journal[name] = digest
        line = f"{name}\t{digest}\n"
        await asyncio.to_thread(_append_line, self.spool_dir / JOURNAL_FILE, line)


def _read_with_md5(path: Path) -> tuple[bytes, bytes]:
    data = path.read_bytes()
    return data, _md5(data)


def _append_line(path: Path, line: str) -> None:
    with path.open("a") as out:
        out.write(line)


def _content_type(name: str) -> str:
    if name.endswith(".m3u8"):
        return "application/vnd.apple.mpegurl"
    if name.endswith(".ts"):
        return "video/mp2t"
    if name.endswith(".mp4"):
        return "video/mp4"
    if name.endswith(".webm"):
        return "video/webm"
    return "application/octet-stream"


__all__ = [
    "DELIVERED_FILE",
    "JOURNAL_FILE",
    "EventSink",
    "UploadPolicy",
    "UploadResult",
    "UploadStatus",
    "Uploader",
]
