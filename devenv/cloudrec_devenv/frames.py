"""The pictures the synthetic publishers send: a still frame, or a moving test pattern.

Both are pure functions of their arguments (and, for the pattern, of the frame's index), so a
benchmark's ffmpeg floor encodes exactly what the publishers send.

* :func:`render_frame`: a solid colour with the uid drawn in the middle (5x7 pixel font, black
  or white for contrast);
* :func:`moving_frame`: the same colour under two brightness waves (one moving left, one
  moving up), a white square going round a circle, and the uid drawn in the middle; it repeats
  every :data:`MOVING_PERIOD` frames. Nearly every pixel changes from one frame to the next
  and no single motion vector explains the change, as on camera pictures, so encoders and
  decoders do real work.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["MOVING_PERIOD", "RGB", "moving_frame", "render_frame"]

RGB = tuple[int, int, int]

MOVING_PERIOD = 60
"""Frames after which :func:`moving_frame` repeats (4 s at 15 fps)."""
_STRIPE_PERIOD = 120
"""Pixels of one brightness wave; the waves move ``_STRIPE_PERIOD / MOVING_PERIOD`` = 2 pixels
a frame."""
_SQUARE = 48
"""The moving square's side, pixels."""

_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}
_UNKNOWN = "11111 10001 10001 10001 10001 10001 11111"


def _text_bitmap(text: str) -> NDArray[np.bool_]:
    """A 7-row boolean bitmap of ``text`` (5x7 glyphs, one blank column between)."""
    columns: list[NDArray[np.bool_]] = []
    for i, char in enumerate(text.upper()):
        rows = _GLYPHS.get(char, _UNKNOWN).split()
        glyph = np.array([[bit == "1" for bit in row] for row in rows], dtype=np.bool_)
        if i:
            columns.append(np.zeros((7, 1), dtype=np.bool_))
        columns.append(glyph)
    if not columns:
        return np.zeros((7, 0), dtype=np.bool_)
    return np.concatenate(columns, axis=1)


def render_frame(width: int, height: int, color: RGB, text: str) -> NDArray[np.uint8]:
    """An RGB frame (``height`` x ``width`` x 3) of ``color`` with ``text`` centred.

    The text takes at most a sixth of the height and 80 % of the width, in
    black on light colours and white on dark ones.
    """
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:, :] = color
    bitmap = _text_bitmap(text)
    if bitmap.shape[1] == 0:
        return frame
    scale = max(1, min(height // (6 * 7), int(width * 0.8) // bitmap.shape[1]))
    big = np.kron(bitmap, np.ones((scale, scale), dtype=np.bool_))
    h, w = big.shape
    if h > height or w > width:
        return frame
    top, left = (height - h) // 2, (width - w) // 2
    frame[top : top + h, left : left + w][big] = _ink(color)
    return frame


def _ink(color: RGB) -> RGB:
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    return (0, 0, 0) if luminance > 128 else (255, 255, 255)


def moving_frame(width: int, height: int, color: RGB, text: str, index: int) -> NDArray[np.uint8]:
    """Frame ``index`` of the moving pattern (RGB, ``height`` x ``width`` x 3)."""
    return MovingPattern(width, height, color, text).frame(index)


class MovingPattern:
    """:func:`moving_frame` with its fixed parts rendered once."""

    def __init__(self, width: int, height: int, color: RGB, text: str) -> None:
        self.width, self.height = width, height
        self._color = np.array(color, np.float32)
        self._x = np.arange(width, dtype=np.float32)
        self._y = np.arange(height, dtype=np.float32)
        still = render_frame(width, height, color, text)
        self._text = np.any(still != np.array(color, np.uint8), axis=2)
        self._ink = np.array(_ink(color), np.uint8)

    def frame(self, index: int) -> NDArray[np.uint8]:
        step = index % MOVING_PERIOD
        shift = step * _STRIPE_PERIOD / MOVING_PERIOD
        # brightness: waves across (moving left) and down (moving up), so that every pixel
        # changes from one frame to the next and no single motion vector explains it
        across = 0.25 * np.sin(2 * np.pi * (self._x + shift) / _STRIPE_PERIOD)
        down = 0.2 * np.sin(2 * np.pi * (self._y + shift) / _STRIPE_PERIOD)
        light = 0.5 + down[:, None] + across[None, :]
        frame = (light[:, :, None] * self._color).astype(np.uint8)
        angle = 2 * math.pi * step / MOVING_PERIOD
        radius = max(0, min(self.width, self.height) // 2 - _SQUARE)
        cx = self.width // 2 + int(radius * math.cos(angle)) - _SQUARE // 2
        cy = self.height // 2 + int(radius * math.sin(angle)) - _SQUARE // 2
        x0, y0 = max(0, cx), max(0, cy)
        frame[y0 : max(y0, cy + _SQUARE), x0 : max(x0, cx + _SQUARE)] = 255
        frame[self._text] = self._ink
        return frame
