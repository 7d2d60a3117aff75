"""Mix canvas sizes: the one definition the recorder's encoder and the CloudRecording CRD share.

H.264 4:2:0 needs even sizes; the encoder is set up for at most 1920 on a side and 1920 x 1080
pixels (a landscape or portrait full-HD canvas). A canvas the CRD accepts, the recorder
records; one it refuses, the CRD refuses too, with the same words.
"""

from __future__ import annotations

__all__ = [
    "MAX_CANVAS_HEIGHT",
    "MAX_CANVAS_PIXELS",
    "MAX_CANVAS_WIDTH",
    "MIN_CANVAS_SIDE",
    "canvas_problem",
]

MIN_CANVAS_SIDE = 2
"""The smallest width or height (even, so at least 2)."""
MAX_CANVAS_WIDTH = 1920
MAX_CANVAS_HEIGHT = 1920
"""A portrait canvas may be as tall as a landscape one is wide (1080 x 1920)."""
MAX_CANVAS_PIXELS = 1920 * 1080


def canvas_problem(width: int, height: int) -> str | None:
    """What is wrong with a ``width`` x ``height`` canvas for the encoder, or None."""
    if width < MIN_CANVAS_SIDE or height < MIN_CANVAS_SIDE or width % 2 or height % 2:
        return f"width and height must be even and at least {MIN_CANVAS_SIDE}, got {width}x{height}"
    if width > MAX_CANVAS_WIDTH or height > MAX_CANVAS_HEIGHT:
        return (
            f"width and height must be at most {MAX_CANVAS_WIDTH} and {MAX_CANVAS_HEIGHT}, "
            f"got {width}x{height}"
        )
    if width * height > MAX_CANVAS_PIXELS:
        return f"width x height {width}x{height} exceeds {MAX_CANVAS_PIXELS} pixels (1920x1080)"
    return None
