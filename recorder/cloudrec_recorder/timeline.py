"""A recording's manifest timeline: what the recording notes as it goes, in one place.

:class:`RecordingTimeline` rides on a :class:`~cloudrec_recorder.recording.ChannelRecording`:
its first media (``Started``), pauses and resumes (``Paused``, ``Resumed``), spans without
media (``Gap``, :mod:`~cloudrec_recorder.gaps`), the hand-overs it went through (``HandedOver``,
the givers' ones passed on by :class:`~cloudrec_recorder.taking.Taking`) and its end
(``Stopped``). Every change is also kept in the spool (``.cloudrec-timeline.json``), so that
a restarted recorder's manifest of the recording tells its course (``Restarted``,
:mod:`~cloudrec_recorder.restart`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_recorder.gaps import Gaps
from cloudrec_recorder.restart import write_timeline

__all__ = ["RecordingTimeline", "timeline"]

Marks = Callable[[], list[TimelineEntry]]
"""More entries, read when the timeline is (a hand-over's, :meth:`Taking.marks`)."""


def timeline(
    first_frame_ms: int | None, holds: Sequence[TimelineEntry], stopped_ms: int | None
) -> list[TimelineEntry]:
    """What the manifest says of the recording's course: its first media, what happened
    since (pauses, resumes, gaps, hand-overs; by time) and its end."""
    entries = []
    if first_frame_ms is not None:
        entries.append(TimelineEntry(kind=TimelineKind.STARTED, at_ms=first_frame_ms))
    entries += sorted(holds, key=lambda entry: entry.at_ms)
    if stopped_ms is not None:
        entries.append(TimelineEntry(kind=TimelineKind.STOPPED, at_ms=stopped_ms))
    return entries


class RecordingTimeline:
    """See the module docstring; times are Unix milliseconds."""

    def __init__(self, spool: Path, gap_ms: int) -> None:
        self.spool = spool
        self.started_ms: int | None = None
        self.stopped_ms: int | None = None
        self.holds: list[TimelineEntry] = []
        """Paused and Resumed, in order."""
        self.gaps = Gaps(threshold_ms=gap_ms)
        self.marks: Marks | None = None

    def entries(self) -> list[TimelineEntry]:
        marks = self.holds + self.gaps.entries() + (self.marks() if self.marks else [])
        return timeline(self.started_ms, marks, self.stopped_ms)

    def keep(self) -> None:
        """The timeline so far into the spool (once the recording had media)."""
        if self.started_ms is not None:
            write_timeline(self.spool, self.entries())

    def start(self, at_ms: int, now_ms: int) -> None:
        """The first media came at ``now_ms``; the recording's start is ``at_ms`` (a taken
        recording's is the giver's)."""
        self.started_ms = at_ms
        self.gaps.media(now_ms)
        self.keep()

    def media(self, now_ms: int) -> None:
        if self.gaps.media(now_ms):
            self.keep()

    def pause(self, at_ms: int) -> None:
        self.holds.append(TimelineEntry(kind=TimelineKind.PAUSED, at_ms=at_ms))
        self.gaps.pause(at_ms)
        self.keep()

    def resume(self, at_ms: int) -> None:
        self.holds.append(TimelineEntry(kind=TimelineKind.RESUMED, at_ms=at_ms))
        self.gaps.resume(at_ms, started=self.started_ms is not None)
        self.keep()

    def stop(self, at_ms: int) -> None:
        self.stopped_ms = at_ms
        self.gaps.stop(at_ms)

    def passed_on(self) -> list[TimelineEntry]:
        """What a hand-over's giver passes to its taker: all but its start (the taker's is
        the same) and its stop (the cut, not the recording's end)."""
        ends = (TimelineKind.STARTED, TimelineKind.STOPPED)
        return [entry for entry in self.entries() if entry.kind not in ends]
