"""The compositor: regions painted with each uid's frame, crop and fit, alpha, background."""

from __future__ import annotations

import numpy as np
from tests.unit.cloudrec_recorder.media.synth import close_to, solid_frame

from cloudrec_recorder.media.compose import Compositor
from cloudrec_recorder.media.config import RenderMode
from cloudrec_recorder.media.layout import Region


def _rgb(compositor: Compositor, frames: dict[str, object]) -> np.ndarray:
    return compositor.compose(frames).to_ndarray(format="rgb24")  # type: ignore[arg-type]


def test_the_background_colour_fills_an_empty_canvas() -> None:
    compositor = Compositor(64, 36, "#FF8000")
    image = _rgb(compositor, {})
    assert image.shape == (36, 64, 3)
    assert close_to(image[18, 32], (255, 128, 0), tolerance=6)


def test_a_frame_fills_its_region_and_nothing_else() -> None:
    compositor = Compositor(64, 36)
    compositor.set_layout([Region("a", 32, 0, 32, 36)], "#000000")
    image = _rgb(compositor, {"a": solid_frame((0, 200, 0), 100, 100)})
    assert close_to(image[18, 48], (0, 200, 0), tolerance=6)
    assert close_to(image[18, 16], (0, 0, 0), tolerance=6)


def test_fit_mode_letterboxes_with_the_background() -> None:
    compositor = Compositor(64, 36)
    compositor.set_layout([Region("a", 0, 0, 64, 36, render_mode=RenderMode.FIT)], "#0000FF")
    image = _rgb(compositor, {"a": solid_frame((255, 0, 0), 36, 36)})
    assert close_to(image[18, 32], (255, 0, 0), tolerance=10)
    assert close_to(image[18, 4], (0, 0, 255), tolerance=10)


def test_crop_mode_covers_the_whole_region() -> None:
    compositor = Compositor(64, 36)
    compositor.set_layout([Region("a", 0, 0, 64, 36)], "#0000FF")
    image = _rgb(compositor, {"a": solid_frame((255, 0, 0), 36, 36)})
    assert close_to(image[18, 2], (255, 0, 0), tolerance=10)


def test_a_half_transparent_region_blends_with_what_is_below() -> None:
    compositor = Compositor(64, 36)
    compositor.set_layout([Region("a", 0, 0, 64, 36, alpha=0.5)], "#000000")
    image = _rgb(compositor, {"a": solid_frame((200, 200, 200), 64, 36)})
    assert close_to(image[18, 32], (100, 100, 100), tolerance=12)


def test_later_regions_are_painted_on_top() -> None:
    compositor = Compositor(64, 36)
    compositor.set_layout(
        [Region("top", 16, 8, 16, 16, z=1), Region("bottom", 0, 0, 64, 36, z=0)], "#000000"
    )
    frames = {"top": solid_frame((255, 0, 0), 16, 16), "bottom": solid_frame((0, 0, 255), 64, 36)}
    image = _rgb(compositor, frames)  # type: ignore[arg-type]
    assert close_to(image[16, 24], (255, 0, 0), tolerance=10)
    assert close_to(image[30, 60], (0, 0, 255), tolerance=10)
