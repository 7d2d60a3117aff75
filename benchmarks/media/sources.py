"""Pre-decoded inputs: ffmpeg's `testsrc2` pattern (moving) at 640x360 15 fps, and sine tones.

The same lavfi sources feed the ffmpeg floor, so both sides encode the same kind of picture.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 15
LOOP_FRAMES = 30  # 2 s of video, looped


def video_source(width: int = WIDTH, height: int = HEIGHT, fps: int = FPS) -> str:
    return f"testsrc2=size={width}x{height}:rate={fps}"


def tone_source(index: int) -> str:
    return f"sine=frequency={300 + 150 * index}:sample_rate=48000"


def decoded_frames(count: int = LOOP_FRAMES) -> list[av.VideoFrame]:
    """`count` yuv420p frames of testsrc2, as a decoder would hand them over."""
    frames = []
    with av.open(video_source(), format="lavfi") as container:
        for frame in container.decode(video=0):
            frames.append(frame.reformat(format="yuv420p"))
            if len(frames) == count:
                break
    return frames


def tone_frames(index: int, count: int = 50) -> list[av.AudioFrame]:
    """One second of a publisher's tone in 20 ms s16 stereo frames (an Opus decoder's output)."""
    freq = 300 + 150 * index
    frames = []
    for n in range(count):
        t = (np.arange(960) + n * 960) / 48_000
        mono = (0.2 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(mono, 2)[None, :], format="s16", layout="stereo"
        )
        frame.sample_rate = 48_000
        frame.pts = n * 960
        frame.time_base = Fraction(1, 48_000)
        frames.append(frame)
    return frames
