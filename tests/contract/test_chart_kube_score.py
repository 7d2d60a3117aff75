"""The rendered chart against an independent linter: kube-score v1.20.0 (``hack/tools.sh``).

Every finding kube-score reports on ``helm template`` output must be one of the
kept ones below, each explained (by its check id) in values.yaml and in
docs/install.md; and each kept one must still be reported by some render, so a
fixed finding leaves the list.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from cloudrec_devenv.tools import REPO_ROOT, tool

CHART = REPO_ROOT / "charts" / "cloud-recording-operator"
KUBE_VERSION = "1.34.4"

Finding = tuple[str, str, str, str]
"""(kind, component, check id, kube-score's summary)."""

KEPT: set[Finding] = {
    # Tags are immutable releases; Always makes every start depend on the registry.
    (
        "Deployment",
        "operator",
        "container-image-pull-policy",
        "ImagePullPolicy is not set to Always",
    ),
    (
        "StatefulSet",
        "recorder",
        "container-image-pull-policy",
        "ImagePullPolicy is not set to Always",
    ),
    # A CFS quota stalls live encoding; the request reserves the CPU.
    ("StatefulSet", "recorder", "container-resources", "CPU limit is not set"),
    # Egress targets (API server, recording service, Janus, S3, callback URLs) are the user's.
    (
        "Deployment",
        "operator",
        "pod-networkpolicy",
        "The pod does not have a matching egress NetworkPolicy",
    ),
    (
        "StatefulSet",
        "recorder",
        "pod-networkpolicy",
        "The pod does not have a matching egress NetworkPolicy",
    ),
    # One operator works at a time; a standby is a choice (operator.replicas).
    ("Deployment", "operator", "deployment-replicas", "Deployment few replicas"),
    # An idle recorder still reserves its CPU request; minReplicas is the user's choice.
    ("HorizontalPodAutoscaler", "recorder", "horizontalpodautoscaler-replicas", "HPA few replicas"),
}

RENDERS = {
    "defaults": (),
    "with-recorder": ("recorder.enabled=true",),
    "highly-available": (
        "recorder.enabled=true",
        "recorder.autoscaling.enabled=true",
        "callbacks.ingress.enabled=true",
        "operator.replicas=2",
    ),
}


def findings(*sets: str) -> set[Finding]:
    flags = [flag for value in sets for flag in ("--set", value)]
    rendered = subprocess.run(
        [
            str(tool("helm")),
            "template",
            "rel",
            str(CHART),
            "--kube-version",
            KUBE_VERSION,
            "--namespace",
            "ops",
            *flags,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    scored = subprocess.run(
        [str(tool("kube-score")), "score", "-o", "json", "--kubernetes-version", "v1.34", "-"],
        input=rendered,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert scored.returncode in (0, 1), scored.stderr  # 1: there are critical findings
    found: set[Finding] = set()
    for obj in json.loads(scored.stdout):
        labels = (obj.get("object_meta") or {}).get("labels") or {}
        component = labels.get("app.kubernetes.io/component", "")
        for check in obj["checks"]:
            if check["skipped"] or check["grade"] >= 10:
                continue
            for comment in check["comments"] or [{"summary": check["check"]["name"]}]:
                found.add(
                    (obj["type_meta"]["kind"], component, check["check"]["id"], comment["summary"])
                )
    return found


@pytest.fixture(scope="module")
def reported() -> dict[str, set[Finding]]:
    return {name: findings(*sets) for name, sets in RENDERS.items()}


@pytest.mark.parametrize("render", RENDERS)
def test_kube_score_reports_nothing_on_the_chart_but_the_kept_findings(
    reported: dict[str, set[Finding]], render: str
) -> None:
    assert reported[render] - KEPT == set()


def test_every_kept_finding_is_still_reported_so_fixed_ones_leave_the_list(
    reported: dict[str, set[Finding]],
) -> None:
    assert KEPT - set().union(*reported.values()) == set()


@pytest.mark.parametrize("doc", ["charts/cloud-recording-operator/values.yaml", "docs/install.md"])
def test_every_kept_finding_is_explained_in_values_and_the_install_guide(doc: str) -> None:
    text = (REPO_ROOT / doc).read_text()
    missing = sorted({check for _, _, check, _ in KEPT if check not in text})
    assert not missing, f"{doc} does not say why these kube-score findings are kept: {missing}"
