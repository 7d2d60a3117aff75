"""A CloudRecording's life through the real operator, recorder, Janus and versitygw.

kubectl apply -> Events Connecting and Started, phase Recording, Ready True ->
the publishers leave -> the recorder leaves after maxIdleTime -> Stopped,
Uploaded -> Completed, and the bucket holds every file the status lists.
"""

from __future__ import annotations

import asyncio

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv


async def run_wait_released(env: RecordingEnv, name: str) -> None:
    """No recording left to stop: kopf's finalizer comes off."""
    await asyncio.to_thread(
        env.wait, name, lambda o: not o["metadata"].get("finalizers"), 15.0, "no finalizer"
    )


pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(240)]


def _ready(obj: dict[str, object]) -> bool:
    status = obj.get("status") or {}
    for cond in status.get("conditions", []):  # type: ignore[attr-defined]
        if cond["type"] == "Ready":
            return bool(cond["status"] == "True")
    return False


async def test_apply_records_until_the_channel_is_idle_and_lists_the_uploaded_files(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, ["1001", "1002"], width=160, height=120):
        await asyncio.to_thread(env.apply, "lifecycle", room)
        ready = await asyncio.to_thread(env.wait, "lifecycle", _ready, 60.0, "Ready True")
        status = ready["status"]
        assert status["phase"] == "Recording"
        assert status["recordingId"] and status["resourceId"]
        assert (
            env.condition(ready, "Ready")["observedGeneration"] == ready["metadata"]["generation"]
        )
        reasons = await asyncio.to_thread(env.wait_reasons, "lifecycle", "Started")
        assert reasons[:2] == ["Connecting", "Started"]
        await asyncio.sleep(6)
    done = await asyncio.to_thread(env.wait_phase, "lifecycle", "Completed", 90.0)
    status = done["status"]
    reasons = await asyncio.to_thread(env.wait_reasons, "lifecycle", "Stopped", "Uploaded")
    assert reasons.index("Stopped") < reasons.index("Uploaded")
    assert status["upload"]["status"] == "Uploaded"
    assert status["upload"]["progress"] == 100
    assert status["stoppedAt"] >= status["startedAt"]
    listed = {f["fileName"] for f in status["files"]}
    assert any(name.endswith(".m3u8") for name in listed)
    in_bucket = set(env.recorder.s3.object_keys(env.recorder.bucket))
    assert listed <= in_bucket, f"listed but not in the bucket: {sorted(listed - in_bucket)}"
    assert env.condition(done, "Ready")["status"] == "True"
    assert env.condition(done, "Uploaded")["status"] == "True"
    await run_wait_released(env, "lifecycle")
