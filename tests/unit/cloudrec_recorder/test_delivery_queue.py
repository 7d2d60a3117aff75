"""The callback delivery queue: bounded, newest progress replaces older, least useful dropped."""

from __future__ import annotations

import pytest

from cloudrec_recorder.delivery_queue import DeliveryQueue

# (recording, event type, value): event 33 is progress, keyed by recording.
Item = tuple[str, int, int]


def progress_key(item: Item) -> tuple[str, int] | None:
    return (item[0], item[1]) if item[1] == 33 else None


def drain(queue: DeliveryQueue[Item]) -> list[Item]:
    return [queue.pop() for _ in range(len(queue))]


def test_items_leave_in_the_order_they_came() -> None:
    queue = DeliveryQueue(10, progress_key)
    for item in [("a", 40, 0), ("a", 33, 10), ("b", 40, 0), ("a", 41, 4)]:
        queue.push(item)
    assert drain(queue) == [("a", 40, 0), ("a", 33, 10), ("b", 40, 0), ("a", 41, 4)]


def test_a_newer_progress_of_a_recording_replaces_the_queued_one_and_goes_last() -> None:
    queue = DeliveryQueue(10, progress_key)
    queue.push(("a", 33, 10))
    queue.push(("b", 33, 20))
    queue.push(("a", 31, 0))
    pushed = queue.push(("a", 33, 30))
    assert pushed.superseded == (("a", 33, 10),)
    assert pushed.dropped == ()
    assert drain(queue) == [("b", 33, 20), ("a", 31, 0), ("a", 33, 30)]


def test_a_receiver_down_for_hours_queues_one_progress_per_recording() -> None:
    queue = DeliveryQueue(1000, progress_key)
    superseded = 0
    for tick in range(10_000):
        for recording in ("a", "b", "c"):
            superseded += len(queue.push((recording, 33, tick)).superseded)
    assert drain(queue) == [("a", 33, 9999), ("b", 33, 9999), ("c", 33, 9999)]
    assert superseded == 3 * 9999


def test_a_full_queue_drops_the_oldest_progress_before_any_other_event() -> None:
    queue = DeliveryQueue(3, progress_key)
    queue.push(("a", 40, 0))
    queue.push(("a", 33, 10))
    queue.push(("b", 33, 20))
    pushed = queue.push(("a", 11, 0))
    assert pushed.dropped == (("a", 33, 10),)
    assert drain(queue) == [("a", 40, 0), ("b", 33, 20), ("a", 11, 0)]


def test_a_full_queue_without_progress_drops_the_oldest_event() -> None:
    queue = DeliveryQueue(2, progress_key)
    queue.push(("a", 40, 0))
    queue.push(("b", 40, 0))
    pushed = queue.push(("c", 40, 0))
    assert pushed.dropped == (("a", 40, 0),)
    assert drain(queue) == [("b", 40, 0), ("c", 40, 0)]
    assert len(queue) == 0


def test_the_queue_never_holds_more_than_its_capacity() -> None:
    queue = DeliveryQueue(5, progress_key)
    dropped = 0
    for n in range(100):
        dropped += len(queue.push((f"r{n}", 40 + n % 3, n)).dropped)
        assert len(queue) <= 5
    assert dropped == 95


def test_popping_an_empty_queue_is_an_error_and_capacity_must_be_positive() -> None:
    with pytest.raises(IndexError):
        DeliveryQueue(1, progress_key).pop()
    with pytest.raises(ValueError, match="capacity"):
        DeliveryQueue(0, progress_key)
