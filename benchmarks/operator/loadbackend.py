"""A load backend for the operator benchmark: the cloud recording protocol with no recorder.

Like kwok for nodes, it lets the operator be measured apart from what it drives. It answers
acquire, start, query, update, updateLayout and stop at once (HTTP Basic auth, bodies checked
with the protocol package's typed models, answers built from them) and sends the recorder's
signed event callbacks (``cloudrec_protocol.events``: the same models and the same
``sign()`` the recorder uses) to one URL:

* ``recorder_started`` (40) ``--latency`` seconds after each start is answered (0: as the
  answer goes out; the real recorder sends it while answering, before the operator can have
  stored the sid);
* ``uploading_progress`` (33) every ``--progress-interval`` seconds per running recording
  (the service's pace is a minute; 0 turns it off);
* on stop: ``uploaded`` (31) and ``session_exit`` (11).

Nothing joins a channel, records or uploads: query always says 5 (in progress) and stop
lists one file per recording. Used only by ``benchmarks.operator``; never a test double.

Run: ``python -m benchmarks.operator.loadbackend --port P --callback-url URL`` with the
credentials in the environment (``LOAD_BACKEND_CUSTOMER_ID``, ``LOAD_BACKEND_CUSTOMER_SECRET``,
``LOAD_BACKEND_CALLBACK_SECRET``). ``GET /stats`` counts the requests and callbacks.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hmac
import itertools
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from cloudrec_protocol.codes import (
    GATEWAY_INVALID_CREDENTIALS,
    SERVICE_ERRORS,
    ErrorCode,
    RecordingStatus,
)
from cloudrec_protocol.enums import Mode
from cloudrec_protocol.events import (
    EventDetails,
    Notification,
    RecorderStartedDetails,
    SessionExitDetails,
    UploadedDetails,
    UploadingProgressDetails,
    make_notification,
    sign,
)
from cloudrec_protocol.models import (
    AcquireRequest,
    AcquireResponse,
    ErrorBody,
    FileInfo,
    GatewayErrorBody,
    QueryResponse,
    ServerResponse,
    StartRequest,
    StartResponse,
    StopRequest,
    StopResponse,
    UpdateLayoutRequest,
    UpdateLayoutResponse,
    UpdateRequest,
    UpdateResponse,
    WireModel,
    check_start_for_mode,
)
from cloudrec_protocol.paths import (
    ACQUIRE_TEMPLATE,
    QUERY_TEMPLATE,
    START_TEMPLATE,
    STOP_TEMPLATE,
    UPDATE_LAYOUT_TEMPLATE,
    UPDATE_TEMPLATE,
)

_M = TypeVar("_M", bound=WireModel)

RETRY_DELAYS = (1.0, 3.0, 6.0)
"""Callback resends after a failed attempt (the recorder's schedule, shortened)."""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Session:
    """One started recording."""

    resource_id: str
    sid: str
    cname: str
    uid: str
    mode: str
    started_ms: int
    sequence: itertools.count[int] = field(default_factory=itertools.count)
    stopped: bool = False
    next_progress: float = 0.0


@dataclass
class LoadBackend:
    customer_id: str
    customer_secret: str
    callback_url: str
    callback_secret: str
    latency: float = 0.0
    progress_interval: float = 60.0
    connections: int = 64
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)
    """resourceId -> (cname, uid) it was acquired for."""
    sessions: dict[str, Session] = field(default_factory=dict)
    """sid -> session."""
    by_channel: dict[tuple[str, str], Session] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    _queue: asyncio.Queue[tuple[Session, EventDetails]] = field(default_factory=asyncio.Queue)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _client: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------ HTTP API

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._authenticate])
        add = app.router
        add.add_post(ACQUIRE_TEMPLATE, self.acquire)
        add.add_post(START_TEMPLATE, self.start)
        add.add_get(QUERY_TEMPLATE, self.query)
        add.add_post(UPDATE_TEMPLATE, self.update)
        add.add_post(UPDATE_LAYOUT_TEMPLATE, self.update_layout)
        add.add_post(STOP_TEMPLATE, self.stop)
        add.add_get("/healthz", self.healthz)
        add.add_get("/stats", self.report)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path in ("/healthz", "/stats"):
            response: web.StreamResponse = await handler(request)
            return response
        expected = base64.b64encode(f"{self.customer_id}:{self.customer_secret}".encode())
        given = request.headers.get("Authorization", "").removeprefix("Basic ").encode()
        if not hmac.compare_digest(given, expected):
            self.stats["unauthorized"] += 1
            return _json(GatewayErrorBody(message=GATEWAY_INVALID_CREDENTIALS), 401)
        response = await handler(request)
        return response

    async def acquire(self, request: web.Request) -> web.Response:
        body = await _parse(request, AcquireRequest)
        if isinstance(body, web.Response):
            return body
        self.stats["acquire"] += 1
        resource_id = uuid.uuid4().hex
        self.resources[resource_id] = (body.cname, body.uid)
        return _json(AcquireResponse(cname=body.cname, uid=body.uid, resource_id=resource_id))

    async def start(self, request: web.Request) -> web.Response:
        body = await _parse(request, StartRequest)
        if isinstance(body, web.Response):
            return body
        self.stats["start"] += 1
        resource_id, mode = request.match_info["resourceid"], request.match_info["mode"]
        try:
            check_start_for_mode(body.client_request, Mode(mode))
        except ValueError as error:
            return _error(ErrorCode.INVALID_PARAMETER, str(error))
        if self.resources.get(resource_id) != (body.cname, body.uid):
            return _error(ErrorCode.RESOURCE_MISMATCH)
        running = self.by_channel.get((body.cname, body.uid))
        if running is not None and not running.stopped:
            code = ErrorCode.ALREADY_STARTED
            if running.resource_id != resource_id:
                code = ErrorCode.TASK_CONFLICT
            return _error(code, resource_id=running.resource_id, sid=running.sid)
        session = Session(resource_id, uuid.uuid4().hex, body.cname, body.uid, mode, now_ms())
        session.next_progress = time.monotonic() + self.progress_interval
        self.sessions[session.sid] = session
        self.by_channel[(body.cname, body.uid)] = session
        self._later(self.latency, session, RecorderStartedDetails(status=0))
        return _json(
            StartResponse(cname=body.cname, uid=body.uid, resource_id=resource_id, sid=session.sid)
        )

    def _session(self, request: web.Request) -> Session | web.Response:
        session = self.sessions.get(request.match_info["sid"])
        if session is None or session.resource_id != request.match_info["resourceid"]:
            return _error(ErrorCode.WORKER_NOT_FOUND)
        return session

    async def query(self, request: web.Request) -> web.Response:
        self.stats["query"] += 1
        session = self._session(request)
        if isinstance(session, web.Response):
            return session
        status = RecordingStatus.EXITED if session.stopped else RecordingStatus.IN_PROGRESS
        return _json(
            QueryResponse(
                cname=session.cname,
                uid=session.uid,
                resource_id=session.resource_id,
                sid=session.sid,
                server_response=ServerResponse(status=status, file_list_mode="json", file_list=[]),
            )
        )

    async def update(self, request: web.Request) -> web.Response:
        body = await _parse(request, UpdateRequest)
        if isinstance(body, web.Response):
            return body
        self.stats["update"] += 1
        session = self._session(request)
        if isinstance(session, web.Response):
            return session
        return _json(
            UpdateResponse(
                cname=body.cname, uid=body.uid, resource_id=session.resource_id, sid=session.sid
            )
        )

    async def update_layout(self, request: web.Request) -> web.Response:
        body = await _parse(request, UpdateLayoutRequest)
        if isinstance(body, web.Response):
            return body
        self.stats["updateLayout"] += 1
        session = self._session(request)
        if isinstance(session, web.Response):
            return session
        return _json(
            UpdateLayoutResponse(
                cname=body.cname, uid=body.uid, resource_id=session.resource_id, sid=session.sid
            )
        )

    async def stop(self, request: web.Request) -> web.Response:
        body = await _parse(request, StopRequest)
        if isinstance(body, web.Response):
            return body
        self.stats["stop"] += 1
        session = self._session(request)
        if isinstance(session, web.Response):
            return session
        if session.stopped:
            return _error(ErrorCode.TASK_EXITING)
        session.stopped = True
        files = [FileInfo(file_name=f"{session.sid}_{session.cname}.m3u8", uid="0")]
        self._later(0.0, session, UploadedDetails(status=0, file_list=files))
        self._later(0.0, session, SessionExitDetails(exit_status=0))
        return _json(
            StopResponse(
                cname=body.cname,
                uid=body.uid,
                resource_id=session.resource_id,
                sid=session.sid,
                server_response=ServerResponse(
                    file_list_mode="json", file_list=files, uploading_status="uploaded"
                ),
            )
        )

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def report(self, _: web.Request) -> web.Response:
        live = sum(1 for s in self.sessions.values() if not s.stopped)
        return web.json_response({**self.stats, "recording": live, "queued": self._queue.qsize()})

    # ------------------------------------------------------------ callbacks

    def _later(self, delay: float, session: Session, details: EventDetails) -> None:
        if delay <= 0:
            self._queue.put_nowait((session, details))
        else:
            asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, (session, details))

    async def _progress(self) -> None:
        while self.progress_interval > 0:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for session in self.sessions.values():
                if not session.stopped and session.next_progress <= now:
                    session.next_progress = now + self.progress_interval
                    self._queue.put_nowait((session, UploadingProgressDetails(progress=10000)))

    async def _send_worker(self) -> None:
        while True:
            session, details = await self._queue.get()
            note = make_notification(
                cname=session.cname,
                uid=session.uid,
                sid=session.sid,
                sequence=next(session.sequence),
                details=details,
                now_ms=now_ms(),
            )
            await self._deliver(note)

    async def _deliver(self, note: Notification) -> None:
        """POST ``note`` signed as the recorder signs it; resent on failure, with a fresh
        ``notifyMs`` per attempt."""
        assert self._client is not None
        event_type = note.event_type
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                await asyncio.sleep(RETRY_DELAYS[attempt - 1])
            data = note.model_copy(update={"notify_ms": now_ms()}).to_wire_json()
            headers = {"Content-Type": "application/json", **sign(data, self.callback_secret)}
            try:
                async with self._client.post(self.callback_url, data=data, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        self.stats[f"callback_{event_type}_sent"] += 1
                        return
                    self.stats[f"callback_{event_type}_refused_{r.status}"] += 1
            except (aiohttp.ClientError, TimeoutError):
                self.stats[f"callback_{event_type}_failed"] += 1
        self.stats[f"callback_{event_type}_given_up"] += 1

    async def _on_startup(self, _: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=self.connections)
        timeout = aiohttp.ClientTimeout(total=10)
        self._client = aiohttp.ClientSession(connector=connector, timeout=timeout)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._send_worker()) for _ in range(self.connections)]
        self._tasks.append(loop.create_task(self._progress()))

    async def _on_cleanup(self, _: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()


# ------------------------------------------------------------ helpers


def _json(model: WireModel, status: int = 200) -> web.Response:
    return web.Response(
        body=model.to_wire_json(), status=status, content_type="application/json", charset="utf-8"
    )


def _error(code: ErrorCode, reason: str | None = None, **echo: str) -> web.Response:
    spec = SERVICE_ERRORS[code]
    body = ErrorBody(code=int(code), reason=reason or spec.reason, **echo)
    return _json(body, spec.http_status)


async def _parse(request: web.Request, model: type[_M]) -> _M | web.Response:
    """The typed request body, or the protocol's answer to a bad one (400, code 2)."""
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
        return _error(ErrorCode.INVALID_PARAMETER, f"invalid field: {fields}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.operator.loadbackend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--callback-url", required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="start -> event 40, seconds")
    parser.add_argument("--progress-interval", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64, help="callback senders")
    args = parser.parse_args(argv)
    backend = LoadBackend(
        customer_id=os.environ["LOAD_BACKEND_CUSTOMER_ID"],
        customer_secret=os.environ["LOAD_BACKEND_CUSTOMER_SECRET"],
        callback_url=args.callback_url,
        callback_secret=os.environ["LOAD_BACKEND_CALLBACK_SECRET"],
        latency=args.latency,
        progress_interval=args.progress_interval,
        connections=args.connections,
    )
    web.run_app(backend.app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
