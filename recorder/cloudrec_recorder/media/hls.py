"""The HLS writer: MPEG-TS (or WebM) segments cut on keyframes and a growing playlist, in the spool.

Segment boundaries follow a fixed schedule (`SegmentSchedule`); the video encoder is told to start
a keyframe at each boundary, so every segment starts with one. A segment is written as
`.tmp-<name>`, renamed when complete and announced; the playlist is then rewritten (also through a
temporary file) listing only completed segments, `#EXT-X-ENDLIST` once the writer is closed.

A paused recording (:meth:`HlsWriter.pause`) finishes the open segment at once; the first
segment after the pause is listed after an `#EXT-X-DISCONTINUITY` tag (RFC 8216 §4.3.2.3), so
one playlist holds the whole recording with the gap marked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from cloudrec_recorder.media.cut import EPSILON, Cut
from cloudrec_recorder.media.naming import temporary_name
from cloudrec_recorder.media.spool import FileReady, publish, write_text_atomically

__all__ = ["HlsWriter", "SegmentSchedule", "render_playlist"]


@dataclass(frozen=True)
class SegmentSchedule:
    """Segment start times in seconds of output time: 0, first, first + n * seconds."""

    seconds: float
    first_seconds: float | None = None

    def boundary(self, index: int) -> float:
        """Start of segment `index` (0 -> 0.0)."""
        if index == 0:
            return 0.0
        if self.first_seconds is None:
            return index * self.seconds
        return self.first_seconds + (index - 1) * self.seconds

    def index_at(self, t: float) -> int:
        """The segment that output time `t` falls into (times before 0 are in segment 0)."""
        t += 1e-9
        if self.first_seconds is None:
            return max(0, int(t // self.seconds))
        if t < self.first_seconds:
            return 0
        return 1 + int((t - self.first_seconds) // self.seconds)

    @property
    def target_duration(self) -> int:
        return math.ceil(max(self.seconds, self.first_seconds or 0.0))


def _header(target_duration: int) -> str:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        f"#EXT-X-TARGETDURATION:{target_duration}\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
    )


DISCONTINUITY = "#EXT-X-DISCONTINUITY\n"


def _entry(name: str, duration: float, *, discontinuity: bool = False) -> str:
    tag = DISCONTINUITY if discontinuity else ""
    return f"{tag}#EXTINF:{duration:.3f},\n{name}\n"


def _join(target_duration: int, entries: Sequence[str], *, ended: bool) -> str:
    return _header(target_duration) + "".join(entries) + ("#EXT-X-ENDLIST\n" if ended else "")


def longest_entry(entries: str) -> int:
    """The longest ``#EXTINF`` duration in ``entries``, rounded up (0 for none)."""
    longest = 0.0
    for line in entries.splitlines():
        if line.startswith("#EXTINF:"):
            longest = max(longest, float(line[8:].split(",", 1)[0] or 0.0))
    return math.ceil(longest)


def render_playlist(
    segments: Sequence[tuple[str, float]], target_duration: int, *, ended: bool
) -> str:
    """The m3u8 text for `segments` (name, seconds)."""
    longest = max((math.ceil(d) for _, d in segments), default=0)
    entries = [_entry(name, duration) for name, duration in segments]
    return _join(max(target_duration, longest), entries, ended=ended)


class HlsWriter:
    """Muxes encoded packets into TS segments; stream `lead` decides where segments are cut.

    `templates` are the encoders' streams; `mux(index, packet)` takes a packet of
    `templates[index]`. Cuts happen on a lead packet at or after the next boundary that is a
    keyframe (video) or any packet (audio). `lead_frame_seconds` is the length of one lead frame
    (the last one counts into the last segment). `segment_name(epoch_ms)` names a segment
    starting at that wall-clock time; `start_epoch_ms` is the wall-clock time of output time 0.
    """

    def __init__(
        self,
        spool_dir: Path,
        playlist_name: str,
        segment_name: Callable[[int], str],
        templates: Sequence[av.VideoStream | av.AudioStream],
        schedule: SegmentSchedule,
        start_epoch_ms: int,
        on_file_ready: FileReady,
        *,
        lead: int = 0,
        lead_frame_seconds: float = 0.0,
        container_format: str = "mpegts",
        cut: Cut | None = None,
    ) -> None:
        self.spool_dir = spool_dir
        self.playlist_name = playlist_name
        self._segment_name = segment_name
        self._templates = list(templates)
        self._schedule = schedule
        self._start_ms = start_epoch_ms
        self._on_file_ready = on_file_ready
        self._lead = lead
        self._lead_seconds = lead_frame_seconds
        self._lead_is_video = self._templates[lead].type == "video"
        self._format = container_format
        self._cut = cut or Cut()
        self._names: list[str] = []
        self._entries: list[str] = []
        """Each completed segment's playlist lines, rendered once (not at every rewrite)."""
        self._longest = 0
        self._container: av.container.OutputContainer | None = None
        self._streams: list[av.VideoStream | av.AudioStream] = []
        self._current: tuple[str, float] | None = None  # name, start time
        self._next_cut = 0.0
        self._last_end = 0.0
        self._discontinuity = False
        """The next segment comes after a pause (tagged #EXT-X-DISCONTINUITY)."""
        self._current_discontinuity = False
        self._held: list[tuple[str, str, float]] = []
        """Segments complete past a giver's undecided cut: name, entry, duration (cut.py)."""
        self.closed = False

    @property
    def segments(self) -> list[str]:
        """Names of the completed segments, in order (a copy)."""
        return list(self._names)

    @property
    def has_segments(self) -> bool:
        """At least one segment is complete (cheap: asked at every frame)."""
        return bool(self._names)

    @property
    def is_open(self) -> bool:
        """A segment is being written."""
        return self._container is not None

    @property
    def next_cut(self) -> float:
        """Where the open segment ends: at the first lead keyframe from this output time on."""
        return self._next_cut

    def replace_templates(self, templates: Sequence[av.VideoStream | av.AudioStream]) -> None:
        """The streams' parameters from the next segment on (a new picture size, say)."""
        self._templates = list(templates)

    def _open(self, start: float) -> None:
        name = self._segment_name(self._start_ms + round(start * 1000))
        container = av.open(str(self.spool_dir / temporary_name(name)), "w", format=self._format)
        self._streams = [
            container.add_stream_from_template(t, opaque=True) for t in self._templates
        ]
        self._container = container
        self._current = (name, start)
        self._current_discontinuity, self._discontinuity = self._discontinuity, False
        self._next_cut = self._schedule.boundary(self._schedule.index_at(start) + 1)

    def _finish_segment(self, end: float) -> None:
        assert self._container is not None and self._current is not None
        self._container.close()
        self._container = None
        name, start = self._current
        self._current = None
        duration = max(end - start, 0.001)
        entry = _entry(name, duration, discontinuity=self._current_discontinuity)
        if self._cut.keep_past_end and start >= self._cut.end - EPSILON:
            self._held.append((name, entry, duration))  # the hand-over is undecided
            return
        self._list(name, entry, duration)
        self._write_playlist(ended=False)

    def _list(self, name: str, entry: str, duration: float) -> None:
        publish(self.spool_dir, name, self._on_file_ready)
        self._names.append(name)
        self._entries.append(entry)
        self._longest = max(self._longest, math.ceil(duration))

    def _settle_held(self) -> None:
        """The hand-over is decided: the held segments are the files' own (it failed:
        ``end_at`` is infinite again) or thrown away (the files end at the cut)."""
        held, self._held = self._held, []
        for name, entry, duration in held:
            if self._cut.end == math.inf:
                self._list(name, entry, duration)
            else:
                (self.spool_dir / temporary_name(name)).unlink(missing_ok=True)
        if held and self._cut.end == math.inf:
            self._write_playlist(ended=False)

    def _abort_segment(self) -> None:
        """Drop the open segment: it begins past the cut (a hand-over's giver)."""
        assert self._container is not None
        self._container.close()
        self._container = None
        if self._current is not None:
            (self.spool_dir / temporary_name(self._current[0])).unlink(missing_ok=True)
        self._current = None

    def rewrite_playlist(self) -> None:
        """Write the playlist again (the hand-over's giver entries came), if it has any."""
        if self._names and not self._cut.holding:
            self._write_playlist(ended=self.closed)

    def _write_playlist(self, *, ended: bool) -> None:
        if self._cut.holding:
            return  # a taker's playlist waits for the giver's entries
        prefix = self._cut.prefix(self.playlist_name)
        target = max(self._schedule.target_duration, self._longest, longest_entry(prefix))
        text = _join(target, [prefix, *self._entries], ended=ended)
        write_text_atomically(self.spool_dir, self.playlist_name, text, self._on_file_ready)

    def mux(self, index: int, packet: av.Packet[Any]) -> None:
        if packet.pts is None or packet.time_base is None:
            return
        t = float(packet.pts * packet.time_base)
        if self._held and self._cut.end == math.inf:
            self._settle_held()
        kept = self._cut.keep_past_end and t >= self._cut.start - EPSILON
        if not kept and not self._cut.admits(t):
            current = self._current
            if current is not None and current[1] >= self._cut.end - EPSILON:
                self._abort_segment()
            return
        if index == self._lead:
            cut_here = packet.is_keyframe or not self._lead_is_video
            if self._container is not None and cut_here and t >= self._next_cut - 1e-6:
                self._finish_segment(t)
            if self._container is None:
                self._open(t)
            duration = float(packet.duration * packet.time_base) if packet.duration else 0.0
            self._last_end = max(self._last_end, t + (duration or self._lead_seconds))
        elif self._container is None:
            return  # before the first lead packet: segments start on it
        assert self._container is not None
        packet.stream = self._streams[index]
        self._container.mux(packet)

    def pause(self) -> None:
        """The recording pauses: finish the open segment now; the next one (after the gap)
        is marked as a discontinuity."""
        if self._container is not None and self._current is not None:
            self._finish_segment(max(self._last_end, self._current[1]))
        if self._names:
            self._discontinuity = True

    def resume(self, gap_ms: int) -> None:
        """The recording resumes after ``gap_ms`` of wall-clock time that output time does
        not count: later segments are named by their real start."""
        self._start_ms += gap_ms

    def close(self) -> None:
        """Finish the open segment and write the final playlist (with ENDLIST), if any."""
        if self.closed:
            return
        self.closed = True
        current = self._current
        if self._container is not None and current is not None:
            if current[1] >= self._cut.end - EPSILON:
                self._abort_segment()
        self._settle_held()
        if self._container is not None and self._current is not None:
            self._finish_segment(max(self._last_end, self._current[1]))
        if self._names:  # no playlist at all for a recording that never produced a segment
            self._write_playlist(ended=True)
