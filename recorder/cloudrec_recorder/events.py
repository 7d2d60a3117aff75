"""Signed event notifications (protocol.md §7), delivered at least once.

:class:`CallbackSender` owns a bounded queue
(:class:`~cloudrec_recorder.delivery_queue.DeliveryQueue`) and a few delivery workers. Each
notification goes to every configured URL: ``POST`` of the JSON body with the
``Agora-Signature`` (HMAC-SHA1) and ``Agora-Signature-V2`` (HMAC-SHA256) headers
over the exact bytes sent; success is a 200 within the timeout; otherwise it is
sent again immediately, then after 1 s, 3 s, 6 s ... (``retries`` resends), with a
fresh ``notifyMs`` each time. A recording's upload progress (event 33) replaces its
progress still queued; when the queue is full, the oldest progress notification is dropped,
else the oldest notification (both counted: ``cloudrec_callbacks_superseded`` and
``cloudrec_callbacks_dropped``; ``cloudrec_callbacks_queued`` is the queue's length). So a
receiver that is down for hours costs at most ``queue_size`` notifications of memory, and what
it gets when it is back is every recording's newest progress and the other events.

:class:`RecordingEvents` is one recording's view: it stamps ``cname``, ``uid``,
``sid``, a per-recording ``sequence`` (from 0) and ``sendts`` into the payload.
It is also the event sink the uploader reports to (events 30-33, errors 1/2).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from cloudrec_protocol.codes import ErrorCode, SdkErrorCode
from cloudrec_protocol.events import (
    CLOUD_RECORDING_PRODUCT_ID,
    SERVICE_TYPES,
    AudioStreamStateChangedDetails,
    BackupedDetails,
    ErrorDetails,
    ErrorLevel,
    ErrorModule,
    EventDetails,
    EventType,
    ExitStatus,
    LeaveCode,
    Payload,
    RecorderLeaveDetails,
    RecorderSliceStartDetails,
    RecorderStartedDetails,
    RecorderWarningCode,
    SessionExitDetails,
    SessionFailoverDetails,
    SnapshotFileDetails,
    StreamState,
    UploadedDetails,
    UploaderErrorCode,
    UploaderStartedDetails,
    UploaderWarningCode,
    UploadingProgressDetails,
    VideoStreamStateChangedDetails,
    WarningDetails,
    sign,
)
from cloudrec_protocol.models import FileInfo
from cloudrec_recorder.delivery_queue import DeliveryQueue
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.settings import CallbackSettings
from cloudrec_recorder.storage.files import FileInfo as StoredFile

log = logging.getLogger(__name__)

TrackType = Literal["audio", "video", "audio_and_video"]

PROGRESS_EVENT = EventType.UPLOADING_PROGRESS
"""Upload progress: only a recording's newest value is worth sending."""

RETRY_DELAYS = (0.0, 1.0, 3.0, 6.0, 10.0)
"""Wait before resend n (immediately, then growing; the last value repeats)."""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Notification:
    """One notification to deliver; ``body`` lacks ``notifyMs`` (set per attempt)."""

    target: CallbackSettings
    body: dict[str, Any]

    @property
    def event_type(self) -> int:
        return int(self.body["eventType"])

    def superseding_key(self) -> tuple[object, ...] | None:
        """Notifications with the same key replace each other in the queue (progress)."""
        if self.event_type != PROGRESS_EVENT:
            return None
        urls = tuple(str(url) for url in self.target.urls)
        return (PROGRESS_EVENT, urls, self.body["payload"].get("sid"))


def encode(body: Mapping[str, Any], notify_ms: int) -> bytes:
    """The exact bytes sent for one attempt."""
    return json.dumps({**body, "notifyMs": notify_ms}, separators=(",", ":")).encode()


@dataclass
class CallbackSender:
    """Delivery queue and workers shared by every recording of the process."""

    metrics: Metrics
    queue_size: int = 1000
    workers: int = 4
    _queue: DeliveryQueue[Notification] = field(init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None
    _busy: int = 0
    _available: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while the queue holds something."""
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the queue is empty and no delivery is under way."""

    def __post_init__(self) -> None:
        self._queue = DeliveryQueue(self.queue_size, Notification.superseding_key)
        self._idle.set()
        self.metrics.callbacks_queued.set_function(lambda: len(self._queue))

    @property
    def pending(self) -> int:
        """Notifications queued or being delivered."""
        return len(self._queue) + self._busy

    async def start(self) -> None:
        self._client = httpx.AsyncClient()
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    def submit(self, notification: Notification) -> None:
        if not notification.target.urls:
            return
        pushed = self._queue.push(notification)
        if pushed.superseded:
            self.metrics.callbacks_superseded.inc(len(pushed.superseded))
        if pushed.dropped:
            self.metrics.callbacks_dropped.inc(len(pushed.dropped))
        self._idle.clear()
        self._available.set()

    async def flush(self, wait_seconds: float) -> None:
        """Wait until every notification is delivered or given up (at most ``wait_seconds``)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), wait_seconds)

    async def close(self, wait_seconds: float = 5.0) -> None:
        await self.flush(wait_seconds)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    async def _work(self) -> None:
        while True:
            while not len(self._queue):
                self._available.clear()
                await self._available.wait()
            notification = self._queue.pop()
            self._busy += 1
            try:
                await asyncio.gather(
                    *(self._deliver(notification, str(url)) for url in notification.target.urls)
                )
            finally:
                self._busy -= 1
                if not self.pending:
                    self._idle.set()

    async def _deliver(self, notification: Notification, url: str) -> None:
        assert self._client is not None
        target = notification.target
        secret = target.secret.get_secret_value() if target.secret is not None else None
        event = str(notification.event_type)
        for attempt in range(target.retries + 1):
            if attempt:
                await asyncio.sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
            data = encode(notification.body, now_ms())
            headers = {"Content-Type": "application/json"}
            if secret is not None:
                headers.update(sign(data, secret))
            try:
                response = await self._client.post(
                    url, content=data, headers=headers, timeout=target.timeout_seconds
                )
            except httpx.HTTPError as exc:
                log.info(
                    "Callback attempt failed event=%s url=%s error=%s",
                    event,
                    url,
                    type(exc).__name__,
                )
                continue
            if response.status_code == 200:
                self.metrics.callbacks_sent.labels(event).inc()
                return
            log.info("Callback refused event=%s url=%s status=%s", event, url, response.status_code)
        self.metrics.callbacks_failed.labels(event).inc()
        log.warning("Callback given up event=%s url=%s", event, url)


@dataclass
class RecordingEvents:
    """The notifications of one recording (per-recording sequence from 0)."""

    sender: CallbackSender
    target: CallbackSettings
    cname: str
    uid: str
    sid: str
    _sequence: itertools.count[int] = field(default_factory=itertools.count)
    muted: bool = False
    """A recording handed over to another replica says nothing more (the taker speaks)."""

    def emit(self, details: EventDetails) -> None:
        """Queue the event whose typed ``details`` are given (its type and service follow)."""
        if self.muted:
            return
        self.sender.submit(Notification(self.target, self.body(details)))

    def body(self, details: EventDetails) -> dict[str, Any]:
        """The next notification of this recording (without ``notifyMs``, set per attempt)."""
        payload = Payload(
            cname=self.cname,
            uid=self.uid,
            sid=self.sid,
            sequence=next(self._sequence),
            sendts=now_ms(),
            service_type=SERVICE_TYPES[details.EVENT_TYPE],
            details=details.to_wire(),
        )
        return {
            "noticeId": str(uuid.uuid4()),
            "productId": CLOUD_RECORDING_PRODUCT_ID,
            "eventType": int(details.EVENT_TYPE),
            "payload": payload.to_wire(),
        }

    # Convenience for the events the recorder sends itself.

    def recorder_started(self) -> None:
        self.emit(RecorderStartedDetails())

    def recorder_leave(self, leave_code: LeaveCode) -> None:
        self.emit(RecorderLeaveDetails(leave_code=leave_code))

    def slice_start(
        self,
        start_ms: int,
        *,
        stream_uid: str = "0",
        track_type: TrackType = "audio_and_video",
        mixed: bool = True,
    ) -> None:
        self.emit(
            RecorderSliceStartDetails(
                start_utc_ms=start_ms,
                discontinue_utc_ms=start_ms,
                mixed_all_user=mixed,
                stream_uid=stream_uid,
                track_type=track_type,
            )
        )

    def stream_state(self, kind: str, stream_uid: str, receiving: bool) -> None:
        model = (
            AudioStreamStateChangedDetails if kind == "audio" else VideoStreamStateChangedDetails
        )
        state = StreamState.RECEIVING if receiving else StreamState.NOT_RECEIVING
        self.emit(model(stream_uid=stream_uid, state=state, utc_ms=now_ms()))

    def error(
        self,
        module: ErrorModule,
        code: int,
        message: str,
        level: ErrorLevel = ErrorLevel.MEDIUM,
    ) -> None:
        """Event 1; ``code`` is the module's own code (e.g. :class:`UploaderErrorCode`)."""
        self.emit(
            ErrorDetails(module=module, error_level=level, error_code=code, error_msg=message)
        )

    def participant_refused(self, shown_id: str) -> None:
        """Event 1 (recorder module, minor level: not fatal): a participant is not recorded."""
        self.error(
            ErrorModule.RECORDER,
            ErrorCode.INVALID_PARAMETER,
            f"participant {shown_id} is not a uid (1..4294967295): not recorded",
            ErrorLevel.MINOR,
        )

    def warning(self, module: ErrorModule, code: int, message: str | None = None) -> None:
        self.emit(WarningDetails(module=module, warn_code=code, warn_msg=message))

    def snapshot_file(self, file_name: str) -> None:
        """45: snapshot ``file_name`` (the object key) is in the bucket."""
        self.emit(SnapshotFileDetails(file_name=file_name))

    def background_image_unavailable(self, reason: str) -> None:
        """2 from the recorder: a background picture is not shown (the colour is)."""
        self.warning(ErrorModule.RECORDER, RecorderWarningCode.BACKGROUND_IMAGE_UNAVAILABLE, reason)

    def session_exit(self, abnormal: bool = False) -> None:
        status = ExitStatus.ABNORMAL if abnormal else ExitStatus.NORMAL
        self.emit(SessionExitDetails(exit_status=status))

    def mute(self) -> None:
        self.muted = True

    def unmute(self) -> None:
        self.muted = False

    def session_failover(
        self, new_uid: str, from_replica: str, to_replica: str, gap_ms: int | None = None
    ) -> None:
        """12: the recording moved to another replica (this one, as ``new_uid``); ``gap_ms``:
        taken over after a loss, with that much media missing."""
        self.emit(
            SessionFailoverDetails(
                new_uid=int(new_uid),
                from_replica=from_replica,
                to_replica=to_replica,
                gap_ms=gap_ms,
            )
        )

    def recorder_failed(self, message: str) -> None:
        """A fatal recorder error (the seed SDK's ``kRecordingErrorRecorderFailed``)."""
        self.error(ErrorModule.RECORDER, SdkErrorCode.RECORDER_FAILED, message, ErrorLevel.FATAL)

    def uploader_could_not_start(self) -> None:
        self.error(
            ErrorModule.UPLOADER, UploaderErrorCode.STORAGE_CONFIG, "the uploader could not start"
        )


def _file_infos(files: Sequence[StoredFile]) -> list[FileInfo]:
    return [FileInfo.model_validate(f.to_payload()) for f in files]


@dataclass
class UploaderEvents:
    """The uploader's event sink: events 30-33 and uploader errors/warnings (1, 2)."""

    events: RecordingEvents

    async def uploader_started(self) -> None:
        self.events.emit(UploaderStartedDetails())

    async def uploaded(self, files: Sequence[StoredFile]) -> None:
        self.events.emit(UploadedDetails(file_list=_file_infos(files)))

    async def backuped(self, files: Sequence[StoredFile]) -> None:
        self.events.emit(BackupedDetails(file_list=_file_infos(files)))

    async def progress(self, value: int) -> None:
        self.events.emit(UploadingProgressDetails(progress=value))

    async def uploader_warning(self, code: UploaderWarningCode, message: str) -> None:
        self.events.warning(ErrorModule.UPLOADER, code)

    async def uploader_error(self, code: UploaderErrorCode, message: str) -> None:
        self.events.error(ErrorModule.UPLOADER, code, message)

    async def snapshot_uploaded(self, file_name: str) -> None:
        self.events.snapshot_file(file_name)
