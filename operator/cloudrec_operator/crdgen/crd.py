"""Build CustomResourceDefinition objects (plain dicts) from the API models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloudrec_operator.api import GROUP
from cloudrec_operator.api.base import ApiObject
from cloudrec_operator.api.v1alpha1 import (
    VERSION,
    CloudRecording,
    ClusterRecordingBackend,
    RecordingBackend,
)
from cloudrec_operator.crdgen.schema import structural_schema

__all__ = ["RESOURCES", "PrinterColumn", "Resource", "build_crd", "crd_file_name"]

READY_JSONPATH = '.status.conditions[?(@.type=="Ready")].status'
VERIFIED_JSONPATH = '.status.conditions[?(@.type=="Verified")].status'


@dataclass(frozen=True)
class PrinterColumn:
    """One ``kubectl get`` column."""

    name: str
    type: str
    json_path: str
    description: str
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The CRD's additionalPrinterColumns entry."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            out["priority"] = self.priority
        return out


AGE = PrinterColumn(
    "Age", "date", ".metadata.creationTimestamp", "Time since the object was created"
)


@dataclass(frozen=True)
class Resource:
    """A top-level API model and how the CRD presents it."""

    model: type[ApiObject]
    categories: tuple[str, ...]
    columns: tuple[PrinterColumn, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> str:
        """The resource's kind."""
        return self.model.KIND

    @property
    def plural(self) -> str:
        """The resource's plural name."""
        return self.model.PLURAL


_BACKEND_COLUMNS = (
    PrinterColumn("URL", "string", ".spec.url", "Base URL of the recording service"),
    PrinterColumn("Service", "string", ".spec.serviceKind", "Hosted or SelfHosted"),
    PrinterColumn("Ready", "string", READY_JSONPATH, "Whether the service is reachable"),
    AGE,
)

RESOURCES: tuple[Resource, ...] = (
    Resource(
        CloudRecording,
        categories=("recording",),
        columns=(
            PrinterColumn("Channel", "string", ".spec.channelName", "The recorded channel"),
            PrinterColumn("Phase", "string", ".status.phase", "Where the recording is"),
            PrinterColumn("Ready", "string", READY_JSONPATH, "Whether the spec is satisfied"),
            PrinterColumn(
                "Queue", "integer", ".status.queuePosition", "Place in the backend's queue"
            ),
            PrinterColumn(
                "Upload %", "integer", ".status.upload.progress", "Percent of data uploaded"
            ),
            PrinterColumn(
                "Verified",
                "string",
                VERIFIED_JSONPATH,
                "Whether the bucket matches the recording's signed manifest",
            ),
            AGE,
            PrinterColumn("Recording ID", "string", ".status.recordingId", "The sid", priority=1),
            PrinterColumn(
                "Backend", "string", ".spec.backendRef.name", "The backend used", priority=1
            ),
        ),
    ),
    Resource(RecordingBackend, categories=("recording",), columns=_BACKEND_COLUMNS),
    Resource(ClusterRecordingBackend, categories=("recording",), columns=_BACKEND_COLUMNS),
)
"""Every resource of the API, in the order the CRD files are written.

The category must not equal any resource name: kubectl resolves categories first,
so a category "cloudrecording" would hide the singular name.
"""


def crd_file_name(resource: Resource) -> str:
    """``<plural>.<group>.yaml``."""
    return f"{resource.plural}.{GROUP}.yaml"


def _openapi(resource: Resource) -> dict[str, Any]:
    schema = structural_schema(resource.model)
    props = schema["properties"]
    props["apiVersion"] = {
        "description": "APIVersion defines the versioned schema of this representation of an "
        "object.",
        "type": "string",
    }
    props["kind"] = {
        "description": "Kind is a string value representing the REST resource this object "
        "represents.",
        "type": "string",
    }
    props["metadata"] = {"type": "object"}
    schema["required"] = ["spec"]
    return schema


def build_crd(resource: Resource) -> dict[str, Any]:
    """The CustomResourceDefinition of one resource, as a plain dict."""
    model = resource.model
    names: dict[str, Any] = {
        "kind": resource.kind,
        "listKind": f"{resource.kind}List",
        "plural": resource.plural,
        "singular": model.SINGULAR,
        "shortNames": list(model.SHORT_NAMES),
        "categories": list(resource.categories),
    }
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": _openapi(resource)},
        "subresources": {"status": {}},
        "additionalPrinterColumns": [c.to_dict() for c in resource.columns],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{resource.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": names,
            "scope": "Namespaced" if model.NAMESPACED else "Cluster",
            "versions": [version],
        },
    }
