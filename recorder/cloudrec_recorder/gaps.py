"""A recording's gaps (pure): spans in which nothing was captured, for the manifest's timeline.

A gap is a span longer than ``threshold_ms`` with no media admitted to the pipeline: nobody
published in the channel, or no stream the recording subscribes to had media. The recording
(:mod:`~cloudrec_recorder.recording`) takes the threshold to be one HLS segment
(``hlsSegmentSeconds``): a span that long may leave a whole segment without a publisher's
media, while the ordinary jitter between frames (tens of milliseconds) and a publisher's short
stall are well under it, so the timeline lists only what a viewer would see.

What is not a gap: the time before the first media (the recording starts with its first media,
``Started``), a pause (``Paused`` and ``Resumed`` say it; the clock starts again from the
resume, since nothing can come while paused), and nothing at all for a recording that never
had media. The span from the last media to the stop is a gap when it is long enough (e.g. a
recording left for ``maxIdleTime`` after its publishers left).

Times are Unix milliseconds, passed in by the caller; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudrec_protocol.manifest import TimelineEntry, TimelineKind

__all__ = ["Gaps"]


@dataclass
class Gaps:
    """The gaps found so far (see the module docstring)."""

    threshold_ms: int
    last_ms: int | None = None
    """The last media, or the resume after a pause (None: before the first media, or
    while paused)."""
    spans: list[tuple[int, int]] = field(default_factory=list)
    """``(start, end)`` of each gap, in order."""

    def media(self, now_ms: int) -> bool:
        """Media was admitted at ``now_ms``; True when that ended a gap."""
        last = self.last_ms
        self.last_ms = now_ms
        if last is not None and now_ms - last > self.threshold_ms:
            self.spans.append((last, now_ms))
            return True
        return False

    def pause(self, now_ms: int) -> None:
        """The recording paused: a span without media up to now is a gap; the pause is not."""
        self._close(now_ms)
        self.last_ms = None

    def resume(self, now_ms: int, *, started: bool) -> None:
        """The recording resumed: a span without media counts from now (once it had media)."""
        if started:
            self.last_ms = now_ms

    def stop(self, now_ms: int) -> None:
        """The recording stopped: a long enough span since the last media is a gap."""
        self._close(now_ms)
        self.last_ms = None

    def entries(self) -> list[TimelineEntry]:
        """The gaps as the manifest's timeline lists them."""
        return [
            TimelineEntry(kind=TimelineKind.GAP, at_ms=start, until_ms=end)
            for start, end in self.spans
        ]

    def _close(self, now_ms: int) -> None:
        last = self.last_ms
        if last is not None and now_ms - last > self.threshold_ms:
            self.spans.append((last, now_ms))
