"""`python -m benchmarks.recorder [--seconds=30] [--warmup=6] [--publishers=1,4,9] [--floor=no]`.

The real recorder end to end, inside ``hack/netns-run`` (Janus needs its veth): one Janus, one
versitygw; per publisher count a fresh ``python -m cloudrec_recorder`` process and N publisher
processes (the moving test pattern, 640x360 15 fps VP8 + Opus each), one Mix 640x360 15 fps
500 kbps BestFit HLS recording through the protocol, uploaded to the bucket
(:mod:`benchmarks.recorder.case`; what was recorded is read back from the bucket), then the
ffmpeg floor for the same N, decoding the same content (:mod:`benchmarks.recorder.floor`;
``--floor=no`` leaves it out: for the start and stop times only, its columns then read nan).
Prints a markdown table; progress, raw numbers and where the start and the stop spent their
time (the recorder's phases) go to stderr.
"""

from __future__ import annotations

import asyncio
import secrets
import shlex
import sys
from pathlib import Path

from benchmarks.harness import media_servers, option, publishing_room, require_netns, work_directory
from benchmarks.recorder.case import record, start_recorder
from benchmarks.recorder.floor import encode_inputs, ffmpeg_command, ffmpeg_floor
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server

DEFAULT_SECONDS = 30.0
DEFAULT_WARMUP = 6.0
NO_FLOOR = {"core_per_second": float("nan"), "peak_rss_mib": float("nan")}


def _case(
    count: int, seconds: float, warmup: float, work: Path, janus: Janus, s3: S3Server, bucket: str
) -> dict[str, float]:
    with publishing_room(work, janus, "bench", count) as (room, publishers):
        recorder, base_url, customer_id, customer_secret = start_recorder(
            work / f"recorder-{count}", janus, s3
        )
        try:
            assert recorder.pid is not None
            return asyncio.run(
                record(
                    pid=recorder.pid,
                    base_url=base_url,
                    customer_id=customer_id,
                    customer_secret=customer_secret,
                    spool_dir=work / f"recorder-{count}" / "spool",
                    room=room,
                    s3=s3,
                    bucket=bucket,
                    seconds=seconds,
                    warmup=warmup,
                    publisher_pids=[p.pid for p in publishers if p.pid is not None],
                )
            )
        finally:
            recorder.stop()


def _print_table(
    seconds: float, rows: list[tuple[int, dict[str, float], dict[str, float]]]
) -> None:
    print(f"Recorded seconds per case: {seconds:g}\n")
    print(
        "| publishers | core/s (recorder, steady; of it event-loop thread) | "
        "core/s (recorder, start..stop) | "
        "core/s (ffmpeg) | ratio | peak RSS MiB (recorder / ffmpeg) | "
        "start -> first segment in spool / bucket s | "
        "stop -> response / ENDLIST in spool / in bucket s | "
        "HLS s in the bucket (wall s; segments missing) | publishers' core/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for count, ours, floor in rows:
        ratio = ours["core_per_second"] / floor["core_per_second"]
        print(
            f"| {count} | {ours['core_per_second']:.3f} ({ours['loop_core_per_second']:.3f}) | "
            f"{ours['core_per_second_whole']:.3f} | "
            f"{floor['core_per_second']:.3f} | {ratio:.2f} | "
            f"{ours['peak_rss_mib']:.0f} / {floor['peak_rss_mib']:.0f} | "
            f"{ours['first_spool_segment_s']:.2f} / {ours['first_bucket_segment_s']:.2f} | "
            f"{ours['stop_response_s']:.2f} / {ours['stop_to_files_s']:.2f} / "
            f"{ours['stop_to_bucket_s']:.2f} | "
            f"{ours['recorded_s']:.1f} ({ours['wall_s']:.1f}; {ours['missing_segments']:.0f}) | "
            f"{ours['publishers_core_per_second']:.2f} |"
        )


def main(argv: list[str]) -> int:
    seconds = float(option(argv, "seconds", str(DEFAULT_SECONDS)))
    warmup = float(option(argv, "warmup", str(DEFAULT_WARMUP)))
    counts = [int(n) for n in option(argv, "publishers", "1,4,9").split(",")]
    with_floor = option(argv, "floor", "yes") != "no"
    if not 0 < warmup < seconds:
        raise SystemExit("--warmup must be between 0 and --seconds")
    require_netns("recorder")
    rows = []
    with work_directory("bench-recorder-") as work:
        inputs = encode_inputs(max(counts), seconds, work / "inputs") if with_floor else []
        with media_servers(work) as (janus, s3):
            bucket = "bench-" + secrets.token_hex(4)
            s3.create_bucket(bucket)
            for count in counts:
                ours = _case(count, seconds, warmup, work, janus, s3, bucket)
                print(f"  {count} publishers: recorder {ours}", file=sys.stderr, flush=True)
                out = work / f"ffmpeg-{count}"
                if not with_floor:
                    rows.append((count, ours, NO_FLOOR))
                    continue
                floor = ffmpeg_floor(inputs[:count], seconds, out)
                print(f"  {count} publishers: ffmpeg {floor}", file=sys.stderr, flush=True)
                if count == 4:
                    command = shlex.join(ffmpeg_command(inputs[:count], seconds, out))
                    print(f"  floor command: {command}", file=sys.stderr, flush=True)
                rows.append((count, ours, floor))
    _print_table(seconds, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
