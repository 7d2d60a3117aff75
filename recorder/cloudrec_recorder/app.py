"""The recorder's HTTP API: the cloud recording REST protocol (protocol.md §1-§6).

Routes under ``/v1/apps/{appid}/cloud_recording/``: ``acquire``, ``start`` (modes
``mix`` and ``individual``), ``query``, ``update``, ``updateLayout`` (mix only) and
``stop``; our extension ``capacity`` (GET: how many more recordings ``acquire`` takes);
plus ``/healthz``, ``/readyz`` and Prometheus ``/metrics``; the hand-over's peer routes and
``POST /drain`` (:mod:`cloudrec_recorder.handing`).

Every request passes :class:`~cloudrec_recorder.edge.Edge` first: credentials (scoped to
app ids), the body cap, ``/metrics`` / ``/docs`` / ``/openapi.json`` behind credentials,
all before any body is read or forwarded to a peer replica.

Answers follow the protocol exactly: service errors are ``{"code", "reason"}`` with
the status of §5 (see :mod:`cloudrec_recorder.errors`); authentication failures,
unknown routes and wrong methods are gateway errors ``{"message"}``; an invalid body
is 400 / code 2 naming the field (never FastAPI's own 422 shape).

The app knows nothing about media: :class:`RecordingFactory` builds the object that
joins the channel and records (:mod:`cloudrec_recorder.recording`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic
from starlette.exceptions import HTTPException as StarletteHTTPException

from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.enums import Mode
from cloudrec_protocol.models import (
    AcquireRequest,
    AcquireResponse,
    CapacityResponse,
    ErrorBody,
    GatewayErrorBody,
    QueryResponse,
    StartParameter,
    StartRequest,
    StartResponse,
    StopRequest,
    StopResponse,
    UpdateClientRequest,
    UpdateLayoutRequest,
    UpdateLayoutResponse,
    UpdateRequest,
    UpdateResponse,
    check_start_for_mode,
)
from cloudrec_recorder import errors, handing, heartbeat
from cloudrec_recorder.edge import Edge
from cloudrec_recorder.errors import ApiError, GatewayError
from cloudrec_recorder.events import CallbackSender, RecordingEvents
from cloudrec_recorder.forwarding import appid_of, owner_of, sid_of
from cloudrec_recorder.giving import Giver
from cloudrec_recorder.handing import Takings
from cloudrec_recorder.handover import route
from cloudrec_recorder.heartbeat import Heartbeat, Routes
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.middleware import PeerForwarding, RequestCounter
from cloudrec_recorder.ports import (
    RecorderState,
    Recording,
    RecordingFactory,
    RecordMode,
    StopOutcome,
)
from cloudrec_recorder.quotas import AcquireRate
from cloudrec_recorder.recordingkey import RecordingKey
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.sessions import Session, SessionRegistry, new_sid
from cloudrec_recorder.settings import RecorderSettings

log = logging.getLogger(__name__)

PREFIX = "/v1/apps/{appid}/cloud_recording"
EXITED_STATUSES = (RecordingStatus.EXITED, RecordingStatus.EXITED_ABNORMALLY)
LEAVING_STATUSES = (RecordingStatus.STOP_REQUESTED, RecordingStatus.STOPPED, *EXITED_STATUSES)
"""Statuses of a recording that is leaving or has left (idle exit, stop, failure)."""
"""Query statuses of a recording that has left the channel (§6: exited, exited abnormally)."""


# ------------------------------------------------------------------ error bodies


def _error_response(exc: ApiError, **echo: str) -> JSONResponse:
    body = ErrorBody.model_validate({"code": exc.code, "reason": exc.reason, **echo})
    return JSONResponse(body.to_wire(), status_code=exc.status)


def _gateway_response(status: int, message: str) -> JSONResponse:
    return JSONResponse(GatewayErrorBody(message=message).to_wire(), status_code=status)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "path", "query", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def validation_reason(exc: RequestValidationError) -> str:
    """``"<field>: <message>"`` for the first error of a request body or path.

    For example ``clientRequest.storageConfig: Field required``.
    """
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    loc = tuple(first.get("loc", ()))
    if loc == ("path", "mode"):
        return "mode: this recorder records individual and mix; web page recording is not supported"
    message = str(first.get("msg", "invalid value"))
    return f"{_field_path(loc)}: {message}"


# ------------------------------------------------------------------ authentication

_basic = HTTPBasic(auto_error=False, description="Customer ID and Customer Secret")
"""Documents the scheme in the OpenAPI document; :class:`Edge` checks the credentials."""


def _state(request: Request) -> RecorderState:
    state: RecorderState = request.app.state.recorder
    return state


def _check_body_ids(session: Session[Recording], cname: str, uid: str) -> None:
    if session.resource.cname != cname:
        raise errors.resource_mismatch("cname")
    if session.resource.uid != uid:
        raise errors.resource_mismatch("uid")


# ------------------------------------------------------------------ the app


StateDep = Annotated[RecorderState, Depends(_state)]
router = APIRouter(dependencies=[Depends(_basic)])


@router.post(f"{PREFIX}/acquire", response_model=AcquireResponse)
async def acquire(appid: str, body: AcquireRequest, state: StateDep) -> JSONResponse:
    """Reserve a resource id for one recording of ``cname`` as ``uid`` (valid 5 minutes)."""
    app = state.settings.app(appid)
    if app is None:
        raise errors.invalid_appid()
    if not state.acquire_rate.take(appid, app.acquires_per_minute):
        state.metrics.requests_refused.labels("rate_limited").inc()
        raise errors.rate_limited()
    client = body.client_request
    if client.scene not in (None, 0):
        raise errors.invalid_parameter(
            "clientRequest.scene: only 0 (real-time recording) is supported"
        )
    start_parameter = client.start_parameter.to_wire() if client.start_parameter else None
    resource = state.registry.acquire(
        appid,
        body.cname,
        body.uid,
        client.resource_expired_hour,
        start_parameter,
        app_limit=app.max_concurrent_recordings,
    )
    log.info("Acquired resource appid=%s cname=%s uid=%s", appid, body.cname, body.uid)
    out = AcquireResponse(cname=body.cname, uid=body.uid, resource_id=resource.resource_id)
    return JSONResponse(out.to_wire())


@router.get(f"{PREFIX}/capacity", response_model=CapacityResponse)
async def capacity(appid: str, state: StateDep) -> JSONResponse:
    """Our extension: how many more recordings ``acquire`` would take now for this app id
    (the operator's queue asks it instead of trying an acquire; docs/backends.md)."""
    app = state.settings.app(appid)
    if app is None:
        raise errors.invalid_appid()
    active, pending, available = state.registry.capacity(appid, app.max_concurrent_recordings)
    out = CapacityResponse(
        max_concurrent_recordings=state.registry.max_active,
        active=active,
        pending=pending,
        available=available,
    )
    return JSONResponse(out.to_wire())


@router.post(
    f"{PREFIX}/resourceid/{{resourceid}}/mode/{{mode}}/start", response_model=StartResponse
)
async def start(
    appid: str, resourceid: str, mode: RecordMode, body: StartRequest, state: StateDep
) -> JSONResponse:
    """Start recording: join the channel and record per ``clientRequest``."""
    if state.settings.app(appid) is None:
        raise errors.invalid_appid()
    client = body.client_request
    try:
        check_start_for_mode(client, Mode(mode.value))
    except ValueError as exc:
        raise errors.invalid_parameter(str(exc)) from None
    resource = state.registry.claim(resourceid, appid, body.cname, body.uid)
    sid = new_sid()
    holder: list[Session[Recording]] = []

    def on_exit() -> None:
        if holder:
            state.registry.mark_exited(holder[0])
            state.metrics.recordings_active.set(state.registry.active_count())

    try:
        given = resource.start_parameter
        if given is not None and not StartParameter.model_validate(given).matches(client):
            raise errors.invalid_parameter(
                "clientRequest differs from the startParameter given to acquire"
            )
        events = RecordingEvents(
            state.sender, state.settings.callbacks_for(appid), body.cname, body.uid, sid
        )
        recording = state.factory(
            appid=appid,
            resource=resource,
            sid=sid,
            mode=mode,
            request=client,
            events=events,
            on_exit=on_exit,
        )
        await recording.start()
    except BaseException:
        state.registry.unclaim(resource)
        raise
    holder.append(state.registry.register(resource, mode.value, recording, sid=sid))
    if recording.status() in EXITED_STATUSES:
        on_exit()
    state.metrics.recordings_active.set(state.registry.active_count())
    log.info(
        "Started recording appid=%s cname=%s sid=%s mode=%s", appid, body.cname, sid, mode.value
    )
    out = StartResponse(cname=body.cname, uid=body.uid, resource_id=resourceid, sid=sid)
    return JSONResponse(out.to_wire())


@router.get(
    f"{PREFIX}/resourceid/{{resourceid}}/sid/{{sid}}/mode/{{mode}}/query",
    response_model=QueryResponse,
)
async def query(
    appid: str, resourceid: str, sid: str, mode: RecordMode, state: StateDep
) -> JSONResponse:
    """The recording's status (§6) and its files so far."""
    session = state.registry.lookup(appid, resourceid, sid, mode.value)
    out = QueryResponse(
        cname=session.resource.cname,
        uid=session.resource.uid,
        resource_id=resourceid,
        sid=sid,
        server_response=session.recording.server_response(),
    )
    return JSONResponse(out.to_wire())


def _live(
    state: RecorderState, appid: str, resourceid: str, sid: str, mode: str, cname: str, uid: str
) -> Session[Recording]:
    session = state.registry.lookup(appid, resourceid, sid, mode)
    if session.stop_requested or session.recording.status() in LEAVING_STATUSES:
        raise errors.not_found()
    _check_body_ids(session, cname, uid)
    return session


def _refuse_unsupported_update(request: UpdateClientRequest) -> None:
    """400 / 2 naming what ``update`` may carry but this recorder cannot change."""
    if request.storage_config is not None:
        raise errors.invalid_parameter(
            "clientRequest.storageConfig: this recorder keeps the storage credentials a "
            "recording started with (no stsToken refresh); start with long-lived keys"
        )
    for name, value in (
        ("webRecordingConfig", request.web_recording_config),
        ("rtmpPublishConfig", request.rtmp_publish_config),
    ):
        if value:
            raise errors.invalid_parameter(
                f"clientRequest.{name}: web page recording is not supported by this recorder"
            )


@router.post(
    f"{PREFIX}/resourceid/{{resourceid}}/sid/{{sid}}/mode/{{mode}}/update",
    response_model=UpdateResponse,
)
async def update(
    appid: str, resourceid: str, sid: str, mode: RecordMode, body: UpdateRequest, state: StateDep
) -> JSONResponse:
    """Replace the subscription lists (takes effect within a second); ``onhold`` (our
    extension) pauses or resumes the recording."""
    session = _live(state, appid, resourceid, sid, mode.value, body.cname, body.uid)
    _refuse_unsupported_update(body.client_request)
    if body.client_request.stream_subscribe is not None:
        await session.recording.update(body.client_request.stream_subscribe)
    if body.client_request.onhold is not None:
        await session.recording.hold(body.client_request.onhold)
    out = UpdateResponse(cname=body.cname, uid=body.uid, resource_id=resourceid, sid=sid)
    return JSONResponse(out.to_wire())


@router.post(
    f"{PREFIX}/resourceid/{{resourceid}}/sid/{{sid}}/mode/mix/updateLayout",
    response_model=UpdateLayoutResponse,
)
async def update_layout(
    appid: str, resourceid: str, sid: str, body: UpdateLayoutRequest, state: StateDep
) -> JSONResponse:
    """Replace the whole mix layout (omitted fields revert to their defaults)."""
    session = _live(state, appid, resourceid, sid, RecordMode.MIX.value, body.cname, body.uid)
    await session.recording.update_layout(body.client_request)
    out = UpdateLayoutResponse(cname=body.cname, uid=body.uid, resource_id=resourceid, sid=sid)
    return JSONResponse(out.to_wire())


@router.post(
    f"{PREFIX}/resourceid/{{resourceid}}/sid/{{sid}}/mode/{{mode}}/stop",
    response_model=StopResponse,
    responses={206: {"model": ErrorBody, "description": "Nothing was recorded (code 435)"}},
)
async def stop(
    appid: str, resourceid: str, sid: str, mode: RecordMode, body: StopRequest, state: StateDep
) -> JSONResponse:
    """Leave the channel and finish the files; the answer lists them."""
    session = state.registry.lookup(appid, resourceid, sid, mode.value)
    _check_body_ids(session, body.cname, body.uid)
    if session.stop_requested or session.recording.status() in LEAVING_STATUSES:
        raise errors.repeated_stop()
    session.stop_requested = True
    outcome = await session.recording.stop(
        wait_upload=not body.client_request.async_stop,
        wait_seconds=state.settings.sync_stop_timeout_seconds,
    )
    echo = {"cname": body.cname, "uid": body.uid, "resource_id": resourceid, "sid": sid}
    if not outcome.had_media:
        return _error_response(errors.no_recorded_data(), **echo)
    if outcome.upload_timed_out:
        return _error_response(errors.upload_timeout(), **echo)
    out = StopResponse(
        cname=body.cname,
        uid=body.uid,
        resource_id=resourceid,
        sid=sid,
        server_response=outcome.server_response,
    )
    return JSONResponse(out.to_wire())


probes = APIRouter(include_in_schema=False)


@probes.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@probes.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    if state.registry.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    return JSONResponse({"status": "ready"})


@probes.get("/metrics")
async def metrics_endpoint(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_response(exc, **exc.echo)


async def _on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return _gateway_response(exc.status, exc.message)


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _error_response(errors.invalid_parameter(validation_reason(exc)))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):
        return _gateway_response(404, "no Route matched with those values")
    return _gateway_response(exc.status_code, str(exc.detail))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("Request failed path=%s error=%s", request.url.path, type(exc).__name__)
    return _error_response(errors.internal(type(exc).__name__))


def worst_media_lag(registry: SessionRegistry[Recording]) -> float:
    """The most lagging running recording's media lag (seconds; 0 with none running)."""
    running = [s.recording for s in registry.sessions() if s.exited_at is None]
    return max((recording.media_lag() for recording in running), default=0.0)


BackgroundJob = Callable[["RecorderState"], Coroutine[Any, Any, None]]
"""Work started with the app and cancelled at shutdown (e.g. delivering a crashed run's files)."""


def create_app(
    settings: RecorderSettings,
    factory: RecordingFactory,
    background: Sequence[BackgroundJob] = (),
    peer_verify: ssl.SSLContext | bool = True,
) -> FastAPI:
    """The ASGI app; ``factory`` builds the recordings; ``background`` jobs run alongside;
    ``peer_verify`` checks the certificates of peer replicas (HTTPS forwarding)."""
    metrics = Metrics()
    state = RecorderState(
        settings=settings,
        registry=SessionRegistry(
            replica_id=settings.replica_id,
            max_active=settings.max_concurrent_recordings,
            resource_ttl=settings.resource_id_ttl_seconds,
        ),
        metrics=metrics,
        sender=CallbackSender(metrics),
        factory=factory,
        acquire_rate=AcquireRate(),
    )

    metrics.media_lag.set_function(lambda: worst_media_lag(state.registry))
    peers = httpx.AsyncClient(verify=peer_verify)
    redirects = Redirects(settings.spool_dir)
    takings = Takings(redirects)
    state.hand_over = Giver(settings, peers, redirects).hand_over
    beats: Heartbeat | None = None
    if settings.handover.enabled and settings.handover.takeover.enabled:
        if settings.handover_replicas():
            beats = Heartbeat(state, peers, redirects)
            state.held_elsewhere = beats.holder_of

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.sender.start()
        jobs = [asyncio.create_task(job(state)) for job in background]
        if beats is not None:
            jobs.append(asyncio.create_task(beats.run()))
        try:
            yield
        finally:
            await state.drain()
            if beats is not None:
                await beats.farewell()  # nothing left here to take over
                await beats.close()
            for task in jobs:
                task.cancel()
            for task in jobs:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await state.sender.close()
            await peers.aclose()

    app = FastAPI(
        title="cloudrec self-hosted recorder",
        version="1",
        description="The cloud recording REST protocol, recording Janus VideoRoom channels.",
        lifespan=lifespan,
        responses={
            400: {"model": ErrorBody, "description": "Protocol error (code 2 etc.)"},
            401: {"model": GatewayErrorBody, "description": "Missing or wrong credentials"},
            404: {"model": ErrorBody, "description": "No such task (code 404)"},
        },
    )
    app.state.recorder = state
    app.state.takings = takings
    app.state.heartbeat = beats
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(GatewayError, _on_gateway_error)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)

    def _held(key: RecordingKey) -> bool:
        return state.registry.holds(key) or key in takings.active

    def _forward_target(path: str, forwarded_by: str | None) -> str | None:
        sid = sid_of(path)
        replica = route(
            here=settings.replica_id,
            owner=owner_of(path),
            sid=sid,
            held=sid is not None and _held(RecordingKey(appid_of(path) or "", sid)),
            redirects=Routes(redirects, beats, appid_of(path) or ""),
            forwarded_by=forwarded_by,
        )
        return settings.peer_url(replica) if replica is not None else None

    # Each add_middleware wraps what is there: Edge runs first, then the count, then forwarding.
    app.add_middleware(PeerForwarding, settings=settings, peers=peers, target=_forward_target)
    app.add_middleware(RequestCounter, metrics=metrics)
    app.add_middleware(Edge, settings=settings, metrics=metrics)
    app.include_router(router)
    app.include_router(handing.router)
    app.include_router(heartbeat.router)
    app.include_router(probes)
    _protocol_openapi(app)
    return app


def _protocol_openapi(app: FastAPI) -> None:
    """Serve an OpenAPI document without FastAPI's 422: bad bodies are 400 / code 2."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = original()
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def basic_auth_header(user: str, password: str) -> str:
    """The ``Authorization`` header value for Basic credentials (tests and tools)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


__all__ = [
    "PREFIX",
    "RecordMode",
    "RecorderState",
    "Recording",
    "RecordingFactory",
    "StopOutcome",
    "basic_auth_header",
    "create_app",
    "validation_reason",
]
