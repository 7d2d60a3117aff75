"""An individual recording's hand-over: each output (one uid's audio or video playlist) runs on
its own clock, so each is cut at its own segment boundary (media/cut.py holds one cut).

An individual output's time 0 is its uid's first frame of that track, here. A giver
(:meth:`TrackCuts.freeze`) reports each output's clock (:class:`TrackClock`) and makes no new
outputs from then on: a uid or track that starts later is the taker's alone. Each of its
outputs then ends at the cut the taker chose for it (:meth:`TrackCuts.end_at`). A taker
(:meth:`TrackCuts.offer`, :meth:`TrackCuts.take`) makes the giver's outputs when its pipeline
starts, on the giver's clocks, keeping nothing before each output's cut, and holds their
playlists until the giver's final entries come (:meth:`TrackCuts.release`); outputs it makes
for other uids are its own, from their first frame.

Called from the event loop and the media worker thread: the tables are read and changed under
one lock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cloudrec_recorder.media.cut import Cut

__all__ = ["OutputClock", "TrackClock", "TrackCuts"]


@dataclass(frozen=True)
class TrackClock:
    """One output of an individual recording: its playlist, whose track it is, when its time 0
    was (Unix ms) and, for video, its picture size."""

    playlist: str
    uid: str
    video: bool
    origin_epoch_ms: int
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class OutputClock:
    """What a new output runs on: its cut, its time 0 (monotonic and Unix ms)."""

    cut: Cut
    start_monotonic: float
    start_epoch_ms: int


class TrackCuts:
    """See the module docstring. ``TrackCuts()`` cuts nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clocks: dict[str, TrackClock] = {}
        self._cuts: dict[str, Cut] = {}
        self._frozen = False
        self._offered: dict[str, TrackClock] = {}
        self._taken: dict[str, float] = {}

    # ------------------------------------------------------------------ both sides
    def open(self, playlist: str, uid: str, size: tuple[int, int] | None) -> OutputClock | None:
        """A new output of ``playlist`` (worker side): its clock, or None when a giver makes
        no more outputs (the taker records this track)."""
        now_ms = time.time() * 1000
        now = time.monotonic()
        with self._lock:
            offered = self._offered.get(playlist)
            if offered is not None:  # a taker's: on the giver's clock, from the cut on
                cut = Cut(taking=True)
                cut.not_before = self._taken.get(playlist, math.inf)
                origin = offered.origin_epoch_ms
                start = now - (now_ms - origin) / 1000
            elif self._frozen:
                return None
            else:
                cut, origin, start = Cut(), round(now_ms), now
            width, height = size or (0, 0)
            self._clocks[playlist] = TrackClock(
                playlist, uid, size is not None, origin, width, height
            )
            self._cuts[playlist] = cut
        return OutputClock(cut, start, origin)

    def offered(self) -> list[TrackClock]:
        """The giver's outputs a taker makes at its start."""
        with self._lock:
            return list(self._offered.values())

    # ------------------------------------------------------------------ the giver
    def freeze(self) -> list[TrackClock]:
        """Make no new outputs; the outputs made so far, with their clocks."""
        with self._lock:
            self._frozen = True
            return list(self._clocks.values())

    def end_at(self, cuts: Mapping[str, float]) -> None:
        """Each named output keeps only what is before its cut."""
        with self._lock:
            for playlist, at in cuts.items():
                cut = self._cuts.get(playlist)
                if cut is not None and cut.end_at != at:
                    cut.end_at = at

    def thaw(self) -> None:
        """The hand-over failed: every output goes on, new ones are made again."""
        with self._lock:
            self._frozen = False
            for cut in self._cuts.values():
                cut.end_at = math.inf

    # ------------------------------------------------------------------ the taker
    def offer(self, clocks: Sequence[TrackClock]) -> None:
        """Before the start: the giver's outputs (made at the start, on these clocks)."""
        with self._lock:
            self._offered = {clock.playlist: clock for clock in clocks}

    def take(self, cuts: Mapping[str, float]) -> None:
        """Before the start: where each of the giver's outputs begins here."""
        with self._lock:
            self._taken = dict(cuts)

    @property
    def cuts(self) -> dict[str, float]:
        """The cut of each of the giver's outputs, once chosen."""
        with self._lock:
            return dict(self._taken)

    @property
    def holding(self) -> bool:
        """Some output's playlist waits for the giver's entries."""
        with self._lock:
            return any(cut.holding for cut in self._cuts.values())

    def release(self, prefixes: Mapping[str, str]) -> None:
        """The giver's entries by playlist name: every held playlist goes on from them."""
        with self._lock:
            self._offered = {}
            for cut in self._cuts.values():
                if cut.holding:
                    cut.release(prefixes)
