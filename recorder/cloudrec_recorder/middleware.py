"""The API's two inner layers as plain ASGI middleware: replica forwarding and request counts.

They were ``@app.middleware("http")`` functions, which Starlette runs through
``BaseHTTPMiddleware``: a task group, a memory stream and a streaming copy of every response
per layer and request, a fifth of the recorder's event loop when 500 starts arrive at once.
Plain ASGI passes the request through untouched:

* :class:`PeerForwarding` sends a request whose resource id names another replica to that
  replica (:mod:`~cloudrec_recorder.forwarding`) and answers with its answer;
* :class:`RequestCounter` counts each answered request by route template and status
  (``cloudrec_recorder_requests_total``; "unmatched" when no route took it).
"""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudrec_recorder.forwarding import FORWARDED_HEADER, forward, forward_target
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.settings import RecorderSettings

__all__ = ["PeerForwarding", "RequestCounter"]

_FORWARDED = FORWARDED_HEADER.lower().encode()


class PeerForwarding:
    """Forward requests for another replica's recordings (see the module docstring)."""

    def __init__(self, app: ASGIApp, settings: RecorderSettings, peers: httpx.AsyncClient) -> None:
        self.app = app
        self.settings = settings
        self.peers = peers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        forwarded = any(name == _FORWARDED for name, _ in scope.get("headers", ()))
        target = forward_target(self.settings, scope["path"], forwarded)
        if target is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await forward(self.peers, self.settings, request, target)
        await response(scope, receive, send)


class RequestCounter:
    """Count every answered request by route template and status code."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                self.metrics.requests.labels(
                    getattr(route, "path", "unmatched"), str(message["status"])
                ).inc()
            await send(message)

        await self.app(scope, receive, counted)
