"""Prometheus metrics of the operator (served on the callback port's /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

RECORDINGS = Gauge(
    "cloudrec_recordings",
    "CloudRecordings known to this operator, by phase",
    ["phase"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "cloudrec_queue_depth",
    "CloudRecordings waiting in a backend's queue for capacity (phase Queued), by backend "
    "(kind/namespace/name, or kind/name for a ClusterRecordingBackend)",
    ["backend"],
    registry=REGISTRY,
)
CALLBACKS_RECEIVED = Counter(
    "cloudrec_callbacks_received_total",
    "Event callbacks received and applied, by eventType",
    ["event_type"],
    registry=REGISTRY,
)
CALLBACKS_REJECTED = Counter(
    "cloudrec_callbacks_rejected_total",
    "Event callbacks rejected or dropped, by reason (bad_signature, unknown_recording: "
    "no recording took the sid, held_full: no room to hold an early callback, malformed, "
    "no_secret, duplicate)",
    ["reason"],
    registry=REGISTRY,
)
CALLBACKS_HELD = Counter(
    "cloudrec_callbacks_held_total",
    "Event callbacks that arrived before their sid was known, held until it was",
    registry=REGISTRY,
)
PROTOCOL_LATENCY = Histogram(
    "cloudrec_protocol_request_seconds",
    "Latency of recording protocol requests, by operation and outcome",
    ["operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
PROTOCOL_ERRORS = Counter(
    "cloudrec_protocol_errors_total",
    "Failed recording protocol requests, by operation and seed error code",
    ["operation", "sdk_code"],
    registry=REGISTRY,
)
KUBE_WRITES = Counter(
    "cloudrec_kubernetes_writes_total",
    "Writes to the Kubernetes API by the reconciler, by kind (status, metadata, event)",
    ["kind"],
    registry=REGISTRY,
)
RECONCILE_ERRORS = Counter(
    "cloudrec_reconcile_errors_total",
    "Reconcile passes that ended in an unexpected error",
    registry=REGISTRY,
)
