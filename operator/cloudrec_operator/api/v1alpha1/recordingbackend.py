"""RecordingBackend (namespaced) and ClusterRecordingBackend (cluster-scoped).

A backend is a service that speaks the cloud recording REST protocol: the hosted
service or our self-hosted recorder (cert-manager Issuer / ClusterIssuer style).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from cloudrec_operator.api.base import ApiObject, CrdModel
from cloudrec_operator.api.conditions import Condition, conditions_field
from cloudrec_operator.api.enums import ServiceKind
from cloudrec_operator.api.v1alpha1.common import (
    DNS_SUBDOMAIN_PATTERN,
    SECRET_KEY_PATTERN,
)

__all__ = [
    "BackendCredentialsRef",
    "CallbackSecretRef",
    "ClusterRecordingBackend",
    "RecordingBackend",
    "RecordingBackendSpec",
    "RecordingBackendStatus",
]


class BackendCredentialsRef(CrdModel):
    """A Secret holding the customer id and customer secret (HTTP Basic auth)."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret. For a RecordingBackend it is in the backend's namespace; for a
    ClusterRecordingBackend in the operator's namespace."""
    namespace: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    )
    """Namespace of the Secret, for a ClusterRecordingBackend (the operator's namespace
    when unset); ignored for a RecordingBackend, whose Secrets are in its own namespace."""
    customer_id_key: str = Field(
        default="customerId", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN
    )
    """Key in the Secret's data that holds the customer id (the Basic auth user name)."""
    customer_secret_key: str = Field(
        default="customerSecret", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN
    )
    """Key in the Secret's data that holds the customer secret (the Basic auth password)."""


class CallbackSecretRef(CrdModel):
    """A Secret key holding the secret that signs the service's event callbacks."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret (same namespace rules as credentialsSecretRef)."""
    namespace: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    )
    """Namespace of the Secret, for a ClusterRecordingBackend (the operator's namespace
    when unset); ignored for a RecordingBackend, whose Secrets are in its own namespace."""
    key: str = Field(
        default="callbackSecret", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN
    )
    """Key in the Secret's data that holds the callback signing secret."""


class RecordingBackendSpec(CrdModel):
    """How to reach a recording service and authenticate to it."""

    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\s]+$")
    """Base URL of the service, e.g. https://api.agora.io or http://recorder.ns.svc:8080."""
    service_kind: ServiceKind = ServiceKind.SELF_HOSTED
    """Hosted (the cloud recording service) or SelfHosted (the recorder in this project)."""
    credentials_secret_ref: BackendCredentialsRef
    """The Secret holding the customer id and customer secret."""
    default_app_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    """App ID used by CloudRecordings that set none."""
    callback_secret_ref: CallbackSecretRef | None = None
    """The Secret used to verify signed event callbacks; callbacks are not accepted
    without it."""
    request_timeout_seconds: int = Field(default=10, ge=1, le=300)
    """Timeout of one request to the service, in seconds (default 10)."""


class RecordingBackendStatus(CrdModel):
    """The observed state of the backend, written by the operator."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The .metadata.generation the operator last checked."""
    conditions: list[Condition] = conditions_field()
    """Ready (first): the service answered and the credentials Secret exists."""


class RecordingBackend(ApiObject):
    """A recording service that CloudRecordings in this namespace can use."""

    KIND: ClassVar[str] = "RecordingBackend"
    PLURAL: ClassVar[str] = "recordingbackends"
    SINGULAR: ClassVar[str] = "recordingbackend"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("recbackend",)
    NAMESPACED: ClassVar[bool] = True

    api_version: Literal["cloudrecording.io/v1alpha1"] = "cloudrecording.io/v1alpha1"
    """APIVersion of the object."""
    kind: Literal["RecordingBackend"] = "RecordingBackend"
    """Kind of the object."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object metadata."""
    spec: RecordingBackendSpec
    """How to reach the service."""
    status: RecordingBackendStatus | None = None
    """The observed state, written by the operator."""


class ClusterRecordingBackend(ApiObject):
    """A recording service that CloudRecordings in every namespace can use."""

    KIND: ClassVar[str] = "ClusterRecordingBackend"
    PLURAL: ClassVar[str] = "clusterrecordingbackends"
    SINGULAR: ClassVar[str] = "clusterrecordingbackend"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("crecbackend",)
    NAMESPACED: ClassVar[bool] = False

    api_version: Literal["cloudrecording.io/v1alpha1"] = "cloudrecording.io/v1alpha1"
    """APIVersion of the object."""
    kind: Literal["ClusterRecordingBackend"] = "ClusterRecordingBackend"
    """Kind of the object."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object metadata."""
    spec: RecordingBackendSpec
    """How to reach the service."""
    status: RecordingBackendStatus | None = None
    """The observed state, written by the operator."""
