"""kstatus, the health library Flux and kpt use, on CloudRecordings the real operator wrote.

``hack/kstatus`` runs ``sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute`` on each object;
these tests feed it what the API server holds while the operator, the recorder, Janus and
versitygw do their work, and check the verdict a GitOps tool would act on:

* a confirmed recording is ``Current`` (Flux's ``wait: true`` is satisfied);
* right after a spec change, until the operator has observed the new generation, it is
  ``InProgress``;
* a recording that failed for good is ``Failed`` (the ``Stalled`` condition), not
  ``InProgress`` until a timeout.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready

from cloudrec_devenv.tools import tool

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

run = asyncio.to_thread


def kstatus(obj: dict[str, Any]) -> str:
    out = subprocess.run(
        [str(tool("kstatus"))], input=json.dumps(obj), capture_output=True, text=True, check=True
    ).stdout
    return out.split("\t", 1)[0]


def observed(obj: dict[str, Any]) -> bool:
    return bool(obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"])


async def test_kstatus_follows_a_recording_through_a_spec_change(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, ["1001", "1002"], width=160, height=120):
        await run(env.apply, "gitops", room)
        assert kstatus(await run(env.get, "gitops")) in ("InProgress", "Current")
        confirmed = await run(env.wait, "gitops", ready, 60.0, "Ready True")
        assert kstatus(confirmed) == "Current"

        await run(
            env.patch_spec,
            "gitops",
            {"recordingConfig": {"transcodingConfig": {"layout": "BestFit"}}},
        )
        changed = await run(env.get, "gitops")
        # Until the operator has observed the new generation, the status is stale.
        expected = "Current" if observed(changed) and ready(changed) else "InProgress"
        assert kstatus(changed) == expected
        caught_up = await run(
            env.wait, "gitops", lambda o: observed(o) and ready(o), 60.0, "observed and Ready"
        )
        assert caught_up["metadata"]["generation"] == changed["metadata"]["generation"]
        assert kstatus(caught_up) == "Current"


async def test_kstatus_reports_a_failed_recording_as_failed(
    recordings: RecordingEnv, room: str
) -> None:
    env = recordings
    await run(env.add_wrong_credentials_backend, "kstatus-wrong")
    await run(env.apply, "gitops-failed", room, backendRef={"name": "kstatus-wrong"})
    failed = await run(env.wait_phase, "gitops-failed", "Failed", 30.0)
    assert kstatus(failed) == "Failed"
