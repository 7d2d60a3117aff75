"""What one recording's uploader reports: errors once per outage, batched backup events.

The recorder turns these into the protocol's events (30-33) and warnings (1, 2) through the
:class:`~cloudrec_recorder.storage.uploader.EventSink`; a failing sink is logged, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from cloudrec_protocol.events import UploaderErrorCode, UploaderWarningCode
from cloudrec_recorder.storage.errors import WARNING_BACKUPED, WARNING_REUPLOADED
from cloudrec_recorder.storage.files import FileInfo

__all__ = ["EventSink", "UploadReporter"]

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """What the uploader tells the recorder (which turns it into events 30-33, 1, 2)."""

    async def uploader_started(self) -> None: ...

    async def uploaded(self, files: Sequence[FileInfo]) -> None: ...

    async def backuped(self, files: Sequence[FileInfo]) -> None: ...

    async def progress(self, value: int) -> None: ...

    async def uploader_warning(self, code: UploaderWarningCode, message: str) -> None: ...

    async def uploader_error(self, code: UploaderErrorCode, message: str) -> None: ...

    async def snapshot_uploaded(self, file_name: str) -> None:
        """Snapshot ``file_name`` (the object key) is in the customer's bucket (event 45)."""


class UploadReporter:
    """Sends one recording's uploader events; ``scrub`` removes credentials from messages."""

    def __init__(
        self,
        sink: EventSink,
        recording: str,
        *,
        scrub: Callable[[str], str],
        info: Callable[[str], FileInfo],
    ) -> None:
        self.sink = sink
        self.recording = recording
        self._scrub = scrub
        self._info = info
        self._reported_errors: set[int] = set()
        self.backuped: list[str] = []
        """Files that went to the backup since the last flush."""
        self.reuploaded: list[str] = []
        """Files re-uploaded from the backup since the last flush."""

    async def error(self, code: UploaderErrorCode, message: str) -> None:
        """Send uploader error ``code`` once per outage (credentials scrubbed)."""
        if code in self._reported_errors:
            return
        self._reported_errors.add(code)
        text = self._scrub(message)
        log.warning("Uploader error %d for recording %s: %s", code, self.recording, text)
        await self.emit(self.sink.uploader_error, code, text)

    def outage_over(self) -> None:
        """The bucket answers again: the next outage's errors are sent again."""
        self._reported_errors.clear()

    async def flush(self) -> None:
        """One event (and warning) for the files backed up, one for those re-uploaded."""
        backuped, self.backuped = self.backuped, []
        reuploaded, self.reuploaded = self.reuploaded, []
        if backuped:
            await self.emit(
                self.sink.uploader_warning,
                WARNING_BACKUPED,
                f"{len(backuped)} file(s) went to the backup store",
            )
            await self.emit(self.sink.backuped, [self._info(n) for n in backuped])
        if reuploaded:
            await self.emit(
                self.sink.uploader_warning,
                WARNING_REUPLOADED,
                f"{len(reuploaded)} file(s) re-uploaded to your storage",
            )
            await self.emit(self.sink.uploaded, [self._info(n) for n in reuploaded])

    async def emit(self, method: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await method(*args)
        except Exception:
            log.exception("Event sink failed for recording %s", self.recording)
