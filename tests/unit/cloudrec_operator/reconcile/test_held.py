"""Callbacks held for a sid the operator does not know yet: kept, claimed, capped, expired."""

from __future__ import annotations

from cloudrec_operator.reconcile.held import HeldEvents, HoldLimits


def test_events_held_for_a_sid_are_claimed_once_in_arrival_order() -> None:
    held: HeldEvents[str] = HeldEvents()
    assert held.hold("s1", "uploader started", now=0.0)
    assert held.hold("s2", "other recording", now=0.5)
    assert held.hold("s1", "recorder started", now=1.0)
    assert "s1" in held and len(held) == 3
    assert held.claim("s1") == ["uploader started", "recorder started"]
    assert held.claim("s1") == []
    assert "s1" not in held and len(held) == 1


def test_a_sid_never_claimed_is_dropped_after_the_hold_time() -> None:
    held: HeldEvents[str] = HeldEvents(HoldLimits(seconds=120.0))
    held.hold("s1", "a", now=0.0)
    held.hold("s2", "b", now=60.0)
    held.hold("s1", "c", now=100.0)
    assert held.expire(now=119.0) == []
    assert held.expire(now=180.0) == ["a", "b"]
    assert len(held) == 1
    assert held.claim("s1") == ["c"]
    assert held.claim("s2") == []


def test_one_sid_cannot_take_more_than_its_share() -> None:
    held: HeldEvents[int] = HeldEvents(HoldLimits(per_sid=2, total=10))
    assert held.hold("s1", 1, now=0.0)
    assert held.hold("s1", 2, now=0.0)
    assert not held.hold("s1", 3, now=0.0)
    assert held.hold("s2", 4, now=0.0)
    assert held.claim("s1") == [1, 2]


def test_the_total_is_capped_until_claims_or_expiry_make_room() -> None:
    held: HeldEvents[int] = HeldEvents(HoldLimits(per_sid=5, total=2, seconds=10.0))
    assert held.hold("s1", 1, now=0.0)
    assert held.hold("s2", 2, now=5.0)
    assert not held.hold("s3", 3, now=6.0)
    assert held.claim("s2") == [2]
    assert held.hold("s3", 3, now=6.0)
    assert not held.hold("s4", 4, now=9.0)
    assert held.expire(now=10.0) == [1]
    assert held.hold("s4", 4, now=10.0)
    assert held.claim("s3") == [3] and held.claim("s4") == [4]
    assert len(held) == 0


def test_held_bytes_are_capped_in_all_and_claims_or_expiry_give_them_back() -> None:
    held: HeldEvents[int] = HeldEvents(
        HoldLimits(total_bytes=1000, per_group_bytes=1000, seconds=10.0)
    )
    assert held.hold("s1", 1, now=0.0, size=600, group="a")
    assert not held.hold("s2", 2, now=0.0, size=600, group="b")
    assert held.hold("s2", 3, now=1.0, size=400, group="b")
    assert held.bytes == 1000
    assert held.claim("s1") == [1]
    assert held.bytes == 400
    assert held.expire(now=11.0) == [3]
    assert held.bytes == 0 and len(held) == 0


def test_one_backend_cannot_take_the_room_of_the_others() -> None:
    held: HeldEvents[int] = HeldEvents(
        HoldLimits(per_sid=100, total=100, per_group=3, per_group_bytes=10_000)
    )
    for number in range(3):
        assert held.hold(f"hostile-{number}", number, now=0.0, size=100, group="tenant")
    assert not held.hold("hostile-9", 9, now=0.0, size=100, group="tenant")
    assert held.hold("legit", 42, now=0.0, size=100, group="other")
    assert held.claim("legit") == [42]
