"""Operator settings: one typed object, parsed once from the command line and environment.

Every option has an environment variable (``CLOUDREC_<NAME>``) so a chart can
set it without arguments; the command line wins. Nothing is read at import time.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MIN_STATE_KEY = 16
"""Bytes of the state key at least."""


@dataclass(frozen=True)
class Settings:
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means every namespace (cluster-wide)."""
    kubeconfig: str | None = None
    """Kubeconfig file; in-cluster service account when unset."""
    operator_namespace: str = "default"
    """Where the Secrets of ClusterRecordingBackends live when they name no namespace."""
    callback_host: str = "0.0.0.0"
    """Address the signed event callback receiver listens on."""
    callback_port: int = 8443
    """Port of the callback receiver (POST /callbacks; also serves /metrics)."""
    metrics_port: int | None = None
    """A separate port for Prometheus /metrics; none means only the callback port serves it."""
    liveness: str | None = "http://0.0.0.0:8080/healthz"
    """kopf's liveness/readiness endpoint (``--liveness``); none disables it."""
    peering: str | None = None
    """kopf peering object name for standby replicas; none means standalone."""
    priority: int = 0
    """Peering priority of this replica (the highest active one works)."""
    tick: float = 5.0
    """Seconds between timer passes over each live recording (queries are adaptive)."""
    first_query: float = 2.0
    """Seconds after start of the first query (the steady interval instead when a callback
    confirmed the start before it)."""
    steady_query: float = 30.0
    """Seconds between queries of a confirmed recording (at most maxIdleTime)."""
    resource_id_lifetime: float = 300.0
    """Seconds a resource id may be used by start (the service's validity, protocol.md §3.1):
    acquired again before it; a start whose answer was lost is known harmless after it."""
    request_retries: int = 0
    """Resends inside one protocol call; the reconcile loop has its own backoff."""
    state_key: bytes | None = field(default=None, repr=False)
    """Key that signs the operator's tracking annotation (``--state-key-file`` or
    ``CLOUDREC_STATE_KEY``); a random key per process when unset (docs/security.md)."""
    state_key_secret: str | None = None
    """Secret in ``operator_namespace`` (key ``stateKey``) holding the state key, created
    with a random key at the first start when it does not exist (``--state-key-secret``):
    the chart's default, so ``helm template`` renders no random value (GitOps)."""
    backend_hosts: tuple[str, ...] = ()
    """Hosts a namespaced RecordingBackend may name (``host``, ``*.suffix`` or an IP
    network); empty allows every host. ClusterRecordingBackends are the admin's own."""
    ca_file: str | None = None
    """A CA bundle trusted for backends besides the system's (the recorder's private CA)."""
    callback_window: float = 300.0
    """Seconds a callback's ``notifyMs`` may differ from now (replays are refused)."""
    log_format: str = "json"
    """json (structured) or plain."""
    verbose: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"CLOUDREC_{name}", default)


def parse(argv: Sequence[str] | None = None) -> Settings:
    """Settings from ``argv`` (default: ``sys.argv``) and ``CLOUDREC_*`` variables."""
    parser = argparse.ArgumentParser(
        prog="python -m cloudrec_operator", description="CloudRecording operator (kopf)"
    )
    parser.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=None,
        help="namespace to watch (repeatable); all namespaces when absent",
    )
    parser.add_argument("--all-namespaces", "-A", action="store_true")
    parser.add_argument("--kubeconfig", default=_env("KUBECONFIG", os.environ.get("KUBECONFIG")))
    parser.add_argument(
        "--operator-namespace",
        default=_env("OPERATOR_NAMESPACE", os.environ.get("POD_NAMESPACE", "default")),
    )
    parser.add_argument("--callback-host", default=_env("CALLBACK_HOST", "0.0.0.0"))
    parser.add_argument(
        "--callback-port", type=int, default=int(_env("CALLBACK_PORT", "8443") or 8443)
    )
    parser.add_argument("--metrics-port", type=int, default=_int_or_none(_env("METRICS_PORT")))
    parser.add_argument(
        "--liveness",
        default=_env("LIVENESS", "http://0.0.0.0:8080/healthz"),
        help="kopf liveness endpoint URL; 'none' disables it",
    )
    parser.add_argument(
        "--peering",
        default=_env("PEERING"),
        help="peering name for standby replicas; standalone when absent",
    )
    parser.add_argument("--priority", type=int, default=int(_env("PRIORITY", "0") or 0))
    parser.add_argument("--tick", type=float, default=float(_env("TICK", "5") or 5))
    parser.add_argument("--first-query", type=float, default=float(_env("FIRST_QUERY", "2") or 2))
    parser.add_argument(
        "--steady-query", type=float, default=float(_env("STEADY_QUERY", "30") or 30)
    )
    parser.add_argument(
        "--resource-id-lifetime",
        type=float,
        default=float(_env("RESOURCE_ID_LIFETIME", "300") or 300),
        help="seconds the backend keeps an unused resource id valid (default 300)",
    )
    parser.add_argument(
        "--request-retries", type=int, default=int(_env("REQUEST_RETRIES", "0") or 0)
    )
    parser.add_argument(
        "--state-key-file",
        default=_env("STATE_KEY_FILE"),
        help="file holding the key that signs the tracking annotation "
        "(or CLOUDREC_STATE_KEY); a random key per process when absent",
    )
    parser.add_argument(
        "--state-key-secret",
        default=_env("STATE_KEY_SECRET"),
        help="Secret in the operator namespace (key stateKey) holding that key; created "
        "with a random key when it does not exist",
    )
    parser.add_argument(
        "--backend-host",
        action="append",
        default=None,
        help="host a namespaced RecordingBackend may use (repeatable; host, *.suffix or "
        "CIDR; or CLOUDREC_BACKEND_HOSTS, comma-separated); every host when absent",
    )
    parser.add_argument(
        "--ca-file",
        default=_env("CA_FILE"),
        help="CA bundle trusted for backends besides the system's (a private recorder CA)",
    )
    parser.add_argument(
        "--callback-window",
        type=float,
        default=float(_env("CALLBACK_WINDOW", "300") or 300),
        help="seconds a callback's notifyMs may be away from now (default 300)",
    )
    parser.add_argument(
        "--log-format", choices=("json", "plain"), default=_env("LOG_FORMAT", "json")
    )
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    namespaces: tuple[str, ...] = ()
    if args.namespace and not args.all_namespaces:
        namespaces = tuple(args.namespace)
    elif not args.all_namespaces and _env("NAMESPACES"):
        namespaces = tuple(n for n in (_env("NAMESPACES") or "").split(",") if n)
    liveness = None if (args.liveness or "").lower() in ("", "none") else args.liveness
    hosts = args.backend_host or [h for h in (_env("BACKEND_HOSTS") or "").split(",")]
    return Settings(
        namespaces=namespaces,
        kubeconfig=args.kubeconfig or None,
        operator_namespace=args.operator_namespace,
        callback_host=args.callback_host,
        callback_port=args.callback_port,
        metrics_port=args.metrics_port,
        liveness=liveness,
        peering=args.peering or None,
        priority=args.priority,
        tick=args.tick,
        first_query=args.first_query,
        steady_query=args.steady_query,
        resource_id_lifetime=args.resource_id_lifetime,
        request_retries=args.request_retries,
        state_key=_state_key(args.state_key_file),
        state_key_secret=args.state_key_secret or None,
        backend_hosts=tuple(h.strip() for h in hosts if h.strip()),
        ca_file=args.ca_file or None,
        callback_window=args.callback_window,
        log_format=args.log_format,
        verbose=args.verbose,
    )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def _state_key(path: str | None) -> bytes | None:
    """The state key from ``path`` or ``CLOUDREC_STATE_KEY`` (surrounding blanks dropped)."""
    if path:
        with open(path, "rb") as handle:
            key = handle.read().strip()
    else:
        key = (_env("STATE_KEY") or "").strip().encode()
    if key and len(key) < MIN_STATE_KEY:
        raise SystemExit(f"the state key must be at least {MIN_STATE_KEY} bytes")
    return key or None
