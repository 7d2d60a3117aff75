"""CPU time and memory of one process, read from ``/proc/<pid>/stat`` and ``/proc/<pid>/status``.

Both files cover every thread of the process (the recorder runs its media work in threads).
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state) of proc(5)
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def memory_mib(pid: int, key: str = "VmHWM") -> float:
    """A ``/proc/<pid>/status`` size in MiB: ``VmHWM`` = peak RSS, ``VmRSS`` = current RSS."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(f"{key} not in /proc/{pid}/status")
