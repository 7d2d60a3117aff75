"""Reading back a handed-over recording: one playlist (a mix's, or each of an individual
recording's), continuous media, every colour.

Used by the recorder's and the operator's hand-over tests. The bucket's playlist is decoded
segment by segment with PyAV (MPEG-TS keeps the recording's clock: the taker runs on the
giver's), so a gap or an overlap at the switch shows as a step between frame times.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tests.integration.recorder.checks import tone_strength
from tests.media_files import open_media

from cloudrec_devenv.s3 import S3Server

RGB = tuple[int, int, int]
DISCONTINUITY = "#EXT-X-DISCONTINUITY"


@dataclass
class Part:
    """Frames of the playlist between two discontinuities."""

    times: list[float]
    frames: list[npt.NDArray[np.uint8]]
    samples: list[npt.NDArray[np.float32]] = dataclasses.field(default_factory=list)
    """Audio (``kind="audio"``): mono samples of each decoded frame."""


@dataclass
class HandedOverMedia:
    playlist_key: str
    text: str
    segments: list[str]
    parts: list[Part]

    @property
    def discontinuities(self) -> int:
        return self.text.count(DISCONTINUITY)

    @property
    def times(self) -> list[float]:
        return [t for part in self.parts for t in part.times]

    def largest_step(self) -> float:
        return max(b - a for a, b in itertools.pairwise(self.times))

    def switch_steps(self) -> list[float]:
        """The step between frame times at each discontinuity."""
        return [b.times[0] - a.times[-1] for a, b in itertools.pairwise(self.parts)]

    def smallest_step(self) -> float:
        return min(b - a for a, b in itertools.pairwise(self.times))


def read_handed_over(
    s3: S3Server, bucket: str, sid: str, into: Path, kind: str = "video"
) -> HandedOverMedia:
    """The sid's one playlist in ``bucket``, its segments downloaded and decoded (video
    frames, or audio frames with ``kind="audio"``)."""
    keys = s3.object_keys(bucket)
    playlists = [k for k in keys if sid in k and k.endswith(".m3u8")]
    assert len(playlists) == 1, playlists
    return read_playlist(s3, bucket, playlists[0], into, kind)


def read_playlist(
    s3: S3Server, bucket: str, key: str, into: Path, kind: str = "video"
) -> HandedOverMedia:
    """The playlist ``key`` in ``bucket``, its segments downloaded and decoded (video frames,
    or audio frames with ``kind="audio"``)."""
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    text = s3.get_object(bucket, key).decode()
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    parts = [Part([], [])]
    for line in text.splitlines():
        if line.startswith(DISCONTINUITY):
            parts.append(Part([], []))
        elif line and not line.startswith("#"):
            path = into / line
            path.write_bytes(s3.get_object(bucket, folder + line))
            with open_media(path) as container:
                if kind == "audio":
                    for sound in container.decode(audio=0):
                        assert sound.time is not None
                        parts[-1].times.append(float(sound.time))
                        parts[-1].samples.append(sound.to_ndarray().mean(axis=0))
                    continue
                for frame in container.decode(video=0):
                    assert frame.time is not None
                    parts[-1].times.append(float(frame.time))
                    parts[-1].frames.append(frame.to_ndarray(format="rgb24"))
    return HandedOverMedia(key, text, segments, parts)


def shows_colour(frames: Sequence[npt.NDArray[np.uint8]], colour: RGB, share: float = 0.03) -> bool:
    """Some frame has at least ``share`` of its pixels close to ``colour``."""
    target = np.array(colour, dtype=np.int16)
    for frame in frames[len(frames) // 2 :: 5] or frames:
        close = np.all(np.abs(frame.astype(np.int16) - target) <= 40, axis=2)
        if close.mean() >= share:
            return True
    return False


def check_continuous(
    media: HandedOverMedia, fps: int, colours: Sequence[RGB], switches: int = 1
) -> None:
    """One discontinuity per hand-over; no segment twice; frame times step by one frame
    interval at most (no media time missing) and always forward (none twice); every colour
    in every replica's part."""
    assert media.discontinuities == switches, media.text
    assert len(set(media.segments)) == len(media.segments), media.segments
    assert len(media.parts) == switches + 1 and all(p.times for p in media.parts)
    interval = 1 / fps
    assert media.largest_step() <= interval + 0.005, (
        f"a gap of {media.largest_step():.3f}s; steps at the switches {media.switch_steps()}"
    )
    assert media.smallest_step() > 0, "a frame time twice (overlap kept)"
    for colour in colours:
        for index, part in enumerate(media.parts):
            assert shows_colour(part.frames, colour), f"{colour} missing in part {index}"


def check_continuous_audio(
    media: HandedOverMedia, tones: Sequence[float], samples: int = 1024
) -> None:
    """Audio: one discontinuity, frames (AAC: 1024 samples, Opus as sent: 960) back to back
    across it, every tone heard in both parts."""
    assert media.discontinuities == 1, media.text
    assert len(set(media.segments)) == len(media.segments), media.segments
    assert len(media.parts) == 2 and all(p.times for p in media.parts)
    frame = samples / 48_000
    assert media.largest_step() <= frame + 0.002, f"steps at the switch {media.switch_steps()}"
    assert media.smallest_step() > 0, "an audio frame twice (overlap kept)"
    for index, part in enumerate(media.parts):
        samples = np.concatenate(part.samples[-int(2 / frame) :]).astype(np.float32)
        for hz in tones:
            assert tone_strength(samples, 48_000, hz) > 0.2, f"{hz} Hz missing in part {index}"


def check_stored_continuous(media: HandedOverMedia, fps: int, colours: Sequence[RGB]) -> None:
    """Video stored as sent (the sender's frame times): one discontinuity, no segment twice,
    no frame twice, and the step across the switch no longer than one frame interval or the
    sender's own longest step elsewhere (no frame the two replicas received is missing)."""
    assert media.discontinuities == 1, media.text
    assert len(set(media.segments)) == len(media.segments), media.segments
    assert len(media.parts) == 2 and all(p.times for p in media.parts)
    assert media.smallest_step() > 0, "a frame time twice (overlap kept)"
    inner = max(
        (b - a for part in media.parts for a, b in itertools.pairwise(part.times)), default=0.0
    )
    [switch] = media.switch_steps()
    assert switch <= max(1 / fps, inner) + 0.005, f"a gap of {switch:.3f}s (inner {inner:.3f}s)"
    for colour in colours:
        for index, part in enumerate(media.parts):
            assert shows_colour(part.frames, colour), f"{colour} missing in part {index}"
