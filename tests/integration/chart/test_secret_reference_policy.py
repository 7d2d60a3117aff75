"""A namespace user cannot make the operator read a Secret they could not read themselves.

The chart's ValidatingAdmissionPolicy (rendered by ``helm template``, applied as is) runs
in the real kube-apiserver with RBAC. The user is a ServiceAccount token whose Role
allows CloudRecordings and RecordingBackends in its namespace and, for one Secret only
(``readable``), ``get``. Every reference to another Secret of that namespace is refused
at admission with a message naming the field, the user and the Secret; the readable
Secret is accepted, and an update that keeps a reference is not asked again.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures.tenants import TENANT, rendered_policy, tenant_kubeconfig, tenant_rbac

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.tools import tool
from cloudrec_operator.api.names import API_VERSION

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

APPLY = ("apply", "-f", "-")


@pytest.fixture
def policy(control_plane: ControlPlane, crds_installed: list[Path]) -> Iterator[None]:
    docs = rendered_policy(control_plane)
    assert [d["kind"] for d in docs] == [
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    ]
    control_plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))
    try:
        yield
    finally:
        for doc in docs:
            control_plane.kubectl(
                "delete", doc["kind"], doc["metadata"]["name"], "--ignore-not-found", check=False
            )


@pytest.fixture
def tenant(
    control_plane: ControlPlane, policy: None, namespace: str, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A namespace user: CloudRecordings and RecordingBackends, and `get` on one Secret."""
    docs = tenant_rbac(namespace, ["readable"])
    for name in ("readable", "admins-only"):
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name},
                "stringData": {"accessKey": "a", "secretKey": secrets.token_hex(8)},
            }
        )
    control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=yaml.safe_dump_all(docs))
    yield namespace, tenant_kubeconfig(control_plane, namespace, tmp_path / "tenant.kubeconfig")


def recording(name: str, bucket_secret: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "backendRef": {"name": "local"},
        "appId": "app",
        "channelName": "room",
        "uid": "4242",
        "storageConfig": {
            "vendor": "S3Compatible",
            "bucket": "b",
            "endpoint": "http://127.0.0.1:9000",
            "credentialsSecretRef": {"name": bucket_secret},
        },
        **spec,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "CloudRecording",
        "metadata": {"name": name},
        "spec": body,
    }


def backend(name: str, credentials: str, callbacks: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "url": "http://recorder.example:8080",
        "credentialsSecretRef": {"name": credentials},
    }
    if callbacks is not None:
        spec["callbackSecretRef"] = {"name": callbacks}
    return {
        "apiVersion": API_VERSION,
        "kind": "RecordingBackend",
        "metadata": {"name": name},
        "spec": spec,
    }


def as_tenant(
    cp: ControlPlane, namespace: str, kubeconfig: Path, doc: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("kubectl")), "--kubeconfig", str(kubeconfig), "-n", namespace, *APPLY],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        env=cp.env(),
        timeout=60,
    )


def wait_enforced(cp: ControlPlane, namespace: str, kubeconfig: Path) -> None:
    """The API server loads a new policy within a few seconds: wait until it refuses."""
    deadline = time.monotonic() + 60
    probe = recording("probe", "admins-only")
    while time.monotonic() < deadline:
        answer = as_tenant(cp, namespace, kubeconfig, probe)
        if answer.returncode != 0 and "admins-only" in answer.stderr:
            return
        if answer.returncode == 0:
            cp.kubectl("-n", namespace, "delete", "cloudrecording", "probe", check=False)
        time.sleep(0.5)
    raise AssertionError("the secret reference policy was never enforced")


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (recording("steal-bucket", "admins-only"), "spec.storageConfig.credentialsSecretRef"),
        (
            recording("steal-token", "readable", tokenSecretRef={"name": "admins-only"}),
            "spec.tokenSecretRef",
        ),
        (
            recording(
                "steal-decryption",
                "readable",
                recordingConfig={
                    "decryption": {"mode": "AES128XTS", "secretRef": {"name": "admins-only"}}
                },
            ),
            "spec.recordingConfig.decryption.secretRef",
        ),
        (backend("steal-credentials", "admins-only"), "spec.credentialsSecretRef"),
        (backend("steal-callbacks", "readable", "admins-only"), "spec.callbackSecretRef"),
    ],
    ids=["bucket", "token", "decryption", "backend-credentials", "backend-callbacks"],
)
def test_a_namespace_user_cannot_refer_to_a_secret_they_may_not_read(
    control_plane: ControlPlane,
    tenant: tuple[str, Path],
    doc: dict[str, Any],
    field: str,
) -> None:
    namespace, kubeconfig = tenant
    wait_enforced(control_plane, namespace, kubeconfig)
    answer = as_tenant(control_plane, namespace, kubeconfig, doc)
    assert answer.returncode != 0, answer.stdout
    assert f"{field}: system:serviceaccount:{namespace}:{TENANT} may not get Secret " in (
        answer.stderr
    )
    assert f"{namespace}/admins-only" in answer.stderr
    kind = doc["kind"].lower()
    got = control_plane.kubectl(
        "-n", namespace, "get", kind, doc["metadata"]["name"], "--ignore-not-found", "-o", "name"
    )
    assert got.stdout.strip() == ""


def test_a_secret_the_user_may_read_is_accepted_and_kept_through_updates(
    control_plane: ControlPlane, tenant: tuple[str, Path]
) -> None:
    namespace, kubeconfig = tenant
    wait_enforced(control_plane, namespace, kubeconfig)
    own = recording("own-bucket", "readable", tokenSecretRef={"name": "readable"})
    assert as_tenant(control_plane, namespace, kubeconfig, own).returncode == 0
    assert (
        as_tenant(control_plane, namespace, kubeconfig, backend("own", "readable")).returncode == 0
    )
    # An update that keeps the references is fine; one that swaps in another Secret is not.
    stopped = recording("own-bucket", "readable", tokenSecretRef={"name": "readable"})
    stopped["spec"]["state"] = "Stopped"
    assert as_tenant(control_plane, namespace, kubeconfig, stopped).returncode == 0
    swapped = recording("own-bucket", "readable", tokenSecretRef={"name": "admins-only"})
    answer = as_tenant(control_plane, namespace, kubeconfig, swapped)
    assert answer.returncode != 0
    assert "spec.tokenSecretRef" in answer.stderr and "admins-only" in answer.stderr
    # The administrator (who may read every Secret) is never refused.
    admin = recording("admins-own", "admins-only")
    control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(admin))
