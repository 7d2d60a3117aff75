"""How far a media worker is behind, and when that begins and ends an episode (media/lag.py)."""

from __future__ import annotations

import pytest

from cloudrec_recorder.media.lag import LagChange, LagWatch, lag_at


@pytest.mark.parametrize(
    ("now", "due", "lag"),
    [(10.0, 9.5, 0.5), (10.0, 10.0, 0.0), (10.0, 10.2, 0.0), (10.0, None, 0.0)],
    ids=["overdue", "due now", "not yet due", "nothing waiting"],
)
def test_the_lag_is_how_long_the_oldest_unwritten_item_has_been_due(
    now: float, due: float | None, lag: float
) -> None:
    assert lag_at(now, due) == pytest.approx(lag)


def test_a_worker_on_time_begins_no_episode_and_keeps_its_worst_lag() -> None:
    watch = LagWatch(behind_after=4.0)
    changes = [watch.observe(lag) for lag in (0.0, 0.02, 0.9, 0.01)]
    assert changes == [None] * 4
    assert watch.worst == pytest.approx(0.9)
    assert (watch.behind, watch.episodes) == (False, 0)


def test_falling_more_than_a_segment_behind_begins_one_episode_however_long_it_lasts() -> None:
    watch = LagWatch(behind_after=4.0)
    changes = [watch.observe(lag) for lag in (1.0, 4.5, 6.0, 3.9, 4.2, 2.0)]
    assert changes == [None, LagChange.FELL_BEHIND, None, None, None, None]
    assert (watch.behind, watch.episodes, watch.episode_worst) == (True, 1, 6.0)


def test_the_episode_ends_once_the_worker_is_under_a_quarter_segment_behind() -> None:
    watch = LagWatch(behind_after=4.0)
    changes = [watch.observe(lag) for lag in (5.0, 1.5, 0.9, 0.5, 4.1)]
    assert changes == [
        LagChange.FELL_BEHIND,
        None,
        LagChange.CAUGHT_UP,
        None,
        LagChange.FELL_BEHIND,
    ]
    assert (watch.episodes, watch.worst) == (2, 5.0)
