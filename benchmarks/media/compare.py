"""`python -m benchmarks.media.compare --before=TREE`: this tree's mix pipeline against another's.

TREE is a checkout of an earlier commit (``git worktree add /tmp/mixbefore <commit>``). Each
repetition runs, for every publisher count, the same case (``benchmarks.media.case``, this
tree's) three ways in a row: the pipeline of TREE (its ``operator``, ``recorder`` and
``protocol`` source roots first on ``PYTHONPATH``), this tree's pipeline, and the ffmpeg
floor; the order of the first two alternates between repetitions, so a slow minute of a
shared machine does not fall on one side only. Prints every run, then per count the median
core/s of each side and the ratio this/before with its spread (the lowest and highest ratio
of the repetitions' pairs).

Options: ``--reps=4``, ``--seconds=20``, ``--publishers=1,4,9``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import option
from benchmarks.media.floor import ffmpeg_floor

HERE = Path(__file__).resolve().parents[2]


def _case(tree: Path | None, publishers: int, seconds: float, spool: Path) -> float:
    """core/s of one case with the pipeline of ``tree`` (None: this tree's)."""
    env = dict(os.environ)
    roots = [str(HERE)]  # the case itself is this tree's (the same in both)
    if tree is not None:
        roots = [str(tree / part) for part in ("operator", "recorder", "protocol")] + roots
    env["PYTHONPATH"] = os.pathsep.join(roots)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.media.case", str(publishers), str(seconds), str(spool)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["core_per_second"])


def _pipeline_file(tree: Path | None) -> str:
    """Where the pipeline a run imports lives (checks that PYTHONPATH picked the tree)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            str(tree / part) for part in ("operator", "recorder", "protocol")
        )
    code = "import cloudrec_recorder.media.pipeline as p; print(p.__file__)"
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def main(argv: list[str]) -> int:
    before = Path(option(argv, "before", "")).resolve()
    if not (before / "recorder" / "cloudrec_recorder" / "media").is_dir():
        print(
            "--before=TREE must be a checkout with recorder/cloudrec_recorder/media",
            file=sys.stderr,
        )
        return 2
    reps = int(option(argv, "reps", "4"))
    seconds = float(option(argv, "seconds", "20"))
    counts = [int(n) for n in option(argv, "publishers", "1,4,9").split(",")]
    print(f"before: {_pipeline_file(before)}\nthis:   {_pipeline_file(None)}", flush=True)
    runs: dict[int, list[tuple[float, float, float]]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory(prefix="bench-media-compare-") as tmp:
        for rep in range(reps):
            for count in counts:
                spool = Path(tmp) / f"{rep}-{count}"
                sides: dict[str, float] = {}
                order = ("before", "this") if rep % 2 == 0 else ("this", "before")
                for side in order:
                    tree = before if side == "before" else None
                    sides[side] = _case(tree, count, seconds, spool / side)
                floor = ffmpeg_floor(count, seconds, spool / "ffmpeg")["core_per_second"]
                runs[count].append((sides["before"], sides["this"], floor))
                print(
                    f"rep {rep + 1} {count} publishers ({' then '.join(order)}): before "
                    f"{sides['before']:.4f} this {sides['this']:.4f} ffmpeg {floor:.4f} "
                    f"this/before {sides['this'] / sides['before']:.3f}",
                    flush=True,
                )
    print(
        "\n| publishers | core/s before (median) | core/s this (median) | core/s ffmpeg (median) "
        "| this/before (median of pairs) | this/before lowest..highest |"
    )
    print("|---|---|---|---|---|---|")
    for count, rows in runs.items():
        ratios = [this / old for old, this, _ in rows]
        print(
            f"| {count} | {statistics.median(r[0] for r in rows):.4f} | "
            f"{statistics.median(r[1] for r in rows):.4f} | "
            f"{statistics.median(r[2] for r in rows):.4f} | {statistics.median(ratios):.3f} | "
            f"{min(ratios):.3f}..{max(ratios):.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
