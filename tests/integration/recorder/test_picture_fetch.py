"""Fetching a background picture from a real local HTTP server: what the recorder refuses.

The recorder's settings allow the loopback network here explicitly (the way a test or an
in-cluster image server needs); each case serves one misbehaving answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cloudrec_recorder.images import PictureUnavailableError, fetch_picture
from cloudrec_recorder.settings import BackgroundImageSettings

JPG = b"\xff\xd8\xff" + bytes(997)
Answer = Callable[[BaseHTTPRequestHandler], None]


def _ok(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(JPG)))
    handler.end_headers()
    handler.wfile.write(JPG)


def _redirect(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(302)
    handler.send_header("Location", "/ok")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _slow(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(2.5)
    _ok(handler)


def _endless(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)  # no Content-Length: the body ends when the connection does
    handler.end_headers()
    for _ in range(64):
        handler.wfile.write(bytes(16 * 1024))


def _gzip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", "4")
    handler.end_headers()
    handler.wfile.write(b"\x1f\x8b\x08\x00")


ANSWERS: dict[str, Answer] = {
    "/ok": _ok,
    "/redirect": _redirect,
    "/slow": _slow,
    "/endless": _endless,
    "/gzip": _gzip,
}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """The recorder hangs up on the misbehaving answers: that is the point."""


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            ANSWERS[self.path](self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = _QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{http.server_address[1]}", requested
    http.shutdown()
    http.server_close()


def settings(**overrides: Any) -> BackgroundImageSettings:
    base: dict[str, Any] = {
        "allowedHosts": ["127.0.0.1", "localhost"],
        "allowedNetworks": ["127.0.0.0/8"],
        "maxBytes": 64 * 1024,
        "timeoutSeconds": 5,
    }
    return BackgroundImageSettings.model_validate({**base, **overrides})


async def test_an_allowed_picture_arrives_whole(server: tuple[str, list[str]]) -> None:
    host, _ = server
    assert await fetch_picture(f"http://{host}/ok", settings()) == JPG


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/redirect", "the server answered HTTP 302"),
        ("/slow", "did not arrive within 1 s"),
        ("/endless", "over 65536 bytes"),
        ("/gzip", "came compressed"),
    ],
    ids=["redirect-not-followed", "too-slow", "too-long-without-length", "compressed"],
)
async def test_a_misbehaving_server_gives_no_picture_and_says_why(
    server: tuple[str, list[str]], path: str, reason: str
) -> None:
    host, requested = server
    with pytest.raises(PictureUnavailableError, match=reason):
        await fetch_picture(f"http://{host}{path}", settings(timeoutSeconds=1))
    assert "/ok" not in requested[requested.index(path) :]  # a redirect is never followed


async def test_a_loopback_address_is_refused_unless_its_network_is_allowed(
    server: tuple[str, list[str]],
) -> None:
    host, requested = server
    port = host.rsplit(":", 1)[1]
    before = len(requested)
    for url in (f"http://127.0.0.1:{port}/ok", f"http://localhost:{port}/ok"):
        with pytest.raises(PictureUnavailableError, match="loopback address"):
            await fetch_picture(url, settings(allowedNetworks=[]))
    assert len(requested) == before  # refused before connecting
