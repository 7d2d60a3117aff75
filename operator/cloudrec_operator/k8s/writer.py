"""The facade's writes sent with aiohttp on the event loop, not the client's threads.

The official client's calls are synchronous: each write ran in a worker thread (urllib3,
the client's request building), and the thread hand-offs and GIL switches around them were
15 % of the operator's CPU samples at 1,000 new recordings (``BENCHMARKS.md``). The
operator's writes are small merge patches and Events whose answers it never reads, so they
go out here as plain HTTP requests over one aiohttp connection pool, with the client's own
configuration (server, TLS, client certificate or bearer token). Reads stay on the client.

Calls made inside :func:`lanes.urgent` have slots of their own (:data:`URGENT_WORKERS`), so
they never wait behind the other recordings' writes. An answer of 400 or more raises the
client's ``ApiException`` with its status, as the client's own calls do.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import aiohttp
from kubernetes.client.exceptions import ApiException

from .lanes import URGENT_WORKERS, is_urgent

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
CREATE = "application/json"

TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)
"""A write that hangs fails its pass (which runs again) instead of holding it for ever."""


def tls_of(config: Any) -> ssl.SSLContext | bool:
    """The TLS settings of a ``kubernetes.client.Configuration``: its CA, client
    certificate and verification switch."""
    if not str(config.host).startswith("https"):
        return False
    context = ssl.create_default_context(cafile=config.ssl_ca_cert or None)
    if config.cert_file:
        context.load_cert_chain(config.cert_file, config.key_file or None)
    if not config.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Writer:
    """Sends the facade's writes; one connection pool per event loop it runs in."""

    def __init__(self, config: Any, workers: int) -> None:
        self._config = config
        self._host = str(config.host).rstrip("/")
        self._workers = max(workers, 1)
        self._session: aiohttp.ClientSession | None = None
        self._lanes: tuple[asyncio.Semaphore, asyncio.Semaphore] | None = None
        self._agent = str(getattr(config, "user_agent", "") or "cloudrec-operator")

    def _open(self) -> tuple[aiohttp.ClientSession, tuple[asyncio.Semaphore, asyncio.Semaphore]]:
        if self._session is None or self._session.closed or self._lanes is None:
            tls = tls_of(self._config)
            connector = aiohttp.TCPConnector(limit=self._workers + URGENT_WORKERS, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=TIMEOUT, json_serialize=json.dumps
            )
            self._lanes = (
                asyncio.Semaphore(self._workers),
                asyncio.Semaphore(URGENT_WORKERS),
            )
        return self._session, self._lanes

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = {
            "Content-Type": content_type,
            "Accept": "application/json",
            "User-Agent": self._agent,
        }
        # The client's own auth settings: a kubeconfig or in-cluster token is kept under
        # "BearerToken" (older clients: "authorization"), refreshed by its hook when rotated.
        for setting in self._config.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[str(setting["key"]).title()] = str(setting["value"])
        return headers

    async def send(self, method: str, path: str, body: object, content_type: str) -> None:
        """One write; the answer is drained, not decoded. ``ApiException`` on 400 or more."""
        session, (shared, urgent) = self._open()
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = self._headers(content_type)
        async with urgent if is_urgent() else shared:
            async with session.request(
                method, f"{self._host}{path}", data=data, headers=headers
            ) as response:
                payload = await response.read()
                if response.status >= 400:
                    error = ApiException(status=response.status, reason=response.reason)
                    error.body = payload.decode(errors="replace")
                    raise error

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._lanes = None


__all__ = ["CREATE", "JSON_PATCH", "MERGE_PATCH", "Writer", "tls_of"]
