"""Where the Go-built tools live, and building them when they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository checkout this package was installed from (editable install)."""

TOOLS = (
    "kube-apiserver",
    "kube-controller-manager",
    "etcd",
    "kubectl",
    "helm",
    "versitygw",
    "kstatus",
    "kube-score",
)


class ToolMissingError(RuntimeError):
    """A tool is neither in the cache nor buildable here."""


def cache_dir() -> Path:
    """The cache that ``hack/tools.sh`` builds into (``$CLOUDREC_CACHE`` overrides it)."""
    if explicit := os.environ.get("CLOUDREC_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cloudrec"


def bin_dir() -> Path:
    """The directory holding one entry per tool in :data:`TOOLS`."""
    return cache_dir() / "bin"


def tool(name: str) -> Path:
    """The path of a Go-built tool, building it first (``hack/tools.sh NAME``) if it is missing.

    Building needs the Go module proxy, so it works outside the test network
    namespace only; ``make test`` and ``make demo`` build before entering it.
    """
    path = bin_dir() / name
    if not path.exists():
        script = REPO_ROOT / "hack" / "tools.sh"
        if not script.exists():
            raise ToolMissingError(f"{name} is not in {bin_dir()} and {script} is missing")
        subprocess.run(["bash", str(script), name], check=True, stdout=subprocess.DEVNULL)
    if not path.exists():
        raise ToolMissingError(f"{name} is not in {bin_dir()} after building the tools")
    return path


def system_tool(name: str) -> Path:
    """A tool from the system (Debian packages such as janus, ffmpeg, lua5.4)."""
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(
            f"{name} is not installed: hack/deps.sh (make deps) installs it from Debian"
        )
    return Path(found)
