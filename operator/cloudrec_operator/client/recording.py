"""Async client of the cloud recording REST protocol (protocol.md §1, §3).

`RecordingClient` sends acquire/start/query/update/updateLayout/stop with HTTP Basic auth
(customer id and secret) and `Content-Type: application/json;charset=utf-8`, parses the answers
into the wire models, and turns every failure into a typed `errors.ProtocolError` that carries
the protocol code and the seed's error code.

Retries (§1, §12): network errors and timeouts, 5xx, 429, 206/65 and code 62 are resent after
the back-off delays (1 s, 3 s, 6 s by default; the last delay repeats when `retries` is larger);
4xx, 201/7 and 206/435 never are. Every attempt is reported to the optional `on_request`
callback as `(operation, seconds, outcome)` with `outcome` one of `"ok"`, the HTTP status as a
string (`"500"`) or `"transport_error"`, for metrics.

The pure parts (request building, back-off schedule, retry decision, outcome labels) are
module functions so they can be tested without a server. Log lines name the operation, the path
and the outcome; they never hold the Authorization header or a request body.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

import aiohttp
from pydantic import ValidationError

from cloudrec_protocol.codes import SdkErrorCode
from cloudrec_protocol.enums import Mode
from cloudrec_protocol.errors import (
    ProtocolError,
    ResponseError,
    TransportError,
    error_from_response,
)
from cloudrec_protocol.models import (
    AcquireClientRequest,
    AcquireRequest,
    AcquireResponse,
    CapacityResponse,
    QueryResponse,
    StartRequest,
    StartResponse,
    StopClientRequest,
    StopRequest,
    StopResponse,
    UpdateLayoutRequest,
    UpdateRequest,
    WireModel,
)
from cloudrec_protocol.paths import (
    acquire_path,
    capacity_path,
    query_path,
    start_path,
    stop_path,
    update_layout_path,
    update_path,
)

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_BACKOFF",
    "SYNC_STOP_TIMEOUT",
    "Answer",
    "OnRequest",
    "RecordingClient",
    "RequestSpec",
    "backoff_schedule",
    "basic_auth",
    "build_acquire",
    "build_capacity",
    "build_query",
    "build_start",
    "build_stop",
    "build_update",
    "build_update_layout",
    "outcome_label",
    "should_retry",
    "tls_context",
]

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/json;charset=utf-8"
DEFAULT_BACKOFF: tuple[float, ...] = (1.0, 3.0, 6.0)
SYNC_STOP_TIMEOUT = 30.0
"""Minimum timeout of a synchronous stop, which answers after the upload (~20 s window)."""

OnRequest = Callable[[str, float, str], None]
"""Metrics hook: `(operation, seconds, outcome)` after every HTTP attempt."""

_ModelT = TypeVar("_ModelT", bound=WireModel)


# ------------------------------------------------------------------ pure parts


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One protocol request: everything but the host and the credentials."""

    operation: str
    """`acquire`, `start`, `query`, `update`, `updateLayout` or `stop`."""
    method: str
    path: str
    body: bytes | None
    """JSON body with secrets revealed; never log it."""
    min_timeout: float = 0.0
    """The request's timeout is at least this many seconds."""

    def __repr__(self) -> str:
        size = "none" if self.body is None else f"{len(self.body)} bytes"
        return f"RequestSpec({self.operation} {self.method} {self.path}, body {size})"


def basic_auth(customer_id: str, customer_secret: str) -> str:
    """The `Authorization` header value for the customer credentials."""
    token = base64.b64encode(f"{customer_id}:{customer_secret}".encode()).decode("ascii")
    return f"Basic {token}"


def build_acquire(
    appid: str, cname: str, uid: str, client_request: AcquireClientRequest
) -> RequestSpec:
    """acquire: `POST …/acquire` with `{cname, uid, clientRequest}`."""
    body = AcquireRequest(cname=cname, uid=uid, client_request=client_request)
    return RequestSpec("acquire", "POST", acquire_path(appid), body.to_wire_json())


def build_capacity(appid: str) -> RequestSpec:
    """capacity (our extension, self-hosted recorder only): `GET …/capacity`, no body."""
    return RequestSpec("capacity", "GET", capacity_path(appid), None)


def build_start(
    appid: str, resource_id: str, mode: Mode | str, request: StartRequest
) -> RequestSpec:
    """start: `POST …/resourceid/{rid}/mode/{mode}/start`."""
    path = start_path(appid, resource_id, mode)
    return RequestSpec("start", "POST", path, request.to_wire_json())


def build_query(appid: str, resource_id: str, sid: str, mode: Mode | str) -> RequestSpec:
    """query: `GET …/resourceid/{rid}/sid/{sid}/mode/{mode}/query`, no body."""
    return RequestSpec("query", "GET", query_path(appid, resource_id, sid, mode), None)


def build_update(
    appid: str, resource_id: str, sid: str, mode: Mode | str, request: UpdateRequest
) -> RequestSpec:
    """update: `POST …/update`."""
    path = update_path(appid, resource_id, sid, mode)
    return RequestSpec("update", "POST", path, request.to_wire_json())


def build_update_layout(
    appid: str, resource_id: str, sid: str, request: UpdateLayoutRequest
) -> RequestSpec:
    """updateLayout: `POST …/mode/mix/updateLayout`."""
    path = update_layout_path(appid, resource_id, sid)
    return RequestSpec("updateLayout", "POST", path, request.to_wire_json())


def build_stop(
    appid: str,
    resource_id: str,
    sid: str,
    mode: Mode | str,
    cname: str,
    uid: str,
    async_stop: bool = False,
) -> RequestSpec:
    """stop: `POST …/stop` with `{"clientRequest": {"async_stop": …}}`.

    A synchronous stop waits for the upload, so its timeout is at least `SYNC_STOP_TIMEOUT`.
    """
    body = StopRequest(
        cname=cname, uid=uid, client_request=StopClientRequest(async_stop=async_stop)
    )
    return RequestSpec(
        "stop",
        "POST",
        stop_path(appid, resource_id, sid, mode),
        body.to_wire_json(),
        min_timeout=0.0 if async_stop else SYNC_STOP_TIMEOUT,
    )


def backoff_schedule(retries: int, backoff: Sequence[float] = DEFAULT_BACKOFF) -> list[float]:
    """Seconds to wait before each of `retries` resends; the last delay repeats."""
    if retries < 0:
        raise ValueError("retries must be >= 0")
    if retries and not backoff:
        raise ValueError("backoff needs at least one delay when retrying")
    if any(delay < 0 for delay in backoff):
        raise ValueError("backoff delays must be >= 0")
    return [float(backoff[min(index, len(backoff) - 1)]) for index in range(retries)]


def should_retry(error: ProtocolError, attempt: int, retries: int) -> bool:
    """True when `error` after attempt number `attempt` (0 = first send) is worth resending."""
    return error.retryable and attempt < retries


def outcome_label(http_status: int | None) -> str:
    """The `on_request` outcome: `"ok"`, the status as text, or `"transport_error"`."""
    if http_status is None:
        return "transport_error"
    return "ok" if http_status == HTTP_OK else str(http_status)


# ------------------------------------------------------------------ client


MAX_IN_FLIGHT = 16
"""Requests one client has on the wire at once (and connections it keeps alive)."""
HTTP_OK = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer, read whole."""

    status: int
    content: bytes


@functools.cache
def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """One TLS context for every protocol client of the process: building one loads the CA
    bundle (about 1 MB and 20-30 ms of CPU each), which a client per backend load paid again
    and again. ``ca_file`` adds a private CA (the self-hosted recorder's, e.g. from
    cert-manager) to the system's."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class RecordingClient:
    """Async client of one recording service (hosted or self-hosted).

    **Parameters:**

    * `base_url`: scheme and host, e.g. `https://api.sd-rtn.com` or `http://127.0.0.1:8080`.
    * `customer_id`, `customer_secret`: the Basic credentials.
    * `timeout`: seconds per HTTP attempt (a synchronous stop gets at least 30 s).
    * `retries`: resends after the first attempt for retryable failures.
    * `backoff`: delays before each resend; the last one repeats.
    * `on_request`: metrics hook called after every attempt.
    * `ca_file`: a CA bundle trusted besides the system's (a private recorder CA).

    Usage::

        async with RecordingClient(url, cid, secret) as client:
            acquired = await client.acquire(appid, "room", "527841", AcquireClientRequest())
    """

    def __init__(
        self,
        base_url: str,
        customer_id: str,
        customer_secret: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        on_request: OnRequest | None = None,
        ca_file: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self._schedule = backoff_schedule(retries, backoff)
        self._retries = retries
        self._timeout = timeout
        self._on_request = on_request
        self._redact = (customer_secret, basic_auth(customer_id, customer_secret))
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": basic_auth(customer_id, customer_secret),
            "Content-Type": CONTENT_TYPE,
            "Accept": "application/json",
        }
        self._tls = tls_context(ca_file)
        self._http: aiohttp.ClientSession | None = None
        """aiohttp, opened at the first request (it needs the running event loop). httpx
        cost 2.8 ms of CPU per request here against aiohttp's 0.2 ms, and the protocol client
        was the operator's largest cost per recording (``BENCHMARKS.md``)."""
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        """Requests wait here, not in the connection pool (so ``on_request`` times the
        request, not the wait for a connection)."""

    def __repr__(self) -> str:
        return f"RecordingClient({self._base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, ssl=self._tls),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._http

    # -------------------------------------------------------------- operations

    async def acquire(
        self, appid: str, cname: str, uid: str, client_request: AcquireClientRequest
    ) -> AcquireResponse:
        """Reserve a resource id for recording `cname` as `uid` (valid 5 minutes)."""
        spec = build_acquire(appid, cname, uid, client_request)
        return _parse(await self._send(spec), AcquireResponse)

    async def capacity(self, appid: str) -> CapacityResponse:
        """How many more recordings the self-hosted recorder takes now (never resent: the
        queue asks again a moment later)."""
        return _parse(await self._send(build_capacity(appid), retries=0), CapacityResponse)

    async def start(
        self, appid: str, resource_id: str, mode: Mode | str, request: StartRequest
    ) -> StartResponse:
        """Start recording; raises `AlreadyRunningError` on 201/7."""
        spec = build_start(appid, resource_id, mode, request)
        return _parse(await self._send(spec), StartResponse)

    async def query(
        self, appid: str, resource_id: str, sid: str, mode: Mode | str
    ) -> QueryResponse:
        """Status and file list of a running recording; `NotFoundError` once it is gone."""
        return _parse(await self._send(build_query(appid, resource_id, sid, mode)), QueryResponse)

    async def update(
        self, appid: str, resource_id: str, sid: str, mode: Mode | str, request: UpdateRequest
    ) -> None:
        """Replace the subscription lists (or refresh storage credentials)."""
        await self._send(build_update(appid, resource_id, sid, mode, request))

    async def update_layout(
        self, appid: str, resource_id: str, sid: str, request: UpdateLayoutRequest
    ) -> None:
        """Replace the whole mix layout."""
        await self._send(build_update_layout(appid, resource_id, sid, request))

    async def stop(
        self,
        appid: str,
        resource_id: str,
        sid: str,
        mode: Mode | str,
        cname: str,
        uid: str,
        async_stop: bool = False,
    ) -> StopResponse:
        """Stop recording; `AlreadyStoppedError` (49) and `NoRecordedDataError` (206/435)."""
        spec = build_stop(appid, resource_id, sid, mode, cname, uid, async_stop)
        return _parse(await self._send(spec), StopResponse)

    # -------------------------------------------------------------- transport

    async def _send(self, spec: RequestSpec, retries: int | None = None) -> Answer:
        timeout = max(self._timeout, spec.min_timeout)
        retries = self._retries if retries is None else retries
        attempt = 0
        while True:
            started = time.monotonic()
            status: int | None = None
            error: ProtocolError
            try:
                async with self._slots:
                    started = time.monotonic()
                    response = await self._request(spec, timeout)
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = TransportError(f"{type(exc).__name__}: {_scrub(str(exc), self._redact)}")
            else:
                status = response.status
                if status == HTTP_OK:
                    self._report(spec, started, status)
                    return response
                error = error_from_response(status, response.content, redact=self._redact)
            self._report(spec, started, status)
            if not should_retry(error, attempt, retries):
                raise error
            delay = self._schedule[attempt]
            logger.warning(
                "Retrying %s %s after %s in %.1f s (attempt %d of %d)",
                spec.operation,
                spec.path,
                outcome_label(status),
                delay,
                attempt + 2,
                retries + 1,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def _request(self, spec: RequestSpec, seconds: float) -> Answer:
        async with self._session().request(
            spec.method,
            self._base_url + spec.path,
            data=spec.body,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as response:
            return Answer(response.status, await response.read())

    def _report(self, spec: RequestSpec, started: float, status: int | None) -> None:
        seconds = time.monotonic() - started
        outcome = outcome_label(status)
        logger.debug("Sent %s %s: %s in %.3f s", spec.operation, spec.path, outcome, seconds)
        if self._on_request is not None:
            self._on_request(spec.operation, seconds, outcome)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _parse(response: Answer, model: type[_ModelT]) -> _ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = (".".join(str(part) for part in first["loc"]) or "body")[:64]
        raise ResponseError(
            f"unexpected 200 body for {model.__name__}: {where}: {first['msg']}",
            http_status=response.status,
            sdk_code=SdkErrorCode.GENERAL_ERROR,
            retryable=False,
        ) from None
