"""The generated CRDs in a real kube-apiserver: samples, bad input, defaults, explain, columns."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.contract.crd_cases import (
    BAD_CASES,
    DELETE,
    IMMUTABLE_CASES,
    MINIMAL_SAMPLE,
    BadCase,
    ImmutableCase,
    load_documents,
    minimal,
    sample_files,
    with_changes,
)

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_operator.api.conditions import READY, Condition, set_condition
from cloudrec_operator.api.enums import ConditionStatus, Phase, RecordingErrorCode, UploadState
from cloudrec_operator.api.names import GROUP
from cloudrec_operator.api.v1alpha1 import (
    CloudRecording,
    CloudRecordingSpec,
    CloudRecordingStatus,
    RecordedFile,
    RecordingError,
    UploadStatus,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds_installed")]


def apply(plane: ControlPlane, namespace: str, obj: dict[str, Any], check: bool = True) -> Any:
    """Server-side apply of one object into ``namespace``."""
    return plane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=cloudrec-tests",
        "-n",
        namespace,
        "-f",
        "-",
        input=yaml.safe_dump(obj),
        check=check,
    )


def get(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    """The stored CloudRecording, as JSON."""
    out = plane.kubectl("get", "cloudrecording", name, "-n", namespace, "-o", "json").stdout
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_sample_is_accepted_by_server_side_apply(
    control_plane: ControlPlane, namespace: str, path: Path
) -> None:
    result = control_plane.kubectl(
        "apply", "--server-side", "-n", namespace, "-f", str(path), check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.lower().splitlines()
    for doc in load_documents(path):
        kind, name = doc["kind"].lower(), doc["metadata"]["name"]
        assert any(
            line.split("/")[0].split(".")[0] == kind
            and line.endswith(f"/{name} serverside-applied")
            for line in lines
        ), result.stdout


def test_all_samples_apply_together_as_a_directory(
    control_plane: ControlPlane, namespace: str
) -> None:
    directory = str(sample_files()[0].parent)
    result = control_plane.kubectl("apply", "--server-side", "-n", namespace, "-f", directory)
    assert result.stdout.count("serverside-applied") == sum(
        len(load_documents(p)) for p in sample_files()
    )
    listed = control_plane.kubectl("get", "crec", "-n", namespace, "-o", "name").stdout.split()
    assert len(listed) >= 6


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda c: c.id)
def test_bad_manifest_is_rejected_with_a_message_naming_the_field(
    control_plane: ControlPlane, namespace: str, case: BadCase
) -> None:
    result = apply(control_plane, namespace, case.manifest(), check=False)
    assert result.returncode != 0, f"the API server accepted {case.id}"
    assert case.message in result.stderr
    stored = control_plane.kubectl("get", "crec", "bad", "-n", namespace, check=False)
    assert stored.returncode != 0, "a rejected manifest must not be stored"


@pytest.mark.parametrize("case", IMMUTABLE_CASES, ids=lambda c: c.id)
def test_identity_field_cannot_change_after_creation(
    control_plane: ControlPlane, namespace: str, case: ImmutableCase
) -> None:
    before = with_changes(minimal(), case.before)
    apply(control_plane, namespace, before)
    result = apply(control_plane, namespace, with_changes(before, case.after), check=False)
    assert result.returncode != 0, f"the API server accepted a change of {case.id}"
    assert case.message in result.stderr
    stored = get(control_plane, namespace, before["metadata"]["name"])
    assert stored["spec"].get("appId") == before["spec"].get("appId")
    assert stored["spec"]["channelName"] == before["spec"]["channelName"]


def test_mutable_fields_still_change(control_plane: ControlPlane, namespace: str) -> None:
    before = minimal()
    apply(control_plane, namespace, before)
    after = with_changes(
        before,
        {
            "spec.state": "Stopped",
            "spec.releasePolicy": "KeepInBackground",
            "spec.tokenSecretRef": {"name": "channel-token"},
            "spec.recordingConfig.transcodingConfig": {"layout": "BestFit", "fps": 30},
        },
    )
    apply(control_plane, namespace, after)
    spec = get(control_plane, namespace, "minimal")["spec"]
    assert spec["state"] == "Stopped"
    assert spec["releasePolicy"] == "KeepInBackground"
    assert spec["recordingConfig"]["transcodingConfig"]["layout"] == "BestFit"


def test_seed_defaults_appear_in_the_stored_object(
    control_plane: ControlPlane, namespace: str
) -> None:
    apply(control_plane, namespace, minimal())
    spec = get(control_plane, namespace, "minimal")["spec"]
    config = spec["recordingConfig"]
    assert config["transcodingConfig"] == {
        "width": 360,
        "height": 640,
        "fps": 15,
        "bitrate": 500,
        "layout": "Float",
        "backgroundColor": "#000000",
    }
    assert config["maxIdleTime"] == 30
    assert config["streamTypes"] == "AudioVideo"
    assert config["channelType"] == "Communication"
    assert config["audioProfile"] == "MusicStandard"
    assert config["videoStreamType"] == "High"
    assert config["mode"] == "Mix"
    assert config["decryption"] == {"mode": "None"}
    assert config["outputFormats"] == ["HLS"]
    assert spec["backendRef"]["kind"] == "RecordingBackend"
    assert spec["storageConfig"]["credentialsSecretRef"]["accessKeyKey"] == "accessKey"
    assert (spec["state"], spec["releasePolicy"], spec["restartPolicy"]) == (
        "Recording",
        "Stop",
        "Never",
    )


def test_server_defaults_agree_with_the_model_defaults(
    control_plane: ControlPlane, namespace: str
) -> None:
    written = minimal()
    apply(control_plane, namespace, written)
    stored = get(control_plane, namespace, "minimal")["spec"]
    assert CloudRecordingSpec.model_validate(written["spec"]).dump() == stored


def test_status_written_from_the_models_is_stored_unpruned(
    control_plane: ControlPlane, namespace: str
) -> None:
    apply(control_plane, namespace, minimal())
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ready = Condition(type=READY, status=ConditionStatus.TRUE, reason="Recording")
    status = CloudRecordingStatus(
        observed_generation=1,
        phase=Phase.RECORDING,
        recording_id="38f8e3cfdc474cd56fc1ceba380d7e1a",
        resource_id="JyvK8nXHuV1BE64GDkAaBGEscvtHW7v8BrQoRPCHxmeVxwY22-x-WJ45-1",
        started_at=now,
        upload=UploadStatus(progress=42, status=UploadState.UPLOADING),
        files=[RecordedFile(file_name="sid_demo-room.m3u8", uid="0", mixed_all_user=True)],
        last_error=RecordingError(code=RecordingErrorCode.NO_USERS, message="channel empty"),
        restarts=0,
        conditions=set_condition([], ready, now),
    )
    control_plane.kubectl(
        "patch",
        "crec",
        "minimal",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status.dump()}),
    )
    stored = get(control_plane, namespace, "minimal")
    assert stored["status"] == status.dump()
    assert CloudRecording.model_validate(stored).status == status


def test_kubectl_get_crec_shows_the_columns(control_plane: ControlPlane, namespace: str) -> None:
    apply(control_plane, namespace, minimal())
    status = {
        "status": {
            "phase": "Uploading",
            "recordingId": "sid-123",
            "upload": {"progress": 42, "status": "Uploading"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "Uploading",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                }
            ],
        }
    }
    control_plane.kubectl(
        "patch", "crec", "minimal", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps(status),
    )  # fmt: skip
    plain = control_plane.kubectl("get", "crec", "-n", namespace).stdout.splitlines()
    header = plain[0].split()
    assert header == [
        "NAME",
        "CHANNEL",
        "PHASE",
        "READY",
        "QUEUE",
        "UPLOAD",
        "%",
        "VERIFIED",
        "AGE",
    ]
    # empty cells (no queue position, no Verified condition yet) print as nothing
    assert plain[1].split()[:5] == ["minimal", "demo-room", "Uploading", "False", "42"]
    wide = control_plane.kubectl("get", "crec", "-n", namespace, "-o", "wide").stdout
    header, row = wide.splitlines()
    assert header.split()[-3:] == ["RECORDING", "ID", "BACKEND"]
    assert row.split()[-2:] == ["sid-123", "self-hosted"]


def test_short_name_and_category_find_recordings(
    control_plane: ControlPlane, namespace: str
) -> None:
    apply(control_plane, namespace, minimal())
    by_category = control_plane.kubectl("get", "recording", "-n", namespace, "-o", "name").stdout
    assert f"cloudrecording.{GROUP}/minimal" in by_category


def test_kubectl_explain_describes_the_transcoding_fields(control_plane: ControlPlane) -> None:
    deadline = time.monotonic() + 30
    while True:  # the OpenAPI document is published a moment after the CRD is Established
        result = control_plane.kubectl(
            "explain", "cloudrecording.spec.recordingConfig.transcodingConfig", check=False
        )
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Canvas, frame rate, bitrate and layout of the mixed video (Mix mode only)." in text
    for field, words in {
        "width": "Canvas width in pixels: even, 2..1920 (default 360",
        "height": "Canvas height in pixels: even, 2..1920 (default 640",
        "fps": "Frame rate: 1, 7, 10, 15 (default), 24, 30 or 60.",
        "bitrate": "Video bitrate in Kbps (default 500, at most 6500).",
        "layout": "Float (first user fills the canvas",
        "maxResolutionUid": "shown large on the left in the Vertical layout",
        "backgroundColor": "#RRGGBB",
        "regions": "Regions of the Custom layout (at most 17",
    }.items():
        assert field in text and words in text, field


def test_kubectl_explain_has_a_description_for_every_spec_field(
    control_plane: ControlPlane,
) -> None:
    result = control_plane.kubectl("explain", "cloudrecording.spec", "--recursive")
    assert "recordingConfig" in result.stdout and "storageConfig" in result.stdout
    for field in ("backendRef", "channelName", "uid", "releasePolicy", "restartPolicy", "state"):
        described = control_plane.kubectl("explain", f"cloudrecording.spec.{field}").stdout
        assert "DESCRIPTION:" in described
        description = described.split("DESCRIPTION:", 1)[1].strip()
        assert description and not description.startswith("<empty>"), field


def test_minimal_sample_is_the_file_the_tests_start_from() -> None:
    assert MINIMAL_SAMPLE.exists()
    assert minimal()["metadata"]["name"] == "minimal"


BACKEND = load_documents(sample_files()[1])[0]
BAD_BACKENDS = [
    ("url-not-http", {"spec.url": "ftp://recorder"}, "spec.url in body should match"),
    (
        "service-kind-unknown",
        {"spec.serviceKind": "Cloud"},
        'spec.serviceKind: Unsupported value: "Cloud"',
    ),
    (
        "timeout-zero",
        {"spec.requestTimeoutSeconds": 0},
        "spec.requestTimeoutSeconds in body should be greater than or equal to 1",
    ),
    (
        "credentials-missing",
        {"spec.credentialsSecretRef": DELETE},
        "spec.credentialsSecretRef: Required value",
    ),
]


@pytest.mark.parametrize(
    ("changes", "message"), [c[1:] for c in BAD_BACKENDS], ids=[c[0] for c in BAD_BACKENDS]
)
def test_bad_recording_backend_is_rejected_with_a_message_naming_the_field(
    control_plane: ControlPlane, namespace: str, changes: dict[str, Any], message: str
) -> None:
    assert BACKEND["kind"] == "RecordingBackend"
    result = apply(control_plane, namespace, with_changes(BACKEND, changes), check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_kubectl_get_recordingbackend_shows_url_and_service_kind(
    control_plane: ControlPlane, namespace: str
) -> None:
    apply(control_plane, namespace, BACKEND)
    lines = control_plane.kubectl("get", "recordingbackend", "-n", namespace).stdout.splitlines()
    assert lines[0].split() == ["NAME", "URL", "SERVICE", "READY", "AGE"]
    assert lines[1].split()[:3] == ["self-hosted", "http://cloudrec-recorder:8080", "SelfHosted"]
