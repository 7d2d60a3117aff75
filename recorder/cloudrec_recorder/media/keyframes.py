"""When a stored (not transcoded) video stream asks its publisher for a keyframe.

A stored stream can start a segment only on a keyframe, and a WebRTC encoder sends them rarely
(aiortc: every 3000 frames; browsers: on request). So the stream asks (a PLI, relayed by Janus to
the publisher) when it starts without one and when a segment boundary has passed without one,
and again every ``retry_seconds`` while still waiting (a request, or its keyframe, can be lost).
Times are the stream's own (seconds from its first frame), so the decision is pure.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KeyframeWanted", "keyframe_wanted"]

RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class KeyframeWanted:
    """Where a stream stands: its newest frame's time, and what it waits for."""

    t: float
    """The newest frame's time."""
    started: bool
    """A segment is open (it began on a keyframe)."""
    next_cut: float
    """The segment boundary after which the next keyframe starts a new segment."""
    last_request: float | None
    """When the stream last asked (None: never)."""


def keyframe_wanted(state: KeyframeWanted, retry_seconds: float = RETRY_SECONDS) -> bool:
    """The stream should ask for a keyframe now."""
    waiting = not state.started or state.t >= state.next_cut
    if not waiting:
        return False
    return state.last_request is None or state.t - state.last_request >= retry_seconds
