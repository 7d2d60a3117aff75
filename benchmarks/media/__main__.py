"""`python -m benchmarks.media [--seconds=S] [--publishers=1,4,9]`: the mix pipeline vs ffmpeg.

For each publisher count: one child process records a Mix 640x360 15 fps 500 kbps HLS from that
many publishers (pre-decoded 640x360 15 fps frames and 48 kHz tones, pushed in real time), and
one ffmpeg process composes as many equivalent lavfi inputs into the same output. Prints a
markdown table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import option
from benchmarks.media.floor import ffmpeg_floor

DEFAULT_SECONDS = 20.0
DEFAULT_PUBLISHERS = (1, 4, 9)


def _ours(publishers: int, seconds: float, spool: Path) -> dict[str, float]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.media.case",
            str(publishers),
            str(seconds),
            str(spool),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str]) -> int:
    seconds = float(option(argv, "seconds", str(DEFAULT_SECONDS)))
    counts = [int(n) for n in option(argv, "publishers", "1,4,9").split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        for count in counts:
            ours = _ours(count, seconds, Path(tmp) / f"ours-{count}")
            floor = ffmpeg_floor(count, seconds, Path(tmp) / f"ffmpeg-{count}")
            rows.append((count, ours, floor))
            print(f"  {count} publishers: ours {ours} ffmpeg {floor}", file=sys.stderr, flush=True)
    print(f"Recorded seconds per case: {seconds:g} (frames pushed in real time)\n")
    print(
        "| publishers | core/s (ours) | core/s (ffmpeg) | ratio | peak RSS MiB (ours: total / "
        "before start / input frames) | peak RSS MiB (ffmpeg) | first segment s | stop to files s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for count, ours, floor in rows:
        ratio = ours["core_per_second"] / floor["core_per_second"]
        print(
            f"| {count} | {ours['core_per_second']:.3f} | {floor['core_per_second']:.3f} | "
            f"{ratio:.2f} | {ours['peak_rss_mib']:.0f} / {ours['baseline_rss_mib']:.0f} / "
            f"{ours['frames_mib']:.0f} | "
            f"{floor['peak_rss_mib']:.0f} | {ours['first_segment_s']:.2f} | "
            f"{ours['stop_to_files_s']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
