"""The MP4 files of one output: ``_0.mp4``, then ``_1.mp4`` and on as the recording goes on.

Like the service, a long recording is split into several MP4s (protocol.md §3.2.3): a new
file starts at the first video keyframe (HLS segment boundaries are keyframes) once the
current one holds ``max_seconds`` or ``max_bytes``. Each file is written as
``.tmp-<name>`` and renamed (and announced) when finished, and its timestamps start at 0.
Audio runs a little behind video, so the finished file takes the audio packets that still
belong before the split until the first one past it arrives.

A pause (:meth:`Mp4Series.pause`) finishes the current file at once; the recording goes on
after it in the next numbered file (``_1.mp4`` after ``_0.mp4``), whose timestamps start at
0 again and whose start time (``sliceStartTime``) is its real start after the pause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.naming import temporary_name
from cloudrec_recorder.media.spool import FileReady, publish

__all__ = ["Mp4Limits", "Mp4Series", "Mp4Writer", "starts_new_file"]


@dataclass(frozen=True)
class Mp4Limits:
    """When an MP4 is full: the service's ≈ 2 h or ≈ 2 GB."""

    max_seconds: float = 7200.0
    max_bytes: int = 2 * 1024**3

    def __post_init__(self) -> None:
        if self.max_seconds <= 0 or self.max_bytes <= 0:
            raise ValueError("MP4 limits must be positive")


def starts_new_file(
    limits: Mp4Limits, *, file_seconds: float, file_bytes: int, can_start: bool
) -> bool:
    """Whether a packet that ``can_start`` a file (a keyframe) begins the next MP4."""
    return can_start and (file_seconds >= limits.max_seconds or file_bytes >= limits.max_bytes)


def _seconds(packet: av.Packet[Any]) -> float:
    assert packet.pts is not None and packet.time_base is not None
    return float(packet.pts * packet.time_base)


class Mp4Writer:
    """One MP4: muxes packets into ``.tmp-<name>`` (timestamps shifted to start at
    ``offset`` seconds), renamed and announced at close."""

    def __init__(
        self,
        spool_dir: Path,
        name: str,
        templates: Sequence[av.VideoStream | av.AudioStream],
        on_file_ready: FileReady,
        offset: float = 0.0,
    ) -> None:
        self.spool_dir = spool_dir
        self.name = name
        self.offset = offset
        self._on_file_ready = on_file_ready
        self.start_epoch_ms = 0
        """When the file starts (epoch ms), set by the series."""
        self._container = av.open(str(spool_dir / temporary_name(name)), "w", format="mp4")
        self._streams = [
            self._container.add_stream_from_template(t, opaque=True) for t in templates
        ]
        self._packets = 0
        self.bytes = 0
        self.closed = False
        self.published = False

    def mux(self, index: int, packet: av.Packet[Any]) -> None:
        if packet.pts is None:
            return
        if self.offset and packet.time_base is not None:
            shift = round(Fraction(self.offset) / packet.time_base)
            if packet.pts - shift < 0:
                return  # from before this file (an audio frame straddling the split)
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts = max(0, packet.dts - shift)
        packet.stream = self._streams[index]
        self._container.mux(packet)
        self._packets += 1
        self.bytes += packet.size

    def close(self, before_publish: Callable[[], None] | None = None) -> None:
        """Write the index and publish the file (an MP4 without packets is dropped)."""
        if self.closed:
            return
        self.closed = True
        self._container.close()
        if self._packets:
            self.published = True
            if before_publish is not None:
                before_publish()
            publish(self.spool_dir, self.name, self._on_file_ready)
        else:
            (self.spool_dir / temporary_name(self.name)).unlink(missing_ok=True)


class Mp4Series:
    """The MP4 files of one output, named ``name(0)``, ``name(1)``...; see the module doc."""

    def __init__(
        self,
        spool_dir: Path,
        name: Callable[[int], str],
        templates: Sequence[av.VideoStream | av.AudioStream],
        on_file_ready: FileReady,
        *,
        limits: Mp4Limits,
        video_index: int,
        audio_index: int,
        start_epoch_ms: int,
        cut: Cut | None = None,
        first_index: int = 0,
    ) -> None:
        self._spool_dir = spool_dir
        self._name = name
        self._templates = templates
        self._on_file_ready = on_file_ready
        self._limits = limits
        self._video_index = video_index
        self._audio_index = audio_index
        self._start_epoch_ms = start_epoch_ms
        self._gap_ms = 0
        """Wall-clock time spent paused so far (output time does not count it)."""
        self._paused = False
        self._count = first_index
        self._cut = cut or Cut()
        self._current: Mp4Writer | None = self._open(0.0)
        self._finishing: Mp4Writer | None = None
        self._split_at = 0.0
        self.finished: list[tuple[str, int]] = []
        """(name, start in epoch ms) of every published file, in order."""

    def _open(self, offset: float) -> Mp4Writer:
        writer = Mp4Writer(
            self._spool_dir,
            self._name(self._count),
            self._templates,
            self._on_file_ready,
            offset=offset,
        )
        writer.start_epoch_ms = self._start_epoch_ms + self._gap_ms + round(offset * 1000)
        self._count += 1
        return writer

    def _close(self, writer: Mp4Writer) -> None:
        start = writer.start_epoch_ms
        writer.close(before_publish=lambda: self.finished.append((writer.name, start)))

    def pause(self) -> None:
        """The recording pauses: finish the current file (and one taking its last audio)."""
        self.close()
        self._current = None
        self._paused = True

    def resume(self, at: float, gap_ms: int) -> None:
        """Go on in the next file from output time ``at``, after ``gap_ms`` paused."""
        self._gap_ms += gap_ms
        self._paused = False
        if self._current is None:
            self._current = self._open(at)

    def mux(self, index: int, packet: av.Packet[Any]) -> None:
        if packet.pts is None or packet.time_base is None:
            return
        at = _seconds(packet)
        if not self._cut.admits(at):
            return
        if self._current is None:
            if self._paused:
                return  # an encoder's last packet from before the pause: its file is closed
            self._current = self._open(at)
        if self._cut.not_before > 0 and not self._current.offset and not self._current.bytes:
            # a hand-over's taker: its first part starts at the cut
            self._current.offset = self._cut.not_before
            self._current.start_epoch_ms = (
                self._start_epoch_ms + self._gap_ms + round(self._cut.not_before * 1000)
            )
        if self._finishing is not None and index == self._audio_index:
            if at < self._split_at:
                self._finishing.mux(index, packet)
                return
            self._close(self._finishing)
            self._finishing = None
        if self._video_index >= 0:
            can_start = index == self._video_index and packet.is_keyframe
        else:
            can_start = index == self._audio_index
        if starts_new_file(
            self._limits,
            file_seconds=at - self._current.offset,
            file_bytes=self._current.bytes,
            can_start=can_start,
        ):
            if self._finishing is not None:
                self._close(self._finishing)
            self._finishing, self._split_at = self._current, at
            self._current = self._open(at)
            if self._audio_index < 0:
                self._close(self._finishing)
                self._finishing = None
        self._current.mux(index, packet)

    @property
    def next_index(self) -> int:
        """The number the next part would have (a hand-over's taker continues from it)."""
        return self._count

    def close(self) -> None:
        """Finish the last file (and one still taking its last audio)."""
        if self._finishing is not None:
            self._close(self._finishing)
            self._finishing = None
        if self._current is not None:
            self._close(self._current)
