"""The API's names are defined once (``cloudrec_operator.api.names``); what YAML, chart
templates, GitOps files and docs spell must be those names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.contract.crd_cases import REPO

from cloudrec_operator.api.names import API_VERSION, GROUP, PLURALS, VERSION, crd_name
from cloudrec_operator.api.v1alpha1 import CloudRecording, ClusterRecordingBackend, RecordingBackend

MODELS = (CloudRecording, RecordingBackend, ClusterRecordingBackend)

SPELLED_OUT = sorted(
    path
    for pattern in (
        "charts/*/templates/*",
        "charts/*/files/**/*.yaml",
        "crds/**/*.yaml",
        "gitops/**/*",
        "docs/**/*.md",
        "README.md",
    )
    for path in REPO.glob(pattern)
    if path.is_file()
)
"""The files that spell the names out: they cannot import them."""

# A dotted name with "recording" in a label: a group, <plural>.<group> or <singular>.<group>.
DOTTED = re.compile(r"(?<![\w-])([a-z0-9-]*recording[a-z0-9-]*(?:\.[a-z0-9-]+)+)(?![A-Za-z0-9-])")
# <group>/<version>: an apiVersion.
WITH_VERSION = re.compile(r"(?<![\w.-])([a-z0-9-]*recording[a-z0-9.-]*)/(v[0-9][a-z0-9]*)\b")
# The apiVersion of an object of ours (manifests in YAML files and docs).
OBJECT = re.compile(
    r"apiVersion:\s*(\S+)\s*\n\s*kind:\s*(CloudRecording|RecordingBackend|ClusterRecordingBackend)\b"
)
# RBAC and admission rules: the groups, then the resources they grant.
API_GROUPS = re.compile(r"apiGroups:\s*\[([^\]]*)\]")
RESOURCES = re.compile(r"resources:\s*\[([^\]]*)\]")
CEL_RESOURCE = re.compile(r"request\.resource\.resource\s*==\s*'([^']*)'")
QUOTED = re.compile(r"[\"']([^\"']*)[\"']")


def other_group(group: str) -> bool:
    """Kubernetes' own groups and kopf's: not ours to check."""
    return group in ("", "kopf.dev", "apps", "policy") or group.endswith(".k8s.io")


def test_every_model_has_the_api_version_and_plural_defined_once() -> None:
    for model in MODELS:
        assert model.model_fields["api_version"].default == API_VERSION, model.__name__
        assert model.PLURAL in PLURALS, model.__name__
    assert API_VERSION == f"{GROUP}/{VERSION}"


@pytest.mark.parametrize("path", SPELLED_OUT, ids=lambda p: str(p.relative_to(REPO)))
def test_yaml_templates_and_docs_spell_the_group_version_and_plurals_as_defined(
    path: Path,
) -> None:
    text = path.read_text(errors="replace")
    # kubectl prints <singular>.<group>/<name>
    singulars = (f"{model.SINGULAR}.{GROUP}" for model in MODELS)
    allowed = {GROUP, *(crd_name(plural) for plural in PLURALS), *singulars}
    names = {m.removesuffix(".yaml") for m in DOTTED.findall(text)}
    wrong = sorted(m for m in names if m not in allowed and m.endswith(".io"))
    assert not wrong, f"{path}: {wrong} are not {sorted(allowed)}"
    versions = sorted({f"{g}/{v}" for g, v in WITH_VERSION.findall(text)} - {API_VERSION})
    assert not versions, f"{path}: {versions} is not {API_VERSION}"
    objects = sorted({f"{kind} {version}" for version, kind in OBJECT.findall(text)})
    assert all(o.endswith(f" {API_VERSION}") for o in objects), f"{path}: {objects}"
    granted = set(PLURALS) | {f"{plural}/status" for plural in PLURALS}
    for rule in API_GROUPS.finditer(text):
        groups = QUOTED.findall(rule.group(1))
        theirs = [g for g in groups if not other_group(g)]
        assert all(g == GROUP for g in theirs), f"{path}: apiGroups {groups}"
        if GROUP in groups:
            resources = RESOURCES.search(text, rule.end())
            assert resources is not None, f"{path}: no resources after {rule.group(0)}"
            named = set(QUOTED.findall(resources.group(1)))
            assert named <= granted, f"{path}: {sorted(named - granted)} are not {PLURALS}"
    for resource in CEL_RESOURCE.findall(text):
        assert resource in PLURALS, f"{path}: {resource} is not among {PLURALS}"


def test_the_contract_sees_the_chart_rbac_the_samples_and_the_argocd_health_key() -> None:
    texts = {str(p.relative_to(REPO)): p.read_text() for p in SPELLED_OUT}
    assert any(f'apiGroups: ["{GROUP}"]' in t for n, t in texts.items() if "templates" in n)
    assert any(OBJECT.search(t) for n, t in texts.items() if "samples" in n)
    assert any(f"health.{GROUP}_CloudRecording" in t for n, t in texts.items() if "gitops" in n)
