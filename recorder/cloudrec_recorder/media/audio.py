"""The audio mixer: each uid's audio resampled to 48 kHz float, summed, clipped.

Each uid has a small jitter buffer: it starts contributing once `prime_samples` are buffered,
and anything beyond `max_samples` (a sender running fast, or a stalled output) is dropped oldest
first. A uid with nothing buffered contributes silence, so the output clock never waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt

__all__ = ["SAMPLE_RATE", "AudioMixer"]

SAMPLE_RATE = 48_000
Samples = npt.NDArray[np.float32]


@dataclass
class _Track:
    resampler: av.AudioResampler
    chunks: list[Samples] = field(default_factory=list)
    buffered: int = 0
    primed: bool = False


class AudioMixer:
    """Mixes uids' `av.AudioFrame`s into `channels` planar float samples at 48 kHz."""

    def __init__(
        self, channels: int, *, prime_samples: int = 2_880, max_samples: int = 24_000
    ) -> None:
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        self.channels = channels
        self.layout = "mono" if channels == 1 else "stereo"
        self._prime = prime_samples
        self._max = max_samples
        self._tracks: dict[str, _Track] = {}

    def _resampler(self) -> av.AudioResampler:
        return av.AudioResampler(format="fltp", layout=self.layout, rate=SAMPLE_RATE)

    def push(self, uid: str, frame: av.AudioFrame) -> None:
        """Add one decoded frame of `uid` (any format, layout and rate)."""
        frame.pts = None  # timestamps of senders jump (loss, reconnects); the mix has its own clock
        track = self._tracks.get(uid)
        if track is None:
            track = self._tracks[uid] = _Track(self._resampler())
        try:
            out = track.resampler.resample(frame)
        except ValueError:  # the sender changed format, layout or rate
            track.resampler = self._resampler()
            out = track.resampler.resample(frame)
        for piece in out:
            samples = piece.to_ndarray().astype(np.float32, copy=False)
            track.chunks.append(samples)
            track.buffered += samples.shape[1]
        self._trim(track)

    def _trim(self, track: _Track) -> None:
        while track.buffered > self._max and track.chunks:
            extra = track.buffered - self._max
            head = track.chunks[0]
            if head.shape[1] <= extra:
                track.chunks.pop(0)
                track.buffered -= head.shape[1]
            else:
                track.chunks[0] = head[:, extra:]
                track.buffered -= extra

    def remove(self, uid: str) -> None:
        self._tracks.pop(uid, None)

    def uids(self) -> list[str]:
        return list(self._tracks)

    def _take(self, track: _Track, count: int) -> Samples | None:
        if not track.primed:
            if track.buffered < self._prime:
                return None
            track.primed = True
        out = np.zeros((self.channels, count), np.float32)
        filled = 0
        while filled < count and track.chunks:
            head = track.chunks[0]
            n = min(count - filled, head.shape[1])
            out[:, filled : filled + n] = head[:, :n]
            filled += n
            if n == head.shape[1]:
                track.chunks.pop(0)
            else:
                track.chunks[0] = head[:, n:]
        track.buffered -= filled
        if filled < count:  # ran dry: wait for a fresh cushion before playing again
            track.primed = False
        return out

    def pull(self, count: int) -> Samples:
        """The next `count` mixed samples, shape (channels, count), in [-1, 1]."""
        mixed = np.zeros((self.channels, count), np.float32)
        for track in self._tracks.values():
            samples = self._take(track, count)
            if samples is not None:
                mixed += samples
        np.clip(mixed, -1.0, 1.0, out=mixed)
        return mixed

    def pull_frame(self, count: int, pts: int) -> av.AudioFrame:
        """`pull` wrapped in an `av.AudioFrame` with `pts` in 1/48000 s."""
        frame = av.AudioFrame.from_ndarray(self.pull(count), format="fltp", layout=self.layout)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        frame.time_base = Fraction(1, SAMPLE_RATE)
        return frame
