"""The manifest timeline's gaps: spans longer than a segment with no media admitted."""

from __future__ import annotations

import pytest

from cloudrec_protocol.manifest import TimelineKind
from cloudrec_recorder.gaps import Gaps

SEGMENT = 4000
"""The threshold: one HLS segment, in milliseconds."""

Step = tuple[str, int]
"""(what happened, when in ms): media, pause, resume, resume-unstarted, stop."""


def run(steps: list[Step]) -> list[tuple[int, int]]:
    gaps = Gaps(threshold_ms=SEGMENT)
    for what, at in steps:
        if what == "media":
            gaps.media(at)
        elif what == "pause":
            gaps.pause(at)
        elif what == "resume":
            gaps.resume(at, started=True)
        elif what == "resume-unstarted":
            gaps.resume(at, started=False)
        else:
            gaps.stop(at)
    return gaps.spans


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("media", 0), ("media", 40), ("media", 80), ("stop", 100)], []),
        # the publisher left for 10 s and came back
        ([("media", 0), ("media", 1000), ("media", 11000), ("stop", 12000)], [(1000, 11000)]),
        # exactly one segment without media is not a gap; a millisecond more is
        ([("media", 0), ("media", 4000), ("media", 8001)], [(4000, 8001)]),
        # several, in order
        (
            [("media", 0), ("media", 5000), ("media", 5020), ("media", 15000)],
            [(0, 5000), (5020, 15000)],
        ),
        # nobody after the last media until the stop (e.g. left for maxIdleTime)
        ([("media", 0), ("media", 2000), ("stop", 32000)], [(2000, 32000)]),
        # before the first media is the recording's start, not a gap; none at all: none
        ([("media", 30000), ("stop", 31000)], []),
        ([("stop", 60000)], []),
        # a pause is not a gap; the span without media counts again from the resume
        (
            [("media", 0), ("pause", 1000), ("resume", 30000), ("media", 31000)],
            [],
        ),
        ([("media", 0), ("pause", 1000), ("resume", 30000), ("stop", 40000)], [(30000, 40000)]),
        # no media for long before the pause: that part is a gap, the pause is not
        ([("media", 0), ("pause", 9000), ("resume", 30000), ("media", 30500)], [(0, 9000)]),
        # a stop while paused adds nothing
        ([("media", 0), ("pause", 1000), ("stop", 60000)], []),
        # paused and resumed before any media: the first media still starts the recording
        ([("pause", 0), ("resume-unstarted", 20000), ("media", 25000), ("stop", 26000)], []),
    ],
    ids=[
        "steady media",
        "publisher away 10 s",
        "threshold is exclusive",
        "two gaps",
        "trailing gap",
        "late first media",
        "never any media",
        "pause",
        "nobody after a resume",
        "nobody before a pause",
        "stopped while paused",
        "paused before the start",
    ],
)
def test_a_gap_is_a_span_longer_than_a_segment_without_media(
    steps: list[Step], expected: list[tuple[int, int]]
) -> None:
    assert run(steps) == expected


def test_the_gaps_are_timeline_entries_with_their_start_and_end() -> None:
    gaps = Gaps(threshold_ms=SEGMENT)
    gaps.media(1000)
    assert gaps.media(9000) is True  # the media that ends a gap says so (the spool keeps it)
    assert gaps.media(9040) is False
    [entry] = gaps.entries()
    assert (entry.kind, entry.at_ms, entry.until_ms) == (TimelineKind.GAP, 1000, 9000)
