"""Who may use which backend (docs/security.md): pure checks, no I/O.

* A namespaced RecordingBackend is written by a namespace user, who so chooses where the
  operator connects (with the backend credentials, storage keys and the channel token in
  the request). An administrator may allow only some hosts (``--backend-host``): a name,
  ``*.suffix`` (any name under the suffix) or an IP network (for IP literals).
* A ClusterRecordingBackend is the administrator's: ``allowedNamespaces`` (a label
  selector on the Namespace) and ``allowedAppIds`` say which recordings may use it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cloudrec_operator.api.v1alpha1.recordingbackend import (
    ClusterRecordingBackendSpec,
    LabelSelector,
)


@dataclass(frozen=True)
class Refusal:
    """Why a recording may not use its backend: a CamelCase reason and a message."""

    reason: str
    message: str


def host_allowed(url: str, patterns: Iterable[str]) -> bool:
    """Whether the host of ``url`` matches one of ``patterns`` (none: every host)."""
    patterns = [p.strip().lower() for p in patterns if p.strip()]
    if not patterns:
        return True
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for pattern in patterns:
        if "/" in pattern:
            try:
                network = ipaddress.ip_network(pattern, strict=False)
            except ValueError:
                continue
            if address is not None and address in network:
                return True
        elif pattern.startswith("*."):
            if address is None and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern.rstrip("."):
            return True
    return False


def selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label selector semantics; an empty selector matches everything."""
    if selector is None:
        return True
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    for requirement in selector.match_expressions or ():
        present = requirement.key in labels
        values = requirement.values or []
        if requirement.operator == "In" and labels.get(requirement.key) not in values:
            return False
        if requirement.operator == "NotIn" and present and labels[requirement.key] in values:
            return False
        if requirement.operator == "Exists" and not present:
            return False
        if requirement.operator == "DoesNotExist" and present:
            return False
    return True


def namespaced_backend_refusal(
    name: str, namespace: str, url: str, patterns: Iterable[str]
) -> Refusal | None:
    """A RecordingBackend whose host the administrator has not allowed."""
    if host_allowed(url, patterns):
        return None
    host = urlsplit(url).hostname or ""
    return Refusal(
        "BackendHostNotAllowed",
        f"RecordingBackend {namespace}/{name}: host {host} is not in the operator's "
        "allowed backend hosts (--backend-host)",
    )


def cluster_backend_refusal(
    name: str,
    spec: ClusterRecordingBackendSpec,
    namespace: str,
    namespace_labels: Mapping[str, str],
    app_id: str | None,
) -> Refusal | None:
    """A ClusterRecordingBackend that does not serve this namespace or app id."""
    if not selector_matches(spec.allowed_namespaces, namespace_labels):
        return Refusal(
            "BackendNotAllowed",
            f"ClusterRecordingBackend {name} does not serve namespace {namespace} "
            "(spec.allowedNamespaces)",
        )
    if spec.allowed_app_ids is not None and app_id not in spec.allowed_app_ids:
        return Refusal(
            "AppIdNotAllowed",
            f"ClusterRecordingBackend {name} does not serve app id {app_id} (spec.allowedAppIds)",
        )
    return None


__all__ = [
    "Refusal",
    "cluster_backend_refusal",
    "host_allowed",
    "namespaced_backend_refusal",
    "selector_matches",
]
