"""``python -m benchmarks.memory.traced --config FILE``: the recorder with ``tracemalloc`` on.

For finding what grows, not for the RSS numbers (tracing costs memory and CPU). ``SIGUSR1``
appends to ``$CLOUDREC_TRACEMALLOC_OUT`` (default ``tracemalloc.txt``) the allocation sites that
grew most since the previous dump (one frame: the line that allocated) and the object types
whose count grew most (``gc``). Both take a moment with the event loop blocked: dump at most
every half minute.
"""

from __future__ import annotations

import collections
import gc
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from types import FrameType

from cloudrec_recorder.__main__ import main

_previous: dict[str, object] = {}


def _type_counts() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def dump(signum: int, frame: FrameType | None) -> None:
    began = time.monotonic()
    snapshot = tracemalloc.take_snapshot()
    counts = _type_counts()
    lines = [f"== traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB"]
    before = _previous.get("snapshot")
    if isinstance(before, tracemalloc.Snapshot):
        lines.append("-- growth since the previous dump, by line")
        lines += [str(stat) for stat in snapshot.compare_to(before, "lineno")[:20]]
    old_counts = _previous.get("counts")
    if isinstance(old_counts, collections.Counter):
        lines.append("-- object types whose count grew most")
        grown = counts.copy()
        grown.subtract(old_counts)
        lines += [f"{name}: +{n} (now {counts[name]})" for name, n in grown.most_common(12)]
    lines.append(f"-- dump took {time.monotonic() - began:.1f} s")
    out = Path(os.environ.get("CLOUDREC_TRACEMALLOC_OUT", "tracemalloc.txt"))
    with out.open("a") as sink:
        sink.write("\n".join(lines) + "\n\n")
    _previous.update(snapshot=snapshot, counts=counts)


if __name__ == "__main__":
    tracemalloc.start(1)
    signal.signal(signal.SIGUSR1, dump)
    sys.exit(main(sys.argv[1:]))
