"""Run the self-hosted recorder as a child process from a settings mapping."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from cloudrec_operator.devenv.process import ManagedProcess


def launch_recorder(
    directory: Path,
    settings: Mapping[str, object],
    *,
    module: str = "cloudrec_recorder",
    env: Mapping[str, str] | None = None,
    stop_timeout: float = 60.0,
    ready_within: float = 60.0,
) -> ManagedProcess:
    """``python -m <module> --config <directory>/recorder.yaml``; returns once ``/readyz`` is 200.

    ``settings`` are the recorder's (camelCase, as in ``recorder/sample-config.yaml``) and
    must hold ``host`` and ``port``. The file is written 0600: it holds the customer
    secret. The log is ``<directory>/recorder.log``. A recorder that does not get ready
    is stopped before the error is raised.
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "recorder.yaml"
    config.touch(mode=0o600)
    config.write_text(yaml.safe_dump(dict(settings), sort_keys=False))
    process = ManagedProcess(
        "recorder",
        [sys.executable, "-m", module, "--config", config],
        directory / "recorder.log",
        env=env,
        stop_timeout=stop_timeout,
    ).start()
    try:
        process.wait_http(
            f"http://{settings['host']}:{settings['port']}/readyz", timeout=ready_within
        )
    except BaseException:
        process.stop()
        raise
    return process


__all__ = ["launch_recorder"]
