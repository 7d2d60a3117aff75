"""``python -m cloudrec_operator.crdgen crds [--check]``: write or check the CRD files.

Writes ``<dir>/<plural>.<group>.yaml`` for every resource, and the same text into the
Helm chart's CRD directories when they exist, so the copies never drift. With
``--check`` nothing is written: the exit status is 1 and the stale files are named
when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cloudrec_operator.crdgen.render import CHART_CRD_DIRS, render_all, stale_files

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m cloudrec_operator.crdgen", description=__doc__)
    parser.add_argument("directory", type=Path, help="where the CRD YAML files go (crds)")
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    args = parser.parse_args(argv)
    root: Path = args.directory.resolve().parent
    targets = [args.directory, *(root / d for d in CHART_CRD_DIRS if (root / d).is_dir())]
    files = render_all()
    if args.check:
        stale = [path for target in targets for path in stale_files(target, files)]
        for path in stale:
            print(f"stale: {path} (run make crds)", file=sys.stderr)
        return 1 if stale else 0
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = target / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
