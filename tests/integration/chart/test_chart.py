"""The Helm chart against a real kube-apiserver.

``helm lint``; ``helm template`` applied with a server-side dry run;
``helm install`` creating every object; and the operator's ServiceAccount
checked with ``kubectl auth can-i``: it can do what the operator does, and
not more, in both RBAC modes.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.tools import REPO_ROOT, tool
from cloudrec_operator.api.names import (
    CLOUDRECORDINGS,
    CLUSTERRECORDINGBACKENDS,
    RECORDINGBACKENDS,
    crd_name,
)
from cloudrec_operator.handlers.callbacks import READY_PATH
from cloudrec_operator.settings import parse
from cloudrec_recorder.settings import RecorderSettings, env_overrides

pytestmark = pytest.mark.cluster

CHART = REPO_ROOT / "charts" / "cloud-recording-operator"
KUBE_VERSION = "1.34.4"


def helm(cp: ControlPlane, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(tool("helm")), *args],
        capture_output=True,
        text=True,
        env=cp.env(),
        timeout=180,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def set_flags(sets: tuple[str, ...]) -> list[str]:
    return [flag for value in sets for flag in ("--set", value)]


def render(cp: ControlPlane, *sets: str) -> list[dict[str, Any]]:
    args = ["template", "rel", str(CHART), "--kube-version", KUBE_VERSION, "--namespace", "ops"]
    return [doc for doc in yaml.safe_load_all(helm(cp, *args, *set_flags(sets)).stdout) if doc]


def install(cp: ControlPlane, namespace: str, *sets: str) -> None:
    """``helm install rec`` into ``namespace`` with ``sets``; the CRDs are installed already."""
    flags = set_flags(("crds.install=false", *sets))
    helm(cp, "install", "rec", str(CHART), "-n", namespace, *flags)


def can_i(cp: ControlPlane, sa: str, verb: str, resource: str, namespace: str) -> bool:
    result = cp.kubectl("auth", "can-i", verb, resource, f"--as={sa}", "-n", namespace, check=False)
    return result.stdout.strip() == "yes"


@pytest.fixture
def release(control_plane: ControlPlane, crds_installed: None, namespace: str) -> Iterator[str]:
    """A namespace to install a release into; the release is uninstalled afterwards."""
    yield namespace
    helm(control_plane, "uninstall", "rec", "-n", namespace, "--wait=false", check=False)


def test_chart_passes_helm_lint_in_strict_mode(control_plane: ControlPlane) -> None:
    result = helm(control_plane, "lint", str(CHART), "--strict")
    assert "0 chart(s) failed" in result.stdout


def test_chart_values_schema_rejects_a_bad_value_naming_it(control_plane: ControlPlane) -> None:
    result = helm(
        control_plane,
        "template",
        "rel",
        str(CHART),
        "--kube-version",
        KUBE_VERSION,
        "--set",
        "operator.replicas=0",
        check=False,
    )
    assert result.returncode != 0
    assert "/operator/replicas" in result.stderr


def test_chart_renders_the_crds_gated_and_kept_on_uninstall(control_plane: ControlPlane) -> None:
    crds = [d for d in render(control_plane) if d["kind"] == "CustomResourceDefinition"]
    names = {d["metadata"]["name"] for d in crds}
    assert crd_name(CLOUDRECORDINGS) in names
    assert all(d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for d in crds)
    without = render(control_plane, "crds.install=false")
    assert not [d for d in without if d["kind"] == "CustomResourceDefinition"]


def test_chart_crds_are_the_generated_ones(control_plane: ControlPlane) -> None:
    rendered = {
        d["metadata"]["name"]: d["spec"]
        for d in render(control_plane)
        if d["kind"] == "CustomResourceDefinition"
    }
    generated = {}
    for path in sorted((REPO_ROOT / "crds").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        generated[doc["metadata"]["name"]] = doc["spec"]
    assert rendered == generated, "run make crds"


@pytest.mark.parametrize(
    "sets",
    [
        (
            "recorder.enabled=true",
            "recorder.autoscaling.enabled=true",
            "callbacks.ingress.enabled=true",
        ),
        ("operator.watchNamespace=default", "recorder.enabled=true"),
        (
            "recorder.enabled=true",
            "recorder.tls.secretName=recorder-tls",
            "recorder.configRevision=r2",
            "operator.backendHosts={recorder.media.svc,10.0.0.0/8}",
            "operator.stateKey.existingSecret=my-state-key",
        ),
    ],
    ids=["cluster-wide-with-recorder", "single-namespace", "hardened"],
)
def test_chart_output_passes_a_server_side_dry_run(
    control_plane: ControlPlane, crds_installed: None, sets: tuple[str, ...]
) -> None:
    docs = render(control_plane, "crds.install=false", *sets)
    manifest = yaml.safe_dump_all(docs)
    result = control_plane.kubectl(
        "apply", "--dry-run=server", "-n", "ops", "-f", "-", input=manifest, check=False
    )
    # The release namespace does not exist; namespaced objects are validated in "default".
    if result.returncode != 0 and "not found" in result.stderr:
        manifest = manifest.replace("namespace: ops", "namespace: default")
        result = control_plane.kubectl(
            "apply", "--dry-run=server", "-f", "-", input=manifest, check=False
        )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "sets",
    [(), ("recorder.enabled=true", "operator.replicas=2")],
    ids=["defaults", "with-recorder"],
)
def test_helm_template_renders_the_same_manifests_every_time_for_gitops(
    control_plane: ControlPlane, sets: tuple[str, ...]
) -> None:
    """Argo CD renders with ``helm template`` on every sync: a value that changes from
    render to render (a random key) would be a change to apply at every sync."""
    first, second = render(control_plane, *sets), render(control_plane, *sets)
    assert first == second
    secrets = [d for d in first if d["kind"] == "Secret"]
    assert not [d for d in secrets if "stateKey" in (d.get("data") or {})]


def test_the_recorder_api_admits_only_operator_and_recorder_pods_and_no_secret_is_hashed(
    control_plane: ControlPlane,
) -> None:
    """Issue 12 items 11 and 17 as the chart renders them (no CNI here enforces a policy):
    the recorder API port admits the operator and the other replicas only, the operator's
    callback port the recorders (and what the values add); the recorder pod template
    carries no hash of its configuration (an unsalted hash of the customer secret), only
    the revision the administrator chose."""
    secret = "customer-" + uuid.uuid4().hex
    docs = render(
        control_plane,
        "recorder.enabled=true",
        f"recorder.config.customerSecret={secret}",
        "recorder.configRevision=r7",
    )
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    recorder = policies["rel-cloud-recording-operator-recorder"]
    [api] = [rule for rule in recorder["ingress"] if rule["ports"][0]["port"] == "http"]
    admitted = [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in api["from"]
    ]
    assert admitted == ["operator", "recorder"]
    assert "rel-cloud-recording-operator-operator" in policies
    [statefulset] = [d for d in docs if d["kind"] == "StatefulSet"]
    annotations = statefulset["spec"]["template"]["metadata"].get("annotations") or {}
    assert annotations == {"cloudrecording.io/config-revision": "r7"}
    rendered = yaml.safe_dump_all([d for d in docs if d["kind"] != "Secret"])
    assert "checksum" not in rendered
    assert hashlib.sha256(secret.encode()).hexdigest() not in rendered


def test_helm_install_creates_every_object_of_the_release(
    control_plane: ControlPlane, release: str
) -> None:
    install(control_plane, release, "recorder.enabled=true")
    expected = {
        ("Deployment", "rec-cloud-recording-operator-operator"),
        ("StatefulSet", "rec-cloud-recording-operator-recorder"),
        ("Service", "rec-cloud-recording-operator-callbacks"),
        ("Service", "rec-cloud-recording-operator-recorder"),
        ("Service", "rec-cloud-recording-operator-recorder-peers"),
        ("ServiceAccount", "rec-cloud-recording-operator-operator"),
        ("Secret", "rec-cloud-recording-operator-recorder-config"),
        ("PodDisruptionBudget", "rec-cloud-recording-operator-recorder"),
    }
    listed = control_plane.kubectl(
        "get",
        "deployments,statefulsets,services,serviceaccounts,secrets,poddisruptionbudgets",
        "-n",
        release,
        "-l",
        "app.kubernetes.io/instance=rec",
        "-o",
        "yaml",
    ).stdout
    found = {(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load(listed)["items"]}
    assert expected <= found
    cluster = control_plane.kubectl(
        "get",
        "clusterrole,clusterrolebinding",
        "-l",
        "app.kubernetes.io/instance=rec",
        "-o",
        "name",
    ).stdout.split()
    assert "clusterrole.rbac.authorization.k8s.io/rec-cloud-recording-operator-operator" in cluster


OPERATOR_CAN = [
    ("patch", crd_name(CLOUDRECORDINGS)),
    ("watch", crd_name(CLOUDRECORDINGS)),
    ("patch", crd_name(CLOUDRECORDINGS) + "/status"),
    ("get", crd_name(RECORDINGBACKENDS)),
    ("get", "secrets"),
    ("get", "configmaps"),
    ("create", "events"),
]
OPERATOR_CANNOT = [
    ("delete", crd_name(CLOUDRECORDINGS)),
    ("create", crd_name(CLOUDRECORDINGS)),
    ("list", "secrets"),
    ("list", "configmaps"),
    ("update", "secrets"),
    ("delete", "secrets"),
    ("create", "pods"),
    ("update", crd_name(RECORDINGBACKENDS)),
    ("update", crd_name(CLOUDRECORDINGS)),
    ("list", crd_name(RECORDINGBACKENDS)),
    ("delete", "events"),
    ("create", "rolebindings.rbac.authorization.k8s.io"),
]


def test_operator_service_account_can_do_what_the_operator_does_and_no_more(
    control_plane: ControlPlane, release: str
) -> None:
    install(control_plane, release)
    sa = f"system:serviceaccount:{release}:rec-cloud-recording-operator-operator"
    elsewhere = "default"
    for verb, resource in OPERATOR_CAN:
        assert can_i(control_plane, sa, verb, resource, elsewhere), f"cannot {verb} {resource}"
    for verb, resource in OPERATOR_CANNOT:
        assert not can_i(control_plane, sa, verb, resource, elsewhere), f"can {verb} {resource}"
    assert can_i(control_plane, sa, "get", crd_name(CLUSTERRECORDINGBACKENDS), elsewhere)
    assert can_i(control_plane, sa, "watch", "customresourcedefinitions.apiextensions.k8s.io", "")
    # Its state key Secret: created in its own namespace at its first start, nowhere else.
    assert can_i(control_plane, sa, "create", "secrets", release)
    assert not can_i(control_plane, sa, "create", "secrets", elsewhere)


def test_single_namespace_mode_grants_rights_in_that_namespace_only(
    control_plane: ControlPlane, release: str
) -> None:
    watched = f"watched-{uuid.uuid4().hex[:6]}"
    control_plane.kubectl("create", "namespace", watched)
    try:
        install(control_plane, release, f"operator.watchNamespace={watched}")
        sa = f"system:serviceaccount:{release}:rec-cloud-recording-operator-operator"
        for verb, resource in OPERATOR_CAN:
            assert can_i(control_plane, sa, verb, resource, watched), f"cannot {verb} {resource}"
            assert not can_i(control_plane, sa, verb, resource, "default"), f"can {verb} {resource}"
        assert not can_i(control_plane, sa, "get", crd_name(CLUSTERRECORDINGBACKENDS), watched)
        # kopf still discovers resources: CRDs and namespaces, read-only.
        assert can_i(
            control_plane, sa, "watch", "customresourcedefinitions.apiextensions.k8s.io", ""
        )
        assert not can_i(
            control_plane, sa, "delete", "customresourcedefinitions.apiextensions.k8s.io", ""
        )
    finally:
        control_plane.kubectl("delete", "namespace", watched, "--wait=false", check=False)


@pytest.mark.parametrize(
    ("sets", "namespaces"),
    [((), ()), (("operator.watchNamespace=team-a",), ("team-a",))],
    ids=["cluster-wide", "single-namespace"],
)
def test_operator_deployment_args_are_what_the_operator_accepts(
    control_plane: ControlPlane, sets: tuple[str, ...], namespaces: tuple[str, ...]
) -> None:
    docs = render(control_plane, "operator.replicas=2", *sets)
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("operator")
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    settings = parse(container["args"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert settings.namespaces == namespaces
    assert settings.operator_namespace == "ops"
    assert settings.callback_port == ports["callbacks"]
    assert settings.metrics_port == ports["metrics"]
    assert settings.liveness == f"http://0.0.0.0:{ports['health']}/healthz"
    assert settings.peering == "rel-cloud-recording-operator"
    assert settings.state_key_secret == "rel-cloud-recording-operator-state-key"
    probe = container["livenessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/healthz", "health")
    # Readiness is the callback receiver's own route, served on the callback port.
    ready = container["readinessProbe"]["httpGet"]
    assert (ready["path"], ready["port"]) == (READY_PATH, "callbacks")


def test_standby_replicas_get_a_kopf_peering_object(
    control_plane: ControlPlane, release: str
) -> None:
    install(control_plane, release, "operator.replicas=2")
    peerings = control_plane.kubectl("get", "clusterkopfpeerings", "-o", "name").stdout.split()
    assert "clusterkopfpeering.kopf.dev/rec-cloud-recording-operator" in peerings


def test_prometheus_scrapes_the_recorder_on_its_metrics_port_which_needs_no_credentials(
    control_plane: ControlPlane,
) -> None:
    docs = render(control_plane, "recorder.enabled=true", "serviceMonitor.enabled=true")
    monitor = next(d for d in docs if d["kind"] == "ServiceMonitor")
    # The recorder's API port answers /metrics only to the admin credential: never scraped.
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    recorder = next(d for d in docs if d["kind"] == "StatefulSet")
    container = recorder["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert env["CLOUDREC_RECORDER_METRICS_PORT"] == str(ports["metrics"])
    service = next(
        d
        for d in docs
        if d["kind"] == "Service"
        and d["metadata"]["name"] == "rel-cloud-recording-operator-recorder"
    )
    assert {"name": "metrics", "port": ports["metrics"], "targetPort": "metrics"} in service[
        "spec"
    ]["ports"]


def _recorder_pod(docs: list[dict[str, Any]]) -> tuple[dict[str, Any], RecorderSettings]:
    """The recorder's pod spec, and the settings its environment gives (over a minimal file)."""
    statefulset = next(d for d in docs if d["kind"] == "StatefulSet")
    pod = statefulset["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"] if "value" in e}
    file = {
        "customerId": "c",
        "customerSecret": "s",
        "apps": {"a": {"janus": {"wsUrl": "ws://janus:8188/"}}},
    }
    return pod, RecorderSettings.model_validate(file | env_overrides(env))


def test_recorder_hand_over_is_on_by_default_with_a_grace_period_for_a_hand_over(
    control_plane: ControlPlane,
) -> None:
    docs = render(control_plane, "recorder.enabled=true", "recorder.replicas=3")
    pod, settings = _recorder_pod(docs)
    handover = settings.handover
    assert handover.enabled and handover.timeout_seconds == 30
    assert handover.replicas == [f"rel-cloud-recording-operator-recorder-{i}" for i in range(3)]
    # A drain lasts one hand-over (the timeout, the giver's last upload), not a recording.
    assert handover.timeout_seconds < pod["terminationGracePeriodSeconds"] == 120
    ready = pod["containers"][0]["readinessProbe"]
    assert (ready["httpGet"]["path"], ready["failureThreshold"]) == ("/readyz", 1)
    budget = next(d for d in docs if d["kind"] == "PodDisruptionBudget" and "recorder" in str(d))
    assert budget["spec"]["minAvailable"] == 1  # a drained replica's recordings need a taker


def test_recorder_take_over_of_a_lost_replica_is_on_with_hand_over_and_its_beats_set(
    control_plane: ControlPlane,
) -> None:
    _, settings = _recorder_pod(
        render(
            control_plane,
            "recorder.enabled=true",
            "recorder.replicas=3",
            "recorder.handover.takeover.deadAfterSeconds=5",
        )
    )
    takeover = settings.handover.takeover
    assert takeover.enabled and takeover.heartbeat_seconds == 1
    assert takeover.dead_after_seconds == 5
    _, off = _recorder_pod(
        render(control_plane, "recorder.enabled=true", "recorder.handover.takeover.enabled=false")
    )
    assert off.handover.enabled and not off.handover.takeover.enabled


def test_recorder_hand_over_can_be_turned_off_and_then_a_drain_waits_for_recordings(
    control_plane: ControlPlane,
) -> None:
    pod, settings = _recorder_pod(
        render(control_plane, "recorder.enabled=true", "recorder.handover.enabled=false")
    )
    assert settings.handover.enabled is False
    assert pod["terminationGracePeriodSeconds"] == 300
