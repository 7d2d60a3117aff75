"""``hack/tools.sh`` tells, during a long first build, what it builds and how long it took so far.

The script runs for real against an empty cache, with a stand-in ``go`` on PATH that
takes a while and writes a binary that answers ``--version`` as the real build does.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from cloudrec_devenv.tools import REPO_ROOT, TOOLS

FAKE_GO = """#!/bin/bash
# Stands in for `go build -o OUT` / `GOBIN=DIR go install MODULE@VERSION`.
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift ;;
    *@*) name=${1%@*}; out="$GOBIN/${name##*/}" ;;
  esac
  shift
done
sleep 2.5
printf '#!/bin/sh\\necho "Kubernetes v1.34.4"\\n' > "$out"
chmod +x "$out"
"""


def tools_sh(tmp_path: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """``hack/tools.sh NAMES`` into an empty cache under ``tmp_path``, with the stand-in go."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    (bin_dir / "go").write_text(FAKE_GO)
    (bin_dir / "go").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CLOUDREC_CACHE": str(tmp_path / "cache"),
        "CLOUDREC_TOOLS_TICK": "1",
    }
    return subprocess.run(
        ["bash", str(REPO_ROOT / "hack" / "tools.sh"), *names],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_first_build_says_what_it_builds_and_how_long_it_took_so_far(tmp_path: Path) -> None:
    result = tools_sh(tmp_path)
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert "[tools] building kube-apiserver, etcd, kube-controller-manager and kubectl" in log
    for what in ("helm v3.22.0", "kube-score v1.20.0", "kube-testbin v1.34.4"):
        ticks = re.findall(rf"^\[tools\] still building {what}[^:]*: (\d+)s so far$", log, re.M)
        assert ticks, f"no progress line for {what}:\n{log}"
        assert re.search(rf"^\[tools\] {what} build took \d+s$", log, re.M), log
    assert result.stdout.strip() == str(tmp_path / "cache" / "bin")
    assert sorted(p.name for p in (tmp_path / "cache" / "bin").iterdir()) == sorted(TOOLS)


def test_the_demo_builds_only_the_tools_it_uses(tmp_path: Path) -> None:
    # What `make demo` asks for: the control plane and the S3 server, not helm or kube-score.
    result = tools_sh(tmp_path, "kube-testbin", "versitygw")
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in (tmp_path / "cache" / "bin").iterdir())
    assert built == sorted(
        ["etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "versitygw"]
    )
    assert "helm" not in result.stderr and "kube-score" not in result.stderr
