"""A CloudRecording deleted while its start is in flight and the operator is down.

The restarted operator sees a resource id and no sid: a recording may run at the service
that nobody knows the sid of. It must not be forgotten: deletion waits for it to be adopted
(a callback) or for the resource id to expire, asks for it by resource id, and stops it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv
from tests.fixtures.recorder import RecorderProcess
from tests.integration.operator.test_crashes import active, wait_for, wait_status_field

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread


async def test_a_recording_whose_resource_was_deleted_mid_start_is_stopped_not_forgotten(
    recordings: RecordingEnv,
    room: str,
    publish: PublishFactory,
    fresh_recorder: Callable[..., RecorderProcess],
) -> None:
    env = recordings
    ghost = await run(fresh_recorder)
    await run(env.add_backend, "ghost", ghost)
    async with publish(room, "1001", width=160, height=120):
        for attempt in range(3):
            name = f"ghost-{attempt}"
            uid = str(920000 + attempt)
            await run(env.apply, name, room, uid=uid, backendRef={"name": "ghost"})
            await run(wait_status_field, env, name, "resourceId")
            await run(env.operator.kill)
            await run(env.delete, name)
            await asyncio.sleep(3)
            if await run(active, ghost) == 1:
                break  # the start reached the recorder: a recording runs that no sid names
            await run(env.operator.start)
            await run(wait_for, lambda n=name: not env.exists(n), 90.0, f"{name} gone")
        else:
            pytest.fail("the operator never got its start to the recorder before the kill")
        assert not (await run(env.get, name))["status"].get("recordingId")
        await run(env.operator.start)
        # The resource goes only once what it may have started is stopped.
        started = time.monotonic()
        await run(wait_for, lambda: not env.exists(name), 150.0, f"{name} gone")
        waited = time.monotonic() - started
        # Gone, and so is its recording (not left to run until the channel is idle).
        await run(wait_for, lambda: active(ghost) == 0, 20.0, "its recording stopped")
        assert waited < 150.0
