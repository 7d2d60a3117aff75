"""Background pictures of a mix (protocol.md §3.2.2): the canvas picture and per-uid pictures.

- ``backgroundImage``: the canvas picture, cropped to fill the canvas (the colour shows only
  until it is there, or where a transparent region lets it through).
- ``backgroundConfig[]``: a picture per uid, with its own render mode (crop or fit), shown in
  that uid's region while the uid has no video.
- ``defaultUserBackgroundImage``: the same for every other uid (cropped).

`decode_picture` turns downloaded bytes (JPG, PNG or BMP, recognised by their signature; other
formats are refused) into a ``yuv420p`` frame, once per recording and picture. `Backgrounds`
holds the pictures of one layout; the compositor scales each picture once per size it is shown
at and keeps the result, so showing a picture costs a copy per frame and no scaling. Nothing
here downloads anything (see :mod:`cloudrec_recorder.images`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import av

from cloudrec_recorder.media.config import RenderMode

__all__ = [
    "MAX_PICTURE_PIXELS",
    "NO_BACKGROUNDS",
    "Backgrounds",
    "PictureError",
    "UserPicture",
    "decode_picture",
    "picture_format",
]

MAX_PICTURE_PIXELS = 4096 * 4096
"""Bigger pictures are refused before they are decoded (a small file can hold a huge one)."""

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg_pipe", "JPG"),
    (b"\x89PNG\r\n\x1a\n", "png_pipe", "PNG"),
    (b"BM", "bmp_pipe", "BMP"),
)


class PictureError(ValueError):
    """The bytes are not a picture this recorder shows; the message says why."""


def picture_format(data: bytes) -> tuple[str, str] | None:
    """``(FFmpeg demuxer, name)`` of a JPG, PNG or BMP by its signature, None for anything else."""
    for signature, demuxer, name in _SIGNATURES:
        if data.startswith(signature):
            return demuxer, name
    return None


def decode_picture(data: bytes, *, max_pixels: int = MAX_PICTURE_PIXELS) -> av.VideoFrame:
    """The picture in ``data`` as a ``yuv420p`` frame at its own size."""
    found = picture_format(data)
    if found is None:
        raise PictureError("not a JPG, PNG or BMP picture")
    demuxer, name = found
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer) as container:
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > max_pixels:
                raise PictureError(f"the {name} picture is {width}x{height}, more than allowed")
            for frame in container.decode(stream):
                if frame.width < 2 or frame.height < 2:
                    raise PictureError(f"the {name} picture is {frame.width}x{frame.height}")
                picture: av.VideoFrame = frame.reformat(format="yuv420p")
                return picture
    except (av.FFmpegError, IndexError) as exc:
        raise PictureError(f"the {name} picture cannot be decoded: {exc}") from None
    raise PictureError(f"the {name} file holds no picture")


@dataclass(frozen=True)
class UserPicture:
    """A uid's picture and how it fills the uid's region."""

    picture: av.VideoFrame
    render_mode: RenderMode = RenderMode.CROP


@dataclass(frozen=True, eq=False)
class Backgrounds:
    """The pictures of one layout (all optional)."""

    canvas: av.VideoFrame | None = None
    default_user: av.VideoFrame | None = None
    users: Mapping[str, UserPicture] = field(default_factory=dict)

    def for_user(self, uid: str) -> UserPicture | None:
        """The picture shown in ``uid``'s region while it has no video, if any."""
        own = self.users.get(uid)
        if own is not None:
            return own
        if self.default_user is not None:
            return UserPicture(self.default_user)
        return None

    @property
    def has_user_pictures(self) -> bool:
        """True when some uid would show a picture instead of no video."""
        return self.default_user is not None or bool(self.users)

    def pictures(self) -> set[av.VideoFrame]:
        """Every picture held (for pruning scaled copies of pictures no longer used)."""
        held = {p.picture for p in self.users.values()}
        held.update(p for p in (self.canvas, self.default_user) if p is not None)
        return held


NO_BACKGROUNDS = Backgrounds()
