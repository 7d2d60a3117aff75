"""How many concurrent 4-publisher 640x360 composites one recorder process holds in real time.

``hack/netns-run .venv/bin/python -m benchmarks.recorder.capacity [--levels 1,2,3,4]
[--seconds 40] [--publishers 4] [--lag-bound 1.0]``

One Janus, one versitygw, one recorder process (:func:`benchmarks.recorder.case.start_recorder`)
and one room with ``--publishers`` publisher processes sending the moving test pattern
(:func:`benchmarks.recorder.case.start_publishers`). For each level k, k Mix recordings of that
room (640x360 15 fps 500 kbps BestFit HLS, each its own recorder uid: every recording receives,
decodes, composes and encodes the publishers on its own, as k composites of different rooms
would, while the publishers' own cost stays the same at every level) are started together,
run ``--seconds`` and are stopped together. A level is held when every recording
of it, read back from the bucket (:func:`benchmarks.recorder.case.bucket_hls`),

* has HLS seconds equal to its wall seconds within 1 %: from its first media to its stop as
  the recorder's manifest in the bucket says (timeline ``Started`` and ``Stopped``), and
* lists no segment that is missing from the bucket, and
* its media worker was never more than ``--lag-bound`` seconds (default
  :data:`~cloudrec_recorder.media.output.MAX_LAG`, 1 s) behind the wall clock: its worst lag,
  which the recorder writes in the ``files-finished`` phase line of its log
  (``worst-lag=``; :mod:`cloudrec_recorder.media.lag`), from its start to its stop.

The first two hold by construction even for a worker behind real time (output time runs on a
fixed clock and the files end at the stop instant: a lagging worker writes the same seconds,
only later); the third is what sees it. The bound is the recorder's own: a worker more than
``MAX_LAG`` behind repeats its last picture instead of composing a new one, so beyond it the
pictures visibly freeze; under it, the files are the same, at most that much later. The
recorder's ``cloudrec_media_lag_seconds`` gauge (the most lagging worker now) is also sampled
from ``/metrics`` every :data:`SAMPLE_SECONDS` while the level runs and stops, as a check
on the log (its maximum is at most the worst lag, give or take a sampling interval).

Also per level: the recorder's CPU (cores) while it ran, its RSS at the end of the level minus
its RSS before the first level (memory per additional composite), the start to first segment
in the bucket, the stop to the delivered playlist and the worker's start (phases
``media-start`` to ``first-encoded``: the thread's start, the encoders' set-up and the first
picture) (worst recording). The levels run in
order until one is not held (``--all`` runs them all). The 1-minute load average is printed
with each level: on a shared machine other work takes cores from the recorder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.recorder.case import (
    APP_ID,
    bucket_hls,
    phases,
    start_publishers,
    start_recorder,
    start_request,
    stop_all,
)
from benchmarks.recorder.procstat import cpu_seconds, memory_mib
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_protocol.manifest import Manifest, TimelineKind, is_manifest_name
from cloudrec_protocol.models import AcquireClientRequest
from cloudrec_recorder.app import basic_auth_header
from cloudrec_recorder.media.output import MAX_LAG

REAL_TIME_TOLERANCE = 0.01
"""Recorded HLS seconds may differ from wall seconds by this share."""
SAMPLE_SECONDS = 0.25
"""How often the lag gauge is read while a level runs."""
CUSTOMER_ID = "bench-customer"


@dataclass
class Running:
    uid: str
    resource_id: str
    sid: str
    prefix: str
    started_at: float
    slice_start_s: float | None = None
    first_in_bucket_s: float | None = None


@dataclass
class Level:
    """What one level's recordings showed."""

    recordings: int
    held: bool
    worst_ratio: float
    missing_segments: int
    core_per_second: float
    rss_mib: float
    first_in_bucket_s: float
    stop_to_delivered_s: float
    load_average: float
    worst_lag_s: float
    """The worst recording's worst worker lag (its ``files-finished`` phase)."""
    sampled_lag_s: float
    """The largest value of the lag gauge read during the level."""
    worker_start_s: float
    """The worst recording's ``media-start`` to ``first-encoded``."""


async def _start_one(
    client: RecordingClient, room: str, uid: str, s3: S3Server, bucket: str
) -> Running:
    acquired = await client.acquire(APP_ID, room, uid, AcquireClientRequest())
    prefix = f"cap{uid}{secrets.token_hex(2)}"
    started_at = time.time()
    started = await client.start(
        APP_ID, acquired.resource_id, "mix", start_request(room, s3, bucket, prefix, uid)
    )
    return Running(uid, acquired.resource_id, started.sid, prefix, started_at)


async def _follow(client: RecordingClient, s3: S3Server, bucket: str, rec: Running) -> None:
    """Note the recording's slice start and its first segment in the bucket."""
    s3_client = s3._client()
    while rec.slice_start_s is None or rec.first_in_bucket_s is None:
        if rec.slice_start_s is None:
            answer = await client.query(APP_ID, rec.resource_id, rec.sid, "mix")
            if answer.server_response.slice_start_time:
                rec.slice_start_s = answer.server_response.slice_start_time / 1000
        if rec.first_in_bucket_s is None:
            listed = await asyncio.to_thread(
                s3_client.list_objects_v2, Bucket=bucket, Prefix=rec.prefix + "/"
            )
            if any(str(o["Key"]).endswith(".ts") for o in listed.get("Contents", [])):
                rec.first_in_bucket_s = time.time() - rec.started_at
        await asyncio.sleep(0.2)


def gauge_value(text: str, name: str) -> float | None:
    """The value of the unlabelled metric ``name`` in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def sample_lag(base_url: str, secret: str, done: asyncio.Event) -> float:
    """The largest ``cloudrec_media_lag_seconds`` read until ``done`` (0 when never read)."""
    worst = 0.0
    headers = {"Authorization": basic_auth_header(CUSTOMER_ID, secret)}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=5.0) as http:
        while not done.is_set():
            with contextlib.suppress(httpx.HTTPError):
                response = await http.get("/metrics")
                value = gauge_value(response.text, "cloudrec_media_lag_seconds")
                worst = max(worst, value or 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), SAMPLE_SECONDS)
    return worst


@dataclass(frozen=True)
class WorkerPhases:
    """What one recording's phase lines say of its media worker."""

    worst_lag_s: float | None
    """``worst-lag`` of ``files-finished`` (None: not logged)."""
    start_s: float | None
    """``media-start`` to ``first-encoded`` (None: not logged)."""


def worker_phases(log: Path, sid: str) -> WorkerPhases:
    found = phases(log, sid, 0.0)
    at = {text.split()[0]: t for t, text in found}
    lag = None
    for _, text in found:
        words = text.split()
        if words[0] == "files-finished":
            lag = next((float(w[10:]) for w in words if w.startswith("worst-lag=")), None)
    start = None
    if "media-start" in at and "first-encoded" in at:
        start = at["first-encoded"] - at["media-start"]
    return WorkerPhases(lag, start)


async def run_level(
    count: int,
    *,
    base_url: str,
    secret: str,
    pid: int,
    room: str,
    s3: S3Server,
    bucket: str,
    seconds: float,
    rss_before: float,
    log: Path,
    lag_bound: float,
) -> Level:
    uids = [str(910000 + count * 100 + i) for i in range(count)]
    sampled = asyncio.Event()
    sampler = asyncio.create_task(sample_lag(base_url, secret, sampled))
    async with RecordingClient(base_url, CUSTOMER_ID, secret, timeout=60.0) as client:
        recs = await asyncio.gather(*(_start_one(client, room, u, s3, bucket) for u in uids))
        followers = [asyncio.create_task(_follow(client, s3, bucket, r)) for r in recs]
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        rss = memory_mib(pid, "VmRSS")
        for task in followers:
            task.cancel()
        stop_at = time.time()
        await asyncio.gather(
            *(client.stop(APP_ID, r.resource_id, r.sid, "mix", room, r.uid) for r in recs)
        )
    s3_client = s3._client()
    ratios, missing, delivered = [], 0, 0.0
    for rec in recs:
        deadline = time.monotonic() + 60
        hls = await asyncio.to_thread(bucket_hls, s3_client, bucket, rec.prefix + "/")
        while not hls.ended and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            hls = await asyncio.to_thread(bucket_hls, s3_client, bucket, rec.prefix + "/")
        delivered = max(delivered, time.time() - stop_at)
        wall = await asyncio.to_thread(manifest_wall, s3_client, bucket, rec.prefix + "/")
        while wall is None and time.monotonic() < deadline:  # the manifest comes last
            await asyncio.sleep(0.1)
            wall = await asyncio.to_thread(manifest_wall, s3_client, bucket, rec.prefix + "/")
        wall = wall or stop_at - (rec.slice_start_s or rec.started_at)
        ratios.append(hls.recorded_seconds / wall if hls.ended else 0.0)
        missing += len(hls.missing(rec.prefix + "/"))
    sampled.set()
    sampled_lag = await sampler
    workers = [worker_phases(log, rec.sid) for rec in recs]
    lags = [w.worst_lag_s for w in workers]
    worst_lag = max((lag if lag is not None else float("inf")) for lag in lags)
    worst = max(ratios, key=lambda r: abs(r - 1.0))
    return Level(
        recordings=count,
        held=all(abs(r - 1.0) <= REAL_TIME_TOLERANCE for r in ratios)
        and missing == 0
        and worst_lag <= lag_bound,
        worst_ratio=worst,
        missing_segments=missing,
        core_per_second=(cpu1 - cpu0) / (t1 - t0),
        rss_mib=rss - rss_before,
        first_in_bucket_s=max((r.first_in_bucket_s or float("nan")) for r in recs),
        stop_to_delivered_s=delivered,
        load_average=os.getloadavg()[0],
        worst_lag_s=worst_lag,
        sampled_lag_s=sampled_lag,
        worker_start_s=max((w.start_s if w.start_s is not None else float("nan")) for w in workers),
    )


def manifest_wall(client: Any, bucket: str, prefix: str) -> float | None:
    """Seconds from the first media to the stop, from the recording's manifest (None without)."""
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    keys = [str(o["Key"]) for o in listed if is_manifest_name(str(o["Key"]))]
    if not keys:
        return None
    body = client.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    timeline = Manifest.model_validate_json(body).timeline
    at = {entry.kind: entry.at_ms for entry in timeline}
    if TimelineKind.STARTED not in at or TimelineKind.STOPPED not in at:
        return None
    return (at[TimelineKind.STOPPED] - at[TimelineKind.STARTED]) / 1000


def _table(levels: list[Level], publishers: int, seconds: float, lag_bound: float) -> str:
    lines = [
        f"{publishers} publishers per composite, {seconds:g} s per level, "
        f"worker lag bound {lag_bound:g} s\n",
        "| composites | held | worst HLS s / wall s | segments missing | "
        "worker lag s (worst; gauge sampled) | recorder cores | "
        "RSS over idle MiB (per composite) | first segment in bucket s (worst) | "
        "media-start -> first-encoded s (worst) | stop -> delivered s (worst) | load average |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in levels:
        lines.append(
            f"| {lv.recordings} | {'yes' if lv.held else 'no'} | {lv.worst_ratio:.3f} | "
            f"{lv.missing_segments} | {lv.worst_lag_s:.2f}; {lv.sampled_lag_s:.2f} | "
            f"{lv.core_per_second:.2f} | "
            f"{lv.rss_mib:.0f} ({lv.rss_mib / lv.recordings:.0f}) | "
            f"{lv.first_in_bucket_s:.2f} | {lv.worker_start_s:.2f} | "
            f"{lv.stop_to_delivered_s:.2f} | {lv.load_average:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recorder.capacity")
    parser.add_argument("--levels", default="1,2,3,4", help="composites at once, in order")
    parser.add_argument("--seconds", type=float, default=40.0, help="recorded per level")
    parser.add_argument("--publishers", type=int, default=4, help="publishers per composite")
    parser.add_argument("--all", action="store_true", help="go on past a level not held")
    parser.add_argument(
        "--lag-bound",
        type=float,
        default=MAX_LAG,
        help="seconds a media worker may be behind the wall clock in a held level",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("CLOUDREC_NETNS"):
        raise SystemExit("run this inside hack/netns-run (Janus needs its veth)")
    levels: list[Level] = []
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
        work = Path(tmp)
        with Janus(work / "janus", debug_level=3) as janus, S3Server(work / "s3") as s3:
            bucket = "capacity-" + secrets.token_hex(4)
            s3.create_bucket(bucket)
            room = "capacity"
            janus.create_room(room, publishers=args.publishers + 2)
            publishers = start_publishers(work / "publishers", janus, room, args.publishers)
            try:
                recorder, base_url, _, secret = start_recorder(work / "recorder", janus, s3)
                try:
                    assert recorder.pid is not None
                    rss_before = memory_mib(recorder.pid, "VmRSS")
                    for count in (int(n) for n in args.levels.split(",")):
                        level = asyncio.run(
                            run_level(
                                count,
                                base_url=base_url,
                                secret=secret,
                                pid=recorder.pid,
                                room=room,
                                s3=s3,
                                bucket=bucket,
                                seconds=args.seconds,
                                rss_before=rss_before,
                                log=work / "recorder" / "recorder.log",
                                lag_bound=args.lag_bound,
                            )
                        )
                        levels.append(level)
                        print(json.dumps(level.__dict__), file=sys.stderr, flush=True)
                        if not level.held and not args.all:
                            break
                finally:
                    with contextlib.suppress(Exception):
                        recorder.stop()
            finally:
                stop_all(publishers)
    print(_table(levels, args.publishers, args.seconds, args.lag_bound))
    held = [lv.recordings for lv in levels if lv.held]
    print(f"\nheld in real time: {max(held) if held else 0} composites")
    return 0


if __name__ == "__main__":
    sys.exit(main())
