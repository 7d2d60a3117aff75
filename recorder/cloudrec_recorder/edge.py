"""The recorder's front door: credentials, app-id scope and a body cap, before any body is read.

:class:`Edge` is the outermost ASGI middleware. For every HTTP request it decides from the
request line and headers alone (:func:`admit`, pure) whether the request goes on:

* ``/healthz`` and ``/readyz`` need nothing (kubelet probes);
* everything else needs Basic credentials: the settings' ``customerId`` / ``customerSecret``
  (every app id) or one of ``credentials`` (some app ids only). A protocol route
  ``/v1/apps/{appid}/...`` needs a credential covering ``appid``; ``/metrics`` and
  ``/drain`` need the credential of every app id (tenants do not see each other's counts,
  nor drain a replica); ``/docs``, ``/openapi.json`` and unknown paths need any valid
  credential;
* a body larger than ``maxRequestBodyBytes`` is refused with 413: at once when
  ``Content-Length`` says so, else as soon as the streamed body passes the cap.

Only then does the app (and the forwarding to a peer replica,
:mod:`cloudrec_recorder.forwarding`) see the request: an unauthenticated body is never read,
parsed or forwarded. Refusals are the protocol gateway's ``{"message": ...}`` bodies.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.settings import RecorderSettings

__all__ = ["Credentials", "Edge", "Principal", "Refusal", "admit"]

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
ADMIN_PATHS = frozenset({"/metrics", "/drain"})
_APP_PATH = re.compile(r"^/v1/apps/([^/]*)(/|$)")


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as."""

    customer_id: str
    app_ids: frozenset[str] | None
    """The app ids it may use; None: every app id (the administrator's credential)."""

    def may_use(self, appid: str) -> bool:
        return self.app_ids is None or appid in self.app_ids


@dataclass(frozen=True)
class Refusal:
    """A gateway answer: HTTP status, ``message``, and the metric label of the reason."""

    status: int
    message: str
    reason: str


UNAUTHORIZED = Refusal(401, "Unauthorized", "unauthenticated")
INVALID_CREDENTIALS = Refusal(401, "Invalid authentication credentials", "unauthenticated")
WRONG_APP = Refusal(
    401, "Invalid authentication credentials: not valid for this app id", "wrong_app"
)
ADMIN_ONLY = Refusal(
    403, "Forbidden: this path needs the credential of every app id (customerId)", "forbidden"
)


def too_large(limit: int) -> Refusal:
    return Refusal(413, f"Request body too large: at most {limit} bytes", "too_large")


class Credentials:
    """The configured credentials, looked up by customer id, secrets compared in constant time."""

    def __init__(self, entries: Iterable[tuple[str, str, frozenset[str] | None]]) -> None:
        self._by_id: dict[bytes, tuple[bytes, Principal]] = {
            cid.encode(): (secret.encode(), Principal(cid, apps)) for cid, secret, apps in entries
        }

    @classmethod
    def from_settings(cls, settings: RecorderSettings) -> Credentials:
        entries: list[tuple[str, str, frozenset[str] | None]] = [
            (c.customer_id, c.customer_secret.get_secret_value(), frozenset(c.app_ids))
            for c in settings.credentials
        ]
        if settings.customer_id is not None and settings.customer_secret is not None:
            entries.append(
                (settings.customer_id, settings.customer_secret.get_secret_value(), None)
            )
        return cls(entries)

    def authenticate(self, authorization: bytes | None) -> Principal | Refusal:
        if not authorization:
            return UNAUTHORIZED
        scheme, _, encoded = authorization.partition(b" ")
        if scheme.lower() != b"basic":
            return UNAUTHORIZED
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return INVALID_CREDENTIALS
        user, sep, password = decoded.partition(b":")
        known = self._by_id.get(user)
        expected = known[0] if known is not None else b"\x00" * 32
        # Compared even for an unknown user, so timing does not tell user names apart.
        ok = hmac.compare_digest(password, expected) and bool(sep) and known is not None
        return known[1] if ok and known is not None else INVALID_CREDENTIALS


def admit(
    credentials: Credentials,
    path: str,
    authorization: bytes | None,
    content_length: bytes | None,
    max_body: int,
) -> Refusal | None:
    """Whether a request may go on (None) or its refusal, from the request line and headers."""
    if path in PUBLIC_PATHS:
        return None
    who = credentials.authenticate(authorization)
    if isinstance(who, Refusal):
        return who
    app = _APP_PATH.match(path)
    if app is not None and not who.may_use(app.group(1)):
        return WRONG_APP
    if path in ADMIN_PATHS and who.app_ids is not None:
        return ADMIN_ONLY
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            return Refusal(400, "Content-Length is not a number", "bad_request")
        if declared > max_body:
            return too_large(max_body)
    return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def _refuse(send: Send, refusal: Refusal) -> None:
    body = json.dumps({"message": refusal.message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b'Basic realm="cloudrec recorder"'))
    if refusal.status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Edge:
    """ASGI middleware applying :func:`admit` and the body cap; see the module docstring."""

    def __init__(self, app: ASGIApp, settings: RecorderSettings, metrics: Metrics) -> None:
        self.app = app
        self.credentials = Credentials.from_settings(settings)
        self.max_body = settings.max_request_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        refusal = admit(
            self.credentials,
            scope["path"],
            _header(scope, b"authorization"),
            length,
            self.max_body,
        )
        if refusal is None and length is None and _header(scope, b"transfer-encoding"):
            receive, refusal = await self._read_capped(receive)
        if refusal is not None:
            self.metrics.requests_refused.labels(refusal.reason).inc()
            await _refuse(send, refusal)
            return
        await self.app(scope, receive, send)

    async def _read_capped(self, receive: Receive) -> tuple[Receive, Refusal | None]:
        """A body without ``Content-Length`` (chunked): read it here, up to the cap."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive), None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return receive, too_large(self.max_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return _replay([whole], receive), None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
