"""Stopping a recording from Git (``state: Stopped``) and deleting it under each releasePolicy."""

from __future__ import annotations

import asyncio

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready

from cloudrec_operator.api.names import FINALIZER

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

run = asyncio.to_thread


async def test_state_stopped_stops_the_recording_and_keeps_the_resource_with_its_files(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "gitops-stop", room)
        await run(env.wait, "gitops-stop", ready, 60.0, "Ready True")
        await asyncio.sleep(4)
        await run(env.patch_spec, "gitops-stop", {"state": "Stopped"})
        done = await run(env.wait_phase, "gitops-stop", "Completed", 60.0)
    status = done["status"]
    # the operator posts a pass's Events after writing its status: wait for them
    await run(env.wait_event, "gitops-stop", "Stopped", 30.0)
    await run(env.wait_event, "gitops-stop", "Uploaded", 30.0)
    assert "requested" in " ".join(
        m for _, r, m in await run(env.events, "gitops-stop") if r == "Stopped"
    )
    listed = {f["fileName"] for f in status["files"]}
    assert listed and listed <= set(env.recorder.s3.object_keys(env.recorder.bucket))
    assert env.condition(done, "Ready")["status"] == "True"
    assert env.condition(done, "Ready")["observedGeneration"] == done["metadata"]["generation"]
    assert status["observedGeneration"] == done["metadata"]["generation"]
    code, answer = await run(env.query, env.recorder, "gitops-stop")
    assert code == 404 or answer["serverResponse"]["status"] in (7, 8)


async def test_deleting_with_release_policy_stop_stops_the_recording_first(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "delete-stop", room)
        await run(env.wait, "delete-stop", ready, 60.0, "Ready True")
        status = await run(env.status, "delete-stop")
        assert (await run(env.get, "delete-stop"))["metadata"]["finalizers"] == [FINALIZER]
        await run(env.delete, "delete-stop", True)
        assert not await run(env.exists, "delete-stop")
        code, answer = await run(
            env.query_ids, env.recorder, status["resourceId"], status["recordingId"]
        )
        assert code == 404 or answer["serverResponse"]["status"] in (6, 7, 8)


async def test_deleting_with_keep_in_background_leaves_the_recording_running(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "keep", room, releasePolicy="KeepInBackground")
        await run(env.wait, "keep", ready, 60.0, "Ready True")
        status = await run(env.status, "keep")
        await run(env.delete, "keep", True)
        assert not await run(env.exists, "keep")
        code, answer = await run(
            env.query_ids, env.recorder, status["resourceId"], status["recordingId"]
        )
        assert code == 200 and answer["serverResponse"]["status"] in (4, 5)
    # Once the publisher left, it ends by itself after maxIdleTime.
    for _ in range(60):
        code, answer = await run(
            env.query_ids, env.recorder, status["resourceId"], status["recordingId"]
        )
        if code == 404 or answer["serverResponse"]["status"] == 8:
            break
        await asyncio.sleep(1)
    else:
        raise AssertionError(f"the released recording did not end by itself: {answer}")
