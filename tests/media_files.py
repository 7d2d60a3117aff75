"""Reading back the media files a recording wrote (PyAV), for unit and integration tests alike.

``decode_video(path)`` gives every frame as an RGB array with its time and the stream's size
and rate; ``decode_audio(path)`` the samples as mono floats with the rate and channel count;
``stream_kinds(path)`` which kinds of streams the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

__all__ = ["DecodedVideo", "decode_audio", "decode_video", "stream_kinds"]


@dataclass
class DecodedVideo:
    """A decoded video: frames as RGB arrays with their times, and the stream's facts."""

    frames: list[tuple[float, npt.NDArray[np.uint8]]]
    width: int
    height: int
    rate: Fraction | None


def decode_video(path: Path) -> DecodedVideo:
    with av.open(str(path)) as container:
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
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        channels = stream.codec_context.channels
        rate = stream.codec_context.sample_rate
    samples = np.concatenate(chunks, axis=1).astype(np.float32)
    return samples.mean(axis=0), rate, channels


def stream_kinds(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return sorted(stream.type for stream in container.streams)
