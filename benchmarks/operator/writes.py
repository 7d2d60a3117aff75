"""Counting the Kubernetes API writes of the operator benchmark.

Two sources, both the API server's own:

* ``apiserver_request_total`` (``/metrics``): mutating requests on cloudrecordings and
  events, by ``verb resource/subresource``, between two moments (the ramp, the steady window);
* the **audit log** (``--audit-policy-file``, :data:`AUDIT_POLICY`): one line per write on a
  CloudRecording or an Event, with the object's name (an Event's from its
  ``involvedObject``), the user agent and the time it was stored. :func:`per_recording`
  counts each recording's writes from its creation to the write that made it Ready,
  by what they were (:func:`kind_of`), leaving out the create itself (``kubectl apply``);
  Ready is the status write that sets the Ready condition True (status writes are logged
  with their request).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_operator.api.names import CLOUDRECORDINGS, GROUP, TRACKING_ANNOTATION

WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
AUDIT_VERBS = ("create", "update", "patch", "delete")

AUDIT_POLICY = f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Request
    verbs: ["create"]
    resources: [{{group: "", resources: ["events"]}}]
  - level: Request
    verbs: ["update", "patch"]
    resources: [{{group: "{GROUP}", resources: ["{CLOUDRECORDINGS}"]}}]
  - level: Request
    verbs: ["create", "update", "patch", "delete"]
    resources: [{{group: "{GROUP}", resources: ["{CLOUDRECORDINGS}/status"]}}]
  - level: Metadata
    verbs: ["create", "delete"]
    resources: [{{group: "{GROUP}", resources: ["{CLOUDRECORDINGS}"]}}]
  - level: None
"""


def audit_args(workdir: Path) -> list[str]:
    """kube-apiserver flags for an audit log of the writes counted here."""
    policy = workdir / "audit-policy.yaml"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(AUDIT_POLICY)
    return [
        f"--audit-policy-file={policy}",
        f"--audit-log-path={workdir / 'audit.log'}",
        "--audit-log-format=json",
        "--audit-log-maxsize=0",
    ]


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
            CLOUDRECORDINGS,
            "events",
        ):
            kind = f"{labels['verb']} {labels['resource']}/{labels.get('subresource', '')}"
            writes[kind] = writes.get(kind, 0.0) + float(line.rsplit(" ", 1)[1])
    return writes


def api_queueing(plane: ControlPlane) -> dict[str, float]:
    """Where the API server's time on requests went so far: the request duration's sum and
    count per verb on cloudrecordings and events, and API Priority and Fairness' queue wait
    and dispatched requests per priority level (the benchmark's clients are system:masters,
    whose level ``exempt`` is never queued)."""
    with plane.http_client() as client:
        text = client.get("/metrics").text
    sums: dict[str, float] = {}
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if name not in (
            "apiserver_request_duration_seconds_sum",
            "apiserver_request_duration_seconds_count",
            "apiserver_flowcontrol_request_wait_duration_seconds_sum",
            "apiserver_flowcontrol_dispatched_requests_total",
        ):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if name.startswith("apiserver_request_duration"):
            if labels.get("resource") not in (CLOUDRECORDINGS, "events"):
                continue
            key = f"{name.rsplit('_', 1)[1]} {labels.get('verb')} {labels.get('resource')}"
        else:
            key = f"{name.split('_')[2]} {labels.get('priority_level', '')}"
        sums[key] = sums.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return sums


def queueing_summary(ramp: Mapping[str, float]) -> dict[str, object]:
    """The ramp's :func:`api_queueing` difference as mean server-side latency per verb (ms),
    APF queue wait (s, per priority level) and requests dispatched per priority level."""
    latency = {}
    for key, total in ramp.items():
        if key.startswith("sum "):
            count = ramp.get(f"count {key[4:]}", 0.0)
            if count:
                latency[key[4:]] = round(1000 * total / count, 1)
    return {
        "server_latency_ms_mean": latency,
        "apf_wait_s": {k[8:]: round(v, 2) for k, v in ramp.items() if k.startswith("request ")},
        "apf_dispatched": {k[11:]: v for k, v in ramp.items() if k.startswith("dispatched ")},
    }


def difference(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0) > 0}


@dataclass(frozen=True)
class Write:
    """One write the audit log holds."""

    namespace: str
    name: str
    """The CloudRecording written, or the one an Event is about."""
    kind: str
    at: float
    """When it was stored (epoch seconds)."""
    code: int
    agent: str
    ready: bool = False
    """A status write that says Ready=True."""


def kind_of(entry: Mapping[str, object]) -> str:
    """What a write was, in words: the verb, the resource, and for metadata patches which
    part of the metadata they change (finalizers, which annotations)."""
    ref = entry.get("objectRef") or {}
    assert isinstance(ref, Mapping)
    verb, resource = str(entry.get("verb")), str(ref.get("resource"))
    if resource == "events":
        request = entry.get("requestObject") or {}
        reason = request.get("reason", "?") if isinstance(request, Mapping) else "?"
        return f"create Event {reason}"
    if ref.get("subresource") == "status":
        return f"{verb} status"
    if verb != "patch" and verb != "update":
        return f"{verb} cloudrecording"
    request = entry.get("requestObject")
    parts: list[str] = []
    if isinstance(request, list):  # a JSON patch (the finalizer removal)
        parts = sorted({str(op.get("path", "?")) for op in request if isinstance(op, Mapping)})
    elif isinstance(request, Mapping):
        meta = request.get("metadata") or {}
        if isinstance(meta, Mapping):
            if "finalizers" in meta:
                parts.append("finalizers")
            parts.extend(sorted(str(a) for a in (meta.get("annotations") or {})))
        parts.extend(sorted(k for k in request if k != "metadata"))
    return f"{verb} metadata [{', '.join(parts) or '-'}]"


TRACKING = TRACKING_ANNOTATION


class Changes:
    """What each write changed against the same recording's previous write: the status
    fields, and the keys of the operator's tracking annotation (JSON)."""

    def __init__(self) -> None:
        self._status: dict[tuple[str, str], dict[str, Any]] = {}
        self._tracking: dict[tuple[str, str], dict[str, Any]] = {}

    def describe(self, key: tuple[str, str], entry: Mapping[str, Any], kind: str) -> str:
        request = entry.get("requestObject")
        if kind.endswith("status") and isinstance(request, Mapping):
            status = dict(request.get("status") or {})
            old = self._status.get(key, {})
            merged = {k: v for k, v in {**old, **status}.items() if v is not None}
            self._status[key] = merged
            changed = sorted(
                k for k in set(merged) | set(old) if _norm(merged.get(k)) != _norm(old.get(k))
            )
            return f"{kind} [{', '.join(changed) or '-'}]"
        if kind.startswith("patch metadata") and isinstance(request, Mapping):
            raw = ((request.get("metadata") or {}).get("annotations") or {}).get(TRACKING)
            if raw is None:
                return kind
            try:
                new = json.loads(raw) if raw else {}
            except ValueError:
                return kind
            new = new if isinstance(new, dict) else {}
            old = self._tracking.get(key, {})
            self._tracking[key] = new
            changed = sorted(k for k in set(new) | set(old) if new.get(k) != old.get(k))
            return kind.replace(TRACKING, f"tracking: {', '.join(changed) or '-'}")
        return kind


def _norm(value: Any) -> Any:
    """Conditions compared by type, status and reason (not their times)."""
    if isinstance(value, list) and all(isinstance(c, Mapping) and "type" in c for c in value):
        return sorted((c.get("type"), c.get("status"), c.get("reason")) for c in value)
    return value


def read_audit(path: Path) -> Iterator[Write]:
    """Every completed write on a CloudRecording or an Event in the audit log."""
    if not path.exists():
        return
    changes = Changes()
    with path.open() as lines:
        for line in lines:
            entry = json.loads(line)
            if entry.get("stage") != "ResponseComplete" or entry.get("verb") not in AUDIT_VERBS:
                continue
            ref = entry.get("objectRef") or {}
            name = ref.get("name", "")
            if ref.get("resource") == "events":
                involved = (entry.get("requestObject") or {}).get("involvedObject") or {}
                if involved.get("kind") != "CloudRecording":
                    continue
                name = involved.get("name", "")
            elif ref.get("resource") != CLOUDRECORDINGS:
                continue
            if not name and entry.get("verb") == "create":
                name = ((entry.get("responseObject") or {}).get("metadata") or {}).get("name", "")
            stored = datetime.fromisoformat(entry["stageTimestamp"].replace("Z", "+00:00"))
            code = int((entry.get("responseStatus") or {}).get("code", 0))
            key = (str(ref.get("namespace", "")), str(name))
            kind = kind_of(entry)
            if code < 400:
                kind = changes.describe(key, entry, kind)
            yield Write(
                namespace=key[0],
                name=key[1],
                kind=kind,
                at=stored.timestamp(),
                code=code,
                agent=str(entry.get("userAgent", "")).split("/")[0],
                ready=code < 400 and _says_ready(entry.get("requestObject")),
            )


def _says_ready(request: object) -> bool:
    status = request.get("status") if isinstance(request, Mapping) else None
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    return any(
        isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
        for c in conditions or ()
    )


@dataclass(frozen=True)
class PerRecording:
    recordings: int
    """Recordings both created and made Ready in the audit log."""
    writes: float
    """Writes per recording from creation to Ready, the create itself left out."""
    by_kind: dict[str, float]
    """The same by what the write was (and who sent it)."""
    failed: float
    """Of them, writes the API server refused (conflicts), per recording."""
    after_ready: dict[str, float]
    """Writes per recording after Ready until the end of the ramp window, by kind."""
    starting: float
    """Writes per recording from creation to the end of the ramp, the create and the
    writes that report upload progress left out: everything starting it cost, the
    Connecting and Started Events included even when posted just after the Ready write."""


def steps_to_ready(writes: list[Write], namespace: str) -> dict[str, dict[str, float]]:
    """Where each recording's time from creation to Ready went, from the audit log: the
    seconds from its creation to its first write on the CloudRecording, from each such
    write to the next, up to the write that made it Ready (Events left out), as p50 and p99
    over the recordings. A long step is time spent in the operator (its protocol calls,
    queues, CPU) plus the API server's answer to the write that ends it."""
    steps: dict[str, list[float]] = {}
    made: dict[str, float] = {}
    done: set[str] = set()
    for write in sorted(writes, key=lambda w: w.at):
        if write.namespace != namespace or write.kind.startswith("create Event"):
            continue
        if write.kind == "create cloudrecording":
            made.setdefault(write.name, write.at)
            steps.setdefault(write.name, [])
            continue
        if write.name not in made or write.name in done or write.code >= 400:
            continue
        taken = steps[write.name]
        taken.append(write.at - made[write.name] - sum(taken))
        if write.ready:
            done.add(write.name)
    by_step: dict[int, list[float]] = {}
    for name in done:
        for index, seconds in enumerate(steps[name]):
            by_step.setdefault(index, []).append(seconds)
    result = {}
    for index, values in sorted(by_step.items()):
        values.sort()
        label = "creation -> write 1" if index == 0 else f"write {index} -> write {index + 1}"
        result[label] = {
            "p50": round(values[len(values) // 2], 2),
            "p99": round(values[min(len(values) - 1, int(0.99 * len(values)))], 2),
            "recordings": float(len(values)),
        }
    return result


def per_recording(writes: list[Write], namespace: str, until: float) -> PerRecording:
    """Each recording's writes from its creation up to and including the status write that
    made it Ready, and after that until ``until`` (epoch seconds)."""
    created: dict[str, float] = {}
    ready_at: dict[str, float] = {}
    for write in writes:
        if write.namespace != namespace:
            continue
        if write.kind == "create cloudrecording":
            created.setdefault(write.name, write.at)
        if write.ready:
            ready_at.setdefault(write.name, write.at)
    counted = [name for name in ready_at if name in created]
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    failed = 0
    for write in writes:
        if write.namespace != namespace or write.name not in ready_at:
            continue
        if write.kind == "create cloudrecording" or write.name not in created:
            continue
        if write.at < created[write.name]:
            continue
        label = f"{write.kind} ({write.agent})"
        if write.at <= ready_at[write.name]:
            before[label] += 1
            failed += write.code >= 400
        elif write.at <= until:
            after[label] += 1
    n = max(1, len(counted))
    progress = sum(v for k, v in after.items() if is_progress(k))
    starting = sum(before.values()) + sum(after.values()) - progress
    return PerRecording(
        recordings=len(counted),
        writes=round(sum(before.values()) / n, 2),
        by_kind={k: round(v / n, 2) for k, v in before.most_common()},
        failed=round(failed / n, 2),
        after_ready={k: round(v / n, 2) for k, v in after.most_common()},
        starting=round(starting / n, 2),
    )


def is_progress(kind: str) -> bool:
    """A write that reports upload progress (event 33): its Event, status, annotation."""
    return any(mark in kind for mark in ("UploadProgress", "status [upload]", "progress_event"))
