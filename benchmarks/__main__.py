"""`python -m benchmarks [NAME...] [--option...]`: run every benchmark, or the named ones.

A benchmark is a folder `benchmarks/<name>/` with a `__main__.py`; each runs in its own process
(`python -m benchmarks.<name> [--option...]`) so that CPU time and memory are its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.parent.name for p in HERE.glob("*/__main__.py"))


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or discover()
    options = [a for a in argv if a.startswith("-")]
    status = 0
    for name in names:
        print(f"== benchmarks.{name}", flush=True)
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *options], check=False)
        status |= done.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
