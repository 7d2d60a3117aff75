"""A recording's side of its upload: the uploader started, files handed over, the finish.

The uploader (:class:`~cloudrec_recorder.ports.Upload`) starts once the channel is joined; a
store that cannot be reached then does not stop the recording (the bucket is checked again on
every upload), but no file is handed over. Files the media worker thread finishes are handed
to the uploader on the event loop. The file list is the bucket's playable files once the
uploader runs, else the spool's, named by their object keys. At the end, :meth:`finish` waits
for the upload (at most ``drain_timeout`` seconds); files that went to the backup go on being
re-uploaded in the background, and the uploader is closed once they are delivered.

A hand-over's taker (taking.py) records under the giver's names, which stay the giver's until
the giver is done: :meth:`RecordingUpload.hold` keeps every finished file in the spool (and
marks the spool, :data:`~cloudrec_recorder.storage.spool.TAKING_FILE`, so a restart does not
deliver it either) until :meth:`~RecordingUpload.let_go` (the giver is done) or
:meth:`~RecordingUpload.discard` (the hand-over failed: nothing goes up, the spool is removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from cloudrec_recorder.ports import MediaPipeline, Upload
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.spool import TAKING_FILE, remove_delivered, remove_spool

__all__ = ["DELIVERED_WAIT_SECONDS", "DELIVERY_WAIT_SECONDS", "RecordingUpload"]

log = logging.getLogger(__name__)

DELIVERED_WAIT_SECONDS = 10.0
"""After an upload that finished: how long to wait for its last event (31, the file list)."""
DELIVERY_WAIT_SECONDS = 24 * 3600.0
"""How long files that went to the backup may take to reach the bucket before the uploader
is closed anyway."""


class RecordingUpload:
    """See the module docstring."""

    def __init__(
        self,
        uploader: Upload,
        spool: Path,
        *,
        prefix: Sequence[str],
        sid: str,
        drain_timeout: float,
        keep_delivered_spool: bool,
    ) -> None:
        self.uploader = uploader
        self.spool = spool
        self.prefix = tuple(prefix)
        self.sid = sid
        self.drain_timeout = drain_timeout
        self.keep_delivered_spool = keep_delivered_spool
        self.running = False
        """The uploader started: files are handed over and listed from it."""
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[str, int | None]] | None = None
        """Files finished while held (a taker's before the giver is done), in order."""
        self.abandoned = False
        self._own_spool = True
        """Set when the held files are never to go up: :meth:`finish` discards them."""

    async def start(self) -> bool:
        """Start the uploader; False (logged) when it could not start."""
        try:
            await self.uploader.start()
        except Exception as exc:  # the bucket is checked again on every upload
            log.warning("Uploader did not start sid=%s error=%s", self.sid, type(exc).__name__)
            return False
        self.running = True
        return True

    def hand_over(self, name: str, start_ms: int | None) -> None:
        """From any thread: the file ``name`` of the spool is finished (uploaded if running,
        unless held)."""
        if self.running:
            self._loop.call_soon_threadsafe(self._ready, name, start_ms)

    def _ready(self, name: str, start_ms: int | None) -> None:
        if self._held is not None:
            self._held.append((name, start_ms))
        else:
            self.uploader.file_ready(name, start_ms)

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold(self) -> None:
        """Keep every file finished from now on in the spool (marked as not this replica's
        to deliver) until :meth:`let_go` or :meth:`discard`."""
        self._own_spool = not self.spool.exists()  # else an earlier part's (kept) is here
        self.spool.mkdir(parents=True, exist_ok=True)
        (self.spool / TAKING_FILE).write_bytes(b"")
        if self._held is None:
            self._held = []

    def let_go(self) -> None:
        """The names are this replica's now: what was held goes up, in order, and what
        comes later as it comes. Called on the event loop."""
        held, self._held = self._held or [], None
        (self.spool / TAKING_FILE).unlink(missing_ok=True)
        if self.running:
            for name, start_ms in held:
                self.uploader.file_ready(name, start_ms)

    async def discard(self) -> int:
        """Nothing held goes up, ever: the uploader closes (no manifest, no event) and the
        spool is removed. Returns how many files were thrown away."""
        held, self._held = self._held or [], []
        if self.running:
            await self._close()
        if self._own_spool:
            await asyncio.to_thread(remove_spool, self.spool)
        else:  # only what this replica made goes (an earlier part's kept files stay)
            for name in [TAKING_FILE, *(name for name, _ in held)]:
                (self.spool / name).unlink(missing_ok=True)
        return len(held)

    def object_key(self, name: str) -> str:
        return "/".join((*self.prefix, name))

    def files(self, pipeline: MediaPipeline) -> list[StoredFile]:
        """The playable files: the uploader's, or the pipeline's while no uploader runs."""
        if self.running:
            return list(self.uploader.playable_files())
        return [
            StoredFile(
                file_name=self.object_key(f.name),
                track_type=f.track_type.value,
                uid=f.uid,
                mixed_all_user=f.mixed_all_user,
                is_playable=f.is_playable,
                slice_start_time=f.slice_start_time_ms,
            )
            for f in pipeline.files()
        ]

    async def finish(self) -> str:
        """Finish the upload; its ``uploadingStatus`` (``unknown`` when no uploader ran or
        the files were discarded, :attr:`abandoned`)."""
        status = "unknown"
        if self.abandoned:
            count = await self.discard()
            log.info("Discarded sid=%s files=%d (never delivered)", self.sid, count)
            return status
        if not self.running:
            return status
        try:
            result = await self.uploader.finish(self.drain_timeout)
            status = result.status
            if status == "uploaded":
                await self.uploader.wait_delivered(DELIVERED_WAIT_SECONDS)
        finally:
            if status == "uploaded":
                await self._close()
            else:  # re-uploading from the backup goes on
                task = asyncio.ensure_future(self._close(after_delivery=True))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return status

    async def _close(self, *, after_delivery: bool = False) -> None:
        if after_delivery:
            await self.uploader.wait_delivered(DELIVERY_WAIT_SECONDS)
        with contextlib.suppress(Exception):
            await self.uploader.aclose()
        if after_delivery:
            await self.drop_spool()

    async def drop_spool(self) -> None:
        """Free the disk once every file is in the bucket (unless the settings keep it)."""
        if not self.keep_delivered_spool:
            await asyncio.to_thread(remove_delivered, self.spool)
