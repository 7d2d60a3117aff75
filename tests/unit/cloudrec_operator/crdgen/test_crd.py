"""Unit tests of the CRD builder and the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudrec_operator.api.names import (
    CLOUDRECORDINGS,
    CLUSTERRECORDINGBACKENDS,
    GROUP,
    RECORDINGBACKENDS,
    VERSION,
    crd_name,
)
from cloudrec_operator.crdgen.__main__ import main
from cloudrec_operator.crdgen.crd import RESOURCES, build_crd
from cloudrec_operator.crdgen.render import HEADER, render_all


def crd_of(kind: str) -> dict[str, Any]:
    return next(build_crd(r) for r in RESOURCES if r.kind == kind)


def test_cloudrecording_crd_names_scope_and_short_name() -> None:
    crd = crd_of("CloudRecording")
    assert crd["metadata"]["name"] == crd_name(CLOUDRECORDINGS)
    spec = crd["spec"]
    assert spec["group"] == GROUP
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["shortNames"] == ["crec"]
    assert "recording" in spec["names"]["categories"]
    version = spec["versions"][0]
    assert (version["name"], version["served"], version["storage"]) == (VERSION, True, True)
    assert version["subresources"] == {"status": {}}


def test_cluster_backend_is_cluster_scoped_and_backend_is_namespaced() -> None:
    assert crd_of("ClusterRecordingBackend")["spec"]["scope"] == "Cluster"
    assert crd_of("RecordingBackend")["spec"]["scope"] == "Namespaced"


def test_no_category_shadows_a_resource_name() -> None:
    names = {
        n
        for r in RESOURCES
        for n in (r.plural, r.model.SINGULAR, r.kind.lower(), *r.model.SHORT_NAMES)
    }
    categories = {c for r in RESOURCES for c in r.categories}
    assert not names & categories


def test_printer_columns_are_channel_phase_ready_queue_upload_verified_age_then_wide_ones() -> None:
    columns = crd_of("CloudRecording")["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [(c["name"], c.get("priority", 0)) for c in columns] == [
        ("Channel", 0),
        ("Phase", 0),
        ("Ready", 0),
        ("Queue", 0),
        ("Upload %", 0),
        ("Verified", 0),
        ("Age", 0),
        ("Recording ID", 1),
        ("Backend", 1),
    ]
    ready = next(c for c in columns if c["name"] == "Ready")
    assert ready["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'


def test_schema_requires_spec_and_leaves_metadata_to_the_server() -> None:
    schema = crd_of("CloudRecording")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema["required"] == ["spec"]
    assert schema["properties"]["metadata"] == {"type": "object"}


@pytest.mark.parametrize(
    ("path", "rules"),
    [
        ("spec.channelName", ["spec.channelName is immutable"]),
        ("spec.uid", ["spec.uid is immutable", "spec.uid must be at most 4294967295"]),
        ("spec.backendRef", ["spec.backendRef is immutable"]),
        ("spec.storageConfig", None),
        ("spec.recordingConfig.mode", ["spec.recordingConfig.mode is immutable"]),
    ],
    ids=lambda v: str(v),
)
def test_identity_fields_carry_their_cel_rules(path: str, rules: list[str] | None) -> None:
    node = crd_of("CloudRecording")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for part in path.split("."):
        node = node["properties"][part]
    messages = [r["message"] for r in node["x-kubernetes-validations"]]
    if rules is None:
        assert "spec.storageConfig is immutable" in messages
    else:
        assert messages == rules


def test_every_rendered_file_starts_with_the_header() -> None:
    files = render_all()
    assert sorted(files) == [
        f"{crd_name(CLOUDRECORDINGS)}.yaml",
        f"{crd_name(CLUSTERRECORDINGBACKENDS)}.yaml",
        f"{crd_name(RECORDINGBACKENDS)}.yaml",
    ]
    assert all(text.startswith(HEADER) for text in files.values())


def test_command_writes_then_check_passes_then_fails_on_an_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "crds"
    assert main([str(target)]) == 0
    assert main([str(target), "--check"]) == 0
    edited = target / f"{crd_name(RECORDINGBACKENDS)}.yaml"
    edited.write_text(edited.read_text() + "# hand edit\n")
    assert main([str(target), "--check"]) == 1
    assert f"stale: {edited} (run make crds)" in capsys.readouterr().err


def test_check_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "crds"), "--check"]) == 1
    assert f"{crd_name(CLOUDRECORDINGS)}.yaml (run make crds)" in capsys.readouterr().err


def test_chart_copy_is_written_only_when_the_chart_directory_exists(tmp_path: Path) -> None:
    main([str(tmp_path / "crds")])
    assert not (tmp_path / "charts").exists()
    chart = tmp_path / "charts/cloud-recording-operator/files/crds"
    chart.mkdir(parents=True)
    assert main([str(tmp_path / "crds"), "--check"]) == 1
    main([str(tmp_path / "crds")])
    for name in render_all():
        assert (chart / name).read_text() == (tmp_path / "crds" / name).read_text()
