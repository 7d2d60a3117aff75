"""`python -m benchmarks.passthrough [--seconds=30] [--warmup=8] [--publishers=1,4]
[--modes=as-sent,re-encoded] [--srtp=Never]`.

What storing each uid's video as received costs the recorder, against re-encoding it: inside
``hack/netns-run`` (Janus needs its veth), one Janus and one versitygw; per publisher count and
mode (``as-sent``, ``re-encoded``, :mod:`benchmarks.passthrough.case`) a fresh
``python -m cloudrec_recorder`` process records N publisher processes (640x360 15 fps VP8
each, as ``benchmarks.recorder``) in individual mode, video only. An idle recorder process
(started, nothing recorded) is measured the same way as the baseline, and a bare subscriber
process receiving the same N streams (:mod:`benchmarks.passthrough.receive`) as the floor.
``--srtp`` lists the recorder's ``forwardSrtp`` settings to measure (``Never,Always``: each
case with plain RTP and with SRTP forwarders, back to back). Prints a markdown table; raw
numbers go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import media_servers, option, publishing_room, require_netns, work_directory
from benchmarks.passthrough.case import MODES, Measured, record
from benchmarks.recorder.case import start_recorder
from benchmarks.recorder.floor import publisher_uid
from benchmarks.recorder.procstat import cpu_seconds
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server


def _idle(work: Path, janus: Janus, s3: S3Server, seconds: float) -> float:
    """Core/s of a recorder process that records nothing (its baseline)."""
    recorder, *_ = start_recorder(work / "recorder-idle", janus, s3)
    try:
        assert recorder.pid is not None
        time.sleep(3)
        before, t0 = cpu_seconds(recorder.pid), time.monotonic()
        time.sleep(seconds)
        return (cpu_seconds(recorder.pid) - before) / (time.monotonic() - t0)
    finally:
        recorder.stop()


def _receive_only(count: int, seconds: float, warmup: float, work: Path, janus: Janus) -> float:
    """Core/s of a bare subscriber process receiving the N streams (the receive floor)."""
    with publishing_room(work, janus, "recv", count) as (room, _):
        uids = ",".join(publisher_uid(i) for i in range(count))
        args = [janus.ws_url, room, uids, str(warmup), str(seconds - warmup)]
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.passthrough.receive", *args],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
        return float(json.loads(done.stdout.splitlines()[-1])["core_per_second"])


def _case(
    mode: str,
    count: int,
    srtp: str,
    seconds: float,
    warmup: float,
    work: Path,
    janus: Janus,
    s3: S3Server,
) -> Measured:
    bucket = "bench-" + secrets.token_hex(4)
    s3.create_bucket(bucket)
    with publishing_room(work, janus, "pass", count) as (room, _):
        recorder, base_url, customer_id, customer_secret = start_recorder(
            work / f"recorder-{mode}-{count}-{srtp}", janus, s3, forwardSrtp=srtp
        )
        try:
            assert recorder.pid is not None
            return asyncio.run(
                record(
                    pid=recorder.pid,
                    base_url=base_url,
                    customer_id=customer_id,
                    customer_secret=customer_secret,
                    room=room,
                    mode=mode,
                    count=count,
                    s3=s3,
                    bucket=bucket,
                    seconds=seconds,
                    warmup=warmup,
                    janus_pid=janus.process.pid,
                )
            )
        finally:
            recorder.stop()


def main(argv: list[str]) -> int:
    seconds = float(option(argv, "seconds", "30"))
    warmup = float(option(argv, "warmup", "8"))
    counts = [int(n) for n in option(argv, "publishers", "1,4").split(",")]
    modes = option(argv, "modes", ",".join(MODES)).split(",")
    srtps = option(argv, "srtp", "Never").split(",")
    if not set(modes) <= set(MODES):
        raise SystemExit(f"--modes: each of {', '.join(MODES)}")
    if not 0 < warmup < seconds:
        raise SystemExit("--warmup must be between 0 and --seconds")
    require_netns("passthrough")
    rows = []
    floors: dict[int, float] = {}
    with work_directory("bench-passthrough-") as work:
        with media_servers(work) as (janus, s3):
            idle = _idle(work, janus, s3, seconds - warmup)
            print(f"  idle recorder: {idle:.4f} core/s", file=sys.stderr, flush=True)
            for count in counts:
                floor = _receive_only(count, seconds, warmup, work, janus)
                print(f"  {count} receive-only: {floor:.4f} core/s", file=sys.stderr, flush=True)
                floors[count] = floor
                for mode in modes:
                    for srtp in srtps:
                        result = _case(mode, count, srtp, seconds, warmup, work, janus, s3)
                        print(f"  {count} {mode} {srtp}: {result}", file=sys.stderr, flush=True)
                        rows.append((count, f"{mode}, forwardSrtp {srtp}", result))
    print(f"{seconds:g} s per case; idle recorder {idle:.4f} core/s\n")
    print(
        "| publishers | video | core/s recorder (of it event-loop thread) | "
        "core/s per stream above idle | receive-only floor, core/s per stream | "
        "slices | HLS s stored (all uids) | peak RSS MiB | Janus core/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for count, mode, r in rows:
        print(
            f"| {count} | {mode} | {r.core_per_second:.3f} ({r.loop_core_per_second:.3f}) | "
            f"{(r.core_per_second - idle) / count:.4f} | {floors[count] / count:.4f} | "
            f"{', '.join(r.slice_types)} | {r.recorded_s:.1f} | {r.peak_rss_mib:.0f} | "
            f"{r.janus_core_per_second or 0.0:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
