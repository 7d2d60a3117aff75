"""The queue loop's rounds: who it admits and wakes, from the queue and the backend's room.

A round runs against plain in-memory stand-ins for the runtime (bodies, what is known,
the backend's answer to the capacity query, the reconcile pass); nothing here reaches a
recording service or the Kubernetes API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cloudrec_operator.api.enums import Phase
from cloudrec_operator.handlers.queues import (
    REFRESH_BATCH,
    BackendKey,
    Queues,
    QueueServer,
    backend_key,
    queue_index_entry,
    waiter_of,
)
from cloudrec_operator.reconcile.model import Tracked
from cloudrec_operator.reconcile.queue import Waiter

BACKEND: BackendKey = ("RecordingBackend", "ns", "cap")
ADMITTING: ContextVar[bool] = ContextVar("admitting", default=False)


@contextlib.contextmanager
def admitting() -> Iterator[None]:
    token = ADMITTING.set(True)
    try:
        yield
    finally:
        ADMITTING.reset(token)


def body(name: str, second: int, priority: int = 0, phase: str = "Queued") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": f"2026-12-02T10:00:{second:02d}Z"},
        "spec": {"backendRef": {"name": "cap"}, "priority": priority},
        "status": {"phase": phase},
    }


@dataclass
class Stage:
    """The runtime as a round sees it, and the passes the round ran (name, admitted)."""

    room: int | None
    bodies: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    tracked: dict[tuple[str, str], Tracked] = field(default_factory=dict)
    queues: Queues = field(default_factory=Queues)
    urgent: set[str] = field(default_factory=set)
    """Passes that ran inside ``admitting`` (the Kubernetes facade's urgent lane)."""

    def add(self, name: str, second: int, priority: int = 0) -> None:
        doc = body(name, second, priority)
        self.bodies[("ns", name)] = doc
        self.tracked[("ns", name)] = Tracked(phase=Phase.QUEUED)
        self.queues.note(BACKEND, waiter_of("ns", name, doc), Phase.PENDING, Phase.QUEUED)

    async def round(self) -> dict[str, bool]:
        passes: dict[str, bool] = {}

        async def room(_: BackendKey, __: Waiter) -> int | None:
            return self.room

        async def run_pass(doc: Mapping[str, Any]) -> None:
            name = doc["metadata"]["name"]
            passes[name] = ("ns", name) in self.queues.granted
            if ADMITTING.get():
                self.urgent.add(name)

        server = QueueServer(
            queues=self.queues,
            bodies=self.bodies,
            tracked=self.tracked.get,
            status=lambda key: {"queuePosition": 2 if key[1] == "c" else None},
            room=room,
            run_pass=run_pass,
            admitting=admitting,
        )
        await server.serve_once()
        await asyncio.gather(*server.tasks)
        return passes


async def test_a_backend_with_room_for_two_admits_the_first_two() -> None:
    stage = Stage(room=2)
    for second, name in enumerate(["c", "a", "b"]):
        stage.add(name, 10 - second)
    assert await stage.round() == {"b": True, "a": True}
    assert stage.queues.granted == set()  # a grant lasts one pass
    for name in ("a", "b"):  # their passes started them
        stage.queues.note(BACKEND, Waiter("ns", name), Phase.QUEUED, Phase.CONNECTING)
    stage.room = 0
    # once no start is under way, c writes its new position (1, not 2)
    assert await stage.round() == {"c": False}


async def test_an_admitted_pass_writes_ahead_of_the_others_and_a_position_pass_does_not() -> None:
    stage = Stage(room=1)
    stage.add("a", 1)
    stage.add("c", 2)
    assert await stage.round() == {"a": True}
    assert stage.urgent == {"a"}
    stage.queues.note(BACKEND, Waiter("ns", "a"), Phase.QUEUED, Phase.CONNECTING)
    stage.room = 0
    assert await stage.round() == {"c": False}  # its position moved from 2 to 1
    assert stage.urgent == {"a"}


async def test_a_full_backend_admits_nobody_and_wakes_only_moved_positions() -> None:
    stage = Stage(room=0)
    stage.add("a", 1)
    stage.add("c", 2)
    assert await stage.round() == {"a": False}  # c's position (2) is already written


async def test_a_hosted_head_is_admitted_alone_once_its_back_off_ran_out() -> None:
    stage = Stage(room=None)
    stage.add("a", 1)
    stage.add("urgent", 9, priority=3)
    soon = datetime.now(UTC) + timedelta(seconds=60)
    stage.tracked[("ns", "urgent")] = Tracked(phase=Phase.QUEUED, retry_at=soon)
    admitted = await stage.round()
    assert not any(admitted.values())  # the head waits out its back-off; nobody overtakes
    stage.tracked[("ns", "urgent")] = Tracked(phase=Phase.QUEUED, retry_at=None)
    admitted = await stage.round()
    assert [name for name, yes in admitted.items() if yes] == ["urgent"]


async def test_a_recording_that_left_the_queue_is_no_longer_waited_for() -> None:
    stage = Stage(room=1)
    stage.add("a", 1)
    stage.add("b", 2)
    stage.queues.wake.clear()
    stage.queues.note(BACKEND, Waiter("ns", "a"), Phase.QUEUED, Phase.PENDING)
    assert [w.name for w in stage.queues.waiting(BACKEND)] == ["b"]
    assert stage.queues.wake.is_set()


def test_the_index_lists_only_queued_recordings_under_their_backend() -> None:
    assert queue_index_entry("ns", "a", body("a", 1, priority=2)) == {
        BACKEND: Waiter("ns", "a", 2, "2026-12-02T10:00:01Z")
    }
    assert queue_index_entry("ns", "a", body("a", 1, phase="Recording")) == {}


def test_a_cluster_backend_is_keyed_without_a_namespace() -> None:
    spec = {"backendRef": {"kind": "ClusterRecordingBackend", "name": "shared"}}
    assert backend_key("ns", spec) == ("ClusterRecordingBackend", "", "shared")
    assert backend_key("ns", {}) is None


def test_a_recording_that_stops_wakes_the_queue_before_its_pass_ends() -> None:
    queues = Queues()
    queues.moved(Phase.RECORDING, Phase.RECORDING)
    queues.moved(Phase.CONNECTING, Phase.RECORDING)
    assert not queues.wake.is_set()
    queues.moved(Phase.STOPPING, Phase.COMPLETED)
    assert queues.wake.is_set()


async def test_moved_positions_are_rewritten_a_batch_at_a_time_nearest_the_head_first() -> None:
    stage = Stage(room=0)
    for i in range(40):
        stage.add(f"w{i:02d}", i)
    woken = await stage.round()
    assert sorted(woken) == [f"w{i:02d}" for i in range(REFRESH_BATCH)]


async def test_a_head_whose_position_pass_is_running_is_admitted_not_skipped() -> None:
    stage = Stage(room=1)
    stage.add("a", 1)
    stage.add("b", 2)
    stage.queues.in_flight.add(("ns", "a"))  # its position pass has not ended
    woken = await stage.round()
    assert woken == {}  # b does not overtake a (nor writes its position during a start)
    assert ("ns", "a") in stage.queues.granted
    assert ("ns", "a") in stage.queues.again
