"""Reading back the media files a recording wrote (PyAV), for unit and integration tests alike.

``decode_video(path)`` gives every frame as an RGB array with its time and the stream's size
and rate; ``decode_audio(path)`` the samples as mono floats with the rate and channel count;
``stream_kinds(path)`` which kinds of streams the file holds; ``decode_jpg(data)`` a snapshot
(the bytes of one JPG) as an RGB array.

An individual recording stores VP8 as it was sent, in WebM slices listed by an HLS playlist
(protocol.md §8); FFmpeg's HLS demuxer refuses ``.webm`` segments (its list of allowed segment
extensions), so such a playlist is read slice by slice (``slices``), each a whole WebM file.

A segment is opened as the playlist declares it (``open_media``): a ``.ts`` file as MPEG-TS,
as a player does. Left to probe, FFmpeg takes a segment of one or two audio frames (the last
one of a recording stopped just after a boundary) for an MPEG program stream with MP2 audio.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

__all__ = [
    "DecodedVideo",
    "decode_audio",
    "decode_jpg",
    "decode_video",
    "open_media",
    "slices",
    "stream_kinds",
]

_DECLARED = {".ts": "mpegts"}
"""Formats a segment's name declares (HLS's MPEG-TS segments); others are probed."""


def open_media(path: Path) -> av.container.InputContainer:
    """``path`` opened for reading, in the format its name declares (see the module doc)."""
    return av.open(str(path), format=_DECLARED.get(path.suffix))


@dataclass
class DecodedVideo:
    """A decoded video: frames as RGB arrays with their times, and the stream's facts."""

    frames: list[tuple[float, npt.NDArray[np.uint8]]]
    width: int
    height: int
    rate: Fraction | None


def slices(path: Path) -> list[Path]:
    """The slices a playlist lists (next to it), in order; ``[path]`` for any other file."""
    if path.suffix != ".m3u8":
        return [path]
    lines = path.read_text().splitlines()
    return [path.parent / line for line in lines if line and not line.startswith("#")]


def _webm_slices(path: Path) -> list[Path] | None:
    parts = slices(path)
    return parts if path.suffix == ".m3u8" and parts and parts[0].suffix == ".webm" else None


def decode_video(path: Path) -> DecodedVideo:
    parts = _webm_slices(path)
    if parts is not None:
        decoded = [_decode_one(part) for part in parts]
        first = decoded[0]
        frames = [frame for one in decoded for frame in one.frames]
        return DecodedVideo(frames, first.width, first.height, first.rate)
    return _decode_one(path)


def _decode_one(path: Path) -> DecodedVideo:
    with open_media(path) as container:
        stream = container.streams.video[0]
        frames = [
            (float(f.time or 0.0), np.asarray(f.to_ndarray(format="rgb24"), np.uint8))
            for f in container.decode(stream)
        ]
        return DecodedVideo(
            frames, stream.codec_context.width, stream.codec_context.height, stream.average_rate
        )


def decode_audio(path: Path) -> tuple[npt.NDArray[np.float32], int, int]:
    """Mono float samples (channels averaged), sample rate, channel count."""
    with open_media(path) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        channels = stream.codec_context.channels
        rate = stream.codec_context.sample_rate
    samples = np.concatenate(chunks, axis=1).astype(np.float32)
    return samples.mean(axis=0), rate, channels


def stream_kinds(path: Path) -> list[str]:
    parts = _webm_slices(path)
    with open_media(parts[0] if parts else path) as container:
        return sorted(stream.type for stream in container.streams)


def decode_jpg(data: bytes) -> npt.NDArray[np.uint8]:
    """The picture of one JPG file's bytes, as an RGB array."""
    with av.open(io.BytesIO(data), mode="r", format="jpeg_pipe") as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
