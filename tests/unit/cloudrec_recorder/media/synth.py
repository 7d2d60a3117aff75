"""Synthetic publishers and decoding helpers for the media pipeline tests.

Publishers push solid-colour video frames and sine tones in real time into a recording, the way
the channel code pushes what aiortc tracks yield; the helpers decode what the recording wrote.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import av
import numpy as np
import numpy.typing as npt

RGB = tuple[int, int, int]

COLORS: dict[str, RGB] = {
    "11": (230, 30, 30),
    "12": (30, 200, 40),
    "13": (40, 60, 230),
    "14": (240, 220, 30),
    "15": (30, 220, 230),
    "16": (240, 240, 240),
    "17": (240, 120, 20),
    "18": (120, 40, 200),
    "19": (140, 140, 140),
}
TONES: dict[str, int] = {uid: 300 + 150 * index for index, uid in enumerate(COLORS)}


def solid_frame(rgb: RGB, width: int = 320, height: int = 180) -> av.VideoFrame:
    image = np.empty((height, width, 3), np.uint8)
    image[:] = rgb
    return av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")


def tone_frame(freq: int, start: int, samples: int = 960, rate: int = 48_000) -> av.AudioFrame:
    """20 ms of a sine at `freq` as aiortc's Opus decoder yields it: s16 stereo 48 kHz."""
    t = (np.arange(samples) + start) / rate
    mono = (0.2 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(np.repeat(mono, 2)[None, :], format="s16", layout="stereo")
    frame.sample_rate = rate
    frame.pts = start
    frame.time_base = Fraction(1, rate)
    return frame


class Sink(Protocol):
    """What publishers push to: the push API of both recording kinds."""

    def push_video(self, uid: str, frame: av.VideoFrame) -> None: ...
    def push_audio(self, uid: str, frame: av.AudioFrame) -> None: ...


@dataclass
class Publisher:
    """One synthetic publisher: video (a colour) and/or audio (a tone) for a time window."""

    uid: str
    video: bool = True
    audio: bool = True
    start: float = 0.0
    end: float = float("inf")
    size: tuple[int, int] = (320, 180)
    color: RGB | None = None
    _frame: av.VideoFrame | None = field(default=None, repr=False)

    def frame(self) -> av.VideoFrame:
        if self._frame is None:
            rgb = self.color if self.color is not None else COLORS[self.uid]
            self._frame = solid_frame(rgb, *self.size)
        return self._frame


async def publish(
    sink: Sink,
    publishers: Sequence[Publisher],
    seconds: float,
    actions: Sequence[tuple[float, Callable[[], None]]] = (),
    fps: int = 15,
) -> None:
    """Push frames in real time for `seconds`; run each action at its time (s from now)."""
    begin = time.monotonic()
    pending = sorted(actions, key=lambda item: item[0])
    audio_sent: dict[str, int] = {p.uid: 0 for p in publishers}
    video_sent: dict[str, int] = {p.uid: 0 for p in publishers}
    while (now := time.monotonic() - begin) < seconds:
        while pending and pending[0][0] <= now:
            pending.pop(0)[1]()
        for p in publishers:
            if not p.start <= now < p.end:
                continue
            if p.video and video_sent[p.uid] <= (now - p.start) * fps:
                sink.push_video(p.uid, p.frame())
                video_sent[p.uid] += 1
            while p.audio and audio_sent[p.uid] * 960 <= (now - p.start) * 48_000:
                sink.push_audio(p.uid, tone_frame(TONES[p.uid], audio_sent[p.uid] * 960))
                audio_sent[p.uid] += 1
        await asyncio.sleep(0.01)


def run_all(jobs: Sequence[Awaitable[None]], at_once: int = 4) -> None:
    """Run the recordings, at most `at_once` at a time.

    Each recording's worker thread encodes in real time and shares the GIL with the publishers'
    event loop; many at once on a small machine starve the publishers (their frames come late,
    the mix plays silence and the background), which would test the machine, not the pipeline.
    """

    async def main() -> None:
        slots = asyncio.Semaphore(at_once)

        async def one(job: Awaitable[None]) -> None:
            async with slots:
                await job

        await asyncio.gather(*(one(job) for job in jobs))

    asyncio.run(main())


def tone_peaks(samples: npt.NDArray[np.float32], rate: int = 48_000) -> list[float]:
    """Frequencies (Hz) of the spectral peaks above a tenth of the strongest one."""
    window = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(window))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    threshold = spectrum.max() / 10
    peaks = []
    for i in range(1, len(spectrum) - 1):
        if (
            spectrum[i] >= threshold
            and spectrum[i] >= spectrum[i - 1]
            and spectrum[i] >= spectrum[i + 1]
        ):
            peaks.append(float(freqs[i]))
    return peaks


def tone_levels(
    samples: npt.NDArray[np.float32], tones: Iterable[int], rate: int = 48_000
) -> dict[int, float]:
    """Spectral energy within 4 Hz of each tone."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return {tone: float(spectrum[np.abs(freqs - tone) <= 4].sum()) for tone in tones}


def close_to(rgb: npt.NDArray[np.uint8], expected: RGB, tolerance: int = 30) -> bool:
    return bool(np.all(np.abs(rgb.astype(int) - np.array(expected)) <= tolerance))
