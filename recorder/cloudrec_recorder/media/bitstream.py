"""What a stored video stream needs to know of an encoded frame, read from its first bytes.

Individual mode stores the received video as it is (protocol.md §8): VP8 in WebM slices, H.264
in MPEG-TS slices (MPEG-TS has no mapping for VP8; §8 names ``.webm`` slices for it). Segments
start on keyframes, and a WebM header carries the picture size, so both are read here:

- VP8 (RFC 6386 §9.1): bit 0 of the first byte is 0 on a keyframe, whose 10-byte header holds
  the start code ``9d 01 2a`` and the width and height (14 bits each, little endian);
- H.264 (Annex B byte stream, as libavformat's depacketiser gives it): a keyframe holds an IDR slice
  (NAL unit type 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["StoredVideo", "VideoCodec", "is_keyframe", "stored_video", "vp8_size"]

_VP8_START = b"\x9d\x01\x2a"
_H264_IDR = 5


class VideoCodec(StrEnum):
    """The received video codecs, by their RTP names (upper case, as the receiver gives them)."""

    VP8 = "VP8"
    H264 = "H264"


@dataclass(frozen=True)
class StoredVideo:
    """How a codec is stored: PyAV's container format, the slice extension and the encoder
    that gives the stream's parameters (opened once, never fed)."""

    container: str
    extension: str
    parameters_from: str


_STORED = {
    VideoCodec.VP8: StoredVideo("webm", "webm", "libvpx"),
    VideoCodec.H264: StoredVideo("mpegts", "ts", "libx264"),
}


def stored_video(codec: str) -> StoredVideo | None:
    """How ``codec`` is stored; None for a codec that cannot be stored as is."""
    try:
        return _STORED[VideoCodec(codec.upper())]
    except ValueError:
        return None


def _h264_nal_types(data: bytes) -> list[int]:
    types = []
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        types.append(data[start + 3] & 0x1F)
        start = data.find(b"\x00\x00\x01", start + 3)
    return types


def is_keyframe(codec: VideoCodec, data: bytes) -> bool:
    """``data`` (one whole encoded frame) can be decoded on its own."""
    if not data:
        return False
    if codec is VideoCodec.VP8:
        return data[0] & 0x01 == 0 and data[3:6] == _VP8_START
    return _H264_IDR in _h264_nal_types(data)


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 keyframe; None for any other frame."""
    if len(data) < 10 or not is_keyframe(VideoCodec.VP8, data):
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return width, height
