"""The queue on full capacity: N CloudRecordings against a recorder that takes ``capacity``.

Starts a real control plane, Janus (empty rooms), versitygw and one recorder process with
``maxConcurrentRecordings: capacity``, then the operator; applies N CloudRecordings in one
``kubectl apply`` (``capacity`` record, the others wait in phase Queued) and then, ``--rounds``
times, stops one running recording (``state: Stopped``) and waits for the next queued one to
start. From one watch stream it measures:

* per round, **capacity freed -> next start**: from the moment the stopped recording's status
  says Completed (the recorder has let it go; its ``stop`` answered) to the moment a queued
  recording's status carries a sid (its ``start`` answered) (p50, p99, max);
* that no recording was started twice (one sid per resource, ever), that the recorder never
  ran more than ``capacity`` (its ``cloudrec_recordings_active`` gauge, sampled), and that
  the recordings started in queue order (equal priorities, one creation second: by name).

Run inside the test network namespace (``hack/netns-run``):
``python -m benchmarks.operator.queue --count 500 --capacity 20 --rounds 40``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.fixtures.recorder import RecorderProcess

from benchmarks.harness import Stack, print_result
from benchmarks.operator.backends import full_stack
from benchmarks.operator.scale import manifests, percentile
from benchmarks.operator.stack import CALLBACK_SECRET, PATH, start_operator, start_plane
from benchmarks.operator.stack import parser as stack_parser
from cloudrec_devenv.controlplane import ControlPlane


class PhaseWatch(threading.Thread):
    """Per CloudRecording: every sid seen, when it first had one, when it was first Queued
    and first Completed (monotonic seconds), from one watch stream (LIST first)."""

    def __init__(self, plane: ControlPlane, timeout: float) -> None:
        super().__init__(name="phase-watch", daemon=True)
        self.plane, self.timeout = plane, timeout
        self.sids: dict[str, set[str]] = {}
        self.started: dict[str, float] = {}
        self.queued: dict[str, float] = {}
        self.completed: dict[str, float] = {}
        self.lock = threading.Lock()
        self._version = ""
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._stopped.is_set() and time.monotonic() < deadline:
            try:
                if not self._version:
                    with self.plane.http_client(timeout=60) as client:
                        listed = client.get(PATH).raise_for_status().json()
                    for item in listed.get("items") or ():
                        self._note(item)
                    self._version = str(listed["metadata"]["resourceVersion"])
                self._watch(deadline)
            except (httpx.HTTPError, ValueError):
                if not self.plane.running():
                    return
            time.sleep(0.2)

    def _note(self, item: dict[str, Any]) -> None:
        name = item["metadata"]["name"]
        status = item.get("status") or {}
        now = time.monotonic()
        with self.lock:
            sid = status.get("recordingId")
            if sid:
                self.sids.setdefault(name, set()).add(sid)
                self.started.setdefault(name, now)
            if status.get("phase") == "Queued":
                self.queued.setdefault(name, now)
            if status.get("phase") == "Completed":
                self.completed.setdefault(name, now)

    def _watch(self, deadline: float) -> None:
        seconds = max(1, int(deadline - time.monotonic()))
        params = {"watch": "1", "timeoutSeconds": str(seconds), "resourceVersion": self._version}
        with (
            self.plane.http_client(timeout=seconds + 30) as client,
            client.stream("GET", PATH, params=params) as response,
        ):
            for line in response.iter_lines():
                if self._stopped.is_set():
                    return
                if not line:
                    continue
                event = json.loads(line)
                item = event.get("object") or {}
                if event.get("type") == "ERROR":
                    self._version = ""
                    return
                self._version = str((item.get("metadata") or {}).get("resourceVersion", ""))
                if event.get("type") != "BOOKMARK":
                    self._note(item)


def active(recorder: RecorderProcess | None) -> int:
    assert recorder is not None
    text = httpx.get(f"{recorder.base_url}/metrics", auth=recorder.auth, timeout=10).text
    match = re.search(r"^cloudrec_recordings_active (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"not {what} within {timeout} s")


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with Stack() as stack:
        control = start_plane(work, stack)
        plane = control.plane
        target = full_stack(
            work,
            stack,
            count=args.count,
            per_room=args.per_room,
            callback_url=control.callback_url,
            secret=CALLBACK_SECRET,
            capacity=args.capacity,
        )
        recorder = target.recorder
        start_operator(work, control, stack)
        watch = PhaseWatch(plane, args.timeout)
        watch.start()
        time.sleep(1.0)
        applied = time.monotonic()
        docs = manifests(args.count, args.per_room, target)
        plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs), timeout=600)
        wait_until(
            lambda: (
                len(watch.started) >= args.capacity
                and len(watch.started) + len(watch.queued) >= args.count
            ),
            args.timeout,
            "all started or queued",
        )
        settled = round(time.monotonic() - applied, 1)
        peak = active(recorder)
        first = sorted(watch.started)
        latencies: list[float] = []
        order_ok = True
        with plane.http_client(timeout=60) as client:
            for _ in range(args.rounds):
                with watch.lock:
                    running = sorted(n for n in watch.started if n not in watch.completed)
                    before = set(watch.started)
                victim = running[0]
                client.patch(
                    f"{PATH}/{victim}",
                    json={"spec": {"state": "Stopped"}},
                    headers={"Content-Type": "application/merge-patch+json"},
                ).raise_for_status()
                wait_until(lambda v=victim: v in watch.completed, 120, f"{victim} Completed")
                wait_until(
                    lambda b=before: len(watch.started) > len(b), 120, "the next one started"
                )
                with watch.lock:
                    new = [n for n in watch.started if n not in before]
                    freed = watch.completed[victim]
                    latencies.append(max(0.0, min(watch.started[n] for n in new) - freed))
                expected = sorted(n for n in watch.queued if n not in before)[: len(new)]
                order_ok = order_ok and sorted(new) == expected
                peak = max(peak, active(recorder))
        watch.stop()
        twice = sorted(name for name, sids in watch.sids.items() if len(sids) > 1)
        return {
            "count": args.count,
            "capacity": args.capacity,
            "rounds": args.rounds,
            "apply_to_all_started_or_queued_s": settled,
            "started_first": len(first),
            "queued": len(watch.queued),
            "freed_to_next_start_p50_s": round(statistics.median(latencies), 2),
            "freed_to_next_start_p99_s": round(percentile(latencies, 0.99), 2),
            "freed_to_next_start_max_s": round(max(latencies), 2),
            "started_twice": twice,
            "recorder_active_peak": peak,
            "started_in_queue_order": order_ok,
        }


def main(argv: list[str] | None = None) -> None:
    parser = stack_parser(
        "python -m benchmarks.operator.queue",
        count=500,
        timeout=1200.0,
        timeout_help="all started or queued, s",
    )
    parser.add_argument("--capacity", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=40)
    print_result(parser.parse_args(argv), run, "bench-queue-")


if __name__ == "__main__":
    main()
