"""Background pictures: decoding what a server sends, and where the compositor shows them."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from tests.media_files import decode_video
from tests.unit.cloudrec_recorder.media.synth import (
    COLORS,
    Publisher,
    close_to,
    publish,
    run_all,
    solid_frame,
)

from cloudrec_recorder.media.background import (
    Backgrounds,
    PictureError,
    UserPicture,
    decode_picture,
)
from cloudrec_recorder.media.compose import Compositor
from cloudrec_recorder.media.config import MixConfig, RenderMode, VideoLayout
from cloudrec_recorder.media.layout import Region, compute_layout
from cloudrec_recorder.media.pipeline import MixRecording, RecordingNames

PINK = (250, 120, 200)
TEAL = (20, 160, 150)
ORANGE = (250, 140, 10)


def encoded(codec: str, rgb: tuple[int, int, int], width: int = 48, height: int = 32) -> bytes:
    """A still of one colour as a JPG (mjpeg), PNG or BMP file's bytes."""
    pix_fmt = {"mjpeg": "yuvj420p", "png": "rgb24", "bmp": "bgr24"}[codec]
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = width, height, pix_fmt
    context.time_base = Fraction(1, 1)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = rgb
    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
    packets = context.encode(frame) + context.encode(None)
    return b"".join(bytes(p) for p in packets)


def halves(left: tuple[int, int, int], right: tuple[int, int, int]) -> av.VideoFrame:
    """A 64x36 picture: ``left`` colour on the left half, ``right`` on the right."""
    image = np.empty((36, 64, 3), np.uint8)
    image[:, :32] = left
    image[:, 32:] = right
    return av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")


def rgb(compositor: Compositor, frames: dict[str, av.VideoFrame]) -> np.ndarray:
    return np.asarray(compositor.compose(frames).to_ndarray(format="rgb24"))


@pytest.mark.parametrize("codec", ["mjpeg", "png", "bmp"])
def test_a_jpg_png_or_bmp_picture_decodes_to_its_colour_and_size(codec: str) -> None:
    picture = decode_picture(encoded(codec, PINK, 48, 32))
    assert (picture.width, picture.height, picture.format.name) == (48, 32, "yuv420p")
    assert close_to(picture.to_ndarray(format="rgb24")[16, 24], PINK, tolerance=18)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html>not found</html>", "not a JPG, PNG or BMP"),
        (b"GIF89a" + bytes(64), "not a JPG, PNG or BMP"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "cannot be decoded|holds no picture"),
    ],
    ids=["html", "gif", "truncated-png"],
)
def test_what_is_not_a_picture_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(PictureError, match=reason):
        decode_picture(data)


def test_a_picture_larger_than_allowed_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(PictureError, match="48x32, more than allowed"):
        decode_picture(encoded("png", PINK, 48, 32), max_pixels=1000)


def test_the_canvas_picture_fills_the_canvas_under_the_regions() -> None:
    compositor = Compositor(64, 36, "#000000")
    canvas = halves(PINK, TEAL)
    compositor.set_layout([Region("a", 0, 0, 32, 18)], "#000000", Backgrounds(canvas=canvas))
    image = rgb(compositor, {"a": solid_frame(COLORS["11"], 32, 18)})
    assert close_to(image[9, 16], COLORS["11"], tolerance=18)  # the region
    assert close_to(image[27, 8], PINK, tolerance=18)  # the picture's left half
    assert close_to(image[27, 56], TEAL, tolerance=18)  # and its right half


def test_a_uid_without_video_shows_its_own_picture_and_others_the_default() -> None:
    compositor = Compositor(64, 36, "#000000")
    regions = [Region("a", 0, 0, 32, 36), Region("b", 32, 0, 32, 36)]
    backgrounds = Backgrounds(
        default_user=decode_picture(encoded("png", ORANGE)),
        users={"a": UserPicture(decode_picture(encoded("png", TEAL)))},
    )
    compositor.set_layout(regions, "#000000", backgrounds)
    image = rgb(compositor, {})
    assert close_to(image[18, 16], TEAL, tolerance=18)
    assert close_to(image[18, 48], ORANGE, tolerance=18)
    image = rgb(compositor, {"a": solid_frame(COLORS["12"], 32, 36)})
    assert close_to(image[18, 16], COLORS["12"], tolerance=18)  # video wins over the picture


def test_a_fit_user_picture_is_letterboxed_with_the_background_colour() -> None:
    compositor = Compositor(64, 36, "#000000")
    square = decode_picture(encoded("png", TEAL, 36, 36))
    backgrounds = Backgrounds(users={"a": UserPicture(square, RenderMode.FIT)})
    compositor.set_layout([Region("a", 0, 0, 64, 36)], "#0000FF", backgrounds)
    image = rgb(compositor, {})
    assert close_to(image[18, 32], TEAL, tolerance=18)
    assert close_to(image[18, 4], (0, 0, 255), tolerance=18)


def test_pictures_are_scaled_when_the_layout_is_set_not_per_frame() -> None:
    compositor = Compositor(64, 36, "#000000")
    picture = decode_picture(encoded("png", TEAL))
    backgrounds = Backgrounds(canvas=picture, default_user=picture)
    compositor.set_layout([Region("a", 0, 0, 32, 36)], "#000000", backgrounds)
    scaled = dict(compositor._stills)
    for _ in range(3):
        compositor.compose({})
    assert compositor._stills == scaled and len(scaled) == 2  # canvas size and region size
    compositor.set_layout([Region("a", 0, 0, 32, 36)], "#000000", backgrounds)
    assert all(compositor._stills[key] is still for key, still in scaled.items())
    compositor.set_layout([Region("a", 0, 0, 32, 36)], "#000000")
    assert compositor._stills == {}  # pictures no longer used are let go


def test_in_a_mix_a_uid_whose_video_stopped_shows_its_picture(tmp_path: Path) -> None:
    config = MixConfig(
        width=160,
        height=90,
        fps=15,
        bitrate_kbps=300,
        layout=VideoLayout.BEST_FIT,
        segment_seconds=1.0,
        first_segment_seconds=None,
        video_stopped_seconds=0.5,
    )
    recording = MixRecording(tmp_path, RecordingNames("sid", "room"), config, lambda _: None)
    recording.set_participants(["11", "12"])
    recording.set_backgrounds(Backgrounds(users={"12": UserPicture(halves(PINK, PINK))}))
    publishers = [Publisher("11", audio=False), Publisher("12", audio=False, end=1.0)]

    async def record() -> None:
        recording.start()
        await publish(recording, publishers, 3.0)
        await recording.stop()

    run_all([record()])
    video = decode_video(tmp_path / "sid_room.m3u8")
    left, right = compute_layout(VideoLayout.BEST_FIT, ["11", "12"], 160, 90)
    probe = (right.y + right.height // 2, right.x + right.width // 2)
    early = [f for t, f in video.frames if 0.2 < t < 0.9]
    late = [f for t, f in video.frames if t > 2.0]
    assert early and late
    assert all(close_to(f[probe], COLORS["12"], tolerance=30) for f in early)
    assert all(close_to(f[probe], PINK, tolerance=30) for f in late)
    lprobe = (left.y + left.height // 2, left.x + left.width // 2)
    assert all(close_to(f[lprobe], COLORS["11"], tolerance=30) for f in late)
