"""A private Janus gateway (Debian's ``janus`` package) for the demo and the tests.

:class:`Janus` writes its own configuration directory and starts ``janus`` as a
:class:`~cloudrec_devenv.process.ManagedProcess`:

* only the VideoRoom plugin and two transports are loaded: WebSockets, which the
  recorder and the aiortc publishers speak (:attr:`Janus.ws_url`, ``ws://127.0.0.1:<free
  port>/``, subprotocol ``janus-protocol``), and HTTP, for this launcher's room
  administration, the browser publisher's page and the Admin API (:attr:`Janus.http_url`,
  base path ``/janus``; ``/admin``), all on ``127.0.0.1``;
* VideoRoom uses string room and participant ids (``string_ids = true``), or
  with ``string_ids=False`` numeric ones like a stock Janus (room ids are then
  still passed and returned as strings here, e.g. ``"1234"``, and sent as JSON
  numbers); no demo rooms; an ``admin_key`` means only this launcher creates rooms;
* ICE gathers candidates on one interface only (``ice_enforce_list``), by
  default ``cr0`` = 10.231.0.1 from ``hack/netns-run``. Janus skips loopback
  interfaces, so without that namespace it would have nothing to offer (or,
  worse, the machine's real address): starting outside it fails with a message
  naming ``hack/netns-run``;
* no STUN/TURN, half-trickle (the default), so aiortc's complete SDPs work;
* optional core token auth with signed tokens (``token_auth_secret``): every
  request then carries a token made by :func:`signed_token`.

Command line (the demo): ``python -m cloudrec_devenv.janus --room demo
[--port 8088] [--ws-port 8188] [--workdir DIR] [--numeric-ids]`` starts Janus, creates the
rooms, prints the WebSockets and HTTP API URLs and runs until SIGTERM/SIGINT.

Room administration (:meth:`Janus.create_room`, :meth:`Janus.destroy_room`,
:meth:`Janus.list_participants`) uses the VideoRoom plugin's synchronous
requests over a short-lived Janus session, with a blocking httpx client: the
launcher is meant for fixtures and the demo, not for an event loop.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.tools import system_tool
from cloudrec_recorder.channel.room import janus_id

__all__ = [
    "DEFAULT_ICE_INTERFACE",
    "VIDEOROOM",
    "Janus",
    "JanusNotInNetnsError",
    "JanusRequestError",
    "Participant",
    "main",
    "signed_token",
]

VIDEOROOM = "janus.plugin.videoroom"
"""The package name of the VideoRoom plugin (what tokens and ``attach`` name)."""

DEFAULT_ICE_INTERFACE = "cr0"
"""The veth interface that ``hack/netns-run`` creates (10.231.0.1/24)."""

JANUS_LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")
"""Where Debian's package installs plugins, transports, event handlers and loggers."""

_KEEP_PLUGIN = "libjanus_videoroom.so"
_KEEP_TRANSPORTS = ("libjanus_http.so", "libjanus_websockets.so")


class JanusNotInNetnsError(RuntimeError):
    """No interface for ICE: Janus must run inside ``hack/netns-run``."""


class JanusRequestError(RuntimeError):
    """Janus (core or VideoRoom) refused an administrative request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Participant:
    """One entry of VideoRoom's ``listparticipants``."""

    id: str
    display: str | None
    publisher: bool
    """True once the participant publishes media (its PeerConnection is up)."""


def signed_token(
    secret: str,
    *,
    plugins: Sequence[str] = (VIDEOROOM,),
    valid_for: float = 24 * 3600.0,
    now: float | None = None,
) -> str:
    """A Janus signed token (``token_auth_secret`` mode) for ``plugins``.

    Format ``<expiry>,janus,<plugin>[,...]:<base64 HMAC-SHA1(secret, data)>``,
    checked by Janus against the realm ``janus``.
    """
    expiry = int((time.time() if now is None else now) + valid_for)
    data = ",".join([str(expiry), "janus", *plugins])
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(digest).decode()}"


def _interface_exists(name: str) -> bool:
    return (Path("/sys/class/net") / name).exists()


def _others(folder: Path, *keep: str) -> str:
    """Every shared object in ``folder`` but ``keep``, comma-separated (Janus' ``disable``)."""
    if not folder.is_dir():
        return ""
    names = sorted(p.name for p in folder.glob("*.so") if p.name not in keep)
    return ",".join(names)


def _jcfg(sections: Mapping[str, Mapping[str, object]]) -> str:
    """Render a libconfig-style ``.jcfg`` file (strings, booleans and integers only)."""
    lines = ["# Written by cloudrec_devenv.janus; regenerated at every start.", ""]
    for section, items in sections.items():
        lines.append(f"{section}: {{")
        for key, value in items.items():
            if isinstance(value, bool):
                rendered = "true" if value else "false"
            elif isinstance(value, int):
                rendered = str(value)
            else:
                escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
                rendered = f'"{escaped}"'
            lines.append(f"\t{key} = {rendered}")
        lines.append("}")
        lines.append("")
    return "\n".join(lines)


def config_files(janus: Janus, interface: str) -> dict[str, Mapping[str, Mapping[str, object]]]:
    """``janus.jcfg``, the HTTP and WebSockets transports' and VideoRoom's sections."""
    general: dict[str, object] = {
        "configs_folder": str(janus.config_dir),
        "plugins_folder": str(JANUS_LIB_DIR / "plugins"),
        "transports_folder": str(JANUS_LIB_DIR / "transports"),
        "events_folder": str(JANUS_LIB_DIR / "events"),
        "loggers_folder": str(JANUS_LIB_DIR / "loggers"),
        "debug_level": janus.debug_level,
        "debug_timestamps": True,
        "debug_colors": False,
        "admin_secret": janus.admin_secret,
        "session_timeout": janus.session_timeout,
        "server_name": "cloudrec-devenv",
        # The address for SDP's c= line: Janus would otherwise probe a route to
        # the internet, which the namespace does not have, and fall back to 127.0.0.1.
        "interface": interface,
    }
    if janus.api_secret is not None:
        general["api_secret"] = janus.api_secret
    if janus.token_auth_secret is not None:
        general["token_auth"] = True
        general["token_auth_secret"] = janus.token_auth_secret
    core: dict[str, Mapping[str, object]] = {
        "general": general,
        "media": {"ipv6": False},
        "nat": {
            "ice_enforce_list": interface,
            "ignore_mdns": True,
            "nice_debug": False,
            "full_trickle": False,
        },
        "plugins": {"disable": _others(JANUS_LIB_DIR / "plugins", _KEEP_PLUGIN)},
        "transports": {"disable": _others(JANUS_LIB_DIR / "transports", *_KEEP_TRANSPORTS)},
        "loggers": {"disable": _others(JANUS_LIB_DIR / "loggers", "")},
        "events": {"broadcast": False},
    }
    http: dict[str, Mapping[str, object]] = {
        "general": {
            "json": "compact",
            "base_path": "/janus",
            "http": True,
            "port": janus.port,
            "ip": janus.host,
            "https": False,
        },
        "admin": {
            "admin_base_path": "/admin",
            "admin_http": True,
            "admin_port": janus.admin_port,
            "admin_ip": janus.host,
            "admin_https": False,
        },
    }
    websockets: dict[str, Mapping[str, object]] = {
        "general": {
            "json": "compact",
            "ws": True,
            "ws_port": janus.ws_port,
            "ws_ip": janus.host,
            "wss": False,
        },
        "admin": {"admin_ws": False, "admin_wss": False},
    }
    videoroom: dict[str, Mapping[str, object]] = {
        "general": {
            "string_ids": janus.string_ids,
            "admin_key": janus.admin_key,
            "lock_rtp_forward": janus.lock_rtp_forward,
            "events": False,
        },
    }
    files: dict[str, Mapping[str, Mapping[str, object]]] = {
        "janus.jcfg": core,
        "janus.transport.http.jcfg": http,
        "janus.transport.websockets.jcfg": websockets,
        "janus.plugin.videoroom.jcfg": videoroom,
    }
    return files


class Janus:
    """A private Janus with its own configuration directory under ``workdir``.

    ``with Janus(tmp_path) as janus: janus.create_room("demo")``. Use it inside
    ``hack/netns-run`` (or name another ``ice_interface`` explicitly).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        token_auth_secret: str | None = None,
        api_secret: str | None = None,
        ice_interface: str | None = None,
        debug_level: int = 4,
        session_timeout: int = 60,
        host: str = "127.0.0.1",
        port: int | None = None,
        ws_port: int | None = None,
        string_ids: bool = True,
        lock_rtp_forward: bool = False,
    ) -> None:
        self.workdir = workdir
        self.string_ids = string_ids
        self.lock_rtp_forward = lock_rtp_forward
        """VideoRoom's ``lock_rtp_forward``: only holders of :attr:`admin_key` may create RTP
        forwarders (what recorders receive with)."""
        """VideoRoom's ``string_ids``: False makes room and participant ids numbers."""
        self.config_dir = workdir / "conf"
        self.log_path = workdir / "janus.log"
        self.token_auth_secret = token_auth_secret
        self.api_secret = api_secret
        self.ice_interface = ice_interface
        self.debug_level = debug_level
        self.session_timeout = session_timeout
        self.host = host
        self._fixed_port = port
        self._fixed_ws_port = ws_port
        self.port = 0
        self.ws_port = 0
        self.admin_port = 0
        self.admin_secret = secrets.token_urlsafe(16)
        self.admin_key = secrets.token_urlsafe(16)
        """VideoRoom's ``admin_key``: needed to create rooms."""
        self._process: ManagedProcess | None = None

    # ------------------------------------------------------------------ urls

    @property
    def http_url(self) -> str:
        """The Janus API root, e.g. ``http://127.0.0.1:40123/janus``."""
        if not self.port:
            raise RuntimeError("Janus is not started")
        return f"http://{self.host}:{self.port}/janus"

    @property
    def ws_url(self) -> str:
        """The Janus WebSockets API, e.g. ``ws://127.0.0.1:40124/`` (what the recorder uses)."""
        if not self.ws_port:
            raise RuntimeError("Janus is not started")
        return f"ws://{self.host}:{self.ws_port}/"

    @property
    def admin_url(self) -> str:
        """The Admin API root (needs :attr:`admin_secret`)."""
        if not self.admin_port:
            raise RuntimeError("Janus is not started")
        return f"http://{self.host}:{self.admin_port}/admin"

    @property
    def process(self) -> ManagedProcess:
        if self._process is None:
            raise RuntimeError("Janus is not started")
        return self._process

    def token(self, *, valid_for: float = 24 * 3600.0) -> str | None:
        """A valid signed token for the VideoRoom plugin, or None without token auth."""
        if self.token_auth_secret is None:
            return None
        return signed_token(self.token_auth_secret, valid_for=valid_for)

    # ------------------------------------------------------------ lifecycle

    def _resolve_interface(self) -> str:
        if self.ice_interface is not None:
            if not _interface_exists(self.ice_interface):
                raise JanusNotInNetnsError(
                    f"the ICE interface {self.ice_interface!r} does not exist here"
                )
            return self.ice_interface
        if _interface_exists(DEFAULT_ICE_INTERFACE):
            return DEFAULT_ICE_INTERFACE
        raise JanusNotInNetnsError(
            "Janus needs a non-loopback interface for WebRTC media, and "
            f"{DEFAULT_ICE_INTERFACE!r} is missing: run this inside hack/netns-run "
            "(e.g. `hack/netns-run .venv/bin/python -m pytest ...`, which `make test` does), "
            "or pass ice_interface= explicitly"
        )

    def write_config(self, interface: str) -> None:
        """Write ``janus.jcfg``, the two transports' and VideoRoom's configuration."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for name, sections in config_files(self, interface).items():
            path = self.config_dir / name
            path.write_text(_jcfg(sections))
            path.chmod(0o600)

    def start(self, *, timeout: float = 30.0) -> Janus:
        """Write the configuration, start Janus and wait until its API answers."""
        interface = self._resolve_interface()
        for transport in _KEEP_TRANSPORTS:
            if not (JANUS_LIB_DIR / "transports" / transport).exists():
                raise RuntimeError(
                    f"Janus' transport {transport} is missing from {JANUS_LIB_DIR}/transports "
                    "(Debian's janus package ships it: hack/deps.sh installs the package)"
                )
        self.port = self._fixed_port or free_port(self.host)
        self.ws_port = self._fixed_ws_port or free_port(self.host)
        self.admin_port = free_port(self.host)
        self.write_config(interface)
        argv: list[str | Path] = [
            system_tool("janus"),
            "--configs-folder",
            self.config_dir,
            "--config",
            self.config_dir / "janus.jcfg",
            "--disable-colors",
        ]
        self._process = ManagedProcess("janus", argv, self.log_path, cwd=self.workdir)
        self._process.start()
        try:
            self._process.wait_until(self._answers, timeout=timeout, what="answering its API")
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        """The HTTP API answers ``info`` and the WebSockets transport accepts connections."""
        with httpx.Client(timeout=2.0) as client:
            response = client.get(f"{self.http_url}/info")
        if not (response.is_success and response.json().get("janus") == "server_info"):
            return False
        with socket.create_connection((self.host, self.ws_port), timeout=2.0):
            return True

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def restart(self) -> None:
        """Stop and start again on the same ports (rooms are gone: they are not permanent)."""
        self._fixed_port, self._fixed_ws_port = self.port, self.ws_port
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP Janus: connections are accepted by the kernel but never answered (a server
        that hangs), until :meth:`resume`."""
        pid = self.process.pid
        if pid is None:
            raise RuntimeError("Janus is not running")
        os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a Janus that :meth:`pause` stopped."""
        if self._process is not None and self._process.pid is not None:
            os.kill(self._process.pid, signal.SIGCONT)

    def __enter__(self) -> Janus:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------- room admin

    def _room_id(self, room: str) -> str | int:
        """``room`` as requests carry it (``ValueError`` if not an integer with numeric ids)."""
        return janus_id(room, string_ids=self.string_ids, what="room")

    def _videoroom(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send one synchronous VideoRoom request over a short-lived session."""
        auth: dict[str, str] = {}
        if self.api_secret is not None:
            auth["apisecret"] = self.api_secret
        if (token := self.token()) is not None:
            auth["token"] = token

        def call(client: httpx.Client, url: str, message: dict[str, Any]) -> dict[str, Any]:
            payload = {**message, "transaction": secrets.token_hex(8), **auth}
            reply: dict[str, Any] = client.post(url, json=payload).raise_for_status().json()
            if reply.get("janus") == "error":
                error = reply.get("error", {})
                raise JanusRequestError(int(error.get("code", 0)), str(error.get("reason")))
            return reply

        with httpx.Client(timeout=10.0) as client:
            session = call(client, self.http_url, {"janus": "create"})["data"]["id"]
            session_url = f"{self.http_url}/{session}"
            try:
                handle = call(client, session_url, {"janus": "attach", "plugin": VIDEOROOM})
                handle_url = f"{session_url}/{handle['data']['id']}"
                reply = call(client, handle_url, {"janus": "message", "body": body})
            finally:
                call(client, session_url, {"janus": "destroy"})
        data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusRequestError(int(data["error_code"]), str(data.get("error")))
        return data

    def create_room(
        self,
        room: str,
        *,
        publishers: int = 16,
        videocodec: str = "vp8",
        audiocodec: str = "opus",
        description: str | None = None,
        notify_joining: bool = True,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Create VideoRoom ``room`` (digits when ``string_ids`` is False); returns its id.

        ``notify_joining`` makes Janus tell every member about participants that
        join without publishing, which the recorder uses for idle detection.
        ``extra`` adds any other room property Janus accepts (e.g. ``pin``).
        """
        body: dict[str, Any] = {
            "request": "create",
            "room": self._room_id(room),
            "admin_key": self.admin_key,
            "description": description or room,
            "publishers": publishers,
            "videocodec": videocodec,
            "audiocodec": audiocodec,
            "notify_joining": notify_joining,
            "permanent": False,
            **(extra or {}),
        }
        data = self._videoroom(body)
        return str(data["room"])

    def destroy_room(self, room: str) -> None:
        """Destroy ``room``; its participants get a ``destroyed`` event."""
        self._videoroom({"request": "destroy", "room": self._room_id(room), "permanent": False})

    def room_exists(self, room: str) -> bool:
        return bool(
            self._videoroom({"request": "exists", "room": self._room_id(room)}).get("exists")
        )

    def list_participants(self, room: str) -> list[Participant]:
        """Who is in ``room`` now (publishing or not; pure subscribers are not listed)."""
        data = self._videoroom({"request": "listparticipants", "room": self._room_id(room)})
        return [
            Participant(
                id=str(entry["id"]),
                display=entry.get("display"),
                publisher=bool(entry.get("publisher")),
            )
            for entry in data.get("participants", [])
        ]

    def rtp_forward(
        self, room: str, publisher: str, host: str, streams: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Forward ``publisher``'s ``streams`` (``mid``, ``port``...) to ``host`` as plain RTP
        (what a test compares the recorder's forwarders with); the forwarders made."""
        body: dict[str, Any] = {
            "request": "rtp_forward",
            "room": self._room_id(room),
            "publisher_id": janus_id(publisher, string_ids=self.string_ids, what="publisher"),
            "host": host,
            "streams": streams,
        }
        if self.lock_rtp_forward:
            body["admin_key"] = self.admin_key
        return list(self._videoroom(body).get("forwarders", []))

    def list_forwarders(self, room: str) -> dict[str, list[dict[str, Any]]]:
        """The RTP forwarders in ``room`` (how recorders receive), by publisher id."""
        body: dict[str, Any] = {"request": "listforwarders", "room": self._room_id(room)}
        if self.lock_rtp_forward:
            body["admin_key"] = self.admin_key
        data = self._videoroom(body)
        return {
            str(entry["publisher_id"]): list(entry.get("forwarders", []))
            for entry in data.get("publishers", [])
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cloudrec_devenv.janus",
        description="Run a private Janus (VideoRoom; WebSockets and HTTP) until SIGTERM/SIGINT.",
    )
    parser.add_argument("--room", action="append", default=[], help="create this room (repeat)")
    parser.add_argument("--port", type=int, help="HTTP API port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--ws-port", type=int, help="WebSockets API port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="config and log directory (default: a temp dir)"
    )
    parser.add_argument("--ice-interface", help=f"ICE interface (default {DEFAULT_ICE_INTERFACE})")
    parser.add_argument(
        "--numeric-ids",
        action="store_true",
        help="VideoRoom with numeric room and participant ids (string_ids = false), like a "
        "stock Janus; rooms must then be integers",
    )
    args = parser.parse_args(argv)
    for room in args.room:
        try:
            janus_id(room, string_ids=not args.numeric_ids, what="room")
        except ValueError as exc:
            parser.error(str(exc))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="janus-") as scratch:
        workdir = args.workdir or Path(scratch)
        try:
            janus = Janus(
                workdir,
                port=args.port,
                ws_port=args.ws_port,
                ice_interface=args.ice_interface,
                string_ids=not args.numeric_ids,
            ).start()
        except JanusNotInNetnsError as exc:
            print(f"janus: {exc}", file=sys.stderr)
            return 2
        try:
            for room in args.room:
                janus.create_room(room)
            print(
                f"janus {janus.ws_url} http={janus.http_url} rooms={','.join(args.room)} "
                f"log={janus.log_path}",
                flush=True,
            )
            while not stop.wait(1.0):
                if not janus.process.running():
                    print(f"janus exited:\n{janus.process.log_tail()}", file=sys.stderr)
                    return 1
        finally:
            janus.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
