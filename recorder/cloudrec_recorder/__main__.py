"""``python -m cloudrec_recorder --config FILE``: settings -> app -> uvicorn.

SIGTERM (or SIGINT) drains before the server stops: the recorder answers new
``acquire``/``start`` with 503 / code 501 and ``/readyz`` with 503, hands every running
mix recording to another replica (:mod:`cloudrec_recorder.giving`) and stops the rest
(leave, finish the files, upload), flushes pending callbacks, and only then lets uvicorn
close its socket and exit.

``--tls-cert-file`` and ``--tls-key-file`` serve the API over HTTPS (the chart mounts a
``kubernetes.io/tls`` Secret, e.g. from cert-manager; docs/security.md);
``--tls-ca-file`` is the CA the replicas trust when they forward to each other.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client import start_http_server
from pydantic import ValidationError

from cloudrec_recorder.app import create_app
from cloudrec_recorder.metrics import MediaLagReport
from cloudrec_recorder.ports import RecorderState
from cloudrec_recorder.recording import RecordingBuilder
from cloudrec_recorder.restart import recover_leftovers
from cloudrec_recorder.settings import RecorderSettings, load_settings
from cloudrec_recorder.storage.session import warm_up

log = logging.getLogger("cloudrec_recorder")


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first SIGTERM/SIGINT drains the recorder before exiting."""

    def __init__(self, config: uvicorn.Config, state: RecorderState) -> None:
        super().__init__(config)
        self.recorder_state = state
        self._drain: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain is not None or self._loop is None:
            super().handle_exit(sig, frame)  # a second signal: stop now
            return
        log.info("Draining on signal=%s", signal.Signals(sig).name)
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._drain = asyncio.get_running_loop().create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        try:
            await self.recorder_state.drain()
        finally:
            log.info("Drained; stopping the server")
            self.should_exit = True


@dataclass(frozen=True)
class Tls:
    """HTTPS for the API: the server's certificate and key, and the CA of the peers."""

    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None

    def peer_verify(self) -> ssl.SSLContext | bool:
        """How forwarded requests check a peer replica's certificate."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_file))


def build_server(settings: RecorderSettings, tls: Tls | None = None) -> DrainingServer:
    tls = tls or Tls()
    builder = RecordingBuilder(settings)
    app = create_app(
        settings,
        builder,
        background=[recover_leftovers],
        peer_verify=tls.peer_verify(),
    )
    builder.lag_report = MediaLagReport(app.state.recorder.metrics)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        lifespan="on",
        ssl_certfile=tls.cert_file,
        ssl_keyfile=tls.key_file,
    )
    return DrainingServer(config, app.state.recorder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloudrec_recorder", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML or JSON settings file")
    parser.add_argument("--tls-cert-file", type=Path, help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key-file", type=Path, help="the certificate's private key")
    parser.add_argument("--tls-ca-file", type=Path, help="CA that peer replicas' certificates use")
    args = parser.parse_args(argv)
    if (args.tls_cert_file is None) != (args.tls_key_file is None):
        parser.error("--tls-cert-file and --tls-key-file go together")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    try:
        settings = load_settings(args.config)
    except (ValidationError, ValueError, OSError) as exc:
        print(f"cloudrec_recorder: invalid configuration: {exc}", file=sys.stderr)
        return 2
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    settings.backup_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(warm_up())
    server = build_server(settings, Tls(args.tls_cert_file, args.tls_key_file, args.tls_ca_file))
    metrics = None
    if settings.metrics_port is not None:
        # A separate listener with /metrics only and no credentials (for a Prometheus that a
        # NetworkPolicy lets in); prometheus_client serves it from a thread of its own.
        metrics, _ = start_http_server(
            settings.metrics_port,
            addr=settings.host,
            registry=server.recorder_state.metrics.registry,
        )
    try:
        server.run()
    finally:
        if metrics is not None:
            metrics.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
