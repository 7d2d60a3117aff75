"""A backend of ``serviceKind: Hosted``: the operator treats it as it treats the hosted service.

Behind it is the real recorder (with room for one recording): it speaks the same protocol and
answers a full house as the hosted service does (400, code 406). The hosted service has no
capacity query, so a recording refused for capacity is Queued and retried with back-off, and
starts once a place frees; and it cannot pause, so ``state: Paused`` is refused once
(``PauseUnsupported``, Ready False) while the recording goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, condition, ready
from tests.fixtures.recorder import RecorderProcess

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread


def refused_pause(obj: dict[str, Any]) -> bool:
    found = condition(obj, "Ready")
    return (found.get("status"), found.get("reason")) == ("False", "PauseUnsupported")


def queued(obj: dict[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") == "Queued"


async def test_a_hosted_backend_at_capacity_queues_by_retry_and_refuses_a_pause(
    recordings: RecordingEnv,
    room: str,
    publish: PublishFactory,
    fresh_recorder: Callable[..., RecorderProcess],
) -> None:
    env = recordings
    recorder = await run(fresh_recorder, maxConcurrentRecordings=1)
    await run(env.add_backend, "hosted", recorder, service_kind="Hosted")
    spec: dict[str, Any] = {
        "backendRef": {"name": "hosted"},
        "recordingConfig": {"maxIdleTime": 600},
    }
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "first", room, uid="900701", **spec)
        await run(env.wait, "first", ready, 60.0, "first Ready True")
        await run(env.apply, "second", room, uid="900702", **spec)
        waiting = await run(env.wait, "second", queued, 60.0, "second Queued")
        assert "recordingId" not in waiting["status"]

        await run(env.patch_spec, "first", {"state": "Paused"})
        refused = await run(env.wait, "first", refused_pause, 60.0, "Ready False PauseUnsupported")
        assert refused["status"]["phase"] == "Recording"  # it goes on recording
        assert "PauseUnsupported" in await run(env.reasons, "first")
        assert "Paused" not in await run(env.reasons, "first")

        await run(env.patch_spec, "first", {"state": "Stopped"})
        started = await run(env.wait, "second", ready, 120.0, "second Ready after the retry")
    assert started["status"]["recordingId"]
    assert (await run(env.reasons, "second")).count("Connecting") == 1
