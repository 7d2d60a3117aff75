"""A recording's side of its upload: the uploader started, files handed over, the finish.

The uploader (:class:`~cloudrec_recorder.ports.Upload`) starts once the channel is joined; a
store that cannot be reached then does not stop the recording (the bucket is checked again on
every upload), but no file is handed over. Files the media worker thread finishes are handed
to the uploader on the event loop. The file list is the bucket's playable files once the
uploader runs, else the spool's, named by their object keys. At the end, :meth:`finish` waits
for the upload (at most ``drain_timeout`` seconds); files that went to the backup go on being
re-uploaded in the background, and the uploader is closed once they are delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from cloudrec_recorder.ports import MediaPipeline, Upload
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.spool import remove_delivered

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
        """From any thread: the file ``name`` of the spool is finished (uploaded if running)."""
        if self.running:
            self._loop.call_soon_threadsafe(self.uploader.file_ready, name, start_ms)

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
        """Finish the upload; its ``uploadingStatus`` (``unknown`` when no uploader ran)."""
        status = "unknown"
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
