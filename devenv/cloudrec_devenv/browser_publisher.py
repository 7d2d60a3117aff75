"""A real simulcast publisher: Debian's headless Chromium with a fake camera.

aiortc cannot send simulcast, so to test substream selection a browser
publishes instead. :class:`BrowserPublisher` serves ``browser_publisher.html``
from a tiny HTTP server on 127.0.0.1 and opens it in headless Chromium
(``--use-fake-device-for-media-stream``: a synthetic camera with a moving
pattern, and a beep as microphone). The page joins VideoRoom ``room`` as
participant ``uid`` through Janus' HTTP API and publishes the camera at
``width`` x ``height`` as three VP8 simulcast encodings (rids ``h``, ``m``,
``l``: full, 1/2 and 1/4 resolution, up to 1.5 Mbps, 500 and 150 kbps), so
Janus offers them as substreams 2, 1 and 0. The page pins Chromium's bandwidth
estimate at the sum of those bitrates (``x-google-min-bitrate`` in Janus'
answer): on a busy machine the delay-based estimate otherwise falls and
Chromium stops sending the two larger encodings.

::

    async with BrowserPublisher(janus.http_url, room, "2001", workdir=tmp_path) as pub:
        await pub.wait_for_layer("h", min_width=1280)  # bandwidth estimation ramps up
        pub.layers["l"].width                           # 320: what the browser sends

The page reports to its server: its state (attached, answered, published,
failed) and, every second, the outbound RTP stats of each encoding
(:class:`Layer`). Entering returns once Janus reports the PeerConnection up.
Leaving destroys the page's Janus session (the room sees the publisher leave
at once) and stops Chromium (its whole process group). Chromium's output goes
to ``workdir / "chromium.log"``.

Needs the ``chromium`` Debian package (``.ci/run`` installs it) and, like every
WebRTC peer here, a non-loopback interface: run it inside ``hack/netns-run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from cloudrec_devenv.process import ManagedProcess
from cloudrec_devenv.tools import system_tool

__all__ = ["CHROMIUM_FLAGS", "BrowserPublisher", "BrowserPublisherError", "Layer"]

logger = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("browser_publisher.html")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps trying to reach Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
)
"""Flags for a headless Chromium with a fake camera on this closed network."""


class BrowserPublisherError(RuntimeError):
    """The browser did not publish (the page's error and Chromium's log tail say why)."""


@dataclass(frozen=True)
class Layer:
    """One simulcast encoding as the browser reports it (``outbound-rtp`` stats)."""

    rid: str
    width: int
    height: int
    fps: float
    bytes_sent: int
    quality_limitation: str | None
    """Why the encoder holds back, if it does: ``bandwidth``, ``cpu`` or None."""


class _Reports:
    """What the page told its server (written by the server thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.states: list[dict[str, Any]] = []
        self.layers: dict[str, Layer] = {}

    def add(self, report: dict[str, Any]) -> None:
        with self.lock:
            if report.get("kind") == "state":
                self.states.append(report)
            elif report.get("kind") == "stats":
                for entry in report.get("layers", []):
                    rid = str(entry.get("rid") or "")
                    self.layers[rid] = Layer(
                        rid=rid,
                        width=int(entry.get("width", 0)),
                        height=int(entry.get("height", 0)),
                        fps=float(entry.get("fps", 0.0)),
                        bytes_sent=int(entry.get("bytesSent", 0)),
                        quality_limitation=entry.get("qualityLimitationReason") or None,
                    )

    def state(self, name: str) -> dict[str, Any] | None:
        with self.lock:
            return next((s for s in self.states if s.get("state") == name), None)


def _handler(reports: _Reports) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/", "/index.html"):
                self.send_error(404)
                return
            body = PAGE.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            try:
                report = json.loads(self.rfile.read(length))
            except ValueError:
                self.send_error(400)
                return
            if isinstance(report, dict):
                reports.add(report)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return  # the page's reports are kept, not logged per request

    return Handler


class BrowserPublisher:
    """Headless Chromium publishing a fake camera as VP8 simulcast into ``room`` as ``uid``."""

    def __init__(
        self,
        janus_url: str,
        room: str,
        uid: str,
        *,
        workdir: Path | None = None,
        token: str | None = None,
        display: str | None = None,
        width: int = 1280,
        height: int = 720,
        fps: int = 15,
        audio: bool = True,
        connect_timeout: float = 30.0,
    ) -> None:
        self.janus_url = janus_url.rstrip("/")
        self.room = room
        self.uid = uid
        self.token = token
        self.display = display if display is not None else f"browser {uid}"
        self.width = width
        self.height = height
        self.fps = fps
        self.audio = audio
        self.connect_timeout = connect_timeout
        self._own_workdir = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="browser-publisher-")) if workdir is None else workdir
        )
        self.log_path = self.workdir / "chromium.log"
        self._reports = _Reports()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._process: ManagedProcess | None = None
        self._left = False

    def __repr__(self) -> str:
        return f"BrowserPublisher(room={self.room!r}, uid={self.uid!r})"

    @property
    def layers(self) -> dict[str, Layer]:
        """The latest stats of each encoding, by rid (``h``, ``m``, ``l``)."""
        with self._reports.lock:
            return dict(self._reports.layers)

    @property
    def answer_sdp(self) -> str | None:
        """Janus' SDP answer as the browser applied it (with the pinned bitrate), once published."""
        answered = self._reports.state("answered")
        return None if answered is None else str(answered.get("answer"))

    def page_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the publisher is not started")
        query: dict[str, str] = {
            "janus": self.janus_url,
            "room": self.room,
            "uid": self.uid,
            "display": self.display,
            "width": str(self.width),
            "height": str(self.height),
            "fps": str(self.fps),
            "audio": "1" if self.audio else "0",
        }
        if self.token is not None:
            query["token"] = self.token
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/index.html?{urlencode(query)}"

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> BrowserPublisher:
        """Start Chromium; returns once Janus reports the publisher's PeerConnection up."""
        try:
            self._serve()
            profile = self.workdir / "chromium-profile"
            profile.mkdir(parents=True, exist_ok=True)
            argv: list[str | Path] = [
                system_tool("chromium"),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                self.page_url(),
            ]
            self._process = ManagedProcess("chromium", argv, self.log_path, stop_timeout=10.0)
            self._process.start()
            await self._wait_published()
        except BaseException:
            await self.stop()
            raise
        logger.info("Browser publisher joined room=%s uid=%s", self.room, self.uid)
        return self

    def _serve(self) -> None:
        server = self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._reports))
        server.daemon_threads = True
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"browser-publisher-{self.uid}", daemon=True
        )
        self._thread.start()

    async def _wait_published(self) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.connect_timeout
        while time.monotonic() < deadline:
            if self._reports.state("published") is not None:
                return
            failed = self._reports.state("failed") or self._reports.state("hangup")
            if failed is not None:
                raise BrowserPublisherError(
                    f"browser publisher {self.uid}: {failed.get('error')} "
                    f"(log {self.log_path}):\n{process.log_tail()}"
                )
            if not process.running():
                raise BrowserPublisherError(
                    f"chromium exited before publishing (log {self.log_path}):\n"
                    + process.log_tail()
                )
            await asyncio.sleep(0.2)
        states = [s.get("state") for s in self._reports.states]
        raise BrowserPublisherError(
            f"browser publisher {self.uid} did not publish within {self.connect_timeout:.0f}s "
            f"(page states {states}; is this inside hack/netns-run?) (log {self.log_path}):\n"
            + process.log_tail()
        )

    async def wait_for_layer(self, rid: str, *, min_width: int, within: float = 30.0) -> Layer:
        """Wait until encoding ``rid`` is sent at ``min_width`` or wider; returns its stats.

        Chromium's bandwidth estimate starts low and enables the larger
        encodings only as it ramps up.
        """
        deadline = time.monotonic() + within
        while True:
            layer = self.layers.get(rid)
            if layer is not None and layer.width >= min_width and layer.fps > 0:
                return layer
            if time.monotonic() > deadline:
                raise BrowserPublisherError(
                    f"encoding {rid!r} of {self.uid} not sent at width >= {min_width} within "
                    f"{within:.0f}s; layers now: {self.layers}"
                )
            await asyncio.sleep(0.25)

    async def stop(self) -> None:
        """Leave the room (destroy the page's Janus session), stop Chromium and the server."""
        attached = self._reports.state("attached")
        if not self._left and attached is not None and attached.get("session") is not None:
            self._left = True
            body: dict[str, Any] = {"janus": "destroy", "transaction": "leave"}
            if self.token is not None:
                body["token"] = self.token
            with contextlib.suppress(httpx.HTTPError):
                async with httpx.AsyncClient(timeout=5.0) as client:
                    await client.post(f"{self.janus_url}/{attached['session']}", json=body)
        if self._process is not None:
            await asyncio.to_thread(self._process.stop)
            self._process = None
        if self._server is not None:
            await asyncio.to_thread(self._server.shutdown)
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    async def __aenter__(self) -> BrowserPublisher:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
