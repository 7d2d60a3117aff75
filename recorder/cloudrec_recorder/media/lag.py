"""How far a recording's media worker is behind the wall clock, and when that is worth a word.

The worker writes each output item (a video frame, 1024 audio samples, a snapshot) when it is
due: output time ``t`` is due at monotonic ``start + t`` (audio a fixed cushion later, see
:data:`~cloudrec_recorder.media.output.AUDIO_DELAY`). Its **lag** at an instant is how long the
oldest item not yet written has been due (:func:`lag_at`); 0 while it waits for the next one.
The worker observes it as it begins each item (the item's due time against the clock) and at
the start of each round (the oldest item waiting), and others read it live at any instant.
A worker starved of CPU falls behind: it still writes every item (the files stay whole and end
at the stop, repeating pictures past :data:`~cloudrec_recorder.media.output.MAX_LAG`), only
later, so the lag is what shows it.

:class:`LagWatch` keeps one worker's worst lag and its **episodes**: an episode begins when the
lag passes ``behind_after`` (a segment: a whole segment is late) and ends once the worker has
caught up to under a quarter of that (the hysteresis keeps a lag hovering at the bound from
giving a warning per item). The worker logs a warning when one begins and a line when it ends.
Pure: the caller gives the times.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

__all__ = ["CAUGHT_UP_SHARE", "LagChange", "LagReport", "LagWatch", "lag_at"]

CAUGHT_UP_SHARE = 0.25
"""An episode ends once the lag is under this share of ``behind_after``."""


def lag_at(now: float, due: float | None) -> float:
    """Seconds the item due at ``due`` is overdue at ``now``; 0 when not yet due or when
    nothing is waiting (``due`` None: not started, paused or finished)."""
    if due is None:
        return 0.0
    return max(0.0, now - due)


class LagReport(Protocol):
    """Where a recording's worker reports its lag (the recorder's metrics), from its thread."""

    def fell_behind(self) -> None:
        """An episode began (more than a segment behind)."""

    def worker_done(self, worst_lag: float) -> None:
        """The worker wrote its last item; ``worst_lag``: the most it was behind (s)."""


class LagChange(Enum):
    """What an observed lag started or ended."""

    FELL_BEHIND = "fell-behind"
    CAUGHT_UP = "caught-up"


@dataclass
class LagWatch:
    """One worker's lag over its life; see the module docstring."""

    behind_after: float
    """Seconds of lag that begin an episode (the recording's segment duration)."""
    worst: float = 0.0
    """The largest lag observed."""
    behind: bool = False
    """In an episode now."""
    episodes: int = 0
    """Episodes begun."""
    episode_worst: float = 0.0
    """The largest lag of the current (or last) episode."""

    def observe(self, lag: float) -> LagChange | None:
        """Note ``lag`` (seconds); the episode it begins or ends, if any."""
        self.worst = max(self.worst, lag)
        if not self.behind:
            if lag > self.behind_after:
                self.behind = True
                self.episodes += 1
                self.episode_worst = lag
                return LagChange.FELL_BEHIND
            return None
        self.episode_worst = max(self.episode_worst, lag)
        if lag < self.behind_after * CAUGHT_UP_SHARE:
            self.behind = False
            return LagChange.CAUGHT_UP
        return None
