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

A track stored as received (Opus or VP8/H.264 as sent) has no output clock: its times are the
sender's RTP times from the first packet each replica received. Each replica keeps a digest of
its recent packets (:meth:`TrackCuts.note`); the taker finds the shift between its times and
the giver's from packets both received (:func:`match_shift`, the same bytes), and only then
makes the output, on the giver's times shifted exactly, from its cut (for video: from the first
keyframe at or after it, media/cut.py). A stored track that has sent nothing for
``IDLE_SECONDS`` when the giver offers it (its uid left or stopped sending) has no packets to
match: the giver ends it after its newest packet, and the taker goes on with it if the uid
sends again, on a shift estimated from the wall clock (nothing was sent in between).

Called from the event loop and the media worker thread: the tables are read and changed under
one lock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cloudrec_recorder.media.cut import Cut

__all__ = ["MARKS", "Mark", "OutputClock", "TrackClock", "TrackCuts", "match_shift"]

MARKS = 64
"""How many of its newest packets' digests a giver sends per stored track."""
OWN_MARKS = 512
"""How many a replica keeps per stored track (a taker matches the giver's among them)."""
SUPPORT = 3
"""Packets that must agree on a shift before it is taken."""
IDLE_SECONDS = 1.0
"""A stored track with no packet for this long when offered is idle."""
RATES = {False: 48_000, True: 90_000}
"""A stored track's time units per second: Opus audio, video."""

Mark = tuple[str, int]
"""A packet's digest and its time (in its track's RTP units)."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def match_shift(giver: Sequence[Mark], own: Sequence[Mark], support: int = SUPPORT) -> int | None:
    """What to add to this replica's times to get the giver's: the shift most packets agree
    on (each packet with the same digest on both sides votes), once ``support`` agree and no
    other shift has as many votes; None before that."""
    times: dict[str, list[int]] = {}
    for name, at in giver:
        times.setdefault(name, []).append(at)
    votes: Counter[int] = Counter()
    for name, at in own:
        for theirs in times.get(name, ()):
            votes[theirs - at] += 1
    best = votes.most_common(2)
    if not best or best[0][1] < support or (len(best) == 2 and best[1][1] == best[0][1]):
        return None
    return best[0][0]


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
    copied: bool = False
    """Stored as received (its time 0 is its first packet's, on the giver)."""
    idle: bool = False
    """Stored, and it sent nothing lately: ended on the giver, no shift to find."""


@dataclass(frozen=True)
class OutputClock:
    """What a new output runs on: its cut, its time 0 (monotonic and Unix ms) and, for a
    track stored as received, what to add to its packets' times."""

    cut: Cut
    start_monotonic: float
    start_epoch_ms: int
    shift: int = 0


class TrackCuts:
    """See the module docstring. ``TrackCuts()`` cuts nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clocks: dict[str, TrackClock] = {}
        self._cuts: dict[str, Cut] = {}
        self._frozen = False
        self._offered: dict[str, TrackClock] = {}
        self._taken: dict[str, float] = {}
        self._marks: dict[str, deque[Mark]] = {}
        self._seen: dict[str, float] = {}
        self._shifts: dict[str, int] = {}
        self._prefixes: Mapping[str, str] | None = None
        """The giver's playlist entries, once released (for outputs made later)."""

    # ------------------------------------------------------------------ both sides
    def open(self, playlist: str, uid: str, size: tuple[int, int] | None) -> OutputClock | None:
        """A new output of ``playlist`` (worker side): its clock, or None when a giver makes
        no more outputs (the taker records this track)."""
        now_ms = time.time() * 1000
        now = time.monotonic()
        with self._lock:
            offered = self._offered.get(playlist)
            if self._frozen:  # a giver's (also one that took it over before)
                return None
            if offered is not None:  # a taker's: on the giver's clock, from the cut on
                cut = Cut(taking=True)
                cut.not_before = self._taken.get(playlist, math.inf)
                origin = offered.origin_epoch_ms
                start = now - (now_ms - origin) / 1000
            else:
                cut, origin, start = Cut(), round(now_ms), now
            width, height = size or (0, 0)
            self._clocks[playlist] = TrackClock(
                playlist, uid, size is not None, origin, width, height
            )
            self._cuts[playlist] = cut
            if cut.holding and self._prefixes is not None:
                cut.release(self._prefixes)
        return OutputClock(cut, start, origin)

    def open_stored(
        self, playlist: str, uid: str, *, video: bool, timestamp: int, rate: int
    ) -> OutputClock | None:
        """A new output of a track stored as received, at its first packet (``timestamp``, in
        ``rate`` units); None while a taker has no shift for it yet, or when a giver makes no
        more outputs."""
        now_ms = time.time() * 1000
        with self._lock:
            offered = self._offered.get(playlist)
            if self._frozen:
                return None
            if offered is not None and offered.idle:  # the uid is back: nothing in between
                origin = offered.origin_epoch_ms
                shift = round((now_ms - origin) * rate / 1000) - timestamp
                cut = Cut(taking=True, on_keyframes=video)
                cut.not_before = 0.0
            elif offered is not None:
                found = self._shifts.get(playlist)
                if found is None:
                    return None
                shift = found
                cut = Cut(taking=True, on_keyframes=video)
                cut.not_before = self._taken.get(playlist, math.inf)
                origin = offered.origin_epoch_ms
            else:
                cut, shift = Cut(on_keyframes=video), 0
                origin = round(now_ms - timestamp * 1000 / rate)
            self._clocks[playlist] = TrackClock(playlist, uid, video, origin, copied=True)
            self._cuts[playlist] = cut
            if cut.holding and self._prefixes is not None:  # the uid came back after it all
                cut.release(self._prefixes)
        return OutputClock(cut, time.monotonic(), origin, shift)

    def note(self, playlist: str, data: bytes, timestamp: int) -> None:
        """A packet of a track stored as received (worker side): its digest is kept, at its
        time in the files (a taker's, once its shift is known: a later hand-over's giver)."""
        name = digest(data)
        with self._lock:
            mark = (name, timestamp + self._shifts.get(playlist, 0))
            ring = self._marks.get(playlist)
            if ring is None:
                ring = self._marks[playlist] = deque(maxlen=OWN_MARKS)
            ring.append(mark)
            self._seen[playlist] = time.monotonic()

    def marks(self, playlist: str, newest: int = OWN_MARKS) -> list[Mark]:
        """The ``newest`` packets' digests of a stored track."""
        with self._lock:
            ring = self._marks.get(playlist)
            return list(ring)[-newest:] if ring else []

    def clocks(self) -> list[TrackClock]:
        """The outputs made so far, with their clocks (a stored track that sent nothing for
        ``IDLE_SECONDS`` marked idle), and those a taker was offered and has not made yet:
        what a take-over goes on with (takeover.py)."""
        now = time.monotonic()
        with self._lock:
            clocks = list((self._offered | self._clocks).values())
            seen = dict(self._seen)
        return [
            dataclasses.replace(clock, idle=True)
            if clock.copied and now - seen.get(clock.playlist, now) > IDLE_SECONDS
            else clock
            for clock in clocks
        ]

    def offered(self) -> list[TrackClock]:
        """The giver's outputs a taker makes at its start."""
        with self._lock:
            return list(self._offered.values())

    # ------------------------------------------------------------------ the giver
    def freeze(self) -> list[TrackClock]:
        """Make no new outputs; the outputs made so far, with their clocks. An idle stored
        track ends after its newest packet (module docstring)."""
        now = time.monotonic()
        clocks = []
        with self._lock:
            self._frozen = True
            for clock in self._clocks.values():
                ring = self._marks.get(clock.playlist)
                seen = self._seen.get(clock.playlist, 0.0)
                if clock.copied and ring and now - seen > IDLE_SECONDS:
                    cut = self._cuts[clock.playlist]
                    cut.on_keyframes = False  # its open segment ends with its last packet
                    cut.end_at = ring[-1][1] / RATES[clock.video] + 1e-3
                    clock = dataclasses.replace(clock, idle=True)
                clocks.append(clock)
        return clocks

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
            self._taken.update(cuts)

    def take_stored(self, playlist: str, shift: int, cut: float) -> None:
        """A stored track of the giver's: its shift is known, it begins at ``cut`` here."""
        with self._lock:
            self._shifts[playlist] = shift
            self._taken[playlist] = cut

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
            self._prefixes = dict(prefixes)
            for cut in self._cuts.values():
                if cut.holding:
                    cut.release(prefixes)
