"""Crashes: the operator killed mid-start, the recorder killed mid-recording.

Always exactly one recording per resource, none left running without an owner.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import httpx
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready
from tests.fixtures.recorder import RecorderProcess

from cloudrec_operator.api.names import CLOUDRECORDINGS, FINALIZER, api_path

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread


def active(recorder: RecorderProcess) -> int:
    text = httpx.get(f"{recorder.base_url}/metrics", auth=recorder.auth, timeout=10).text
    match = re.search(r"^cloudrec_recordings_active (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


def wait_status_field(env: RecordingEnv, name: str, field: str, timeout: float = 30.0) -> None:
    """Return as soon as ``status.<field>`` is set (polls the API directly, fast)."""
    path = api_path(CLOUDRECORDINGS, env.namespace, name)
    deadline = time.monotonic() + timeout
    with env.plane.http_client() as client:
        while time.monotonic() < deadline:
            response = client.get(path)
            if response.status_code == 200 and (response.json().get("status") or {}).get(field):
                return
            time.sleep(0.02)
    raise AssertionError(f"{name}: status.{field} not set within {timeout}s")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not {what} within {timeout}s")


async def test_killing_the_operator_mid_start_never_leaves_two_or_orphaned_recordings(
    recordings: RecordingEnv,
    room: str,
    publish: PublishFactory,
    fresh_recorder: Callable[..., RecorderProcess],
) -> None:
    env = recordings
    crash = await run(fresh_recorder)
    await run(env.add_backend, "crash", crash)
    names: dict[str, str] = {}
    async with publish(room, "1001", width=160, height=120):
        for i, field in enumerate(["resourceId", "resourceId", "resourceId", "recordingId"]):
            name = f"crash-{i}"
            await run(env.apply, name, room, uid=str(910000 + i), backendRef={"name": "crash"})
            await run(wait_status_field, env, name, field)
            await run(env.operator.kill)
            # A recording may exist from here on: deleting the resource must wait for it.
            killed_at = await run(env.get, name)
            assert FINALIZER in killed_at["metadata"].get("finalizers", [])
            seen_sid = killed_at["status"].get("recordingId")
            await run(env.operator.start)
            done = await run(env.wait, name, ready, 90.0, "Ready True after the restart")
            if seen_sid:
                assert done["status"]["recordingId"] == seen_sid, "adopted, not restarted"
            names[name] = done["status"]["recordingId"]
            assert await run(active, crash) == i + 1
        assert len(set(names.values())) == len(names)
        for name in names:
            await run(env.delete, name, True)
        await run(lambda: wait_for(lambda: active(crash) == 0, 60.0, "every recording stopped"))


@pytest.mark.parametrize("policy", ["OnFailure", "Never"])
async def test_a_killed_recorder_is_a_fatal_error_then_a_new_recording_or_failed(
    recordings: RecordingEnv,
    room: str,
    publish: PublishFactory,
    fresh_recorder: Callable[..., RecorderProcess],
    policy: str,
) -> None:
    env = recordings
    doomed = await run(fresh_recorder)
    await run(env.add_backend, "doomed", doomed)
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "fatal", room, backendRef={"name": "doomed"}, restartPolicy=policy)
        first = await run(env.wait, "fatal", ready, 60.0, "Ready True")
        first_sid = first["status"]["recordingId"]
        await asyncio.sleep(3)
        await run(doomed.process.kill)
        await run(doomed.process.start)
        await run(lambda: doomed.process.wait_http(f"{doomed.base_url}/readyz", timeout=60))
        if policy == "OnFailure":
            again = await run(
                env.wait,
                "fatal",
                lambda o: ready(o) and o["status"].get("recordingId") not in (None, first_sid),
                200.0,
                "a new recording",
            )
            assert again["status"]["restarts"] == 1
            assert again["status"]["phase"] == "Recording"
            # Status describes the new recording only: none of the dead one's files.
            listed = [f["fileName"] for f in again["status"].get("files") or []]
            assert not [name for name in listed if first_sid in name], listed
        else:
            again = await run(env.wait_phase, "fatal", "Failed", 90.0)
            ready_condition = env.condition(again, "Ready")
            assert ready_condition["status"] == "False"
            assert ready_condition["reason"] == "FatalError"
            assert again["status"]["lastError"]["code"] == 441
    events = await run(env.events, "fatal")
    fatal = [m for t, r, m in events if (t, r) == ("Warning", "FatalError")]
    assert len(fatal) == 1 and "(error 441)" in fatal[0]
