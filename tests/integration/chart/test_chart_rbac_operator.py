"""The real operator, logged in as the chart's ServiceAccount, records a channel.

``kubectl auth can-i`` (test_chart.py) checks the Role rule by rule; this test checks that
those rules are enough: the chart is installed in single-namespace mode, the operator runs
with a token of the chart's ServiceAccount (least privilege, not the admin), and a
CloudRecording in the watched namespace goes from Recording to Completed (``state:
Stopped``) and is deleted (its finalizer removed) without a single Forbidden answer.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import OperatorProcess, RecordingEnv, _backend, _secret, ready
from tests.fixtures.recorder import RecorderProcess
from tests.fixtures.tenants import token_kubeconfig

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.tools import REPO_ROOT, tool
from cloudrec_operator.api.names import CLOUDRECORDINGS

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.media,
    pytest.mark.storage,
    pytest.mark.timeout(240),
]

CHART = REPO_ROOT / "charts" / "cloud-recording-operator"
SERVICE_ACCOUNT = "rec-cloud-recording-operator-operator"
STATE_KEY_SECRET = "rec-cloud-recording-operator-state-key"
run = asyncio.to_thread


@pytest.fixture
def least_privilege_operator(
    control_plane: ControlPlane,
    crds_installed: list[Path],
    namespace: str,
    tmp_path: Path,
) -> Iterator[tuple[str, ManagedProcess]]:
    """The chart in single-namespace mode, and the operator running as its ServiceAccount
    (yields the watched namespace, the operator and the release namespace)."""
    watched = f"rbac-{secrets.token_hex(4)}"
    control_plane.kubectl("create", "namespace", watched)
    helm = [str(tool("helm")), "install", "rec", str(CHART), "-n", namespace]
    helm += ["--set", "crds.install=false", "--set", f"operator.watchNamespace={watched}"]
    subprocess.run(helm, check=True, capture_output=True, env=control_plane.env(), timeout=120)
    kubeconfig = token_kubeconfig(
        control_plane, namespace, SERVICE_ACCOUNT, tmp_path / "sa.kubeconfig"
    )
    liveness = free_port()
    argv = [sys.executable, "-m", "cloudrec_operator", "--namespace", watched]
    argv += ["--kubeconfig", str(kubeconfig), "--operator-namespace", namespace]
    argv += ["--state-key-secret", STATE_KEY_SECRET]  # as the chart's Deployment passes it
    argv += ["--callback-host", "127.0.0.1", "--callback-port", str(free_port())]
    argv += ["--liveness", f"http://127.0.0.1:{liveness}/healthz"]
    argv += ["--tick", "1", "--first-query", "1", "--steady-query", "3", "--verbose"]
    env = {**control_plane.env(), "KUBECONFIG": str(kubeconfig)}
    operator = ManagedProcess("operator-sa", argv, tmp_path / "operator.log", env=env)
    operator.start()
    try:
        operator.wait_http(f"http://127.0.0.1:{liveness}/healthz", timeout=60)
        yield watched, operator
    finally:
        control_plane.kubectl(
            "-n", watched, "delete", CLOUDRECORDINGS, "--all", "--wait=false", check=False
        )
        operator.stop()
        control_plane.kubectl("delete", "namespace", watched, "--wait=false", check=False)
        # Its cluster-scoped objects would keep the next test's release from installing.
        uninstall = [str(tool("helm")), "uninstall", "rec", "-n", namespace, "--wait=false"]
        subprocess.run(uninstall, check=False, capture_output=True, env=control_plane.env())


async def test_the_chart_rbac_is_enough_for_a_whole_recording(
    control_plane: ControlPlane,
    least_privilege_operator: tuple[str, ManagedProcess],
    operator_recorder: RecorderProcess,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    watched, operator = least_privilege_operator
    rec = operator_recorder
    env = RecordingEnv(
        plane=control_plane,
        namespace=watched,
        recorder=rec,
        operator=OperatorProcess(tmp_path, control_plane.kubeconfig, 0, 0),
        secret_values=[rec.customer_secret, rec.s3.secret_key],
    )
    docs = [
        _secret(
            "recorder-credentials",
            {"customerId": rec.customer_id, "customerSecret": rec.customer_secret},
        ),
        _secret("bucket", {"accessKey": rec.s3.access_key, "secretKey": rec.s3.secret_key}),
        _backend("local", rec.base_url, callbacks=False),
    ]
    await run(env.kubectl, "apply", "-f", "-", input=yaml.safe_dump_all(docs))
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "least-privilege", room)
        recording = await run(env.wait, "least-privilege", ready, 90.0, "Ready True")
        assert recording["status"]["phase"] == "Recording"
        await asyncio.sleep(3)
        await run(env.patch_spec, "least-privilege", {"state": "Stopped"})
        done = await run(env.wait_phase, "least-privilege", "Completed", 90.0)
    assert done["status"]["files"]
    await run(env.wait_reasons, "least-privilege", "Started", "Stopped")
    await run(env.kubectl, "delete", "cloudrecording", "least-privilege", "--wait=false")
    await run(
        env.kubectl, "wait", "--for=delete", "cloudrecording/least-privilege", "--timeout=60s"
    )
    log = operator.log_path.read_text(errors="replace")
    assert "Forbidden" not in log and " 403" not in log, log[-3000:]


def state_key(cp: ControlPlane, namespace: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        got = cp.kubectl(
            "get",
            "secret",
            STATE_KEY_SECRET,
            "-n",
            namespace,
            "-o",
            "jsonpath={.data.stateKey}",
            check=False,
        )
        if got.returncode == 0 or time.monotonic() > deadline:
            return got.stdout
        time.sleep(0.5)


def test_the_operator_creates_its_state_key_secret_at_first_start_and_keeps_it_on_restart(
    control_plane: ControlPlane,
    least_privilege_operator: tuple[str, ManagedProcess],
    namespace: str,
) -> None:
    """The chart renders no key (stable ``helm template`` for GitOps): the operator, as the
    chart's ServiceAccount, creates the Secret itself, and a restart reads the same key."""
    _, operator = least_privilege_operator
    first = state_key(control_plane, namespace)
    assert len(base64.b64decode(first)) >= 16
    operator.stop()
    operator.start()
    liveness = operator.argv[operator.argv.index("--liveness") + 1]
    operator.wait_http(liveness, timeout=60)
    assert state_key(control_plane, namespace) == first
    log = operator.log_path.read_text(errors="replace")
    assert log.count("Created the state key Secret") == 1, log[-3000:]
    assert "Forbidden" not in log and " 403" not in log, log[-3000:]
    assert first not in log and base64.b64decode(first).decode() not in log
