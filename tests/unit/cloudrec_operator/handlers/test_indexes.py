"""One kopf index read as two: sids and queued recordings per backend."""

from __future__ import annotations

from cloudrec_operator.handlers.indexes import IndexPart, index_entry
from cloudrec_operator.handlers.operator import sid_index_entry
from cloudrec_operator.handlers.queues import queue_index_entry

BACKEND = ("RecordingBackend", "ns", "local")


def body(name: str, **status: object) -> dict[str, object]:
    return {
        "metadata": {"namespace": "ns", "name": name},
        "spec": {"backendRef": {"name": "local"}, "channelName": "c", "uid": "1"},
        "status": status,
    }


def test_one_entry_holds_the_sid_and_the_queue_place_of_a_recording() -> None:
    running = body("a", recordingId="s1", phase="Recording")
    entry = index_entry(
        sid_index_entry("ns", "a", running["status"]),  # type: ignore[arg-type]
        queue_index_entry("ns", "a", running),
    )
    assert entry == {"s1": ("ns", "a")}
    queued = body("b", phase="Queued")
    entry = index_entry(
        sid_index_entry("ns", "b", queued["status"]),  # type: ignore[arg-type]
        queue_index_entry("ns", "b", queued),
    )
    assert list(entry) == [BACKEND]


def test_each_part_sees_only_its_own_kind_of_key_and_follows_the_index() -> None:
    index: dict[object, list[object]] = {"s1": [("ns", "a")], BACKEND: ["waiter"]}
    sids: IndexPart[str, tuple[str, str]] = IndexPart(index, str)
    queues: IndexPart[tuple[str, str, str], str] = IndexPart(index, tuple)
    assert list(sids) == ["s1"] and len(sids) == 1
    assert sids.get("s1") == [("ns", "a")] and sids.get("s2") is None
    assert list(queues.keys()) == [BACKEND] and list(queues.values()) == [["waiter"]]
    assert "s1" not in queues and BACKEND not in sids
    assert queues.get(BACKEND, ()) == ["waiter"]
    index["s2"] = [("ns", "b")]  # kopf changes its index in place
    assert sorted(sids) == ["s1", "s2"] and len(queues) == 1
