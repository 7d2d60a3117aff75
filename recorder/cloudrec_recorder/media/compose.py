"""The video compositor: the latest frame of each uid scaled into its region of a YUV 4:2:0 canvas.

Works directly on yuv420p planes (no RGB round trip): swscale scales each input once per new
input frame, numpy copies it into one reused canvas buffer. Region edges are snapped to even
pixels so the chroma planes line up.

Each uid keeps its own `VideoReformatter` (one swscale context, set up once and reused while the
sizes stay the same) and scales in this thread (``threads=1``). `VideoFrame.reformat` would make
a new context for every new input frame (the reformatter belongs to the frame) and, by default,
start a pool of slice threads for it: per frame that set-up cost three times the scaling itself
(issue 13).

Background pictures (`background.Backgrounds`) are scaled when the layout is set, never per
frame: the canvas picture into a prepared canvas that each frame starts from (one copy instead
of the colour fill), each uid's picture into its region's size (kept while the picture and the
size stay the same). A region whose uid has no frame shows its picture, if it has one. Without
pictures a frame costs exactly what it did before they existed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from cloudrec_recorder.media.background import NO_BACKGROUNDS, Backgrounds
from cloudrec_recorder.media.config import RenderMode, parse_color
from cloudrec_recorder.media.layout import Region

__all__ = ["Compositor", "rgb_to_yuv"]

Plane = npt.NDArray[np.uint8]


def rgb_to_yuv(r: int, g: int, b: int) -> tuple[int, int, int]:
    """BT.601 limited range, as swscale converts by default."""
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    y8, u8, v8 = (round(min(255.0, max(0.0, c))) for c in (y, u, v))
    return y8, u8, v8


def _even(value: int) -> int:
    return value - (value % 2)


@dataclass(frozen=True)
class _Placement:
    """Where a scaled picture lands: target rectangle and the crop of the scaled picture."""

    scaled_w: int
    scaled_h: int
    src_x: int
    src_y: int
    dst_x: int
    dst_y: int
    w: int
    h: int


def _placement(region: Region, frame_w: int, frame_h: int) -> _Placement | None:
    x, y = _even(region.x), _even(region.y)
    w, h = _even(region.x + region.width) - x, _even(region.y + region.height) - y
    if w <= 0 or h <= 0 or frame_w <= 0 or frame_h <= 0:
        return None
    if region.render_mode is RenderMode.FIT:
        scale = min(w / frame_w, h / frame_h)
    else:
        scale = max(w / frame_w, h / frame_h)
    sw = max(2, _even(round(frame_w * scale)))
    sh = max(2, _even(round(frame_h * scale)))
    if region.render_mode is RenderMode.FIT:
        sw, sh = min(sw, w), min(sh, h)
        return _Placement(sw, sh, 0, 0, x + _even((w - sw) // 2), y + _even((h - sh) // 2), sw, sh)
    sw, sh = max(sw, w), max(sh, h)
    return _Placement(sw, sh, _even((sw - w) // 2), _even((sh - h) // 2), x, y, w, h)


def _planes(frame: av.VideoFrame) -> tuple[Plane, Plane, Plane]:
    """Views of a yuv420p frame's planes without line padding."""
    views = []
    for index, plane in enumerate(frame.planes):
        rows = frame.height if index == 0 else frame.height // 2
        cols = frame.width if index == 0 else frame.width // 2
        data = np.frombuffer(memoryview(plane), np.uint8).reshape(rows, plane.line_size)
        views.append(data[:, :cols])
    return views[0], views[1], views[2]


def _crop(planes: tuple[Plane, Plane, Plane], place: _Placement) -> tuple[Plane, Plane, Plane]:
    y, u, v = planes
    sx, sy, w, h = place.src_x, place.src_y, place.w, place.h
    return (
        y[sy : sy + h, sx : sx + w],
        u[sy // 2 : (sy + h) // 2, sx // 2 : (sx + w) // 2],
        v[sy // 2 : (sy + h) // 2, sx // 2 : (sx + w) // 2],
    )


_StandIn = tuple[_Placement, tuple[Plane, Plane, Plane]]


class Compositor:
    """Paints regions onto a `width` x `height` canvas; one instance per output, one thread."""

    def __init__(self, width: int, height: int, background_color: str = "#000000") -> None:
        if width % 2 or height % 2:
            raise ValueError(f"canvas size must be even, got {width}x{height}")
        self.width, self.height = width, height
        self._buffer = np.empty(width * height * 3 // 2, np.uint8)
        luma = width * height
        self._y = self._buffer[:luma].reshape(height, width)
        self._u = self._buffer[luma : luma * 5 // 4].reshape(height // 2, width // 2)
        self._v = self._buffer[luma * 5 // 4 :].reshape(height // 2, width // 2)
        self._regions: list[Region] = []
        self._background = rgb_to_yuv(*parse_color(background_color))
        # uid -> (input frame, placement, scaled frame): rescale only on a new frame or region
        self._scaled: dict[str, tuple[av.VideoFrame, _Placement, av.VideoFrame]] = {}
        self._scalers: dict[str, VideoReformatter] = {}
        """uid -> its swscale context (kept across frames: set up once per size)."""
        # background pictures, scaled when the layout is set
        self._base: Plane | None = None
        """The canvas with its picture (None: fill with the colour)."""
        self._stand_ins: dict[str, _StandIn] = {}
        """uid -> its picture placed in its region, shown while it has no frame."""
        self._stills: dict[tuple[av.VideoFrame, int, int], av.VideoFrame] = {}
        """(picture, width, height) -> the picture scaled to that size."""

    def set_layout(
        self,
        regions: Sequence[Region],
        background_color: str,
        backgrounds: Backgrounds = NO_BACKGROUNDS,
    ) -> None:
        """The regions and background from the next frame; scales the pictures this needs."""
        self._regions = sorted(regions, key=lambda region: region.z)
        self._background = rgb_to_yuv(*parse_color(background_color))
        held = backgrounds.pictures()
        self._stills = {key: still for key, still in self._stills.items() if key[0] in held}
        self._base = self._canvas_base(backgrounds.canvas)
        self._stand_ins = {}
        for region in self._regions:
            user = backgrounds.for_user(region.uid)
            if user is None:
                continue
            picture = user.picture
            place = _placement(
                dataclasses.replace(region, render_mode=user.render_mode),
                picture.width,
                picture.height,
            )
            if place is not None:
                self._stand_ins[region.uid] = (place, _crop(self._still(picture, place), place))

    def forget(self, uid: str) -> None:
        self._scaled.pop(uid, None)
        self._scalers.pop(uid, None)

    def _still(self, picture: av.VideoFrame, place: _Placement) -> tuple[Plane, Plane, Plane]:
        key = (picture, place.scaled_w, place.scaled_h)
        still = self._stills.get(key)
        if still is None:
            still = picture.reformat(width=place.scaled_w, height=place.scaled_h, format="yuv420p")
            self._stills[key] = still
        return _planes(still)

    def _canvas_base(self, picture: av.VideoFrame | None) -> Plane | None:
        if picture is None:
            return None
        self._fill()
        whole = Region("", 0, 0, self.width, self.height)
        place = _placement(whole, picture.width, picture.height)
        if place is not None:
            self._paint(place, _crop(self._still(picture, place), place), 1.0)
        return self._buffer.copy()

    def _scaled_planes(
        self, uid: str, frame: av.VideoFrame, place: _Placement
    ) -> tuple[Plane, Plane, Plane]:
        cached = self._scaled.get(uid)
        if cached is not None and cached[0] is frame and cached[1] == place:
            scaled = cached[2]
        else:
            scaler = self._scalers.get(uid)
            if scaler is None:
                scaler = self._scalers[uid] = VideoReformatter()
            scaled = scaler.reformat(
                frame, width=place.scaled_w, height=place.scaled_h, format="yuv420p", threads=1
            )
            self._scaled[uid] = (frame, place, scaled)
        return _crop(_planes(scaled), place)

    def _fill(self) -> None:
        by, bu, bv = self._background
        self._y.fill(by)
        self._u.fill(bu)
        self._v.fill(bv)

    def _paint(self, place: _Placement, sources: tuple[Plane, Plane, Plane], alpha: float) -> None:
        x, y, w, h = place.dst_x, place.dst_y, place.w, place.h
        targets = (
            self._y[y : y + h, x : x + w],
            self._u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2],
            self._v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2],
        )
        for target, source in zip(targets, sources, strict=True):
            if alpha >= 1.0:
                target[...] = source
            elif alpha > 0.0:
                blended = target * (1.0 - alpha) + source * alpha
                target[...] = np.rint(blended).astype(np.uint8)

    def compose(self, frames: Mapping[str, av.VideoFrame]) -> av.VideoFrame:
        """One output frame: background, then each region with its uid's latest frame (or,
        without one, its picture)."""
        if self._base is None:
            self._fill()
        else:
            np.copyto(self._buffer, self._base)
        for region in self._regions:
            frame = frames.get(region.uid)
            if frame is None:
                stand_in = self._stand_ins.get(region.uid) if self._stand_ins else None
                if stand_in is not None:
                    self._paint(stand_in[0], stand_in[1], region.alpha)
                continue
            place = _placement(region, frame.width, frame.height)
            if place is None:
                continue
            self._paint(place, self._scaled_planes(region.uid, frame, place), region.alpha)
        image = self._buffer.reshape(self.height * 3 // 2, self.width)
        return av.VideoFrame.from_ndarray(image, format="yuv420p")
