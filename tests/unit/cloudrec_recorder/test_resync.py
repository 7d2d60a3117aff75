"""How often a recording lists its room: often enough for maxIdleTime, never flooding Janus."""

from __future__ import annotations

import pytest

from cloudrec_recorder.recording import resync_interval


@pytest.mark.parametrize(
    ("max_idle_time", "seconds"),
    [(5, 2.0), (6, 2.0), (15, 5.0), (30, 10.0), (86_400, 10.0)],
)
def test_the_room_is_listed_three_times_per_max_idle_time_between_2_and_10_seconds(
    max_idle_time: int, seconds: float
) -> None:
    assert resync_interval(max_idle_time) == seconds


def test_someone_who_joins_an_empty_room_is_seen_before_the_recording_would_leave_it() -> None:
    for max_idle_time in range(5, 200):
        assert resync_interval(max_idle_time) * 2 < max_idle_time
