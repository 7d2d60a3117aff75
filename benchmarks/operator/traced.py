"""A module run with ``tracemalloc`` on, for the operator benchmark's ``--tracemalloc``.

``python -m benchmarks.operator.traced OUTPUT MODULE ARGS...`` runs ``python -m MODULE ARGS...``
(the operator, or the floor) with Python's allocation tracing started first; on ``SIGUSR2``
it writes where the memory still held was allocated to ``OUTPUT`` (the largest sites by
size, grouped by the innermost frames, then by the first frame in the project's own code),
and again each time the signal comes. Tracing slows the process (every allocation is
recorded): use it for where memory goes, not for CPU or latency figures. The operator's
modules are imported before tracing starts (traced, importing them takes minutes), so what
the imports hold is not in the report.
"""

from __future__ import annotations

import importlib
import linecache
import os
import runpy
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

FRAMES = 16
TOP = 60
OWN = ("cloudrec_operator", "benchmarks")
PRELOADED = (
    "kopf",
    "kubernetes.client",
    "aiohttp",
    "pydantic",
    "cloudrec_operator.handlers.operator",
    "cloudrec_operator.k8s",
    "benchmarks.operator.floor",
)


def _own_site(trace: tracemalloc.Traceback) -> str:
    """The innermost frame in the project's own code, else the innermost frame."""
    for frame in reversed(trace):  # tracemalloc's order: oldest call first
        if any(part in frame.filename for part in OWN):
            return f"{frame.filename}:{frame.lineno}"
    frame = trace[-1]
    return f"{frame.filename}:{frame.lineno}"


def report(snapshot: tracemalloc.Snapshot) -> str:
    lines = []
    stats = snapshot.statistics("traceback")
    total = sum(stat.size for stat in stats)
    lines.append(f"traced: {total / 2**20:.1f} MiB in {sum(s.count for s in stats)} blocks")
    by_own: dict[str, int] = {}
    for stat in stats:
        site = _own_site(stat.traceback)
        by_own[site] = by_own.get(site, 0) + stat.size
    lines.append("\n== by the first frame in the project's code (or the innermost) ==")
    for site, size in sorted(by_own.items(), key=lambda item: -item[1])[:TOP]:
        lines.append(f"{size / 2**20:8.2f} MiB  {site}")
    lines.append("\n== by innermost line ==")
    for stat in snapshot.statistics("lineno")[:TOP]:
        frame = stat.traceback[0]
        code = linecache.getline(frame.filename, frame.lineno).strip()
        lines.append(
            f"{stat.size / 2**20:8.2f} MiB {stat.count:8d}  {frame.filename}:{frame.lineno}  {code}"
        )
    lines.append("\n== largest tracebacks ==")
    for stat in stats[:20]:
        lines.append(f"-- {stat.size / 2**20:.2f} MiB in {stat.count} blocks")
        lines.extend("    " + line for line in stat.traceback.format(most_recent_first=True))
    return "\n".join(lines) + "\n"


def main() -> None:
    output, module, *args = sys.argv[1:]

    def dump(signum: int, frame: FrameType | None) -> None:
        Path(output).write_text(report(tracemalloc.take_snapshot()))

    if "--kubeconfig" in args:  # read by the Kubernetes client when it is imported
        os.environ["KUBECONFIG"] = args[args.index("--kubeconfig") + 1]
    for name in PRELOADED:
        importlib.import_module(name)
    client = importlib.import_module("kubernetes.client")
    for api in ("CoreV1Api", "CustomObjectsApi", "ApiClient", "Configuration"):
        getattr(client, api)  # the package imports them at first use
    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR2, dump)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
