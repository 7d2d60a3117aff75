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
from typing import Any

import httpx

from cloudrec_protocol.events import sign
from cloudrec_recorder.delivery_queue import DeliveryQueue
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.settings import CallbackSettings
from cloudrec_recorder.storage.files import FileInfo as StoredFile

log = logging.getLogger(__name__)

PRODUCT_CLOUD_RECORDING = 3

# serviceType (§7.5)
SERVICE_CLOUD_RECORDING = 0
SERVICE_RECORDER = 1
SERVICE_UPLOADER = 2

# eventType -> serviceType (§7.6)
SERVICE_TYPE_OF: dict[int, int] = {
    1: SERVICE_CLOUD_RECORDING,
    2: SERVICE_CLOUD_RECORDING,
    3: SERVICE_CLOUD_RECORDING,
    4: SERVICE_CLOUD_RECORDING,
    11: SERVICE_CLOUD_RECORDING,
    30: SERVICE_UPLOADER,
    31: SERVICE_UPLOADER,
    32: SERVICE_UPLOADER,
    33: SERVICE_UPLOADER,
    40: SERVICE_RECORDER,
    41: SERVICE_RECORDER,
    42: SERVICE_RECORDER,
    43: SERVICE_RECORDER,
    44: SERVICE_RECORDER,
}

MSG_NAME_OF: dict[int, str] = {
    1: "cloud_recording_error",
    2: "cloud_recording_warning",
    3: "cloud_recording_status_update",
    4: "cloud_recording_file_infos",
    11: "session_exit",
    30: "uploader_started",
    31: "uploaded",
    32: "backuped",
    33: "uploading_progress",
    40: "recorder_started",
    41: "recorder_leave",
    42: "recorder_slice_start",
    43: "recorder_audio_stream_state_changed",
    44: "recorder_video_stream_state_changed",
}

PROGRESS_EVENT = 33
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

    def emit(self, event_type: int, **details: Any) -> None:
        """Queue event ``event_type`` with ``details`` (``msgName`` is added)."""
        body = {
            "noticeId": str(uuid.uuid4()),
            "productId": PRODUCT_CLOUD_RECORDING,
            "eventType": event_type,
            "payload": {
                "cname": self.cname,
                "uid": self.uid,
                "sid": self.sid,
                "sequence": next(self._sequence),
                "sendts": now_ms(),
                "serviceType": SERVICE_TYPE_OF.get(event_type, SERVICE_CLOUD_RECORDING),
                "details": {"msgName": MSG_NAME_OF.get(event_type, ""), **details},
            },
        }
        self.sender.submit(Notification(self.target, body))

    # Convenience for the events the recorder sends itself.

    def recorder_started(self) -> None:
        self.emit(40, status=0)

    def recorder_leave(self, leave_code: int) -> None:
        self.emit(41, leaveCode=leave_code)

    def slice_start(
        self,
        start_ms: int,
        *,
        stream_uid: str = "0",
        track_type: str = "audio_and_video",
        mixed: bool = True,
    ) -> None:
        self.emit(
            42,
            startUtcMs=start_ms,
            discontinueUtcMs=start_ms,
            mixedAllUser=mixed,
            streamUid=stream_uid,
            trackType=track_type,
        )

    def stream_state(self, kind: str, stream_uid: str, receiving: bool) -> None:
        self.emit(
            43 if kind == "audio" else 44,
            streamUid=stream_uid,
            state=0 if receiving else 1,
            UtcMs=now_ms(),
        )

    def error(self, module: int, code: int, message: str, level: int = 3) -> None:
        self.emit(1, module=module, errorLevel=level, errorCode=code, stat=0, errorMsg=message)

    def warning(self, module: int, code: int) -> None:
        self.emit(2, module=module, warnCode=code)

    def session_exit(self, abnormal: bool = False) -> None:
        self.emit(11, exitStatus=1 if abnormal else 0)


MODULE_UPLOADER = 1
"""``module`` of events 1 and 2 for the uploader."""


@dataclass
class UploaderEvents:
    """The uploader's event sink: events 30-33 and uploader errors/warnings (1, 2)."""

    events: RecordingEvents

    async def uploader_started(self) -> None:
        self.events.emit(30, status=0)

    async def uploaded(self, files: Sequence[StoredFile]) -> None:
        self.events.emit(31, status=0, fileList=[f.to_payload() for f in files])

    async def backuped(self, files: Sequence[StoredFile]) -> None:
        self.events.emit(32, status=0, fileList=[f.to_payload() for f in files])

    async def progress(self, value: int) -> None:
        self.events.emit(33, progress=value)

    async def uploader_warning(self, code: int, message: str) -> None:
        self.events.warning(MODULE_UPLOADER, code)

    async def uploader_error(self, code: int, message: str) -> None:
        self.events.error(MODULE_UPLOADER, code, message)
