"""The publishers' pictures: the still frame and the moving test pattern."""

from __future__ import annotations

import numpy as np
import pytest

from cloudrec_devenv.frames import MOVING_PERIOD, moving_frame, render_frame

RED = (255, 0, 0)


def changed_share(a: np.ndarray, b: np.ndarray) -> float:
    """The share of 16x16 blocks in which the two frames differ."""
    diff = np.any(a != b, axis=2)
    h, w = diff.shape
    blocks = diff[: h // 16 * 16, : w // 16 * 16].reshape(h // 16, 16, w // 16, 16)
    return float(blocks.any(axis=(1, 3)).mean())


def test_the_moving_pattern_repeats_after_its_period_and_nowhere_sooner() -> None:
    first = moving_frame(640, 360, RED, "1001", 0)
    assert np.array_equal(first, moving_frame(640, 360, RED, "1001", MOVING_PERIOD))
    for index in range(1, MOVING_PERIOD):
        assert not np.array_equal(first, moving_frame(640, 360, RED, "1001", index)), index


@pytest.mark.parametrize("index", [0, 17, 45])
def test_consecutive_moving_frames_differ_in_a_large_share_of_blocks(index: int) -> None:
    this = moving_frame(640, 360, RED, "1001", index)
    following = moving_frame(640, 360, RED, "1001", index + 1)
    assert changed_share(this, following) > 0.9


def test_the_moving_pattern_carries_the_uid_where_the_still_frame_has_it() -> None:
    still = render_frame(640, 360, RED, "1001")
    text = np.any(still != np.array(RED, np.uint8), axis=2)
    assert text.sum() > 500
    for index in (0, 31):
        moving = moving_frame(640, 360, RED, "1001", index)
        assert np.array_equal(moving[text], still[text])


def test_the_moving_pattern_is_shades_of_the_publishers_colour() -> None:
    frame = moving_frame(320, 240, RED, "7", 5)
    assert np.median(frame[:, :, 0]) >= 100 and np.median(frame[:, :, 1]) == 0
