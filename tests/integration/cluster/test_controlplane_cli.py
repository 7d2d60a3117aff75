"""``python -m cloudrec_devenv up`` serves a kubeconfig; ``down`` leaves no process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from cloudrec_devenv.tools import REPO_ROOT, tool

pytestmark = pytest.mark.cluster

DEVENV = [sys.executable, "-m", "cloudrec_devenv"]

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.test
spec:
  group: example.test
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
"""


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


def _up(workdir: Path, crds: Path) -> subprocess.Popen[str]:
    """``devenv up`` in the background, its output (both streams) readable as text."""
    return subprocess.Popen(
        [*DEVENV, "up", "--workdir", str(workdir), "--crds", str(crds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO_ROOT,
    )


def _down(workdir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """``devenv down``, which must succeed."""
    return subprocess.run(
        [*DEVENV, "down", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


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
    crds = tmp_path / "crds"
    crds.mkdir()
    (crds / "widgets.yaml").write_text(WIDGET_CRD)
    up = _up(workdir, crds)
    try:
        export = _wait_for_line(up.stdout, "export KUBECONFIG=", timeout=180)
        kubeconfig = export.removeprefix("export KUBECONFIG=")
        state = json.loads((workdir / "state.json").read_text())
        components = state["components"]
        assert set(components) == {"etcd", "kube-apiserver", "kube-controller-manager"}

        env = {**os.environ, "KUBECONFIG": kubeconfig}

        def kubectl(*args: str) -> str:
            argv = [str(tool("kubectl")), *args]
            return subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout

        assert json.loads(kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"] == (
            "v1.34.4"
        )
        established = kubectl(
            "get",
            "crd",
            "widgets.example.test",
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Established')].status}",
        )
        assert established == "True"

        down = _down(workdir, timeout=90)
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


@pytest.mark.timeout(240)
def test_down_after_up_was_killed_ends_the_components_it_left(tmp_path: Path) -> None:
    workdir = tmp_path / "devenv"
    empty = tmp_path / "no-crds"
    empty.mkdir()
    up = _up(workdir, empty)
    try:
        _wait_for_line(up.stdout, "export KUBECONFIG=", timeout=180)
    finally:
        up.kill()
        up.wait()
    components = json.loads((workdir / "state.json").read_text())["components"]
    assert all(Path(f"/proc/{pid}").exists() for pid in components.values())

    _down(workdir, timeout=90)

    deadline = time.monotonic() + 10
    while _processes_mentioning(str(workdir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(workdir)) == []


def test_down_without_up_says_nothing_is_running(tmp_path: Path) -> None:
    down = _down(tmp_path, timeout=30)

    assert down.stdout.strip() == f"no control plane is up in {tmp_path.resolve()}"
