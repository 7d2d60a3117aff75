"""``python -m cloudrec_operator.devenv up`` serves a kubeconfig; ``down`` leaves no process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from cloudrec_operator.devenv.tools import REPO_ROOT, tool

pytestmark = pytest.mark.cluster

DEVENV = [sys.executable, "-m", "cloudrec_operator.devenv"]


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def _wait_for_line(stream: IO[str] | None, prefix: str, timeout: float) -> str:
    assert stream is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no {prefix!r} line within {timeout:.0f}s; output:\n{''.join(seen)}")


@pytest.mark.timeout(240)
def test_up_serves_a_kubeconfig_and_down_leaves_no_process_behind(tmp_path: Path) -> None:
    workdir = tmp_path / "devenv"
    up = subprocess.Popen(
        [*DEVENV, "up", "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        export = _wait_for_line(up.stdout, "export KUBECONFIG=", timeout=180)
        kubeconfig = export.removeprefix("export KUBECONFIG=")
        state = json.loads((workdir / "state.json").read_text())
        components = state["components"]
        assert set(components) == {"etcd", "kube-apiserver", "kube-controller-manager"}

        version = subprocess.run(
            [tool("kubectl"), "version", "-o", "json"],
            env={**os.environ, "KUBECONFIG": kubeconfig},
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == "v1.34.4"

        down = subprocess.run(
            [*DEVENV, "down", "--workdir", str(workdir)],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
        assert "is down" in down.stdout
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()

    assert _processes_mentioning(str(workdir)) == []
    for pid in components.values():
        assert not Path(f"/proc/{pid}").exists(), f"component pid {pid} is still there"
    assert not (workdir / "state.json").exists()
    assert not (workdir / "etcd-data").exists()
    assert (workdir / "logs" / "kube-apiserver.log").stat().st_size > 0


def test_down_without_up_says_nothing_is_running(tmp_path: Path) -> None:
    down = subprocess.run(
        [*DEVENV, "down", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert down.stdout.strip() == f"no control plane is up in {tmp_path.resolve()}"
