"""N CloudRecordings applied at once against the local control plane and a recording backend.

Starts a real control plane (with an audit log of the writes counted), the recording backend
(``--backend recorder``: Janus, versitygw and the recorder, as ``make demo`` runs them;
``--backend load``: the load backend of :mod:`benchmarks.operator.loadbackend`, which answers
the protocol at once and sends the signed callbacks, so the operator is measured apart from
the recorder) and the operator, each its own process; applies N CloudRecordings in one
``kubectl apply`` and measures:

* apply -> Ready True, per recording (p50, p99, max), from one watch stream;
* a baseline in the same run: the same ``kubectl apply`` before the operator starts (API
  server and etcd CPU, wall time), deleted again before the measured apply;
* API writes per recording from its creation to the status write that made it Ready, by
  what they were, from the audit log (:mod:`benchmarks.operator.writes`); and during the
  ramp (apply -> all Ready) by verb and resource from ``apiserver_request_total``;
* the CPU seconds of every process during the ramp, the operator's per recording;
* once steady: writes per recording per minute over ``--steady`` seconds that start
  ``--settle`` seconds after the last Ready; the operator's CPU then and its peak resident
  memory (``VmHWM``).

Run inside the test network namespace (``hack/netns-run``): the recorder joins Janus rooms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.harness import Stack, print_result
from benchmarks.operator.backends import Target, full_stack, load_backend
from benchmarks.operator.floor import FLOOR_WRITES
from benchmarks.operator.stack import (
    CALLBACK_SECRET,
    NAMESPACE,
    PATH,
    start_operator,
    start_plane,
)
from benchmarks.operator.stack import (
    parser as stack_parser,
)
from benchmarks.operator.writes import (
    api_queueing,
    api_writes,
    audit_args,
    difference,
    per_recording,
    queueing_summary,
    read_audit,
    steps_to_ready,
)
from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.process import ManagedProcess
from cloudrec_operator.api.names import API_VERSION, CLOUDRECORDINGS


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak resident memory (``VmRSS``: now), MB."""
    match = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def manifests(
    count: int, per_room: int, target: Target, namespace: str = NAMESPACE
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "recorder", "namespace": namespace},
            "stringData": {
                "customerId": target.customer_id,
                "customerSecret": target.customer_secret,
                "callbackSecret": target.callback_secret,
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bucket", "namespace": namespace},
            "stringData": {
                "accessKey": target.access_key,
                "secretKey": target.secret_key,
            },
        },
        {
            "apiVersion": API_VERSION,
            "kind": "RecordingBackend",
            "metadata": {"name": "local", "namespace": namespace},
            "spec": {
                "url": target.url,
                "credentialsSecretRef": {"name": "recorder"},
                "callbackSecretRef": {"name": "recorder"},
                "defaultAppId": target.app_id,
            },
        },
    ]
    for i in range(count):
        docs.append(
            {
                "apiVersion": API_VERSION,
                "kind": "CloudRecording",
                "metadata": {"name": f"bench-{i:04d}", "namespace": namespace},
                "spec": {
                    "backendRef": {"name": "local"},
                    "channelName": f"bench-room-{i // per_room}",
                    "uid": str(800000 + i),
                    "recordingConfig": {"maxIdleTime": 86400, "streamTypes": "AudioOnly"},
                    "storageConfig": {
                        "vendor": "S3Compatible",
                        "bucket": target.bucket,
                        "endpoint": target.s3_endpoint,
                        "credentialsSecretRef": {"name": "bucket"},
                    },
                },
            }
        )
    return docs


class ReadyWatch(threading.Thread):
    """Notes when each CloudRecording first shows ``Ready=True``, from a watch stream.

    (Polling a LIST of N objects four times a second cost the API server more CPU than the
    operator's writes at N=500, and would be part of what is measured.) A stream the API
    server ends or drops is opened again from the last resourceVersion it delivered (a LIST
    first when that version is too old), so no Ready is missed; ``errors`` counts the
    reconnections.
    """

    def __init__(self, plane: ControlPlane, timeout: float) -> None:
        super().__init__(name="ready-watch", daemon=True)
        self.plane, self.timeout = plane, timeout
        self.first_ready: dict[str, float] = {}
        self.first_seen: dict[str, float] = {}
        """When the watch first delivered each object (its creation, as the watch saw it)."""
        self.reconnects = 0
        self._version = ""
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._stopped.is_set() and time.monotonic() < deadline:
            try:
                if not self._version:
                    self._list()
                self._watch(deadline)
            except (httpx.HTTPError, ValueError):
                if not self.plane.running():
                    return
            self.reconnects += 1
            time.sleep(0.2)

    def _note(self, item: dict[str, Any]) -> None:
        self.first_seen.setdefault(item["metadata"]["name"], time.monotonic())
        conditions = (item.get("status") or {}).get("conditions", [])
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            self.first_ready.setdefault(item["metadata"]["name"], time.monotonic())

    def _list(self) -> None:
        with self.plane.http_client(timeout=60) as client:
            listed = client.get(PATH).raise_for_status().json()
        for item in listed.get("items") or ():
            self._note(item)
        self._version = str(listed["metadata"]["resourceVersion"])

    def _watch(self, deadline: float) -> None:
        seconds = max(1, int(deadline - time.monotonic()))
        params = {
            "watch": "1",
            "timeoutSeconds": str(seconds),
            "resourceVersion": self._version,
            "allowWatchBookmarks": "true",
        }
        with (
            self.plane.http_client(timeout=seconds + 30) as client,
            client.stream("GET", PATH, params=params) as response,
        ):
            for line in response.iter_lines():
                if not line:
                    continue
                event = json.loads(line)
                item = event.get("object") or {}
                if event.get("type") == "ERROR":  # 410 Gone: too old; list again
                    self._version = ""
                    return
                self._version = str((item.get("metadata") or {}).get("resourceVersion", ""))
                if event.get("type") != "BOOKMARK":
                    self._note(item)


def apply_baseline(plane: ControlPlane, args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """The same apply with no operator running: what the API server needs just to store the
    N objects (wall time of ``kubectl apply``, API server and etcd CPU). Removed again before
    the operator starts."""
    namespace = "bench-baseline"
    plane.kubectl("create", "namespace", namespace)
    docs = manifests(args.count, args.per_room, target, namespace)
    pids = plane.pids()
    cpu = {name: cpu_seconds(pids[name]) for name in ("kube-apiserver", "etcd")}
    started = time.monotonic()
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs), timeout=args.timeout)
    wall = time.monotonic() - started
    used = {name: round(cpu_seconds(pids[name]) - before, 1) for name, before in cpu.items()}
    plane.kubectl(
        "delete", CLOUDRECORDINGS, "--all", "-n", namespace, "--wait", timeout=args.timeout
    )
    return {"apply_s": round(wall, 1), "cpu_s_by_process": used}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def starting_cpu_ms(
    ramp_cpu_s: float, ramp_s: float, ready_after: list[float], steady_cpu_per_s: float
) -> float | None:
    """The operator's CPU per recording for bringing it to Ready, without the steady work
    (queries, upload progress) of the recordings already Ready for the rest of the ramp:
    the ramp's CPU less the steady window's CPU rate per Ready recording times the seconds
    each recording was Ready before the ramp ended. An estimate (the steady rate is that of
    the window after the ramp); None without a Ready recording."""
    if not ready_after:
        return None
    ready_seconds = sum(max(0.0, ramp_s - at) for at in ready_after)
    steady_in_ramp = steady_cpu_per_s / len(ready_after) * ready_seconds
    return round(1000 * max(0.0, ramp_cpu_s - steady_in_ramp) / len(ready_after), 1)


def start_profiler(output: str, pid: int, work: Path, rate: int = 20) -> ManagedProcess:
    """py-spy (the dev extra's, beside this interpreter) sampling the operator without pausing
    it, during the ramp: only the thread holding the GIL (``--gil``), i.e. where the Python
    CPU goes; a thread blocked in a TLS read or handshake otherwise shows as busy."""
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    argv = [py_spy, "record", "--pid", str(pid), "--nonblocking", "--gil", "--rate", str(rate)]
    argv += ["--format", "raw", "--output", output]
    return ManagedProcess("py-spy", argv, work / "py-spy.log").start()


def traced_memory(pid: int, output: Path, timeout: float = 300.0) -> None:
    """Ask the operator run under ``tracemalloc`` (``--tracemalloc``) where its memory is now,
    and wait until it has written that to ``output``."""
    output.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + timeout
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def start_backend(args: argparse.Namespace, work: Path, stack: Stack, callback_url: str) -> Target:
    if args.backend == "load":
        return load_backend(
            work,
            stack,
            callback_url=callback_url,
            secret=CALLBACK_SECRET,
            latency=args.latency,
            progress_interval=args.progress_interval,
        )
    return full_stack(
        work,
        stack,
        count=args.count,
        per_room=args.per_room,
        callback_url=callback_url,
        secret=CALLBACK_SECRET,
    )


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    audit = work / "audit"
    with Stack() as stack:
        control = start_plane(work, stack, audit_args(audit))
        plane = control.plane
        target = start_backend(args, work, stack, control.callback_url)
        baseline = apply_baseline(plane, args, target)
        floor = args.operator.removeprefix("floor-") if args.operator != "real" else None
        operator = start_operator(work, control, stack, floor, traced=args.tracemalloc)
        assert operator.pid is not None
        cpu_start = cpu_seconds(operator.pid)
        rss_idle = peak_rss_mb(operator.pid, "VmRSS")
        pids = {**plane.pids(), **target.pids, "operator": operator.pid}
        ramp_cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
        ramp_writes = api_writes(plane)
        ramp_queueing = api_queueing(plane)
        docs = manifests(args.count, args.per_room, target)
        watch = ReadyWatch(plane, args.timeout)
        watch.start()
        profiler = None
        if args.profile:
            profiler = start_profiler(args.profile, operator.pid, work, args.profile_rate)
        time.sleep(1.0)  # the watch is open before the first object exists
        applied = time.monotonic()
        plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs), timeout=args.timeout)
        applied_all = time.monotonic()
        deadline = applied + args.timeout
        while len(watch.first_ready) < args.count and time.monotonic() < deadline:
            time.sleep(0.1)
        first_ready = {name: at - applied for name, at in dict(watch.first_ready).items()}
        seen = dict(watch.first_seen)
        after_seen = [
            at - seen[name] for name, at in dict(watch.first_ready).items() if name in seen
        ]
        all_ready = time.monotonic()
        watch.stop()
        if profiler is not None:
            profiler.stop(signal.SIGINT)
        if args.tracemalloc:
            traced_memory(operator.pid, Path(args.tracemalloc))
        ramp_end = time.time()
        ramp_cpu = {
            name: round(cpu_seconds(pids[name]) - before, 2) for name, before in ramp_cpu.items()
        }
        ramp_writes = difference(api_writes(plane), ramp_writes)
        ramp_queueing = difference(api_queueing(plane), ramp_queueing)
        time.sleep(args.settle)
        writes_before, cpu_before = api_writes(plane), cpu_seconds(operator.pid)
        steady_profiler = None
        if args.profile_steady:
            steady_profiler = start_profiler(
                args.profile_steady, operator.pid, work, args.profile_rate
            )
        time.sleep(args.steady)
        writes_after, cpu_after = api_writes(plane), cpu_seconds(operator.pid)
        if steady_profiler is not None:
            steady_profiler.stop(signal.SIGINT)
        latencies = list(first_ready.values())
        ramp_s = all_ready - applied
        steady_cpu_s = cpu_after - cpu_before
        steady_writes = difference(writes_after, writes_before)
        audited = list(read_audit(audit / "audit.log"))
        written = per_recording(audited, NAMESPACE, ramp_end)
        p99 = round(percentile(latencies, 0.99), 2) if latencies else None
        result = {
            "backend": args.backend,
            "operator": args.operator,
            "count": args.count,
            "ready": len(first_ready),
            "ready_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "ready_p99_s": p99,
            "ready_max_s": round(max(latencies), 2) if latencies else None,
            "apply_with_operator_s": round(applied_all - applied, 1),
            "ready_after_creation_p50_s": round(statistics.median(after_seen), 2)
            if after_seen
            else None,
            "ready_after_creation_p99_s": round(percentile(after_seen, 0.99), 2)
            if after_seen
            else None,
            "all_ready_after_s": round(all_ready - applied, 1),
            "watch_reconnects": watch.reconnects,
            "baseline_apply_without_operator": baseline,
            "ready_p99_minus_apply_alone_s": None
            if p99 is None
            else round(p99 - baseline["apply_s"], 2),
            "writes_per_recording_creation_to_ready": written.writes,
            "steps_to_ready_s": steps_to_ready(audited, NAMESPACE),
            "writes_per_recording_starting": written.starting,
            "writes_creation_to_ready_by_kind": written.by_kind,
            "writes_refused_per_recording": written.failed,
            "writes_after_ready_in_ramp_by_kind": written.after_ready,
            "recordings_in_audit": written.recordings,
            "ramp_writes_per_recording": {
                kind: round(count / args.count, 2) for kind, count in ramp_writes.items()
            },
            "ramp_cpu_s_by_process": ramp_cpu,
            "ramp_api_server": queueing_summary(ramp_queueing),
            "operator_cpu_ms_per_recording_ramp": round(
                1000 * ramp_cpu["operator"] / max(1, args.count), 1
            ),
            "steady_window_s": args.steady,
            "steady_writes_per_recording_per_minute": round(
                sum(steady_writes.values()) / max(1, len(first_ready)) / (args.steady / 60), 3
            ),
            "steady_writes_by_kind": steady_writes,
            "operator_cpu_s_total": round(cpu_after - cpu_start, 1),
            "operator_cpu_percent_steady": round(100 * steady_cpu_s / args.steady, 1),
            "operator_cpu_ms_per_recording_to_ready_estimate": starting_cpu_ms(
                ramp_cpu["operator"], ramp_s, latencies, steady_cpu_s / args.steady
            ),
            "operator_peak_rss_mb": round(peak_rss_mb(operator.pid), 1),
            "operator_rss_mb_before_apply": round(rss_idle, 1),
            "operator_rss_mb_at_end": round(peak_rss_mb(operator.pid, "VmRSS"), 1),
        }
        return result


def main(argv: list[str] | None = None) -> None:
    parser = stack_parser(
        "python -m benchmarks.operator",
        count=500,
        timeout=600.0,
        timeout_help="the applies, deletion and all Ready, s",
    )
    parser.add_argument(
        "--backend",
        choices=("recorder", "load"),
        default="recorder",
        help="recorder: Janus, versitygw and the recorder; load: the load backend alone",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="load backend: start answer -> event 40, s"
    )
    parser.add_argument(
        "--progress-interval", type=float, default=60.0, help="load backend: event 33 every s"
    )
    parser.add_argument(
        "--operator",
        choices=("real", *(f"floor-{writes}" for writes in FLOOR_WRITES)),
        default="real",
        help="floor-ready, floor-same: kopf with a handler that only writes (floor.py)",
    )
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--steady", type=float, default=180.0)
    parser.add_argument(
        "--profile", default=None, help="py-spy's collapsed stacks of the operator's ramp here"
    )
    parser.add_argument(
        "--profile-steady", default=None, help="py-spy's stacks of the steady window here"
    )
    parser.add_argument("--profile-rate", type=int, default=20, help="py-spy samples a second")
    parser.add_argument(
        "--tracemalloc",
        default=None,
        help="run the operator under tracemalloc; where its memory is at the ramp's end, here",
    )
    args, _ = parser.parse_known_args(argv)
    print_result(args, run, "bench-operator-")


if __name__ == "__main__":
    main()
