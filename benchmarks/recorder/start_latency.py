"""Start latency (acquire + start) of the recorder with its hostile-tenant checks, against the
recorder from before them, in one run.

Two real recorder processes share one real Janus (an empty room per start) and one versitygw:
the current tree, and ``--before`` (a checkout of the commit before the checks: the recorder
edge with its credentials and body cap, per-app quotas, the storage egress guard; run with
that checkout's ``recorder`` and ``protocol`` source roots first on ``PYTHONPATH``, the same
interpreter and dependencies). Each round times one acquire + start on each recorder, one
after the other, the order swapped every round, so both see the same machine load; each
recording is stopped (not timed) before the next start. Prints p50, p95 and mean per
recorder and the ratios (current / before).

Reproduce (``--before`` made with ``git worktree add --detach /tmp/startbefore 00266a2``)::

    hack/netns-run nice -n 10 .venv/bin/python -m benchmarks.recorder.start_latency \\
        --before /tmp/startbefore --rounds 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from tests.fixtures.recorder import APP_ID, CallbackSink, RecorderProcess, _serve_sink

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.recorder import launch_recorder, local_recorder_settings
from cloudrec_devenv.s3 import S3Server

WARMUP = 5
"""Untimed starts per recorder before the rounds (imports, first connections)."""


def launch(
    work: Path,
    name: str,
    janus: Janus,
    s3: S3Server,
    sink: CallbackSink,
    bucket: str,
    before: Path | None,
) -> RecorderProcess:
    """One recorder: the current tree's, or ``before``'s (no egress settings there)."""
    from cloudrec_devenv.process import free_port

    port, secret = free_port(), secrets.token_urlsafe(18)
    directory = work / name
    settings: dict[str, Any] = local_recorder_settings(
        directory,
        port=port,
        janus_url=janus.ws_url,
        app_id=APP_ID,
        customer_id="bench",
        customer_secret=secret,
        storage_endpoints=[s3.endpoint],
    ) | {
        "callbacks": {"urls": [sink.url], "secret": sink.secret},
        "maxConcurrentRecordings": 2000,
        "resourceIdTtlSeconds": 300,
        "progressIntervalSeconds": 60,
        "syncStopTimeoutSeconds": 20,
    }
    env = dict(os.environ)
    if before is not None:
        settings.pop("egress")
        # trees before the WebSocket client (issue 13) reach Janus over HTTP
        settings["apps"][APP_ID]["janus"] = {"httpUrl": janus.http_url}
        roots = [str(before / "recorder"), str(before / "protocol")]
        env["PYTHONPATH"] = os.pathsep.join([*roots, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    process = launch_recorder(directory, settings, env=env)
    return RecorderProcess(
        process=process,
        base_url=f"http://127.0.0.1:{port}",
        customer_id="bench",
        customer_secret=secret,
        app_id=APP_ID,
        sink=sink,
        spool_dir=directory / "spool",
        backup_dir=directory / "backup",
        s3=s3,
        bucket=bucket,
        settings=settings,
    )


async def start_once(client: httpx.AsyncClient, rec: RecorderProcess, room: str) -> float:
    """Seconds for acquire + start (the recording is stopped afterwards, untimed)."""
    uid = str(secrets.randbelow(10**8) + 1)
    request: dict[str, Any] = {
        "recordingConfig": {"maxIdleTime": 30},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": rec.storage_config(),
    }
    began = time.perf_counter()
    acquired = await client.post(
        rec.url("acquire"), json={"cname": room, "uid": uid, "clientRequest": {}}
    )
    rid = acquired.json()["resourceId"]
    answer = await client.post(
        rec.url(f"resourceid/{rid}/mode/mix/start"),
        json={"cname": room, "uid": uid, "clientRequest": request},
    )
    took = time.perf_counter() - began
    if answer.status_code != HTTPStatus.OK:
        raise RuntimeError(f"start answered {answer.status_code}: {answer.text}")
    sid = answer.json()["sid"]
    stopped = await client.post(
        rec.url(f"resourceid/{rid}/sid/{sid}/mode/mix/stop"),
        json={"cname": room, "uid": uid, "clientRequest": {}},
    )
    # An empty room records nothing: 206 (435, no recorded data) is the expected answer.
    if stopped.status_code not in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
        raise RuntimeError(f"stop answered {stopped.status_code}: {stopped.text}")
    return took


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(1000 * statistics.median(values), 1),
        "p95_ms": round(1000 * percentile(values, 0.95), 1),
        "mean_ms": round(1000 * statistics.fmean(values), 1),
        "min_ms": round(1000 * min(values), 1),
        "max_ms": round(1000 * max(values), 1),
    }


async def measure(
    recorders: dict[str, RecorderProcess], janus: Janus, rounds: int
) -> dict[str, Any]:
    times: dict[str, list[float]] = {name: [] for name in recorders}
    clients = {name: rec.client(timeout=60) for name, rec in recorders.items()}
    try:
        order = list(recorders)
        for i in range(-WARMUP, rounds):
            for name in order if i % 2 == 0 else reversed(order):
                room = f"lat-{name}-{i + WARMUP}"
                await asyncio.to_thread(janus.create_room, room)
                took = await start_once(clients[name], recorders[name], room)
                if i >= 0:
                    times[name].append(took)
            if i > 0 and i % 50 == 0:
                print(
                    f"round {i}: "
                    + json.dumps({n: summary(t)["p50_ms"] for n, t in times.items()}),
                    file=sys.stderr,
                )
        guarded = {name: await edge_guards(rec) for name, rec in recorders.items()}
    finally:
        for client in clients.values():
            await client.aclose()
    result: dict[str, Any] = {name: summary(t) for name, t in times.items()}
    for key in ("p50_ms", "p95_ms", "mean_ms"):
        result[f"ratio_{key[:-3]}"] = round(result["current"][key] / result["before"][key], 3)
    # The spread: the p50 ratio of each quarter of the rounds, and the median of the
    # per-round differences (both recorders timed back to back in each round).
    quarter = max(rounds // 4, 1)
    result["ratio_p50_by_quarter"] = [
        round(
            statistics.median(times["current"][q : q + quarter])
            / statistics.median(times["before"][q : q + quarter]),
            3,
        )
        for q in range(0, rounds - quarter + 1, quarter)
    ]
    pairs = [c - b for c, b in zip(times["current"], times["before"], strict=True)]
    result["paired_difference_p50_ms"] = round(1000 * statistics.median(pairs), 1)
    result["edge_checks"] = guarded
    result["rounds"] = rounds
    return result


async def edge_guards(rec: RecorderProcess) -> bool:
    """Whether the recorder runs the checks (the edge refuses /openapi.json without
    credentials; the recorder from before served it): which tree each process runs."""
    async with httpx.AsyncClient(base_url=rec.base_url, timeout=30) as anonymous:
        answer = await anonymous.get("/openapi.json")
    return answer.status_code == HTTPStatus.UNAUTHORIZED


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with Janus(work / "janus") as janus, S3Server(work / "s3") as s3:
        bucket = "latency-" + secrets.token_hex(4)
        s3.create_bucket(bucket)
        sink = CallbackSink(secret=secrets.token_hex(16))
        server = _serve_sink(sink)
        recorders: dict[str, RecorderProcess] = {}
        try:
            recorders["current"] = launch(work, "current", janus, s3, sink, bucket, None)
            recorders["before"] = launch(work, "before", janus, s3, sink, bucket, args.before)
            return asyncio.run(measure(recorders, janus, args.rounds))
        finally:
            for rec in recorders.values():
                rec.process.stop()
            server.shutdown()
            server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recorder.start_latency")
    parser.add_argument("--before", type=Path, required=True, help="checkout of the old tree")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        print(json.dumps(run(args, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
