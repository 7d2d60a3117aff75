"""RecordingBackend (namespaced) and ClusterRecordingBackend (cluster-scoped).

A backend is a service that speaks the cloud recording REST protocol: the hosted
service or our self-hosted recorder (cert-manager Issuer / ClusterIssuer style).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from cloudrec_operator.api.base import ApiObject, CrdModel
from cloudrec_operator.api.conditions import Condition, conditions_field
from cloudrec_operator.api.enums import KeySource, ServiceKind
from cloudrec_operator.api.names import CLUSTERRECORDINGBACKENDS, RECORDINGBACKENDS
from cloudrec_operator.api.v1alpha1.common import (
    DNS_SUBDOMAIN_PATTERN,
    SECRET_KEY_PATTERN,
)

__all__ = [
    "BACKEND_URL_PATTERN",
    "BackendCredentialsRef",
    "CallbackSecretRef",
    "ClusterRecordingBackend",
    "ClusterRecordingBackendSpec",
    "LabelSelector",
    "LabelSelectorRequirement",
    "RecordingBackend",
    "RecordingBackendSpec",
    "RecordingBackendStatus",
]


_LABEL = r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?"
BACKEND_URL_PATTERN = (
    rf"^https?://({_LABEL}(\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(:[0-9]{{1,5}})?"
    r"(/[-A-Za-z0-9._~!$&'()*+,;=:%/]*)?$"
)
"""A backend base URL: scheme, host (name or [IPv6]), optional port and path; no user
information, query or fragment, so the operator's requests go to the path it builds under
the base and nowhere else (docs/security.md)."""


def backend_url(value: str) -> str:
    """Check a backend URL beyond its pattern (port range, IP literal), naming the field."""
    parts = urlsplit(value)
    if parts.username is not None or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("spec.url must not carry user information, a query or a fragment")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValueError("spec.url has an invalid port") from None
    host = parts.hostname or ""
    if host.startswith("[") or ":" in host:
        ipaddress.ip_address(host.strip("[]"))
    return value


class LabelSelectorRequirement(CrdModel):
    """One label requirement: key, operator and values (Kubernetes label selector)."""

    key: str = Field(min_length=1, max_length=317)
    """The label key."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """In, NotIn, Exists or DoesNotExist."""
    values: list[Annotated[str, Field(max_length=63)]] | None = Field(default=None, max_length=64)
    """Values for In and NotIn; empty for Exists and DoesNotExist."""


class LabelSelector(CrdModel):
    """A Kubernetes label selector; an empty selector selects everything."""

    match_labels: dict[str, Annotated[str, Field(max_length=63)]] | None = Field(
        default=None, max_length=64
    )
    """Labels that must all be present with these values."""
    match_expressions: list[LabelSelectorRequirement] | None = Field(default=None, max_length=64)
    """Requirements that must all hold."""


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


class ManifestPublicKeyRef(CrdModel):
    """A Secret or ConfigMap key holding the Ed25519 public key (PEM) that checks the
    manifests the recorder signs with its private key (docs/verification.md)."""

    kind: KeySource = KeySource.SECRET
    """Secret (default) or ConfigMap (a public key is no secret)."""
    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret or ConfigMap (same namespace rules as credentialsSecretRef)."""
    namespace: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    )
    """Namespace of the Secret or ConfigMap, for a ClusterRecordingBackend (the operator's
    namespace when unset); ignored for a RecordingBackend (its own namespace)."""
    key: str = Field(
        default="manifestPublicKey", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN
    )
    """Key in the Secret's or ConfigMap's data that holds the public key (-----BEGIN PUBLIC
    KEY-----)."""


class RecordingBackendSpec(CrdModel):
    """How to reach a recording service and authenticate to it."""

    url: str = Field(min_length=1, max_length=2048, pattern=BACKEND_URL_PATTERN)
    """Base URL of the service, e.g. https://api.agora.io or http://recorder.ns.svc:8080:
    scheme, host, optional port and path; no user information, query or fragment."""
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
    without it. It also checks manifests signed with HMAC-SHA256."""
    manifest_public_key_ref: ManifestPublicKeyRef | None = None
    """The Ed25519 public key that checks the recorder's manifests when the recorder signs
    them with a private key (its manifestSigningKey). Set, only Ed25519 signatures count."""
    request_timeout_seconds: int = Field(default=10, ge=1, le=300)
    """Timeout of one request to the service, in seconds (default 10)."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return backend_url(value)


class ClusterRecordingBackendSpec(RecordingBackendSpec):
    """A cluster-wide backend: the namespaced backend's fields plus who may use it."""

    allowed_namespaces: LabelSelector | None = None
    """Namespaces whose CloudRecordings may use this backend (a label selector on the
    Namespace; kubernetes.io/metadata.name holds its name). Every namespace when unset."""
    allowed_app_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=256, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """App IDs CloudRecordings may record through this backend; any when unset."""


class RecordingBackendStatus(CrdModel):
    """The observed state of the backend, written by the operator."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The .metadata.generation the operator last checked."""
    conditions: list[Condition] = conditions_field()
    """Ready (first): the service answered and the credentials Secret exists."""


class RecordingBackend(ApiObject):
    """A recording service that CloudRecordings in this namespace can use."""

    KIND: ClassVar[str] = "RecordingBackend"
    PLURAL: ClassVar[str] = RECORDINGBACKENDS
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
    PLURAL: ClassVar[str] = CLUSTERRECORDINGBACKENDS
    SINGULAR: ClassVar[str] = "clusterrecordingbackend"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("crecbackend",)
    NAMESPACED: ClassVar[bool] = False

    api_version: Literal["cloudrecording.io/v1alpha1"] = "cloudrecording.io/v1alpha1"
    """APIVersion of the object."""
    kind: Literal["ClusterRecordingBackend"] = "ClusterRecordingBackend"
    """Kind of the object."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object metadata."""
    spec: ClusterRecordingBackendSpec
    """How to reach the service."""
    status: RecordingBackendStatus | None = None
    """The observed state, written by the operator."""
