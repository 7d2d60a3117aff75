"""Run the self-hosted recorder as a child process from a settings mapping."""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cloudrec_devenv.process import ManagedProcess


def local_recorder_settings(
    directory: Path,
    *,
    port: int,
    janus_url: str,
    app_id: str,
    customer_id: str,
    customer_secret: str,
    token_auth: bool = False,
    storage_endpoints: Sequence[str] = (),
) -> dict[str, Any]:
    """The settings every local recorder has: loopback ``port``, one app on the Janus whose
    WebSockets API is ``janus_url`` (whose rooms want tokens with ``token_auth``), Basic-auth
    credentials, and spool and backup under ``directory``. Callers add their own (callbacks, segment
    length...) to the mapping.

    ``storage_endpoints`` are the local S3 servers (on loopback) recordings may upload to:
    the recorder refuses non-public storage addresses unless allowed, so each is allowed
    by exactly its ``host:port`` (``egress.allowHosts``), nothing else on loopback."""
    janus: dict[str, Any] = {"wsUrl": janus_url}
    if token_auth:
        janus["tokenAuth"] = True
    return {
        "host": "127.0.0.1",
        "port": port,
        "customerId": customer_id,
        "customerSecret": customer_secret,
        "apps": {app_id: {"janus": janus}},
        "spoolDir": str(directory / "spool"),
        "backupDir": str(directory / "backup"),
        "egress": {"allowHosts": [urlsplit(url).netloc for url in storage_endpoints]},
    }


def launch_recorder(
    directory: Path,
    settings: Mapping[str, object],
    *,
    module: str = "cloudrec_recorder",
    env: Mapping[str, str] | None = None,
    stop_timeout: float = 60.0,
    ready_within: float = 60.0,
    tls: tuple[Path, Path, Path] | None = None,
) -> ManagedProcess:
    """``python -m <module> --config <directory>/recorder.yaml``; returns once ``/readyz`` is 200.

    ``settings`` are the recorder's (camelCase, as in ``recorder/sample-config.yaml``) and
    must hold ``host`` and ``port``. The file is written 0600: it holds the customer
    secret. The log is ``<directory>/recorder.log``. A recorder that does not get ready
    is stopped before the error is raised. ``tls`` (certificate, key, CA files) serves
    HTTPS.
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "recorder.yaml"
    config.touch(mode=0o600)
    config.write_text(yaml.safe_dump(dict(settings), sort_keys=False))
    argv: list[str | os.PathLike[str]] = [sys.executable, "-m", module, "--config", config]
    scheme: str = "http"
    verify: ssl.SSLContext | bool = False
    if tls is not None:
        argv += ["--tls-cert-file", tls[0], "--tls-key-file", tls[1], "--tls-ca-file", tls[2]]
        scheme, verify = "https", ssl.create_default_context(cafile=str(tls[2]))
    process = ManagedProcess(
        "recorder",
        argv,
        directory / "recorder.log",
        env=env,
        stop_timeout=stop_timeout,
    ).start()
    try:
        process.wait_http(
            f"{scheme}://{settings['host']}:{settings['port']}/readyz",
            timeout=ready_within,
            verify=verify,
        )
    except BaseException:
        process.stop()
        raise
    return process


__all__ = ["launch_recorder", "local_recorder_settings"]
