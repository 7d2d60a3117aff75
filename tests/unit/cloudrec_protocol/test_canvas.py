"""The mix canvas sizes the encoder takes: the one rule the recorder and the CRD share (pure)."""

from __future__ import annotations

import pytest

from cloudrec_protocol.canvas import canvas_problem


@pytest.mark.parametrize(
    ("width", "height", "problem"),
    [
        (360, 640, None),
        (1920, 1080, None),
        (1080, 1920, None),
        (2, 2, None),
        (1280, 720, None),
        (361, 640, "width and height must be even and at least 2, got 361x640"),
        (360, 641, "width and height must be even and at least 2, got 360x641"),
        (0, 640, "width and height must be even and at least 2, got 0x640"),
        (16, 129600, "width and height must be at most 1920 and 1920, got 16x129600"),
        (1922, 2, "width and height must be at most 1920 and 1920, got 1922x2"),
        (1920, 1082, "width x height 1920x1082 exceeds 2073600 pixels (1920x1080)"),
        (1442, 1440, "width x height 1442x1440 exceeds 2073600 pixels (1920x1080)"),
        (1440, 1440, None),
    ],
)
def test_a_canvas_is_accepted_only_when_the_encoder_can_take_it(
    width: int, height: int, problem: str | None
) -> None:
    assert canvas_problem(width, height) == problem
