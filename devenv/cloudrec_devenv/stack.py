"""The whole embedded stack on 127.0.0.1, started component by component.

:class:`Stack` owns, under one work directory:

* the control plane (etcd, kube-apiserver, kube-controller-manager) with the CRDs;
* a private Janus (VideoRoom, core token auth on: the recorder and the
  publishers need a signed token, so the demo's token Secret really matters);
* versitygw, the S3-compatible store;
* the recorder (``python -m cloudrec_recorder``), configured for one app whose
  channels live in that Janus, sending signed callbacks to the operator;
* the operator (``python -m cloudrec_operator``) watching every namespace;
* synthetic publishers (``python -m cloudrec_devenv.publisher``).

Every component is a :class:`~cloudrec_devenv.process.ManagedProcess`
with its own log file; :meth:`Stack.stop` ends them all in reverse order, and
:meth:`Stack.dead` names a component that exited. Use it inside
``hack/netns-run`` (Janus needs the ``cr0`` interface)::

    with Stack(workdir) as stack:
        stack.start_control_plane(); stack.start_janus(); stack.start_s3()
        stack.start_recorder(); stack.start_operator()

The secrets it generates (recorder credentials, callback secret, S3 keys, the
Janus token secret) are attributes for the caller to put into Kubernetes
Secrets; nothing here prints them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType

from cloudrec_devenv.controlplane import CRDS_DIR, ControlPlane
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.recorder import launch_recorder, local_recorder_settings
from cloudrec_devenv.s3 import S3Server

__all__ = ["APP_ID", "Component", "Stack"]


LOG_LINE_LIMIT = 400
"""Longer log lines (JSON logs with tracebacks) are cut in log tails."""


def _shorten(row: str) -> str:
    return row if len(row) <= LOG_LINE_LIMIT else row[: LOG_LINE_LIMIT - 3] + "..."


def _in(name: str, pids: Callable[[], dict[str, int]]) -> bool:
    return name in pids()


APP_ID = "demo"
"""The app id the recorder serves; its channels are the Janus rooms."""


@dataclass(frozen=True)
class Component:
    """A started component: its name, where its log is, whether it still runs."""

    name: str
    log_path: Path
    running: Callable[[], bool]

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of its log ("" when there is none yet)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(_shorten(row) for row in text.splitlines()[-lines:])


class Stack:
    """Every server of the demo as child processes, each with a log under ``workdir``."""

    def __init__(self, workdir: Path, *, app_id: str = APP_ID) -> None:
        self.workdir = workdir.resolve()
        self.app_id = app_id
        self.control_plane: ControlPlane | None = None
        self.janus: Janus | None = None
        self.s3: S3Server | None = None
        self.recorder: ManagedProcess | None = None
        self.operator: ManagedProcess | None = None
        self.publishers: dict[str, ManagedProcess] = {}
        # Generated per run; they go into Secrets, never into output.
        self.customer_id = "demo-customer"
        self.customer_secret = secrets.token_urlsafe(18)
        self.callback_secret = secrets.token_urlsafe(18)
        self.janus_token_secret = secrets.token_urlsafe(18)
        self.recorder_port = 0
        self.operator_callback_port = free_port()
        self.operator_liveness_port = free_port()

    # ------------------------------------------------------------------ urls

    @property
    def recorder_url(self) -> str:
        return f"http://127.0.0.1:{self.recorder_port}"

    @property
    def operator_callback_url(self) -> str:
        return f"http://127.0.0.1:{self.operator_callback_port}/callbacks"

    @property
    def operator_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.operator_callback_port}/metrics"

    # ------------------------------------------------------------ components

    def prepare(self) -> None:
        """Empty the work directory (the previous run's logs and files go)."""
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)

    def start_control_plane(self, crds: Path = CRDS_DIR) -> ControlPlane:
        """etcd, kube-apiserver and kube-controller-manager, then the CRDs, Established."""
        plane = ControlPlane(self.workdir / "controlplane")
        self.control_plane = plane
        plane.start()
        plane.install_crds(crds)
        return plane

    def start_janus(self) -> Janus:
        """Janus with VideoRoom and signed-token auth, ICE on ``cr0``."""
        janus = Janus(self.workdir / "janus", token_auth_secret=self.janus_token_secret)
        self.janus = janus
        janus.workdir.mkdir(parents=True, exist_ok=True)
        janus.start()
        return janus

    def janus_token(self) -> str:
        """A signed Janus token valid for a day (what the channel token Secret holds)."""
        token = self.require_janus().token()
        if token is None:  # pragma: no cover - token auth is always on here
            raise RuntimeError("Janus runs without token auth")
        return token

    def start_s3(self) -> S3Server:
        """versitygw with its posix backend under ``workdir/s3``."""
        s3 = S3Server(self.workdir / "s3")
        self.s3 = s3
        s3.start()
        return s3

    def recorder_settings(self) -> dict[str, object]:
        """The recorder's configuration file (secrets included: it is written 0600)."""
        return local_recorder_settings(
            self.workdir / "recorder",
            port=self.recorder_port,
            janus_url=self.require_janus().ws_url,
            app_id=self.app_id,
            customer_id=self.customer_id,
            customer_secret=self.customer_secret,
            token_auth=True,
            storage_endpoints=[self.s3.endpoint] if self.s3 is not None else [],
        ) | {
            "callbacks": {
                "urls": [self.operator_callback_url],
                "secret": self.callback_secret,
                "retries": 5,
            },
            "hlsSegmentSeconds": 2,
            "progressIntervalSeconds": 2,
            "resourceIdTtlSeconds": 120,
            "drainTimeoutSeconds": 30,
        }

    def start_recorder(self, timeout: float = 90.0) -> ManagedProcess:
        """``python -m cloudrec_recorder --config recorder.yaml``; waits for ``/readyz``."""
        self.recorder_port = free_port()
        self.recorder = launch_recorder(
            self.workdir / "recorder",
            self.recorder_settings(),
            stop_timeout=45.0,
            ready_within=timeout,
        )
        return self.recorder

    def start_operator(self, timeout: float = 90.0) -> ManagedProcess:
        """``python -m cloudrec_operator`` on every namespace; waits for liveness and metrics."""
        plane = self.require_control_plane()
        key = self.workdir / "operator" / "state.key"
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_text(secrets.token_hex(32))
            key.chmod(0o600)
        process = ManagedProcess(
            "operator",
            [
                sys.executable,
                "-m",
                "cloudrec_operator",
                "--all-namespaces",
                "--kubeconfig",
                plane.kubeconfig,
                "--callback-host",
                "127.0.0.1",
                "--callback-port",
                str(self.operator_callback_port),
                "--liveness",
                f"http://127.0.0.1:{self.operator_liveness_port}/healthz",
                "--tick",
                "1",
                "--first-query",
                "1",
                "--steady-query",
                "3",
                "--state-key-file",
                str(key),
            ],
            self.workdir / "operator" / "operator.log",
            env=plane.env(),
            stop_timeout=30.0,
        )
        self.operator = process
        process.start()
        process.wait_http(
            f"http://127.0.0.1:{self.operator_liveness_port}/healthz", timeout=timeout
        )
        process.wait_http(self.operator_metrics_url, timeout=timeout)
        return process

    def start_publisher(
        self,
        room: str,
        uid: str,
        *,
        color: str,
        tone: float,
        width: int = 640,
        height: int = 360,
    ) -> ManagedProcess:
        """A synthetic publisher in ``room``; returns once Janus lists it as publishing."""
        janus = self.require_janus()
        env = dict(os.environ)
        env["JANUS_TOKEN"] = self.janus_token()
        process = ManagedProcess(
            f"publisher {uid}",
            [
                sys.executable,
                "-m",
                "cloudrec_devenv.publisher",
                "--janus",
                janus.ws_url,
                "--room",
                room,
                "--uid",
                uid,
                "--color",
                color,
                "--tone",
                str(tone),
                "--width",
                str(width),
                "--height",
                str(height),
            ],
            self.workdir / "publishers" / f"publisher-{uid}.log",
            env=env,
        )
        self.publishers[uid] = process
        process.start()
        process.wait_until(
            lambda: any(p.id == uid and p.publisher for p in janus.list_participants(room)),
            timeout=60.0,
            what=f"publishing in room {room!r}",
        )
        return process

    def stop_publishers(self) -> None:
        """The publishers leave the room (SIGTERM: they hang up cleanly)."""
        while self.publishers:
            _, process = self.publishers.popitem()
            process.stop()

    # ------------------------------------------------------------- lifecycle

    def components(self) -> list[Component]:
        """Every started component, in start order."""
        found: list[Component] = []
        plane = self.control_plane
        if plane is not None:
            for name in ("etcd", "kube-apiserver", "kube-controller-manager"):
                found.append(
                    Component(name, plane.logs / f"{name}.log", partial(_in, name, plane.pids))
                )
        processes: list[ManagedProcess | None] = [
            self.janus._process if self.janus is not None else None,
            self.s3._process if self.s3 is not None else None,
            self.recorder,
            self.operator,
            *self.publishers.values(),
        ]
        for process in processes:
            if process is not None:
                found.append(Component(process.name, process.log_path, process.running))
        return found

    def dead(self) -> Component | None:
        """A started component that is no longer running, or None."""
        for component in self.components():
            if not component.running():
                return component
        return None

    def stop(self) -> None:
        """Stop everything that started, in reverse order."""
        self.stop_publishers()
        for process in (self.operator, self.recorder):
            if process is not None:
                process.stop()
        self.operator = self.recorder = None
        if self.s3 is not None:
            self.s3.stop()
        if self.janus is not None:
            self.janus.stop()
        if self.control_plane is not None:
            self.control_plane.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- helpers

    def require_control_plane(self) -> ControlPlane:
        if self.control_plane is None:
            raise RuntimeError("the control plane is not started")
        return self.control_plane

    def require_janus(self) -> Janus:
        if self.janus is None:
            raise RuntimeError("Janus is not started")
        return self.janus

    def require_s3(self) -> S3Server:
        if self.s3 is None:
            raise RuntimeError("versitygw is not started")
        return self.s3
