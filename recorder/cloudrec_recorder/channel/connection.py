"""One WebSocket to Janus (the ``janus-protocol`` subprotocol) carrying many Janus sessions.

A recorder process holds one :class:`JanusConnection` per Janus URL and event loop
(:func:`connection_for`, reference counted by the sessions that use it): every recording's
session, its handles, their requests and their events share it, where the HTTP transport cost
each session a long poll of its own.

* Requests carry a ``transaction`` unique on the connection; the reply with that transaction
  completes the request. A plugin message that Janus answers asynchronously gets ``ack`` first
  and its ``event`` later, both with the same transaction (``want_event``).
* Everything else (plugin events, ``webrtcup``, ``media``, ``hangup``, ``detached``,
  ``timeout``) is dispatched by its ``session_id`` to the :class:`SessionPort` registered
  for that session.
* Liveness: a WebSocket ping every ``heartbeat`` seconds; no pong within half of it, a read
  error or a close (Janus restarted or went away) ends the connection. Janus destroys the
  sessions of a connection that is gone, so each registered session hears
  :meth:`SessionPort.connection_lost` and every waiting request fails with
  :class:`~cloudrec_recorder.channel.errors.SessionLostError`: nothing waits forever. The
  next session asks :func:`connection_for` again and gets a new connection.

The token and API secret travel in request bodies only, never in the URL, a log or an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from cloudrec_recorder.channel.errors import (
    ChannelError,
    JanusUnreachableError,
    SessionLostError,
)
from cloudrec_recorder.tls import tls_context

__all__ = [
    "JANUS_SUBPROTOCOL",
    "JanusConnection",
    "Message",
    "SessionPort",
    "connection_for",
]

Message = dict[str, Any]
"""One JSON object of the Janus API."""

JANUS_SUBPROTOCOL = "janus-protocol"
"""The WebSocket subprotocol Janus' WebSockets transport speaks (its API, as over HTTP)."""

HEARTBEAT_SECONDS = 10.0
"""A WebSocket ping this often; no pong within half of it ends the connection."""

logger = logging.getLogger(__name__)


class SessionPort(Protocol):
    """What a connection tells the session it carries."""

    def deliver(self, message: Message) -> None:
        """An unsolicited message (an event, ``detached``, ``timeout``...) for this session."""

    def connection_lost(self, reason: str) -> None:
        """The connection ended: Janus has destroyed (or will destroy) the session."""


@dataclass
class _Pending:
    future: asyncio.Future[Message]
    want_event: bool


class JanusConnection:
    """A WebSocket to the Janus API at ``url`` (``ws://`` or ``wss://``); see the module doc."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 10.0,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self.heartbeat = heartbeat
        self.closed = False
        self.lost_reason = ""
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._transactions = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._sessions: dict[int, SessionPort] = {}
        self.users = 0
        """Sessions holding this connection (see :func:`connection_for`)."""

    async def open(self) -> JanusConnection:
        """Connect; :class:`JanusUnreachableError` when Janus does not complete the handshake."""
        self._http = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(self.connect_timeout):
                self._ws = await self._http.ws_connect(
                    self.url,
                    protocols=(JANUS_SUBPROTOCOL,),
                    heartbeat=self.heartbeat,
                    ssl=tls_context() if self.url.startswith("wss:") else False,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            await self._http.close()
            self.closed = True
            self.lost_reason = f"Janus at {self.url} did not answer ({type(exc).__name__})"
            raise JanusUnreachableError(
                f"Janus at {self.url} did not answer the WebSocket handshake: {type(exc).__name__}"
            ) from exc
        self._reader = asyncio.create_task(self._read(), name=f"janus-ws-{self.url}")
        return self

    # ------------------------------------------------------------ sessions

    def register(self, session_id: int, session: SessionPort) -> None:
        self._sessions[session_id] = session

    def unregister(self, session_id: int) -> None:
        self._sessions.pop(session_id, None)

    # ------------------------------------------------------------ requests

    async def request(
        self, message: Message, *, want_event: bool = False, within: float = 10.0
    ) -> Message:
        """Send ``message`` (with a new ``transaction``); its final reply within ``within`` s.

        The reply may be ``error``: telling Janus' errors apart is the caller's business.
        Raises :class:`SessionLostError` when the connection is (or goes) away and
        :class:`ChannelError` when no reply comes in time.
        """
        if self.closed or self._ws is None:
            raise SessionLostError(f"the connection to Janus is gone: {self.lost_reason}")
        transaction = format(next(self._transactions), "x")
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = _Pending(future, want_event)
        try:
            try:
                await self._ws.send_str(json.dumps({**message, "transaction": transaction}))
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                self._lose(f"sending failed ({type(exc).__name__})")
            try:
                return await asyncio.wait_for(future, within)
            except TimeoutError as exc:
                raise ChannelError(
                    f"Janus did not answer {message.get('janus')!r} within {within:.0f}s"
                ) from exc
        finally:
            self._pending.pop(transaction, None)

    async def close(self) -> None:
        """Close the WebSocket (Janus then destroys any session still on it)."""
        self._lose("closed by the recorder")
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._close_socket()

    async def _close_socket(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 2.0)
        if self._http is not None:
            await self._http.close()

    # ------------------------------------------------------------- reading

    async def _read(self) -> None:
        assert self._ws is not None
        reason = "Janus closed the WebSocket"
        try:
            async for frame in self._ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    if frame.type == aiohttp.WSMsgType.ERROR:
                        reason = f"the WebSocket to Janus failed ({type(frame.data).__name__})"
                    continue
                try:
                    message = json.loads(frame.data)
                except ValueError:
                    logger.warning("Janus sent something that is not JSON url=%s", self.url)
                    continue
                if isinstance(message, dict):
                    self._dispatch(message)
            if self._ws.exception() is not None:
                reason = f"the WebSocket to Janus failed ({type(self._ws.exception()).__name__})"
        except (aiohttp.ClientError, ConnectionError) as exc:
            reason = f"the WebSocket to Janus failed ({type(exc).__name__})"
        finally:
            self._lose(reason)
        await self._close_socket()

    def _dispatch(self, message: Message) -> None:
        transaction = message.get("transaction")
        pending = self._pending.get(transaction) if isinstance(transaction, str) else None
        kind = message.get("janus")
        if pending is not None and not (kind == "ack" and pending.want_event):
            if not pending.future.done():
                pending.future.set_result(message)
            return
        if pending is not None:  # the ack of an asynchronous request: its event follows
            return
        session = self._sessions.get(_int(message.get("session_id")))
        if session is not None:
            session.deliver(message)
        elif kind not in ("ack", "keepalive"):
            logger.debug("Janus message for no known session kind=%s", kind)

    def _lose(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.lost_reason = reason
        _forget(self)
        if self._sessions:
            logger.warning(
                "Janus connection lost url=%s sessions=%d reason=%s",
                self.url,
                len(self._sessions),
                reason,
            )
        error = SessionLostError(f"the connection to Janus is gone: {reason}")
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            session.connection_lost(reason)


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0


# ----------------------------------------------------------------- the pool

_open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, JanusConnection]] = (
    weakref.WeakKeyDictionary()
)
_opening: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, asyncio.Future[JanusConnection]]
] = weakref.WeakKeyDictionary()


def _forget(connection: JanusConnection) -> None:
    with contextlib.suppress(RuntimeError):
        pool = _open.get(asyncio.get_running_loop(), {})
        if pool.get(connection.url) is connection:
            del pool[connection.url]


async def connection_for(url: str) -> JanusConnection:
    """The loop's open connection to ``url`` (opened if there is none); counts one user more.

    Concurrent callers share one handshake. Pair every call with :func:`release`.
    """
    loop = asyncio.get_running_loop()
    pool = _open.setdefault(loop, {})
    connection = pool.get(url)
    if connection is None or connection.closed:
        opening = _opening.setdefault(loop, {})
        if url not in opening:
            opening[url] = loop.create_task(JanusConnection(url).open())
        future = opening[url]
        try:
            connection = await asyncio.shield(future)
        finally:
            if future.done() and opening.get(url) is future:
                del opening[url]
        if connection.closed:
            raise SessionLostError(f"the connection to Janus is gone: {connection.lost_reason}")
        pool[url] = connection
    connection.users += 1
    return connection


async def release(connection: JanusConnection) -> None:
    """One user less; the last one closes the connection."""
    connection.users -= 1
    if connection.users <= 0:
        await connection.close()
