"""The operator's finalizer write against a real kube-apiserver: nobody else's finalizer lost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from tests.contract.crd_cases import minimal

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_operator.api.names import FINALIZER
from cloudrec_operator.k8s.client import Kube, load_kube

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds_installed")]

OURS = FINALIZER
THEIRS = "example.com/keep-me"


@pytest.fixture
async def kube(control_plane: ControlPlane) -> AsyncIterator[Kube]:
    client = load_kube(str(control_plane.kubeconfig))
    yield client
    await client.aclose()


def stored(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    out = plane.kubectl("get", "cloudrecording", name, "-n", namespace, "-o", "json").stdout
    result: dict[str, Any] = json.loads(out)
    return result


def create(plane: ControlPlane, namespace: str) -> dict[str, Any]:
    obj = minimal()
    plane.kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))
    return stored(plane, namespace, obj["metadata"]["name"])


async def test_a_finalizer_added_over_a_stale_read_keeps_one_written_in_between(
    control_plane: ControlPlane, namespace: str, kube: Kube
) -> None:
    obj = create(control_plane, namespace)
    name = obj["metadata"]["name"]
    read_before = obj["metadata"]  # what the operator's pass saw
    control_plane.kubectl(
        "patch", "cloudrecording", name, "-n", namespace, "--type=merge",
        "-p", json.dumps({"metadata": {"finalizers": [THEIRS]}}),
    )  # fmt: skip
    added = await kube.add_finalizer(
        namespace, name, OURS, read_before, annotations={"example.com/note": "kept"}
    )
    meta = stored(control_plane, namespace, name)["metadata"]
    assert added
    assert meta["finalizers"] == [THEIRS, OURS]
    assert meta["annotations"]["example.com/note"] == "kept"
    control_plane.kubectl(
        "patch", "cloudrecording", name, "-n", namespace, "--type=merge",
        "-p", json.dumps({"metadata": {"finalizers": None}}),
    )  # fmt: skip


async def test_adding_a_finalizer_to_a_recording_that_is_gone_says_so(
    control_plane: ControlPlane, namespace: str, kube: Kube
) -> None:
    obj = create(control_plane, namespace)
    name = obj["metadata"]["name"]
    control_plane.kubectl(
        "patch", "cloudrecording", name, "-n", namespace, "--type=merge",
        "-p", json.dumps({"metadata": {"labels": {"touched": "yes"}}}),
    )  # fmt: skip
    control_plane.kubectl("delete", "cloudrecording", name, "-n", namespace)
    assert not await kube.add_finalizer(namespace, name, OURS, obj["metadata"])
