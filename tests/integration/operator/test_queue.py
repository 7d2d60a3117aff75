"""A backend at capacity: CloudRecordings wait in its queue instead of failing.

The real operator, a real recorder that takes two recordings at once
(``maxConcurrentRecordings: 2``), Janus and versitygw. Five recordings are applied: two
record, three are Queued 1, 2, 3 (``kubectl get crec`` shows it, ``kubectl wait`` keeps
waiting, kstatus says InProgress, the queue-depth gauge says 3); stopping one starts the
first queued one. A higher priority jumps the queue, a queued recording set to Stopped or
deleted leaves it without ever starting, and an operator restart keeps the order.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.fixtures.operator import RecordingEnv, condition, ready
from tests.fixtures.recorder import RecorderProcess

from cloudrec_devenv.tools import tool

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread
CAPACITY = 2
UID_BASE = 900600


def active(recorder: RecorderProcess) -> int:
    text = httpx.get(f"{recorder.base_url}/metrics", auth=recorder.auth, timeout=10).text
    match = re.search(r"^cloudrec_recordings_active (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


def kstatus(obj: dict[str, Any]) -> str:
    out = subprocess.run(
        [str(tool("kstatus"))], input=json.dumps(obj), capture_output=True, text=True, check=True
    ).stdout
    return out.split("\t", 1)[0]


def queued_at(position: int) -> Callable[[dict[str, Any]], bool]:
    def check(obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        return status.get("phase") == "Queued" and status.get("queuePosition") == position

    return check


def apply_in_turn(env: RecordingEnv, room: str, names: list[str], **spec: Any) -> None:
    """One after the other, a second apart (creationTimestamp has whole seconds)."""
    for name in names:
        uid = str(UID_BASE + int(name.rsplit("-", 1)[1]))
        env.apply(
            name,
            room,
            uid=uid,
            backendRef={"name": "cap2"},
            recordingConfig={"maxIdleTime": 600},
            **spec,
        )
        time.sleep(1.1)


def queue_rows(env: RecordingEnv) -> dict[str, str]:
    """``kubectl get crec``: each recording's QUEUE column."""
    lines = env.kubectl("get", "crec").splitlines()
    header = lines[0]
    assert " QUEUE " in header, header
    start, end = header.index(" QUEUE ") + 1, header.index(" UPLOAD %") + 1
    return {line.split()[0]: line[start:end].strip() for line in lines[1:]}


def starts(env: RecordingEnv, name: str) -> int:
    return sum(1 for reason in env.reasons(name) if reason == "Connecting")


async def backend_at_capacity(
    env: RecordingEnv, fresh_recorder: Callable[..., RecorderProcess]
) -> RecorderProcess:
    recorder = await run(fresh_recorder, maxConcurrentRecordings=CAPACITY)
    await run(env.add_backend, "cap2", recorder)
    return recorder


async def test_five_recordings_on_a_backend_for_two_record_two_and_queue_three_in_order(
    recordings: RecordingEnv,
    room: str,
    fresh_recorder: Callable[..., RecorderProcess],
) -> None:
    env = recordings
    recorder = await backend_at_capacity(env, fresh_recorder)
    names = [f"queue-{i}" for i in range(1, 6)]
    await run(apply_in_turn, env, room, names)

    for name in names[:2]:
        await run(env.wait, name, ready, 60.0, "Ready True")
    for position, name in enumerate(names[2:], start=1):
        waiting = await run(env.wait, name, queued_at(position), 30.0, f"Queued {position}")
        ready_condition = condition(waiting, "Ready")
        assert (ready_condition["status"], ready_condition["reason"]) == ("False", "Queued")
        assert f"position {position}" in ready_condition["message"]
        assert kstatus(waiting) == "InProgress"
        assert "recordingId" not in waiting["status"]
        assert "Queued" in await run(env.reasons, name)
    assert await run(active, recorder) == CAPACITY
    rows = await run(queue_rows, env)
    assert [rows[name] for name in names] == ["", "", "1", "2", "3"]
    backend = f"RecordingBackend/{env.namespace}/cap2"
    depth = await run(env.operator.metric, "cloudrec_queue_depth", backend=backend)
    assert depth == 3
    waited = await run(
        env.kubectl,
        "wait",
        "--for=condition=Ready",
        "crec/queue-3",
        "--timeout=3s",
        check=False,
    )
    assert "condition met" not in waited

    stopped_at = time.monotonic()
    await run(env.patch_spec, "queue-1", {"state": "Stopped"})
    await run(env.wait, "queue-3", ready, 30.0, "Ready True after a place freed")
    took = time.monotonic() - stopped_at
    print(f"\nqueue-1 stopped -> queue-3 Ready in {took:.2f} s (target 2 s)")
    assert took < 20.0, f"the first queued recording took {took:.1f} s to be Ready"
    await run(env.wait, "queue-4", queued_at(1), 15.0, "queue-4 moved up to 1")
    await run(env.wait, "queue-5", queued_at(2), 15.0, "queue-5 moved up to 2")
    assert await run(active, recorder) == CAPACITY
    assert [await run(starts, env, name) for name in names] == [1, 1, 1, 0, 0]


async def test_a_higher_priority_jumps_the_queue_and_a_restart_keeps_its_order(
    recordings: RecordingEnv,
    room: str,
    fresh_recorder: Callable[..., RecorderProcess],
) -> None:
    env = recordings
    recorder = await backend_at_capacity(env, fresh_recorder)
    names = [f"prio-{i}" for i in range(1, 6)]
    await run(apply_in_turn, env, room, names)
    for name in names[:2]:
        await run(env.wait, name, ready, 60.0, "Ready True")
    await run(env.wait, "prio-5", queued_at(3), 30.0, "Queued 3")

    # A later recording with a higher priority goes to the head.
    await run(apply_in_turn, env, room, ["prio-6"], priority=10)
    await run(env.wait, "prio-6", queued_at(1), 30.0, "the urgent one at the head")
    for position, name in enumerate(["prio-3", "prio-4", "prio-5"], start=2):
        await run(env.wait, name, queued_at(position), 15.0, f"{name} at {position}")

    # Stopped or deleted while queued: out of the queue, never started.
    await run(env.patch_spec, "prio-4", {"state": "Stopped"})
    left = await run(env.wait_phase, "prio-4", "Pending", 15.0)
    assert "queuePosition" not in left["status"]
    await run(env.delete, "prio-3", True)
    await run(env.wait, "prio-5", queued_at(2), 15.0, "prio-5 moved up to 2")

    # The operator restarts: the queue is rebuilt from the resources, in the same order.
    await run(env.operator.kill)
    await run(env.operator.start)
    assert (await run(env.status, "prio-6"))["queuePosition"] == 1
    assert (await run(env.status, "prio-5"))["queuePosition"] == 2
    await run(env.patch_spec, "prio-1", {"state": "Stopped"})
    await run(env.wait, "prio-6", ready, 30.0, "the urgent one Ready first")
    still = await run(env.wait, "prio-5", queued_at(1), 15.0, "prio-5 next")
    assert "recordingId" not in still["status"]
    assert await run(active, recorder) == CAPACITY
    assert [await run(starts, env, name) for name in ["prio-4", "prio-5", "prio-6"]] == [0, 0, 1]
    reasons = await run(env.reasons, "prio-4")
    assert "Connecting" not in reasons and "Queued" in reasons
