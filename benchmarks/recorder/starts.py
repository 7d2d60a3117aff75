"""N concurrent acquire + start calls against one recorder: how long until all are answered.

Real Janus (empty rooms, ``--per-room`` recorder uids each), versitygw and the recorder as
its own process; no operator. Prints the time until every start was answered (and how many
were refused: under heavy load an acquire can expire before its start), the p50
of acquire and start (each measured from the first request of its recording), the recorder's
CPU seconds over the run (per start too: what does not depend on the machine's load), Janus'
and this harness' CPU seconds (they share the cores) and the 1-minute load average at the end.

Reproduce: ``hack/netns-run .venv/bin/python -m benchmarks.recorder.starts --count 200``
(``--profile FILE``: py-spy's raw stacks of the recorder during the starts)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import aiohttp
from tests.fixtures.recorder import CallbackSink, RecorderProcess, _serve_sink, start_recorder

from benchmarks.operator.scale import start_profiler
from benchmarks.recorder.procstat import cpu_seconds
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server


async def one(
    client: aiohttp.ClientSession, rec: RecorderProcess, i: int, per_room: int
) -> tuple[float, float, bool]:
    """Acquire and start recording ``i``: seconds to the acquire answer, to the start answer,
    and whether the start was accepted."""
    cname, uid = f"room-{i // per_room}", str(9000 + i)
    started = time.monotonic()
    async with client.post(
        rec.url("acquire"), json={"cname": cname, "uid": uid, "clientRequest": {}}
    ) as acquired:
        rid = (await acquired.json())["resourceId"]
    after_acquire = time.monotonic() - started
    request: dict[str, Any] = {
        "recordingConfig": {"channelType": 0, "streamTypes": 0, "maxIdleTime": 86400},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": rec.storage_config(),
    }
    async with client.post(
        rec.url(f"resourceid/{rid}/mode/mix/start"),
        json={"cname": cname, "uid": uid, "clientRequest": request},
    ) as answer:
        text = await answer.text()
    if answer.status != 200:
        print(f"start {i} answered {answer.status}: {text}", file=sys.stderr)
    return after_acquire, time.monotonic() - started, answer.status == 200


async def measure(rec: RecorderProcess, count: int, per_room: int) -> dict[str, float]:
    # aiohttp: httpx's pool spent 50 ms of this harness' CPU per request pair at 500 at once
    # (5 ms at 50), more than the recorder's whole answer
    async with aiohttp.ClientSession(
        auth=aiohttp.BasicAuth(rec.customer_id, rec.customer_secret),
        timeout=aiohttp.ClientTimeout(total=300),
        connector=aiohttp.TCPConnector(limit=100),
    ) as client:
        started = time.monotonic()
        results = await asyncio.gather(*(one(client, rec, i, per_room) for i in range(count)))
        total = time.monotonic() - started
    return {
        "count": count,
        "all_started_after_s": round(total, 2),
        "refused": sum(not ok for _, _, ok in results),
        "acquire_p50_s": round(statistics.median(a for a, _, _ in results), 2),
        "start_p50_s": round(statistics.median(b for _, b, _ in results), 2),
        "start_max_s": round(max(b for _, b, _ in results), 2),
    }


def _sink_in_a_process(sink: CallbackSink) -> BaseProcess:
    """The callback sink served by a child process: the recorder's callbacks (two or three per
    start) cost this harness' client nothing, and the harness' CPU is its requests alone."""
    ready: multiprocessing.SimpleQueue[int] = multiprocessing.get_context("fork").SimpleQueue()

    def serve() -> None:
        _serve_sink(sink)
        ready.put(sink.port)
        threading.Event().wait()

    process = multiprocessing.get_context("fork").Process(target=serve, daemon=True)
    process.start()
    sink.port = ready.get()
    return process


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def run(args: argparse.Namespace, work: Path) -> dict[str, float]:
    with Janus(work / "janus") as janus, S3Server(work / "s3") as s3:
        bucket = "starts-" + secrets.token_hex(4)
        s3.create_bucket(bucket)
        sink = CallbackSink(secret=secrets.token_hex(16))
        sink_process = _sink_in_a_process(sink)
        rec = start_recorder(
            work / "recorder",
            janus,
            sink,
            s3,
            bucket,
            maxConcurrentRecordings=args.count + 10,
            progressIntervalSeconds=60,
            resourceIdTtlSeconds=300,
        )
        try:
            for room in range((args.count + args.per_room - 1) // args.per_room):
                janus.create_room(f"room-{room}")
            pid = rec.process.pid
            profiler = start_profiler(args.profile, pid, work) if args.profile and pid else None
            assert pid is not None
            cpu_before = cpu_seconds(pid)
            janus_pid = janus.process.pid or 0
            janus_before, own_before = cpu_seconds(janus_pid), _own_cpu()
            try:
                result = asyncio.run(measure(rec, args.count, args.per_room))
                # the recorder's own CPU: what the answers cost, whatever the machine's load
                result["recorder_cpu_s"] = round(cpu_seconds(pid) - cpu_before, 2)
                # the other processes on the same cores: Janus and this harness (the client)
                result["janus_cpu_s"] = round(cpu_seconds(janus_pid) - janus_before, 2)
                result["harness_cpu_s"] = round(_own_cpu() - own_before, 2)
                result["recorder_cpu_ms_per_start"] = round(
                    1000 * result["recorder_cpu_s"] / args.count, 1
                )
                result["load_average_1m"] = os.getloadavg()[0]
                return result
            finally:
                if profiler is not None:
                    profiler.stop(signal.SIGINT)
        finally:
            rec.process.stop()
            sink_process.terminate()
            sink_process.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recorder.starts")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--per-room", type=int, default=10)
    parser.add_argument("--profile", default=None, help="py-spy's raw stacks of the recorder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-starts-") as tmp:
        print(json.dumps(run(args, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
