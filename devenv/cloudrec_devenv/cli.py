"""``python -m cloudrec_devenv``: bring the local control plane up and down, run the demo.

    up [--workdir DIR] [--crds DIR]
                           start etcd, kube-apiserver and kube-controller-manager, apply
                           crds/, print the kubeconfig, keep running until SIGINT/SIGTERM
    down [--workdir DIR]   stop what ``up`` started in DIR
    demo [ARGS...]         the end-to-end demo (``cloudrec_devenv.demo``)

``up`` writes ``state.json`` (its pid, the components' pids, the kubeconfig)
into the work directory; ``down`` reads it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, cast

from cloudrec_devenv.controlplane import CRDS_DIR, ControlPlane

STATE_FILE = "state.json"
"""Written by ``up`` into the work directory, read by ``down``."""

DOWN_TIMEOUT = 60.0
"""Seconds ``down`` waits for ``up`` to stop everything before it kills what is left."""


def default_workdir() -> Path:
    """Where ``up`` and ``down`` meet unless ``--workdir`` says otherwise."""
    return Path(tempfile.gettempdir()) / f"cloudrec-devenv-{os.getuid()}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloudrec_devenv",
        description="A real local Kubernetes control plane (and the demo) on 127.0.0.1.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("up", "start the control plane, apply crds/, keep running until SIGINT/SIGTERM"),
        ("down", "stop the control plane that `up` started"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--workdir",
            type=Path,
            default=None,
            help=f"work directory (default {default_workdir()})",
        )
        if name == "up":
            sub.add_argument(
                "--crds",
                type=Path,
                default=CRDS_DIR,
                help=f"directory whose *.yaml CRDs are applied (default {CRDS_DIR})",
            )
    demo = commands.add_parser("demo", help="run the end-to-end demo", add_help=False)
    demo.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def read_state(workdir: Path) -> dict[str, Any] | None:
    """The state ``up`` wrote into ``workdir``, or None."""
    try:
        return cast(dict[str, Any], json.loads((workdir / STATE_FILE).read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


UP_MARKER = "-m cloudrec_devenv"
"""In the command line of ``python -m cloudrec_devenv up`` (and not, say, of a pytest run whose
arguments name the package's tests)."""


def _alive(pid: int, marker: str) -> bool:
    """Whether ``pid`` runs and its command line contains ``marker`` (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return marker.encode() in cmdline


def up(workdir: Path, crds_dir: Path = CRDS_DIR) -> int:
    """Start the plane, apply the CRDs, print how to use it and wait for a signal."""
    state = read_state(workdir)
    if state is not None and _alive(int(state["pid"]), UP_MARKER):
        print(f"already up in {workdir} (pid {state['pid']}); run `down` first", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)

    plane = ControlPlane(workdir)
    started = time.monotonic()
    try:
        plane.start()
        crds = plane.install_crds(crds_dir)
    except Exception as error:  # any failure: stop what started, say why
        plane.stop()
        print(f"the control plane did not come up: {error}", file=sys.stderr)
        return 1
    state_path = workdir / STATE_FILE
    try:
        state_path.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "workdir": str(workdir),
                    "kubeconfig": str(plane.kubeconfig),
                    "server": plane.server,
                    "components": plane.pids(),
                },
                indent=2,
            )
        )
        print(f"control plane up in {time.monotonic() - started:.1f}s at {plane.server}")
        print(f"{len(crds)} CRD file(s) applied from {crds_dir}; logs in {plane.logs}")
        print(f"kubeconfig: {plane.kubeconfig}")
        print(f"export KUBECONFIG={plane.kubeconfig}", flush=True)
        while not stop.wait(1.0):
            if not plane.running():
                print(f"a component exited; see the logs in {plane.logs}", file=sys.stderr)
                return 1
        return 0
    finally:
        plane.stop()
        state_path.unlink(missing_ok=True)
        print("control plane stopped", flush=True)


def down(workdir: Path) -> int:
    """Stop the ``up`` running in ``workdir``; kill its components if it is gone."""
    state = read_state(workdir)
    if state is None:
        print(f"no control plane is up in {workdir}")
        return 0
    pid = int(state["pid"])
    if _alive(pid, UP_MARKER):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + DOWN_TIMEOUT
        while _alive(pid, UP_MARKER) and time.monotonic() < deadline:
            time.sleep(0.2)
    # If `up` was killed hard, its components are still there: end their groups.
    for component in cast(dict[str, int], state.get("components", {})).values():
        if _alive(component, str(workdir)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(component, signal.SIGKILL)
    (workdir / STATE_FILE).unlink(missing_ok=True)
    print(f"control plane in {workdir} is down")
    return 0


def demo(args: Sequence[str]) -> int:
    """Hand over to ``cloudrec_devenv.demo.main(args)``."""
    try:
        module = importlib.import_module("cloudrec_devenv.demo")
    except ModuleNotFoundError as error:
        if error.name != "cloudrec_devenv.demo":
            raise
        print(
            "the demo is not built yet (cloudrec_devenv.demo is missing); "
            "`python -m cloudrec_devenv up` starts the control plane with the CRDs",
            file=sys.stderr,
        )
        return 2
    run = cast(Callable[[list[str]], int | None], module.main)
    return run(list(args)) or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run one command; returns the exit code."""
    options = _parser().parse_args(argv)
    if options.command == "demo":
        return demo(options.args)
    workdir = (options.workdir or default_workdir()).resolve()
    if options.command == "up":
        return up(workdir, options.crds.resolve())
    return down(workdir)
