"""VP8 frames as a WebRTC publisher sends them: solid colours, a keyframe only when asked."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

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
        picture.pict_type = (
            av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        )
        self._count += 1
        packets = self._encoder.encode(picture)
        return b"".join(bytes(p) for p in packets)
