"""A live recording under load, checked from the bucket.

* :class:`PublisherProcess`: ``python -m cloudrec_devenv.publisher`` as a process of its
  own, so that whatever a test does on its own event loop (hundreds of clients, slow
  kubectl calls) never starves the media the recording takes.
* :func:`hls_from_bucket`: a finished HLS playlist and every segment it lists, read from the
  bucket and decoded; :meth:`Hls.assert_continuous` says it has no gap (segments listed in
  order with no discontinuity, every one in the bucket, decoded frames never further apart
  than a frame interval or two).
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
from tests.media_files import decode_video

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess
from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server

__all__ = ["Hls", "PublisherProcess", "hls_from_bucket"]


class PublisherProcess:
    """A synthetic participant publishing in ``room`` from a process of its own until
    the ``with`` block ends (it must still be publishing then: ``assert_publishing``)."""

    def __init__(
        self,
        janus: Janus,
        room: str,
        uid: str,
        log_dir: Path,
        *,
        size: tuple[int, int],
        color: tuple[int, int, int] = color_for(0),
    ) -> None:
        self.janus = janus
        self.room = room
        self.uid = uid
        self.color = color
        argv = [sys.executable, "-m", "cloudrec_devenv.publisher", "--janus", janus.ws_url]
        argv += ["--room", room, "--uid", uid, "--no-audio"]
        argv += ["--color", "#{:02x}{:02x}{:02x}".format(*color)]
        argv += ["--width", str(size[0]), "--height", str(size[1])]
        self.process = ManagedProcess(f"publisher-{uid}", argv, log_dir / f"publisher-{uid}.log")

    def publishing(self) -> bool:
        return any(
            p.id == self.uid and p.publisher for p in self.janus.list_participants(self.room)
        )

    def assert_publishing(self) -> None:
        assert self.process.running(), "the publisher left:\n" + self.process.log_tail()
        assert self.publishing(), f"Janus no longer lists {self.uid} as a publisher"

    def __enter__(self) -> PublisherProcess:
        self.process.start()
        try:
            self.process.wait_until(self.publishing, timeout=60, what="publishing")
        except BaseException:
            self.process.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.process.stop()


@dataclass(frozen=True)
class Hls:
    """A finished playlist as read back from the bucket."""

    playlist: str
    segments: list[str]
    durations: list[float]
    frame_times: list[float]
    last_colour: tuple[int, int, int]
    """The median colour of the last frame (what the recording showed at its end)."""

    @property
    def span(self) -> float:
        return self.frame_times[-1] - self.frame_times[0] if self.frame_times else 0.0

    @property
    def largest_gap(self) -> float:
        pairs = itertools.pairwise(self.frame_times)
        return max((b - a for a, b in pairs), default=float("inf"))

    def assert_continuous(self, fps: int, *, at_least: float, frames: float = 2.0) -> None:
        """No discontinuity, and no two decoded frames more than ``frames`` frame intervals
        apart (with a little slack for timestamp rounding) over at least ``at_least`` s."""
        assert "#EXT-X-ENDLIST" in self.playlist, "the playlist is not finished"
        assert "#EXT-X-DISCONTINUITY" not in self.playlist, self.playlist
        assert self.segments, "no segment listed"
        assert self.span >= at_least, f"{self.span:.1f} s of video, expected {at_least} s"
        allowed = frames / fps + 0.01
        assert self.largest_gap <= allowed, (
            f"largest gap between frames {self.largest_gap:.3f} s (allowed {allowed:.3f} s); "
            f"{len(self.frame_times)} frames over {self.span:.1f} s"
        )
        # The listed durations account for the decoded video: no segment was left out.
        assert abs(sum(self.durations) - self.span) <= 2.0 + allowed, (
            f"segments list {sum(self.durations):.1f} s, the frames span {self.span:.1f} s"
        )


def hls_from_bucket(s3: S3Server, bucket: str, key: str, into: Path) -> Hls:
    """Read the playlist ``key`` and every segment it lists from ``bucket`` and decode it."""
    into.mkdir(parents=True, exist_ok=True)
    text = s3.get_object(bucket, key).decode()
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    durations = [float(d) for d in re.findall(r"^#EXTINF:([0-9.]+)", text, re.MULTILINE)]
    for segment in segments:
        (into / segment).write_bytes(s3.get_object(bucket, folder + segment))
    playlist = into / key.rsplit("/", 1)[-1]
    playlist.write_text(text)
    started = time.monotonic()
    decoded = decode_video(playlist).frames
    assert time.monotonic() - started < 120, "decoding took over two minutes"
    assert decoded, f"{key} holds no frame"
    median = np.median(decoded[-1][1].reshape(-1, 3), axis=0)
    colour = (int(median[0]), int(median[1]), int(median[2]))
    return Hls(text, segments, durations, [t for t, _ in decoded], colour)
