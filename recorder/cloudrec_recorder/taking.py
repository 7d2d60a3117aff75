"""The taking side of a hand-over: a recording this replica goes on with (handover.py).

:class:`Taking` rides on the taker's :class:`~cloudrec_recorder.recording.ChannelRecording`.
Before the recording starts, its mix pipeline is set to keep nothing and hold its playlists
(:meth:`Taking.prepare`). At the first media the pipeline starts on the giver's output clock and
the cut is chosen (:meth:`Taking.begin`); from then on the taker's files begin at the cut. When
the giver is done (:meth:`Taking.release`) the playlists are written with the giver's entries
in front, and event 12 (session_failover) says where the recording is now.

Until the giver is done the sid's names are the giver's: the taker's files stay in its spool
(the recording's upload holds them), and a taking the giver gave up on (``DELETE``), or one
stopped before the giver was done (waited for a bounded time, :meth:`Taking.settle`), is
abandoned: nothing of it goes up, its spool is removed (:attr:`Taking.on_abandoned`). The
giver's playlist, manifest and segments are never overwritten by a taker that did not take.

An individual recording (:class:`~cloudrec_recorder.ports.TrackPipeline`) goes the same way per
output: :meth:`Taking.prepare_tracks` gives its pipeline the giver's outputs, and
:meth:`Taking.begin_tracks` one cut per output (media/track_cuts.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_recorder.handover import (
    GiverDone,
    GiverMarks,
    Offer,
    TakerReport,
    choose_cut,
    choose_cuts,
    playlist_entries,
    stored_cut,
)
from cloudrec_recorder.media.copied import OPUS_RATE
from cloudrec_recorder.media.copied_video import VIDEO_RATE
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.track_cuts import match_shift
from cloudrec_recorder.ports import MediaParts, Mixer, RecordingEventSink, TrackPipeline
from cloudrec_recorder.takeover import backup_prefix

__all__ = ["Taking"]

log = logging.getLogger(__name__)


@dataclass
class Taking:
    """What the giver offered and how far this replica is with it."""

    offer: Offer
    here: str
    """This replica's id (named in event 12)."""
    margin: float
    """``handover.cutMarginSeconds``."""
    cut: float | None = None
    failed: bool = False
    takeovers: int = 0
    """How many take-overs the recording went through (takeover.py): its ``bak<n>_`` names."""
    switched_ms: int | None = None
    """When this replica's files took over (the cut, Unix ms): the manifest's HandedOver."""
    given: list[TimelineEntry] = field(default_factory=list)
    """The giver's timeline entries (its own hand-overs among them), once it is done."""
    stalls: bool = False
    """``handover.testFaultTakerStalls``: never report a complete segment (tests only)."""
    released: asyncio.Event = field(default_factory=asyncio.Event)
    on_abandoned: Callable[[], None] = lambda: None
    """The giver never finished: this replica's files are thrown away, its events muted
    (set by the recording's builder)."""

    def marks(self) -> list[TimelineEntry]:
        """The manifest timeline's entries from the giver, then the HandedOver entry, once
        this replica's files took over: after N hand-overs, all N."""
        if self.switched_ms is None:
            return list(self.given)
        detail = f"from replica {self.offer.giver}"
        mark = TimelineEntry(kind=TimelineKind.HANDED_OVER, at_ms=self.switched_ms, detail=detail)
        return [*self.given, mark]

    @property
    def channel_uid(self) -> str:
        return self.offer.taker_uid

    @property
    def file_prefix(self) -> str:
        """``bak<n>_`` after a take-over (protocol.md §8), else nothing."""
        return backup_prefix(self.takeovers)

    def prepare(self, mixer: Mixer) -> None:
        """Before the start: keep nothing until the cut, continue the giver's MP4 parts."""
        mixer.cut = Cut(taking=True)
        mixer.first_mp4_index = self.offer.next_mp4_index

    def begin(self, mixer: Mixer) -> int:
        """The first media came: the pipeline runs on the giver's clock from the frame due
        now, and the cut is the first boundary ``margin`` seconds on. Returns the recording's
        ``sliceStartTime`` (the giver's)."""
        origin = self.offer.origin_epoch_ms
        mixer.start(origin)
        output_time = time.time() - origin / 1000
        self.cut = choose_cut(mixer.schedule, output_time, self.margin)
        mixer.cut.not_before = self.cut
        log.info("Taking over sid=%s cut=%.3f at=%.3f", self.offer.sid, self.cut, output_time)
        return self.offer.first_frame_ms

    def prepare_tracks(self, tracks: TrackPipeline) -> None:
        """Before the start (an individual recording): the giver's outputs go on here."""
        tracks.track_cuts.offer([clock.media() for clock in self.offer.tracks])

    def begin_tracks(self, tracks: TrackPipeline) -> int:
        """The first media came (an individual recording): each of the giver's outputs is
        cut at its first boundary ``margin`` seconds on (the caller starts the pipeline next).
        Returns the recording's ``sliceStartTime`` (the giver's)."""
        now_ms = round(time.time() * 1000)
        tracks.track_cuts.take(choose_cuts(tracks.schedule, self.offer.tracks, now_ms, self.margin))
        log.info("Taking over sid=%s outputs=%d", self.offer.sid, len(self.offer.tracks))
        return self.offer.first_frame_ms

    def match(self, tracks: TrackPipeline, given: GiverMarks) -> None:
        """The giver's newest packets of its stored tracks: each track whose shift is found
        now gets its cut, ``margin`` seconds after this replica's newest packet of it."""
        cuts = tracks.track_cuts.cuts
        for clock in self.offer.tracks:
            theirs = given.marks.get(clock.playlist)
            if not clock.copied or clock.idle or clock.playlist in cuts or not theirs:
                continue
            own = tracks.track_cuts.marks(clock.playlist)
            shift = match_shift(theirs, own)
            if shift is None or not own:
                continue
            rate = VIDEO_RATE if clock.video else OPUS_RATE
            at = stored_cut(tracks.schedule, own[-1][1] + shift, rate, self.margin)
            tracks.track_cuts.take_stored(clock.playlist, shift, at)
            log.info(
                "Taking over sid=%s %s shift=%d cut=%.3f", self.offer.sid, clock.playlist, shift, at
            )

    def begin_media(self, media: MediaParts) -> int:
        """The first media came: :meth:`begin` (a mix) or :meth:`begin_tracks` and the
        pipeline's start (an individual recording). Returns ``sliceStartTime``."""
        if media.mixer is not None:
            return self.begin(media.mixer)
        if media.tracks is not None:
            self.begin_tracks(media.tracks)
        media.pipeline.start()
        return self.offer.first_frame_ms

    def report(self, media: MediaParts) -> TakerReport:
        tracks = media.tracks
        if media.mixer is None and tracks is not None:
            complete = {f.name for f in tracks.files()}
            cuts = tracks.track_cuts.cuts
            offered = [clock.playlist for clock in self.offer.tracks if not clock.idle]
            return TakerReport(
                cuts=cuts,
                first_segment=not self.stalls
                and all(name in cuts and name in complete for name in offered),
                failed=self.failed,
            )
        files = media.mixer.files() if media.mixer is not None else []
        first = bool(files) and not self.stalls
        return TakerReport(cut=self.cut, first_segment=first, failed=self.failed)

    def release(self, media: MediaParts, done: GiverDone, events: RecordingEventSink) -> None:
        """The giver delivered its files: the playlists go on from its entries; event 12."""
        if self.released.is_set():
            return
        entries = {name: playlist_entries(t) for name, t in done.playlists.items()}
        if media.mixer is not None:
            media.mixer.cut.release(entries)
            media.mixer.rewrite_playlists()
        elif media.tracks is not None:
            self._release_tracks(media.tracks, entries)
        self.given = list(done.timeline)
        if self.cut is not None:
            self.switched_ms = self.offer.origin_epoch_ms + round(self.cut * 1000)
        self.released.set()
        events.session_failover(self.offer.taker_uid, self.offer.giver, self.here)
        log.info("Took over sid=%s from=%s", self.offer.sid, self.offer.giver)

    def _release_tracks(self, tracks: TrackPipeline, entries: dict[str, str]) -> None:
        cuts = tracks.track_cuts.cuts
        tracks.track_cuts.release(entries)
        tracks.rewrite_playlists()
        origins = {clock.playlist: clock.origin_epoch_ms for clock in self.offer.tracks}
        switched = [
            origins[name] + round(at * 1000) for name, at in cuts.items() if name in origins
        ]
        if switched:  # the first output to change hands
            self.switched_ms = min(switched)

    async def settle(self, media: MediaParts, within: float) -> None:
        """Before this replica's files are finished: wait for the giver's entries (at most
        ``within`` seconds, none once the giver gave up); without them the taking is
        abandoned (nothing of this replica's goes up)."""
        if self.released.is_set():
            return
        if not self.failed:
            try:
                await asyncio.wait_for(self.released.wait(), within)
                return
            except TimeoutError:
                log.warning("Giver never finished sid=%s from=%s", self.offer.sid, self.offer.giver)
        log.warning(
            "Abandoned sid=%s from=%s: the hand-over did not complete; nothing recorded "
            "here is delivered",
            self.offer.sid,
            self.offer.giver,
        )
        self.on_abandoned()
