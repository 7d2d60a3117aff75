"""CPU time and memory of one process, read from ``/proc/<pid>/stat`` and ``/proc/<pid>/status``.

Both files cover every thread of the process (the recorder runs its media work in threads).
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU seconds the process (all its threads), or its thread ``tid``, used."""
    where = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    stat = Path(where).read_text()
    fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state) of proc(5)
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def status_value(pid: int, key: str) -> int:
    """The number of a ``/proc/<pid>/status`` line (``Threads``, or a size in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(f"{key} not in /proc/{pid}/status")


def memory_mib(pid: int, key: str = "VmHWM") -> float:
    """A ``/proc/<pid>/status`` size in MiB: ``VmHWM`` = peak RSS, ``VmRSS`` = current RSS."""
    return status_value(pid, key) / 1024
