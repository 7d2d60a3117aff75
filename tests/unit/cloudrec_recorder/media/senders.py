"""VP8 and H.264 frames as a WebRTC publisher sends them: solid colours, a keyframe only when
asked."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from av.video.frame import PictureType

RGB = tuple[int, int, int]


class Vp8Sender:
    """libvpx at ``fps``: ``frame(color, keyframe=...)`` gives one encoded frame's bytes."""

    def __init__(self, width: int = 160, height: int = 120, fps: int = 15) -> None:
        encoder = av.CodecContext.create("libvpx", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = Fraction(1, fps)
        encoder.gop_size = 3000  # as aiortc: keyframes on request only
        encoder.options = {"deadline": "realtime", "lag-in-frames": "0"}
        self._encoder = encoder
        self._size = (width, height)
        self._count = 0

    def frame(self, color: RGB, *, keyframe: bool = False) -> bytes:
        width, height = self._size
        rgb = np.full((height, width, 3), color, np.uint8)
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        picture.pts = self._count
        picture.pict_type = PictureType.I if keyframe else PictureType.NONE
        self._count += 1
        packets = self._encoder.encode(picture)
        return b"".join(bytes(p) for p in packets)


class H264Sender:
    """libx264 (Annex B, as aiortc's depacketiser gives H.264): one access unit per frame."""

    def __init__(self, width: int = 160, height: int = 120, fps: int = 15) -> None:
        encoder = av.CodecContext.create("libx264", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = Fraction(1, fps)
        encoder.gop_size = 3000
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
        self._encoder = encoder
        self._size = (width, height)
        self._count = 0

    def frame(self, color: RGB, *, keyframe: bool = False) -> bytes:
        width, height = self._size
        rgb = np.full((height, width, 3), color, np.uint8)
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        picture.pts = self._count
        picture.pict_type = PictureType.I if keyframe else PictureType.NONE
        self._count += 1
        return b"".join(bytes(p) for p in self._encoder.encode(picture))
