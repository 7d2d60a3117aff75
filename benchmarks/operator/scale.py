"""N CloudRecordings applied at once against the local control plane and recorder.

Starts a real control plane, Janus, versitygw, the recorder and the operator (each its own
process), creates empty rooms (``--per-room`` recorder uids share one room), applies N
CloudRecordings in one ``kubectl apply`` and measures:

* apply -> Ready True, per recording (p50, p99, max), from one watch stream;
* Kubernetes API writes per recording per minute once steady: the apiserver's own
  ``apiserver_request_total`` for mutating verbs on cloudrecordings and events, over
  ``--steady`` seconds that start ``--settle`` seconds after the last Ready;
* the operator process's CPU (user + system) over the whole run and over the steady
  window, and its peak resident memory (``VmHWM``);
* during the ramp (apply -> all Ready): API writes per recording by verb and resource, and
  the CPU seconds of every process (API server, etcd, Janus, recorder, operator);
* a baseline in the same run: the same ``kubectl apply`` before the operator starts (API
  server and etcd CPU, wall time), deleted again before the measured apply.

Run inside the test network namespace (``hack/netns-run``): the recorder joins Janus rooms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.fixtures.recorder import CallbackSink, start_recorder

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.s3 import S3Server

NAMESPACE = "bench"
CALLBACK_SECRET = "bench-" + secrets.token_hex(8)
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def api_writes(plane: ControlPlane) -> dict[str, float]:
    """Mutating requests on cloudrecordings and events so far, by ``verb resource/subresource``."""
    with plane.http_client() as client:
        text = client.get("/metrics").text
    writes: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if labels.get("verb") in WRITE_VERBS and labels.get("resource") in (
            "cloudrecordings",
            "events",
        ):
            kind = f"{labels['verb']} {labels['resource']}/{labels.get('subresource', '')}"
            writes[kind] = writes.get(kind, 0.0) + float(line.rsplit(" ", 1)[1])
    return writes


def manifests(
    count: int, per_room: int, recorder: Any, namespace: str = NAMESPACE
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "recorder", "namespace": namespace},
            "stringData": {
                "customerId": recorder.customer_id,
                "customerSecret": recorder.customer_secret,
                "callbackSecret": CALLBACK_SECRET,
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bucket", "namespace": namespace},
            "stringData": {
                "accessKey": recorder.s3.access_key,
                "secretKey": recorder.s3.secret_key,
            },
        },
        {
            "apiVersion": "cloudrecording.io/v1alpha1",
            "kind": "RecordingBackend",
            "metadata": {"name": "local", "namespace": namespace},
            "spec": {
                "url": recorder.base_url,
                "credentialsSecretRef": {"name": "recorder"},
                "callbackSecretRef": {"name": "recorder"},
                "defaultAppId": recorder.app_id,
            },
        },
    ]
    for i in range(count):
        docs.append(
            {
                "apiVersion": "cloudrecording.io/v1alpha1",
                "kind": "CloudRecording",
                "metadata": {"name": f"bench-{i:04d}", "namespace": namespace},
                "spec": {
                    "backendRef": {"name": "local"},
                    "channelName": f"bench-room-{i // per_room}",
                    "uid": str(800000 + i),
                    "recordingConfig": {"maxIdleTime": 86400, "streamTypes": "AudioOnly"},
                    "storageConfig": {
                        "vendor": "S3Compatible",
                        "bucket": recorder.bucket,
                        "endpoint": recorder.s3.endpoint,
                        "credentialsSecretRef": {"name": "bucket"},
                    },
                },
            }
        )
    return docs


class ReadyWatch(threading.Thread):
    """Notes when each CloudRecording first shows ``Ready=True``, from one watch stream.

    (Polling a LIST of N objects four times a second cost the API server more CPU than the
    operator's writes at N=500, and would be part of what is measured.)
    """

    def __init__(self, plane: ControlPlane, timeout: float) -> None:
        super().__init__(name="ready-watch", daemon=True)
        self.plane, self.timeout = plane, timeout
        self.first_ready: dict[str, float] = {}

    def run(self) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the plane stops at the end of the run
            self._watch()

    def _watch(self) -> None:
        path = f"/apis/cloudrecording.io/v1alpha1/namespaces/{NAMESPACE}/cloudrecordings"
        params = {"watch": "1", "timeoutSeconds": str(int(self.timeout))}
        with (
            self.plane.http_client(timeout=self.timeout + 30) as client,
            client.stream("GET", path, params=params) as response,
        ):
            for line in response.iter_lines():
                if not line:
                    continue
                item = json.loads(line).get("object") or {}
                conditions = (item.get("status") or {}).get("conditions", [])
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    self.first_ready.setdefault(item["metadata"]["name"], time.monotonic())


def apply_baseline(plane: ControlPlane, args: argparse.Namespace, recorder: Any) -> dict[str, Any]:
    """The same apply with no operator running: what the API server needs just to store the
    N objects (wall time of ``kubectl apply``, API server and etcd CPU). Removed again before
    the operator starts."""
    namespace = "bench-baseline"
    plane.kubectl("create", "namespace", namespace)
    docs = manifests(args.count, args.per_room, recorder, namespace)
    pids = plane.pids()
    cpu = {name: cpu_seconds(pids[name]) for name in ("kube-apiserver", "etcd")}
    started = time.monotonic()
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs), timeout=600)
    wall = time.monotonic() - started
    used = {name: round(cpu_seconds(pids[name]) - before, 1) for name, before in cpu.items()}
    plane.kubectl("delete", "cloudrecordings", "--all", "-n", namespace, "--wait", timeout=600)
    return {"apply_s": round(wall, 1), "cpu_s_by_process": used}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    plane = ControlPlane(work / "controlplane").start()
    stack: list[Any] = [plane]
    try:
        plane.install_crds()
        plane.kubectl("create", "namespace", NAMESPACE)
        janus = Janus(work / "janus").start()
        stack.append(janus)
        rooms = (args.count + args.per_room - 1) // args.per_room
        for room in range(rooms):
            janus.create_room(f"bench-room-{room}")
        s3 = S3Server(work / "s3").start()
        stack.append(s3)
        bucket = "bench-" + secrets.token_hex(4)
        s3.create_bucket(bucket)
        callback_port = free_port()
        sink = CallbackSink(secret=CALLBACK_SECRET)
        recorder = start_recorder(
            work / "recorder",
            janus,
            sink,
            s3,
            bucket,
            callbacks={
                "urls": [f"http://127.0.0.1:{callback_port}/callbacks"],
                "secret": CALLBACK_SECRET,
            },
            maxConcurrentRecordings=args.count + 10,
            resourceIdTtlSeconds=300,
            progressIntervalSeconds=60,  # the service's pace (the test fixture's is 5 s)
        )
        stack.append(recorder.process)
        baseline = apply_baseline(plane, args, recorder)
        liveness = free_port()
        operator = ManagedProcess(
            "operator",
            [
                sys.executable,
                "-m",
                "cloudrec_operator",
                "-A",
                "--kubeconfig",
                str(plane.kubeconfig),
                "--callback-host",
                "127.0.0.1",
                "--callback-port",
                str(callback_port),
                "--liveness",
                f"http://127.0.0.1:{liveness}/healthz",
            ],
            work / "operator.log",
        )
        operator.start()
        stack.append(operator)
        operator.wait_http(f"http://127.0.0.1:{liveness}/healthz", timeout=60)
        assert operator.pid is not None
        cpu_start = cpu_seconds(operator.pid)
        others = {"janus": janus.process.pid, "recorder": recorder.process.pid}
        pids = {**plane.pids(), **{k: v for k, v in others.items() if v is not None}}
        pids["operator"] = operator.pid
        ramp_cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
        ramp_writes = api_writes(plane)
        docs = manifests(args.count, args.per_room, recorder)
        watch = ReadyWatch(plane, args.timeout)
        watch.start()
        time.sleep(1.0)  # the watch is open before the first object exists
        applied = time.monotonic()
        plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs), timeout=600)
        deadline = applied + args.timeout
        while len(watch.first_ready) < args.count and time.monotonic() < deadline:
            time.sleep(0.1)
        first_ready = {name: at - applied for name, at in dict(watch.first_ready).items()}
        all_ready = time.monotonic()
        ramp_cpu = {
            name: round(cpu_seconds(pids[name]) - before, 1) for name, before in ramp_cpu.items()
        }
        ramp_writes = {
            kind: count - ramp_writes.get(kind, 0.0)
            for kind, count in api_writes(plane).items()
            if count - ramp_writes.get(kind, 0.0) > 0
        }
        time.sleep(args.settle)
        writes_before, cpu_before = api_writes(plane), cpu_seconds(operator.pid)
        time.sleep(args.steady)
        writes_after, cpu_after = api_writes(plane), cpu_seconds(operator.pid)
        latencies = list(first_ready.values())
        steady_writes = {
            kind: count - writes_before.get(kind, 0.0)
            for kind, count in writes_after.items()
            if count - writes_before.get(kind, 0.0) > 0
        }
        result = {
            "count": args.count,
            "ready": len(first_ready),
            "ready_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "ready_p99_s": round(percentile(latencies, 0.99), 2) if latencies else None,
            "ready_max_s": round(max(latencies), 2) if latencies else None,
            "all_ready_after_s": round(all_ready - applied, 1),
            "baseline_apply_without_operator": baseline,
            "ramp_writes_per_recording": {
                kind: round(count / args.count, 2) for kind, count in ramp_writes.items()
            },
            "ramp_cpu_s_by_process": ramp_cpu,
            "steady_window_s": args.steady,
            "steady_writes_per_recording_per_minute": round(
                sum(steady_writes.values()) / max(1, len(first_ready)) / (args.steady / 60), 3
            ),
            "steady_writes_by_kind": steady_writes,
            "operator_cpu_s_total": round(cpu_after - cpu_start, 1),
            "operator_cpu_percent_steady": round(100 * (cpu_after - cpu_before) / args.steady, 1),
            "operator_peak_rss_mb": round(peak_rss_mb(operator.pid), 1),
        }
        return result
    finally:
        for part in reversed(stack):
            try:
                part.stop()
            except Exception as error:  # keep stopping the rest
                print(f"stopping {part!r} failed: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.operator")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--per-room", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--steady", type=float, default=180.0)
    parser.add_argument("--workdir", default=None, help="keep logs here (default: a temp dir)")
    args, _ = parser.parse_known_args(argv)
    if args.workdir:
        result = run(args, Path(args.workdir))
    else:
        with tempfile.TemporaryDirectory(prefix="bench-operator-") as tmp:
            result = run(args, Path(tmp))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
