"""The Argo CD health check for CloudRecording, run by a real Lua interpreter.

Argo CD evaluates ``gitops/argocd/health.lua`` with the live object in the
global ``obj``; these tests do the same with Debian's ``lua5.4``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudrec_devenv.tools import REPO_ROOT, system_tool
from cloudrec_operator.api.names import API_VERSION, GROUP

HEALTH = REPO_ROOT / "gitops" / "argocd" / "health.lua"
ARGOCD_CM = REPO_ROOT / "gitops" / "argocd" / "argocd-cm.yaml"
HARNESS = """
obj = load("return " .. arg[1])()
local hs = dofile(arg[2])
io.write(hs.status, "\\t", hs.message or "")
"""


def to_lua(value: Any) -> str:
    """A Lua table constructor for a JSON-like value."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes here
    if isinstance(value, list):
        return "{" + ", ".join(to_lua(v) for v in value) + "}"
    return "{" + ", ".join(f"[{json.dumps(k)}] = {to_lua(v)}" for k, v in value.items()) + "}"


def health(obj: dict[str, Any], script: Path = HEALTH) -> tuple[str, str]:
    lua = system_tool("lua5.4")
    out = subprocess.run(
        [str(lua), "-e", HARNESS, "-", to_lua(obj), str(script)],
        input="",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    status, _, message = out.partition("\t")
    return status, message


def recording(
    phase: str | None,
    *,
    ready: str | None = None,
    generation: int = 1,
    observed: int | None = 1,
    message: str = "",
    reason: str | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "CloudRecording",
        "metadata": {"name": "r", "namespace": "default", "generation": generation},
        "spec": {"channelName": "room"},
    }
    if phase is None:
        return obj
    status: dict[str, Any] = {"phase": phase, "conditions": []}
    if observed is not None:
        status["observedGeneration"] = observed
    if ready is not None:
        status["conditions"].append(
            {"type": "Ready", "status": ready, "reason": reason or phase, "message": message}
        )
    obj["status"] = status
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (recording(None), "Progressing"),
        (recording("Pending", ready="False"), "Progressing"),
        (recording("Queued", ready="False"), "Progressing"),
        (recording("Connecting", ready="False"), "Progressing"),
        (recording("Recording", ready="True"), "Healthy"),
        (recording("Recording", ready="False"), "Degraded"),
        (recording("Paused", ready="True"), "Suspended"),
        (recording("Pending", ready="True", reason="Paused"), "Suspended"),
        (recording("Recording", ready="False", reason="PauseUnsupported"), "Degraded"),
        (recording("Stopping", ready="True"), "Progressing"),
        (recording("Uploading", ready="True"), "Progressing"),
        (recording("Completed", ready="True"), "Healthy"),
        (recording("Released", ready="False"), "Healthy"),
        (recording("Failed", ready="False", message="InvalidParameter"), "Degraded"),
        (recording("Recording", ready="True", generation=3, observed=2), "Progressing"),
        (recording("Recording", ready="True", observed=None), "Progressing"),
    ],
    ids=[
        "no-status-yet",
        "pending",
        "queued",
        "connecting",
        "recording-ready",
        "recording-not-ready",
        "paused",
        "paused-before-it-started",
        "pause-refused-by-the-backend",
        "stopping",
        "uploading",
        "completed",
        "released",
        "failed",
        "spec-changed-not-yet-observed",
        "no-observed-generation",
    ],
)
def test_argocd_health_maps_the_phase_to_argo_health(obj: dict[str, Any], expected: str) -> None:
    assert health(obj)[0] == expected


def test_a_completed_recording_whose_bucket_lost_files_is_degraded_naming_them() -> None:
    obj = recording("Completed", ready="True")
    obj["status"]["conditions"].append(
        {
            "type": "Verified",
            "status": "False",
            "reason": "ObjectsMissing",
            "message": "1 of 9 object(s) not as the manifest says: p/s_r_1.ts: Missing",
        }
    )
    assert health(obj) == (
        "Degraded",
        "1 of 9 object(s) not as the manifest says: p/s_r_1.ts: Missing",
    )
    obj["status"]["conditions"][-1]["status"] = "True"
    assert health(obj)[0] == "Healthy"


def test_argocd_health_explains_a_failure_with_the_ready_message() -> None:
    obj = recording("Failed", ready="False", message="Storage credentials were rejected")
    assert health(obj) == ("Degraded", "Storage credentials were rejected")


def test_argocd_configmap_embeds_the_same_health_script(tmp_path: Path) -> None:
    data = yaml.safe_load(ARGOCD_CM.read_text())["data"]
    embedded = data[f"resource.customizations.health.{GROUP}_CloudRecording"]
    assert embedded.strip() == HEALTH.read_text().strip()
    copy = tmp_path / "health.lua"
    copy.write_text(embedded)
    assert health(recording("Recording", ready="True"), copy)[0] == "Healthy"
