"""A start refused because the channel already holds the recorder's uid (code 53).

Such a conflict clears by itself (the other recording ends, or a killed recorder's
participant times out), so it is retried for a while whatever ``restartPolicy`` says, with a
visible reason; and ``state: Stopped`` during the retries ends the resource at once, with no
finalizer left behind.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, condition, ready

from cloudrec_operator.api.names import FINALIZER

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(240)]

run = asyncio.to_thread


def conflicted(obj: dict[str, Any]) -> bool:
    return condition(obj, "Degraded").get("reason") == "TaskConflict"


async def test_a_first_start_refused_with_a_conflict_is_retried_until_the_channel_is_free(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "holder", room)
        await run(env.wait, "holder", ready, 60.0, "Ready True")
        # The same channel and recorder uid: the service refuses the start with 53.
        await run(env.apply, "second", room, restartPolicy="Never")
        waiting = await run(env.wait, "second", conflicted, 60.0, "Degraded TaskConflict")
        assert waiting["status"]["phase"] == "Connecting"
        assert "retry" in condition(waiting, "Degraded")["message"]
        assert FINALIZER in waiting["metadata"]["finalizers"]
        await run(env.delete, "holder", True)
        started = await run(env.wait, "second", ready, 90.0, "Ready True once the uid is free")
    assert started["status"]["phase"] == "Recording"
    assert condition(started, "Degraded")["status"] == "False"
    assert "FatalError" not in await run(env.reasons, "second")


async def test_state_stopped_while_a_conflict_is_retried_ends_the_resource_without_a_finalizer(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "holder", room)
        await run(env.wait, "holder", ready, 60.0, "Ready True")
        await run(env.apply, "stopped", room)
        await run(env.wait, "stopped", conflicted, 60.0, "Degraded TaskConflict")
        await run(env.patch_spec, "stopped", {"state": "Stopped"})
        rested = await run(
            env.wait,
            "stopped",
            lambda o: not o["metadata"].get("finalizers"),
            30.0,
            "no finalizer once stopped",
        )
        # Nothing ever recorded for it: it rests, with nothing at the service.
        assert rested["status"]["phase"] == "Pending"
        assert not rested["status"].get("resourceId")
        assert condition(rested, "Degraded")["status"] == "False"
        said = condition(rested, "Ready")
        assert (said["status"], said["reason"]) == ("True", "Stopped"), said
        # The recording that holds the channel is untouched.
        assert (await run(env.status, "holder"))["phase"] == "Recording"
