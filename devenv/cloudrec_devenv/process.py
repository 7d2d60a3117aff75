"""Child processes with a log file each, readiness checks and a clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ProcessFailedError(RuntimeError):
    """A managed process exited early or did not become ready in time."""


class ManagedProcess:
    """One child process whose output goes to ``log_path``.

    The process gets its own session (process group), so :meth:`stop` also
    ends whatever it started. Use it as a context manager or call
    :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str | os.PathLike[str]],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._popen is None else self._popen.pid

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        finally:
            log.close()
        return self

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(
        self, ready: Callable[[], bool], *, timeout: float = 60.0, what: str = "ready"
    ) -> None:
        """Poll ``ready`` until it is true; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ProcessFailedError(
                    f"{self.name} exited before it was {what} (log {self.log_path}):\n"
                    + self.log_tail()
                )
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.2)
        raise ProcessFailedError(
            f"{self.name} was not {what} within {timeout:.0f}s (log {self.log_path}):\n"
            + self.log_tail()
        )

    def wait_http(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        verify: bool | str | ssl.SSLContext = False,
        ok: Callable[[httpx.Response], bool] | None = None,
        **client_kwargs: object,
    ) -> None:
        """Wait until ``url`` answers (2xx, or whatever ``ok`` accepts)."""

        def ready() -> bool:
            with httpx.Client(verify=verify, timeout=2.0, **client_kwargs) as client:  # type: ignore[arg-type]
                response = client.get(url)
            return ok(response) if ok is not None else response.is_success

        self.wait_until(ready, timeout=timeout, what=f"answering {url}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Signal the process group, wait, then kill it; returns the exit code."""
        popen = self._popen
        if popen is None:
            return None
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, sig)
            try:
                popen.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(5)
        # Whatever the leader left behind in its group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        return popen.returncode

    def kill(self) -> None:
        """SIGKILL the whole group at once (crash tests)."""
        self.stop(signal.SIGKILL)

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
