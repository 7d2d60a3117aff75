"""Building the Dockerfile's images with Debian's daemonless tools, and running them.

No registry of container images is reachable from these machines, so the base
image the Dockerfile names (``ARG PYTHON_IMAGE``, the public pinned
``python:X.Y.Z-slim-SUITE``) is replaced, through that same ``ARG``, by a base
built here: ``mmdebstrap`` makes a root filesystem of the same Debian suite with
its ``python3`` (the same X.Y) and ``python3-venv``, from the machine's own apt
sources. It also carries this machine's CA bundle and pip configuration, so
that ``pip`` inside the build reaches PyPI the way the host does.

``buildah bud`` builds each target (chroot isolation, no daemon); ``podman run``
starts them with the runtime ``runc``. The root filesystem tarball and the
image storage live in the tools cache (``CLOUDREC_CACHE``), keyed by what they
are made of, so a second run only rebuilds the layers whose inputs changed.

Two things this machine needs, measured: podman's default rlimits (nofile
1048576) are refused (``crun: setrlimit `RLIMIT_NOFILE`: Operation not
permitted``) so the runs set lower ones; and crun refuses the hybrid cgroup
layout (``crun: cgroups in hybrid mode not supported``) so runc runs them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from cloudrec_devenv.tools import REPO_ROOT, cache_dir, system_tool

DOCKERFILE = REPO_ROOT / "Dockerfile"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
HOST_TRUST = (Path("/etc/ssl/certs/ca-certificates.crt"), Path("/etc/pip.conf"))
RLIMITS = ("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=1024:1024")
USER = "10001:10001"


@dataclass(frozen=True)
class PinnedBase:
    """What ``ARG PYTHON_IMAGE`` pins: ``python:3.11.14-slim-bookworm`` -> 3.11, bookworm."""

    image: str
    python: str
    suite: str

    @classmethod
    def from_dockerfile(cls, text: str) -> PinnedBase:
        found = re.search(
            r"^ARG PYTHON_IMAGE=(python:(\d+\.\d+)\.\d+-slim-(\w+)\S*)$", text, re.MULTILINE
        )
        if found is None:
            raise ValueError(
                "the Dockerfile pins no python:X.Y.Z-slim-SUITE base (ARG PYTHON_IMAGE)"
            )
        return cls(found.group(1), found.group(2), found.group(3))


def run(argv: Sequence[str | Path], timeout: float) -> str:
    """Run a command; on failure raise with its output (the builder's exact error)."""
    result = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, argv))} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return str(result.stdout)


def _apt_sources(suite: str) -> Path:
    """The machine's apt sources file that lists ``suite`` (mmdebstrap reads its mirrors)."""
    apt = Path("/etc/apt")
    candidates = [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.sources"))]
    candidates += sorted((apt / "sources.list.d").glob("*.list"))
    for path in candidates:
        if path.is_file() and re.search(rf"(^Suites:.*\b|\s){suite}(\s|$)", path.read_text(), re.M):
            return path
    raise AssertionError(f"no apt source of this machine lists the suite {suite}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder of ``path``'s artefact at a time (concurrent test runs share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class Builder:
    """buildah and podman on one image store in the tools cache."""

    def __init__(self) -> None:
        self.root = cache_dir() / "containers" / "storage"
        self.root.mkdir(parents=True, exist_ok=True)
        # podman records the runroot with the store, so it stays the same from run to run;
        # on a tmpfs (/run) when there is one, as podman expects (it is reset at boot).
        run_dir = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
        self.runroot = run_dir / f"cloudrec-containers-{os.getuid()}"
        self.buildah = system_tool("buildah")
        self.podman = system_tool("podman")
        self.runc = system_tool("runc")

    def _store(self) -> list[str]:
        return [
            "--root",
            str(self.root),
            "--runroot",
            str(self.runroot),
            "--storage-driver",
            "overlay",
        ]

    def buildah_cmd(self, *args: str | Path, timeout: float = 1200) -> str:
        return run([self.buildah, *self._store(), *args], timeout)

    def podman_cmd(self, *args: str | Path, timeout: float = 120) -> str:
        return run([self.podman, *self._store(), "--runtime", self.runc, *args], timeout)

    def exists(self, image: str) -> bool:
        result = subprocess.run(
            [self.buildah, *self._store(), "inspect", "--type", "image", image],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def local_base(self, pinned: PinnedBase, workdir: Path) -> str:
        """The local stand-in for the pinned base, built once per suite, packages and trust."""
        key = hashlib.sha256(f"{pinned.suite} minbase {' '.join(BASE_PACKAGES)}".encode())
        tarball = cache_dir() / "containers" / f"base-{pinned.suite}-{key.hexdigest()[:12]}.tar"
        with _locked(tarball.with_suffix(".lock")):
            if not tarball.exists():
                partial = tarball.with_suffix(".partial.tar")
                run(
                    [
                        system_tool("mmdebstrap"),
                        "--variant=minbase",
                        "--format=tar",
                        f"--include={','.join(BASE_PACKAGES)}",
                        pinned.suite,
                        partial,
                        _apt_sources(pinned.suite),
                    ],
                    timeout=1800,
                )
                partial.rename(tarball)
        trust = [p for p in HOST_TRUST if p.exists()]
        for path in trust:
            key.update(path.read_bytes())
        key.update(tarball.name.encode())
        image = f"localhost/cloudrec-test-base:{pinned.suite}-{key.hexdigest()[:12]}"
        if not self.exists(image):
            context = workdir / "base"
            context.mkdir()
            try:
                (context / "rootfs.tar").hardlink_to(tarball)
            except OSError:  # another filesystem
                shutil.copy(tarball, context / "rootfs.tar")
            lines = ["FROM scratch", "ADD rootfs.tar /"]
            for path in trust:
                shutil.copy(path, context / path.name)
                lines.append(f"COPY {path.name} {path}")
            (context / "Containerfile").write_text("\n".join(lines) + "\n")
            self.buildah_cmd("bud", "--isolation", "chroot", "-t", image, context)
        return image

    def build(self, target: str, base: str) -> str:
        """``buildah bud --target TARGET`` of the repository's Dockerfile on ``base``."""
        image = f"localhost/cloudrec-{target}:test"
        pip_cache = cache_dir() / "containers" / "pip"
        pip_cache.mkdir(parents=True, exist_ok=True)
        self.buildah_cmd(
            "bud",
            "--isolation",
            "chroot",
            # No --layers: every run copies a changed tree, so cached steps would never be
            # reused, and committing each step costs a copy of the venv.
            "--volume",
            f"{pip_cache}:/root/.cache/pip",
            "--build-arg",
            f"PYTHON_IMAGE={base}",
            "--target",
            target,
            "-t",
            image,
            "-f",
            DOCKERFILE,
            REPO_ROOT,
        )
        return image

    def prune(self) -> None:
        """Drop the images that newer builds replaced (the store would grow each run)."""
        with contextlib.suppress(AssertionError):
            self.buildah_cmd("rmi", "--prune", timeout=300)

    def run_once(self, image: str, *args: str, entrypoint: str | None = None) -> str:
        """``podman run --rm`` with a read-only root filesystem, as the image's user."""
        flags = ["--entrypoint", entrypoint] if entrypoint else []
        return self.podman_cmd(
            "run", "--rm", "--read-only", "--network", "none", *RLIMITS, *flags, image, *args
        )

    @contextlib.contextmanager
    def started(self, image: str, *args: str, mounts: Sequence[str] = ()) -> Iterator[str]:
        """A detached container on the host network; removed afterwards. Yields its name."""
        name = f"cloudrec-test-{time.monotonic_ns()}"
        volumes = [flag for mount in mounts for flag in ("--mount", mount)]
        self.podman_cmd(
            "run",
            "-d",
            "--name",
            name,
            "--read-only",
            "--network",
            "host",
            *RLIMITS,
            *volumes,
            image,
            *args,
        )
        try:
            yield name
        finally:
            with contextlib.suppress(AssertionError):
                self.podman_cmd("rm", "-f", "-t", "5", name)

    def logs(self, name: str) -> str:
        try:
            return self.podman_cmd("logs", name)
        except AssertionError as error:
            return str(error)


def wait_http(url: str, timeout: float) -> httpx.Response:
    """The first answer of ``url`` within ``timeout`` seconds (raises after it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
