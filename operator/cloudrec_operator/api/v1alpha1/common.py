"""Names and references shared by the v1alpha1 resources."""

from __future__ import annotations

from pydantic import Field

from cloudrec_operator.api.base import CrdModel
from cloudrec_operator.api.names import API_VERSION, VERSION

__all__ = [
    "API_VERSION",
    "DNS_SUBDOMAIN_PATTERN",
    "SECRET_KEY_PATTERN",
    "UID_MAX",
    "UID_PATTERN",
    "VERSION",
    "SecretKeyRef",
]

UID_MAX = 4294967295
"""The largest uid (2^32 - 1); uids are strings holding an integer in 1..UID_MAX."""
UID_PATTERN = r"^[1-9][0-9]{0,9}$"
"""A uid as a string: a positive integer without leading zeros (range checked separately)."""
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
"""A Kubernetes object name (RFC 1123 subdomain)."""
SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
"""A key inside a Secret's data."""


def uid_in_range(value: str) -> str:
    """Check that a uid string is within 1..UID_MAX (the pattern already holds)."""
    if not 1 <= int(value) <= UID_MAX:
        raise ValueError(f"uid {value} is out of range 1..{UID_MAX}")
    return value


class SecretKeyRef(CrdModel):
    """A key in a Secret in the same namespace as the object that refers to it."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret."""
    key: str = Field(min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN)
    """Key in the Secret's data that holds the value."""
