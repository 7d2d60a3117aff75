"""The per-app acquire rate (pure, with a fake clock)."""

from __future__ import annotations

from cloudrec_recorder.quotas import AcquireRate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_app_may_acquire_its_quota_at_once_then_one_more_per_refill_interval() -> None:
    clock = Clock()
    rate = AcquireRate(clock=clock)
    assert [rate.take("a", 3) for _ in range(4)] == [True, True, True, False]
    clock.now += 20.0  # 3 per minute: one token every 20 s
    assert [rate.take("a", 3) for _ in range(2)] == [True, False]


def test_one_app_spending_its_quota_leaves_the_others_theirs() -> None:
    rate = AcquireRate(clock=Clock())
    assert [rate.take("a", 1) for _ in range(2)] == [True, False]
    assert rate.take("b", 1)
    assert all(rate.take("c", None) for _ in range(1000))
