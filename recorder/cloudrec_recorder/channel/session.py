"""A Janus session and its plugin handles, carried by the process' one WebSocket to Janus.

One :class:`JanusSession` is one Janus session: ``create`` it, ``attach`` plugin handles,
send them messages, ``destroy`` it. Its requests and events travel on the
:class:`~cloudrec_recorder.channel.connection.JanusConnection` that every session of the
process shares for that Janus URL (:func:`~cloudrec_recorder.channel.connection.connection_for`):

* a request's reply comes back by its ``transaction`` (asynchronous plugin requests answer
  ``ack`` first, then their ``event``);
* anything else addressed to one of the session's handles (plugin events, ``webrtcup``,
  ``media``, ``hangup``, ``slowlink``, ``detached``) goes to the handle's ``listener``.

Every ``keepalive_interval`` seconds the session sends a ``keepalive``, so it outlives Janus'
``session_timeout`` (60 s by default). When the session ends without :meth:`destroy`
(Janus' ``timeout``, a request answered "no such session", the connection lost because Janus
restarted, froze or went away) :attr:`JanusSession.lost` is set, every waiting request fails
with :class:`~cloudrec_recorder.channel.errors.SessionLostError` and every handle's listener
gets a ``detached`` message.

The token and API secret travel in every request body; neither is ever logged or put in an
exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from cloudrec_recorder.channel.connection import (
    JanusConnection,
    Message,
    connection_for,
    release,
)
from cloudrec_recorder.channel.errors import (
    CORE_SESSION_NOT_FOUND,
    ChannelError,
    SessionLostError,
    error_for,
)

__all__ = ["VIDEOROOM", "JanusHandle", "JanusSession", "Message"]

VIDEOROOM = "janus.plugin.videoroom"

logger = logging.getLogger(__name__)


class JanusHandle:
    """A plugin handle in a :class:`JanusSession`."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.listener: Callable[[Message], None] | None = None
        """Called (on the loop) with every unsolicited message for this handle."""
        self.detached = False

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

        Works for synchronous requests (``success``) and asynchronous ones (``ack``, then an
        ``event``, awaited at most ``wait`` seconds). A plugin ``error_code`` raises the
        matching :class:`~cloudrec_recorder.channel.errors.JanusApiError`.
        """
        payload: Message = {"janus": "message", "handle_id": self.id, "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        reply = await self.session.request(
            payload, want_event=True, wait=wait or self.session.event_timeout
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
        with contextlib.suppress(ChannelError):
            await self.session.request({"janus": "detach", "handle_id": self.id})
        self.session.forget(self)


class JanusSession:
    """A Janus API session; use ``async with`` or :meth:`create` / :meth:`destroy`.

    ``url`` is the Janus WebSockets API, e.g. ``ws://127.0.0.1:8188/``.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        api_secret: str | None = None,
        request_timeout: float = 10.0,
        event_timeout: float = 20.0,
        keepalive_interval: float | None = 25.0,
    ) -> None:
        self.url = url
        self._token = token
        self._api_secret = api_secret
        self.request_timeout = request_timeout
        self.event_timeout = event_timeout
        self.keepalive_interval = keepalive_interval
        """Seconds between keepalives (None: none; Janus then ends the session after its
        ``session_timeout`` without other requests)."""
        self.session_id: int | None = None
        self.closed = False
        self.lost = asyncio.Event()
        """Set when the session ended without :meth:`destroy` (see :attr:`lost_reason`)."""
        self.lost_reason = ""
        self._connection: JanusConnection | None = None
        self._handles: dict[int, JanusHandle] = {}
        self._keepalive: asyncio.Task[None] | None = None

    def _auth(self) -> dict[str, str]:
        auth: dict[str, str] = {}
        if self._token is not None:
            auth["token"] = self._token
        if self._api_secret is not None:
            auth["apisecret"] = self._api_secret
        return auth

    async def request(
        self, message: Message, *, want_event: bool = False, wait: float | None = None
    ) -> Message:
        """Send one Janus API request in this session; with ``want_event`` an ``ack`` waits
        for its event. Janus' ``error`` answers raise the typed error."""
        if self.lost.is_set():
            raise SessionLostError(f"the Janus session is gone: {self.lost_reason}")
        if self._connection is None:
            raise ChannelError("the Janus session is not created")
        payload: Message = {**message, **self._auth()}
        if self.session_id is not None:
            payload["session_id"] = self.session_id
        within = (wait or self.event_timeout) if want_event else self.request_timeout
        reply = await self._connection.request(payload, want_event=want_event, within=within)
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            code = int(error.get("code", 0))
            if code == CORE_SESSION_NOT_FOUND:
                self._mark_lost("Janus no longer knows the session")
            raise error_for(code, str(error.get("reason", "")))
        return reply

    async def create(self) -> JanusSession:
        self._connection = await connection_for(self.url)
        try:
            reply = await self.request({"janus": "create"})
        except BaseException:
            await self._release()
            raise
        self.session_id = int(reply["data"]["id"])
        self._connection.register(self.session_id, self)
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
        reply = await self.request({"janus": "attach", "plugin": plugin})
        handle = JanusHandle(self, int(reply["data"]["id"]))
        self._handles[handle.id] = handle
        return handle

    def forget(self, handle: JanusHandle) -> None:
        self._handles.pop(handle.id, None)

    async def destroy(self) -> None:
        """Destroy the session on Janus (best effort) and let go of the connection."""
        if self.closed:
            return
        self.closed = True
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        if self.session_id is not None and not self.lost.is_set():
            with contextlib.suppress(ChannelError):
                await self.request({"janus": "destroy"})
        await self._release()

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if self.session_id is not None:
                connection.unregister(self.session_id)
            await release(connection)

    async def __aenter__(self) -> JanusSession:
        return await self.create()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.destroy()

    # ------------------------------------------------- what the connection tells

    def deliver(self, message: Message) -> None:
        kind = message.get("janus")
        if kind == "timeout":
            self._mark_lost("session timeout")
            return
        handle = self._handles.get(_sender(message))
        if handle is not None:
            handle._deliver(message)
        else:
            logger.debug("Janus message for no known handle kind=%s", kind)

    def connection_lost(self, reason: str) -> None:
        self._mark_lost(reason)

    def _mark_lost(self, reason: str) -> None:
        if self.lost.is_set() or self.closed:
            return
        self.lost_reason = reason
        self.lost.set()
        logger.warning("Janus session lost session=%s reason=%s", self.session_id, reason)
        if self._connection is not None and self.session_id is not None:
            self._connection.unregister(self.session_id)
        for handle in list(self._handles.values()):
            handle._deliver({"janus": "detached", "sender": handle.id, "reason": reason})

    async def _keep_alive(self, interval: float) -> None:
        while not self.closed and not self.lost.is_set():
            await asyncio.sleep(interval)
            try:
                await self.request({"janus": "keepalive"})
            except SessionLostError:
                return
            except ChannelError as exc:
                logger.warning("Janus keepalive failed session=%s error=%s", self.session_id, exc)


def _sender(message: Message) -> int:
    sender: Any = message.get("sender", 0)
    try:
        return int(sender or 0)
    except (TypeError, ValueError):
        return 0
