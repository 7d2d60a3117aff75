"""The operator benchmark's estimate of the CPU that brings a recording to Ready."""

import pytest
from benchmarks.operator.scale import starting_cpu_ms


def test_the_steady_work_of_recordings_ready_before_the_ramp_ended_is_taken_out() -> None:
    # 2 recordings, Ready at 2 s and 6 s of a 10 s ramp: 8 + 4 = 12 recording-seconds Ready;
    # steady 0.1 CPU-s per second for both, so 0.05 per recording-second: 0.6 s of the 1.6.
    assert starting_cpu_ms(1.6, 10.0, [2.0, 6.0], 0.1) == pytest.approx(500.0)


def test_no_ready_recording_gives_no_estimate_and_it_is_never_negative() -> None:
    assert starting_cpu_ms(1.0, 10.0, [], 0.1) is None
    assert starting_cpu_ms(0.1, 10.0, [0.0], 1.0) == 0.0
