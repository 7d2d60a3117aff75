"""An admin kubeconfig with the certificate data inline (kubectl, kopf and helm read it)."""

from __future__ import annotations

import base64
from typing import Any

import yaml

CONTEXT = "cloudrec-local"
"""The one cluster, user and context name in the kubeconfig."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def admin_kubeconfig(
    server: str, *, ca_pem: bytes, client_cert_pem: bytes, client_key_pem: bytes
) -> dict[str, Any]:
    """A kubeconfig for ``server`` that trusts ``ca_pem`` and logs in with a client certificate."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": CONTEXT,
                "user": {
                    "client-certificate-data": _b64(client_cert_pem),
                    "client-key-data": _b64(client_key_pem),
                },
            }
        ],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def dump(config: dict[str, Any]) -> str:
    """The kubeconfig as YAML text."""
    return yaml.safe_dump(config, sort_keys=False)
