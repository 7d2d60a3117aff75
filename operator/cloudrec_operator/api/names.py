"""The API's names, defined once: group, version, plurals, and the keys under the group.

Python code everywhere (operator, devenv, tests, benchmarks, hack) takes them from here;
YAML, chart templates and docs spell them out, and ``tests/contract/test_api_names.py``
checks that they spell these.
"""

from __future__ import annotations

GROUP = "cloudrecording.io"
"""The API group of every resource."""
VERSION = "v1alpha1"
"""The served and stored version."""
API_VERSION = f"{GROUP}/{VERSION}"
"""``apiVersion`` of every object."""

CLOUDRECORDINGS = "cloudrecordings"
RECORDINGBACKENDS = "recordingbackends"
CLUSTERRECORDINGBACKENDS = "clusterrecordingbackends"
PLURALS = (CLOUDRECORDINGS, RECORDINGBACKENDS, CLUSTERRECORDINGBACKENDS)
"""Every resource's plural name."""

FINALIZER = f"{GROUP}/finalizer"
"""The operator's finalizer on CloudRecordings."""
TRACKING_ANNOTATION = f"{GROUP}/tracking"
"""The operator's signed bookkeeping annotation on CloudRecordings."""


def crd_name(plural: str) -> str:
    """``<plural>.<group>``: the CRD's name, and the resource as RBAC and kubectl spell it."""
    return f"{plural}.{GROUP}"


def api_path(plural: str, namespace: str | None = None, name: str | None = None) -> str:
    """The API server path of a collection or an object of ``plural``."""
    path = f"/apis/{API_VERSION}"
    if namespace is not None:
        path += f"/namespaces/{namespace}"
    path += f"/{plural}"
    return path if name is None else f"{path}/{name}"


__all__ = [
    "API_VERSION",
    "CLOUDRECORDINGS",
    "CLUSTERRECORDINGBACKENDS",
    "FINALIZER",
    "GROUP",
    "PLURALS",
    "RECORDINGBACKENDS",
    "TRACKING_ANNOTATION",
    "VERSION",
    "api_path",
    "crd_name",
]
