"""A Janus session over the HTTP transport (async httpx), shared by every channel client.

One :class:`JanusSession` is one Janus session: ``create`` it, ``attach`` plugin
handles, send them messages, ``destroy`` it. A background task long-polls
``GET /janus/<session>`` (Janus holds each poll up to 30 s and counts its start
as activity) and routes what arrives:

* an ``event`` whose ``transaction`` belongs to a pending request completes
  that request (asynchronous plugin requests answer ``ack`` first);
* anything else addressed to a handle (plugin events, ``webrtcup``, ``media``,
  ``hangup``, ``slowlink``, ``detached``) goes to the handle's ``listener``.

Another task sends an explicit ``keepalive`` every ``keepalive_interval``
seconds, so the session outlives Janus' ``session_timeout`` (60 s by default)
whatever the poll timing. When Janus ends the session (``timeout``, unknown
session, unreachable for 15 s) :attr:`JanusSession.lost` is set and every
handle's listener gets a ``detached`` message.

The token and API secret travel in every request body and in the long poll's
query string; neither is ever logged or put in an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from cloudrec_recorder.channel.errors import (
    CORE_SESSION_NOT_FOUND,
    ChannelError,
    JanusUnreachableError,
    SessionLostError,
    error_for,
)
from cloudrec_recorder.tls import tls_context

__all__ = ["VIDEOROOM", "JanusHandle", "JanusSession", "Message"]

VIDEOROOM = "janus.plugin.videoroom"

Message = dict[str, Any]
"""One JSON object of the Janus API."""


logger = logging.getLogger(__name__)

KEEPALIVE_EXPIRY_SECONDS = 30.0

_SECRET_QUERY = re.compile(r"\b(token|apisecret)=[^&\s\"']*")


class RedactJanusSecrets(logging.Filter):
    """Blanks ``token=`` and ``apisecret=`` query values in log records.

    The long poll must carry them in its query string (Janus reads them only
    there), and httpx logs every request URL at INFO.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1=<redacted>", str(a)) if "=" in str(a) else a for a in args
            )
        record.msg = _SECRET_QUERY.sub(r"\1=<redacted>", str(record.msg))
        return True


logging.getLogger("httpx").addFilter(RedactJanusSecrets())


def _transaction() -> str:
    return secrets.token_hex(8)


class JanusHandle:
    """A plugin handle in a :class:`JanusSession`."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.listener: Callable[[Message], None] | None = None
        """Called (on the loop) with every unsolicited message for this handle."""
        self.detached = False

    @property
    def url(self) -> str:
        return f"{self.session.url}/{self.id}"

    def _deliver(self, message: Message) -> None:
        if message.get("janus") == "detached":
            self.detached = True
        if self.listener is not None:
            try:
                self.listener(message)
            except Exception:
                logger.exception("Janus handle listener failed handle=%s", self.id)

    async def message(
        self, body: Message, *, jsep: Message | None = None, wait: float | None = None
    ) -> tuple[Message, Message | None]:
        """Send a plugin message; returns the plugin's ``data`` and the JSEP, if any.

        Works for synchronous requests (``success``) and asynchronous ones
        (``ack``, then an ``event`` on the long poll, awaited at most ``wait``
        seconds). A plugin ``error_code``
        raises the matching :class:`~cloudrec_recorder.channel.errors.JanusApiError`.
        """
        payload: Message = {"janus": "message", "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        reply = await self.session.request(
            self.url, payload, wait_event=True, wait=wait or self.session.event_timeout
        )
        data: Message = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise error_for(int(data["error_code"]), str(data.get("error", "")))
        return data, reply.get("jsep")

    async def detach(self) -> None:
        """Detach the handle (Janus hangs up its PeerConnection)."""
        if self.detached or self.session.closed:
            return
        self.detached = True
        with contextlib.suppress(ChannelError, httpx.HTTPError):
            await self.session.request(self.url, {"janus": "detach"})
        self.session.forget(self)


class JanusSession:
    """A Janus API session; use ``async with`` or :meth:`create` / :meth:`destroy`."""

    def __init__(
        self,
        http_url: str,
        *,
        token: str | None = None,
        api_secret: str | None = None,
        request_timeout: float = 10.0,
        event_timeout: float = 20.0,
        max_events: int = 10,
        keepalive_interval: float | None = 25.0,
    ) -> None:
        self.http_url = http_url.rstrip("/")
        self._token = token
        self._api_secret = api_secret
        self.request_timeout = request_timeout
        self.event_timeout = event_timeout
        self.max_events = max_events
        self.keepalive_interval = keepalive_interval
        """Seconds between explicit keepalives (None: rely on the long poll alone,
        which renews the session only when each 30 s poll starts)."""
        self.session_id: int | None = None
        self.closed = False
        self.lost = asyncio.Event()
        """Set when the session ended without :meth:`destroy` (see :attr:`lost_reason`)."""
        self.lost_reason = ""
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(request_timeout),
            verify=tls_context(),
            # Requests come every few seconds (listings, keepalives): keep their connection
            # open between them rather than connecting anew each time (httpx's default is 5 s).
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS),
        )
        self._handles: dict[int, JanusHandle] = {}
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        if self.session_id is None:
            raise ChannelError("the Janus session is not created")
        return f"{self.http_url}/{self.session_id}"

    def _auth(self) -> dict[str, str]:
        auth: dict[str, str] = {}
        if self._token is not None:
            auth["token"] = self._token
        if self._api_secret is not None:
            auth["apisecret"] = self._api_secret
        return auth

    async def request(
        self,
        url: str,
        message: Message,
        *,
        wait_event: bool = False,
        wait: float | None = None,
    ) -> Message:
        """POST one Janus API request; with ``wait_event`` an ``ack`` waits for its event."""
        if self.lost.is_set():
            raise SessionLostError(f"the Janus session is gone: {self.lost_reason}")
        transaction = _transaction()
        payload = {**message, "transaction": transaction, **self._auth()}
        future: asyncio.Future[Message] | None = None
        if wait_event:
            # Registered before sending: the event may beat the ack.
            future = asyncio.get_running_loop().create_future()
            self._pending[transaction] = future
        try:
            try:
                response = await self._client.post(url, json=payload)
                reply: Message = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise JanusUnreachableError(
                    f"Janus at {self.http_url} did not answer {message.get('janus')!r}: "
                    f"{type(exc).__name__}"
                ) from exc
            kind = reply.get("janus")
            if kind == "error":
                error = reply.get("error", {})
                code = int(error.get("code", 0))
                if code == CORE_SESSION_NOT_FOUND:
                    self._mark_lost("Janus no longer knows the session")
                raise error_for(code, str(error.get("reason", "")))
            if kind == "ack" and future is not None:
                return await asyncio.wait_for(future, wait or self.event_timeout)
            return reply
        except TimeoutError as exc:
            raise ChannelError(
                f"Janus did not answer {message.get('janus')!r} within "
                f"{wait or self.event_timeout:.0f}s"
            ) from exc
        finally:
            if future is not None:
                self._pending.pop(transaction, None)

    async def create(self) -> JanusSession:
        reply = await self.request(self.http_url, {"janus": "create"})
        self.session_id = int(reply["data"]["id"])
        self._poller = asyncio.create_task(self._poll(), name=f"janus-poll-{self.session_id}")
        if self.keepalive_interval is not None:
            self._keepalive = asyncio.create_task(
                self._keep_alive(self.keepalive_interval), name=f"janus-keepalive-{self.session_id}"
            )
        return self

    async def open_videoroom(self, listener: Callable[[Message], None]) -> JanusHandle:
        """Create the session and attach a VideoRoom handle whose messages go to ``listener``."""
        await self.create()
        handle = await self.attach()
        handle.listener = listener
        return handle

    async def attach(self, plugin: str = VIDEOROOM) -> JanusHandle:
        reply = await self.request(self.url, {"janus": "attach", "plugin": plugin})
        handle = JanusHandle(self, int(reply["data"]["id"]))
        self._handles[handle.id] = handle
        return handle

    def forget(self, handle: JanusHandle) -> None:
        self._handles.pop(handle.id, None)

    async def destroy(self) -> None:
        """Destroy the session on Janus (best effort) and stop polling."""
        if self.closed:
            return
        self.closed = True
        for task in (self._poller, self._keepalive):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.session_id is not None and not self.lost.is_set():
            with contextlib.suppress(ChannelError, httpx.HTTPError):
                await self.request(self.url, {"janus": "destroy"})
        await self._client.aclose()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SessionLostError("the Janus session was destroyed"))

    async def __aenter__(self) -> JanusSession:
        return await self.create()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.destroy()

    # --------------------------------------------------------------- polling

    def _mark_lost(self, reason: str) -> None:
        if self.lost.is_set() or self.closed:
            return
        self.lost_reason = reason
        self.lost.set()
        logger.warning("Janus session lost session=%s reason=%s", self.session_id, reason)
        error = SessionLostError(f"the Janus session is gone: {reason}")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        for handle in list(self._handles.values()):
            handle._deliver({"janus": "detached", "sender": handle.id, "reason": reason})

    async def _keep_alive(self, interval: float) -> None:
        while not self.closed and not self.lost.is_set():
            await asyncio.sleep(interval)
            try:
                await self.request(self.url, {"janus": "keepalive"})
            except ChannelError as exc:
                logger.warning("Janus keepalive failed session=%s error=%s", self.session_id, exc)

    async def _poll(self) -> None:
        failures_since: float | None = None
        while not self.closed and not self.lost.is_set():
            params: dict[str, str | int] = {
                "maxev": self.max_events,
                "rid": int(time.time() * 1000),
                **self._auth(),
            }
            try:
                response = await self._client.get(
                    self.url,
                    params=params,
                    timeout=httpx.Timeout(self.request_timeout, read=45.0),
                )
                if response.status_code == httpx.codes.FORBIDDEN:
                    self._mark_lost("Janus refused the token or API secret")
                    return
                if response.status_code == httpx.codes.NOT_FOUND:
                    self._mark_lost("Janus no longer knows the session")
                    return
                payload = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                now = time.monotonic()
                failures_since = failures_since or now
                if now - failures_since > 15.0:
                    self._mark_lost(f"Janus unreachable ({type(exc).__name__})")
                    return
                await asyncio.sleep(0.5)
                continue
            failures_since = None
            for message in payload if isinstance(payload, list) else [payload]:
                self._dispatch(message)

    def _dispatch(self, message: Message) -> None:
        kind = message.get("janus")
        if kind == "keepalive":
            return
        if kind == "error":
            code = int(message.get("error", {}).get("code", 0))
            if code == CORE_SESSION_NOT_FOUND:
                self._mark_lost("Janus no longer knows the session")
            else:
                logger.warning("Janus long poll error code=%s", code)
            return
        if kind == "timeout":
            self._mark_lost("session timeout")
            return
        transaction = message.get("transaction")
        if kind == "event" and transaction in self._pending:
            future = self._pending[transaction]
            if not future.done():
                future.set_result(message)
            return
        handle = self._handles.get(int(message.get("sender", 0) or 0))
        if handle is not None:
            handle._deliver(message)
        else:
            logger.debug("Janus message for no known handle kind=%s", kind)
