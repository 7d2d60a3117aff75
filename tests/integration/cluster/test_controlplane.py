"""The local control plane is a real Kubernetes: version, namespace deletion, garbage collection."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable

import pytest

from cloudrec_devenv.controlplane import ControlPlane, KubectlError

pytestmark = pytest.mark.cluster


def _eventually(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.5)


def _exists(plane: ControlPlane, *args: str) -> bool:
    result = plane.kubectl("get", *args, "-o", "name", check=False)
    if result.returncode != 0 and "NotFound" not in result.stderr:
        raise AssertionError(f"kubectl get {' '.join(args)} failed: {result.stderr}")
    return result.returncode == 0


def test_kubectl_version_reports_the_v1_34_4_server(control_plane: ControlPlane) -> None:
    versions = json.loads(control_plane.kubectl("version", "-o", "json").stdout)

    assert versions["serverVersion"]["gitVersion"] == "v1.34.4"
    assert versions["clientVersion"]["gitVersion"] == "v1.34.4"


def test_the_admin_kubeconfig_is_exported_for_the_session(control_plane: ControlPlane) -> None:
    assert os.environ["KUBECONFIG"] == str(control_plane.kubeconfig)
    assert control_plane.kubectl("auth", "can-i", "*", "*").stdout.strip() == "yes"


def test_a_deleted_namespace_disappears_with_everything_in_it(control_plane: ControlPlane) -> None:
    name = f"doomed-{secrets.token_hex(3)}"
    control_plane.kubectl("create", "namespace", name)
    control_plane.kubectl("-n", name, "create", "configmap", "settings", "--from-literal=a=b")
    control_plane.kubectl("-n", name, "create", "secret", "generic", "creds", "--from-literal=c=d")

    control_plane.kubectl("delete", "namespace", name, "--wait=false")

    _eventually(
        lambda: not _exists(control_plane, "namespace", name),
        timeout=45,
        what=f"deletion of namespace {name}",
    )
    assert not _exists(control_plane, "-n", name, "configmap", "settings")
    assert not _exists(control_plane, "-n", name, "secret", "creds")


def test_a_new_namespace_gets_a_default_service_account(
    control_plane: ControlPlane, namespace: str
) -> None:
    _eventually(
        lambda: _exists(control_plane, "-n", namespace, "serviceaccount", "default"),
        timeout=30,
        what="the default ServiceAccount",
    )


@pytest.mark.timeout(120)
def test_an_owned_configmap_is_garbage_collected_when_its_owner_is_deleted(
    control_plane: ControlPlane, namespace: str
) -> None:
    control_plane.kubectl("-n", namespace, "create", "configmap", "owner")
    owner_uid = control_plane.kubectl(
        "-n", namespace, "get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"
    ).stdout
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "dependent",
            "namespace": namespace,
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner_uid}
            ],
        },
        "data": {"owned": "yes"},
    }
    control_plane.apply(json.dumps(dependent))
    assert _exists(control_plane, "-n", namespace, "configmap", "dependent")

    control_plane.kubectl("-n", namespace, "delete", "configmap", "owner", "--wait=false")

    _eventually(
        lambda: not _exists(control_plane, "-n", namespace, "configmap", "dependent"),
        timeout=90,
        what="garbage collection of the dependent ConfigMap",
    )


def test_apply_accepts_yaml_text_and_kubectl_errors_carry_stderr(
    control_plane: ControlPlane, namespace: str
) -> None:
    control_plane.apply(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-text\n"
        f"  namespace: {namespace}\ndata:\n  k: v\n"
    )

    value = control_plane.kubectl(
        "-n", namespace, "get", "configmap", "from-text", "-o", "jsonpath={.data.k}"
    ).stdout
    assert value == "v"
    with pytest.raises(KubectlError, match='configmaps "absent" not found'):
        control_plane.kubectl("-n", namespace, "get", "configmap", "absent")
