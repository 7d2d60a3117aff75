"""Where a recording's files begin and end in output time, for a hand-over between replicas.

A replica handing a recording over (the giver) and the replica taking it (the taker) share one
output clock (the giver's time 0) and one segment schedule, so their segment boundaries fall
at the same instants. They agree on one boundary, the cut: the giver keeps what is before it,
the taker what is from it on. The giver's writers drop media at or after ``end_at``; the
taker's drop media before ``not_before`` (while the hand-over is undecided the giver's HLS
writer holds back what comes after ``end_at`` instead, ``keep_past_end``). The taker's
playlists are held back until the giver's final entries are known (``prefixes``), then
written as those entries, an ``#EXT-X-DISCONTINUITY`` and the taker's own segments.

A stored video stream (kept as sent) can begin a segment only on a keyframe: its cut
(``on_keyframes``) takes effect at the first keyframe at or after ``not_before`` / ``end_at``
(:meth:`Cut.keyframe`), which both replicas see at the same time (media/track_cuts.py).

Set from the event loop, read by the media worker thread: each attribute is replaced whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["DISCONTINUITY", "EPSILON", "Cut"]

DISCONTINUITY = "#EXT-X-DISCONTINUITY\n"
EPSILON = 1e-6


class Cut:
    """See the module docstring. ``Cut()`` admits everything and holds nothing back."""

    def __init__(self, *, taking: bool = False, on_keyframes: bool = False) -> None:
        self.taking = taking
        self.on_keyframes = on_keyframes
        """A stored video stream's: the cut moves to the first keyframe at or after it."""
        self._key_start = math.inf
        self._key_end = math.inf
        """A taker's: its outputs join the giver's clock at the frame due now, and keep
        nothing (``not_before`` infinite) until the cut is agreed."""
        self.not_before = math.inf if taking else 0.0
        self.end_at = math.inf
        self.keep_past_end = False
        """A giver's until its hand-over is decided: HLS segments from ``end_at`` on are
        written but held back (not announced, not listed); they are thrown away when the
        files end there, and go on as the files' own when ``end_at`` goes back to infinity
        (the hand-over failed: nothing of the giver's is missing)."""
        self._prefixes: Mapping[str, str] | None = None if taking else {}

    def admits(self, t: float) -> bool:
        """Media at output time ``t`` belongs in this replica's files."""
        return self.start - EPSILON <= t < self.end - EPSILON

    @property
    def start(self) -> float:
        """Where this replica's files begin (on keyframes: the keyframe at the cut)."""
        if not self.on_keyframes or self.not_before == 0.0:
            return self.not_before
        return self._key_start if self.not_before != math.inf else math.inf

    @property
    def end(self) -> float:
        """Where this replica's files end (on keyframes: the keyframe at the cut)."""
        if not self.on_keyframes or self.end_at == math.inf:
            return self.end_at
        return self._key_end

    def keyframe(self, t: float) -> None:
        """A stored video stream has a keyframe at ``t`` (before it is written)."""
        if self._key_start == math.inf and t >= self.not_before - EPSILON:
            self._key_start = t
        if self.end_at == math.inf:
            self._key_end = math.inf
        elif self._key_end == math.inf and t >= self.end_at - EPSILON:
            self._key_end = t

    @property
    def holding(self) -> bool:
        """Playlists wait for the giver's entries."""
        return self._prefixes is None

    def release(self, prefixes: Mapping[str, str]) -> None:
        """The giver's playlist entries by playlist name (each ending with a discontinuity)."""
        self._prefixes = dict(prefixes)

    def prefix(self, playlist: str) -> str:
        """What goes before this replica's own entries of ``playlist``."""
        return (self._prefixes or {}).get(playlist, "")
