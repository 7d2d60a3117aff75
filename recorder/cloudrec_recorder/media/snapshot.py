"""Snapshots: a JPG of each uid's video every ``captureInterval`` seconds (protocol.md §3.2.4).

`SnapshotRecording` takes the same pushes as the other recordings (the latest video frame per
uid; audio is ignored) and runs the same worker loop (`pipeline.RecordingWorker`): from its
start it ticks every `interval_seconds` and, at each tick, writes one JPG per uid whose video
is flowing. A worker that fell behind by more than an interval skips the ticks it missed
rather than writing a burst of identical pictures. A uid that stopped sending (no frame for
`STALE_SECONDS`) gets none until its video comes back, as the service does ("ceases taking
screenshots until the stream resumes").

Files are named ``<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg``, ``<utc>`` being the
capture time (``yyyyMMddHHmmssSSS``, UTC), and follow the spool contract (written as
``.tmp-<name>``, renamed, announced through ``on_file_ready``). They are not playable media,
so they never appear in the recording's file list (`files()` is empty).

The JPG is the frame at its own size, encoded by FFmpeg's MJPEG encoder (``yuvj420p``,
quantiser 3, about the quality of ``ffmpeg -q:v 3``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from cloudrec_recorder.media import naming
from cloudrec_recorder.media.output import Output
from cloudrec_recorder.media.pipeline import ErrorCallback, RecordingNames, RecordingWorker
from cloudrec_recorder.media.spool import FileReady, publish

__all__ = [
    "MAX_INTERVAL_SECONDS",
    "MIN_INTERVAL_SECONDS",
    "STALE_SECONDS",
    "SnapshotConfig",
    "SnapshotRecording",
    "encode_jpeg",
]

log = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 1
MAX_INTERVAL_SECONDS = 3600
STALE_SECONDS = 3.5
"""A uid whose last frame is older than this has stopped sending video (the protocol's
"a user's video stops > 3.5 s", the same rule as the default user background image)."""
FIRST_TICK_SECONDS = 0.5
"""The first tick comes this long after the start, so the first frame has arrived."""
JPEG_QUANTISER = 3


@dataclass(frozen=True)
class SnapshotConfig:
    """A snapshot task: one JPG per uid every `interval_seconds`."""

    interval_seconds: float = 10.0
    stale_seconds: float = STALE_SECONDS
    """A uid whose newest frame is older than this at a tick gets no JPG at that tick."""

    def __post_init__(self) -> None:
        if not MIN_INTERVAL_SECONDS <= self.interval_seconds <= MAX_INTERVAL_SECONDS:
            raise ValueError(
                f"captureInterval must be in [{MIN_INTERVAL_SECONDS}, {MAX_INTERVAL_SECONDS}]"
                f" seconds, got {self.interval_seconds}"
            )


def encode_jpeg(frame: av.VideoFrame) -> bytes:
    """`frame` as a baseline JPG (full-range 4:2:0) at its own size."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 1)
    codec.qmin = codec.qmax = JPEG_QUANTISER
    packets = codec.encode(frame.reformat(format="yuvj420p"))
    packets += codec.encode(None)
    return b"".join(bytes(packet) for packet in packets)


class SnapshotRecording(RecordingWorker):
    """JPGs of every uid's video at a fixed interval; see the module docstring."""

    def __init__(
        self,
        spool_dir: Path,
        names: RecordingNames,
        config: SnapshotConfig,
        on_file_ready: FileReady,
        *,
        on_error: ErrorCallback | None = None,
    ) -> None:
        super().__init__(spool_dir, names, on_file_ready, on_error)
        self.config = config
        self._arrived: dict[str, float] = {}
        self._next_tick = 0.0
        self.taken = 0
        """JPGs written so far."""

    # ------------------------------------------------------------------ caller side
    def push_video(self, uid: str, frame: av.VideoFrame) -> None:
        if self._holding:
            return
        self._arrived[uid] = time.monotonic()
        super().push_video(uid, frame)

    def push_audio(self, uid: str, frame: av.AudioFrame) -> None:
        """Snapshots have no audio."""

    def set_participants(self, uids: Sequence[str]) -> None:
        """Accepted for symmetry with MixRecording; each uid is captured while it sends."""

    def remove(self, uid: str) -> None:
        """No more snapshots of `uid` until it sends again."""
        self._latest.pop(uid, None)
        self._arrived.pop(uid, None)

    def _forget_inputs(self) -> None:
        """No snapshot shows a picture from before a pause."""
        super()._forget_inputs()
        self._arrived.clear()

    # ------------------------------------------------------------------ worker side
    def _behind_after(self) -> float:
        return self.config.interval_seconds

    def _setup(self) -> None:
        self._next_tick = self._start_monotonic + FIRST_TICK_SECONDS

    def _accept_audio(self, uid: str, frame: av.AudioFrame) -> None:
        pass

    def _produce(self, horizon: float, *, final: bool) -> float:
        interval = self.config.interval_seconds
        if horizon - self._next_tick > interval:
            self._next_tick += (horizon - self._next_tick) // interval * interval
        while self._next_tick <= horizon:
            self._note_due(self._next_tick)
            self._capture(self._next_tick)
            self._next_tick += interval
        return self._next_tick

    def _capture(self, tick: float) -> None:
        for uid, frame in list(self._latest.items()):
            arrived = self._arrived.get(uid)
            if arrived is None or tick - arrived > self.config.stale_seconds:
                continue
            utc_ms = int(time.time() * 1000)
            name = self.names.snapshot(uid, utc_ms)
            data = encode_jpeg(frame)
            (self.spool_dir / naming.temporary_name(name)).write_bytes(data)
            publish(self.spool_dir, name, self._announce)
            self.taken += 1

    def _announce(self, name: str) -> None:
        try:
            self._on_file_ready(name)
        except Exception:
            log.exception("on_file_ready failed for %s", name)

    def _outputs(self) -> list[Output]:
        return []
