"""The mix configuration refuses exactly the canvases the shared rule refuses (pure)."""

from __future__ import annotations

import pytest

from cloudrec_protocol.canvas import canvas_problem
from cloudrec_recorder.media.config import MixConfig


@pytest.mark.parametrize(
    ("width", "height"),
    [(360, 640), (1920, 1080), (1080, 1920), (361, 640), (16, 129600), (1442, 1440)],
)
def test_the_recorder_refuses_exactly_what_the_shared_canvas_rule_refuses(
    width: int, height: int
) -> None:
    problem = canvas_problem(width, height)
    if problem is None:
        assert MixConfig(width=width, height=height).width == width
    else:
        with pytest.raises(ValueError) as refused:
            MixConfig(width=width, height=height)
        assert str(refused.value) == problem
