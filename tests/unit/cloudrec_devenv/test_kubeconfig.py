"""The admin kubeconfig: one cluster, one user, one context, certificate data inline."""

from __future__ import annotations

import base64

import yaml

from cloudrec_devenv.kubeconfig import CONTEXT, admin_kubeconfig, dump


def test_the_kubeconfig_carries_the_server_and_inline_certificate_data() -> None:
    config = admin_kubeconfig(
        "https://127.0.0.1:6443", ca_pem=b"CA", client_cert_pem=b"CERT", client_key_pem=b"KEY"
    )

    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"CA"
    assert base64.b64decode(user["client-certificate-data"]) == b"CERT"
    assert base64.b64decode(user["client-key-data"]) == b"KEY"


def test_the_current_context_joins_the_only_cluster_and_user() -> None:
    config = admin_kubeconfig("https://x", ca_pem=b"", client_cert_pem=b"", client_key_pem=b"")

    assert config["current-context"] == CONTEXT
    assert config["contexts"] == [
        {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}
    ]


def test_the_dumped_yaml_reads_back_unchanged() -> None:
    config = admin_kubeconfig("https://x", ca_pem=b"a", client_cert_pem=b"b", client_key_pem=b"c")

    assert yaml.safe_load(dump(config)) == config
