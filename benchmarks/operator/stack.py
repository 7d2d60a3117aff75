"""What the operator benchmarks (:mod:`.scale`, :mod:`.queue`) start the same way: their
options, the control plane with the CRDs and the namespace, and the operator process."""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Stack
from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_operator.api.names import CLOUDRECORDINGS, api_path

NAMESPACE = "bench"
CALLBACK_SECRET = "bench-" + secrets.token_hex(8)
PATH = api_path(CLOUDRECORDINGS, NAMESPACE)


def parser(prog: str, *, count: int, timeout: float, timeout_help: str) -> argparse.ArgumentParser:
    """The options every operator benchmark has: ``--count``, ``--per-room``, ``--timeout``,
    ``--workdir``."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--count", type=int, default=count, help="CloudRecordings applied")
    parser.add_argument("--per-room", type=int, default=10, help="recordings per Janus room")
    parser.add_argument("--timeout", type=float, default=timeout, help=timeout_help)
    parser.add_argument("--workdir", default=None, help="keep logs here (default: a temp dir)")
    return parser


@dataclass(frozen=True)
class Plane:
    """The control plane (CRDs installed, namespace ``bench`` created) and where the operator
    will take callbacks."""

    plane: ControlPlane
    callback_port: int

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.callback_port}/callbacks"


def start_plane(work: Path, stack: Stack, apiserver_args: Sequence[str] = ()) -> Plane:
    plane = stack.push(ControlPlane(work / "controlplane", apiserver_args=apiserver_args).start())
    plane.install_crds()
    plane.kubectl("create", "namespace", NAMESPACE)
    return Plane(plane, free_port())


def start_operator(
    work: Path, plane: Plane, stack: Stack, floor: str | None = None, traced: str | None = None
) -> ManagedProcess:
    """``python -m cloudrec_operator`` for every namespace, or with ``floor`` the kopf floor
    (:mod:`benchmarks.operator.floor`, ``--writes floor``) in its place; returns once it is
    live. With ``traced``, under ``tracemalloc`` (:mod:`benchmarks.operator.traced`: where
    its memory went is written there at each ``SIGUSR2``)."""
    liveness = free_port()
    kubeconfig = ["--kubeconfig", str(plane.plane.kubeconfig)]
    probe = ["--liveness", f"http://127.0.0.1:{liveness}/healthz"]
    if floor is None:
        argv = ["-m", "cloudrec_operator", "-A", *kubeconfig, *probe]
        argv += ["--callback-host", "127.0.0.1", "--callback-port", str(plane.callback_port)]
    else:
        argv = ["-m", "benchmarks.operator.floor", "--writes", floor, *kubeconfig, *probe]
    if traced is not None:
        argv = ["-m", "benchmarks.operator.traced", traced, *argv[1:]]
    operator = ManagedProcess("operator", [sys.executable, *argv], work / "operator.log")
    stack.push(operator).start()
    operator.wait_http(f"http://127.0.0.1:{liveness}/healthz", timeout=60)
    return operator
