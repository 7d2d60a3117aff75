"""The taking side of a hand-over: a recording this replica goes on with (handover.py).

:class:`Taking` rides on the taker's :class:`~cloudrec_recorder.recording.ChannelRecording`.
Before the recording starts, its mix pipeline is set to keep nothing and hold its playlists
(:meth:`Taking.prepare`). At the first media the pipeline starts on the giver's output clock and
the cut is chosen (:meth:`Taking.begin`); from then on the taker's files begin at the cut. When
the giver is done (:meth:`Taking.release`) the playlists are written with the giver's entries
in front, and event 12 (session_failover) says where the recording is now. A recording stopped
before the giver is done waits for it a bounded time (:meth:`Taking.settle`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_recorder.handover import GiverDone, Offer, TakerReport, choose_cut, playlist_entries
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.ports import Mixer, RecordingEventSink
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
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def marks(self) -> list[TimelineEntry]:
        """The manifest timeline's HandedOver entry, once this replica's files took over."""
        if self.switched_ms is None:
            return []
        detail = f"from replica {self.offer.giver}"
        return [TimelineEntry(kind=TimelineKind.HANDED_OVER, at_ms=self.switched_ms, detail=detail)]

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

    def report(self, mixer: Mixer) -> TakerReport:
        return TakerReport(cut=self.cut, first_segment=bool(mixer.files()), failed=self.failed)

    def release(self, mixer: Mixer, done: GiverDone, events: RecordingEventSink) -> None:
        """The giver delivered its files: the playlists go on from its entries; event 12."""
        if self.released.is_set():
            return
        mixer.cut.release({name: playlist_entries(t) for name, t in done.playlists.items()})
        mixer.rewrite_playlists()
        if self.cut is not None:
            self.switched_ms = self.offer.origin_epoch_ms + round(self.cut * 1000)
        self.released.set()
        events.session_failover(self.offer.taker_uid, self.offer.giver, self.here)
        log.info("Took over sid=%s from=%s", self.offer.sid, self.offer.giver)

    async def settle(self, mixer: Mixer, within: float) -> None:
        """Before this replica's files are finished: wait for the giver's entries (at most
        ``within`` seconds; then the playlists list this replica's segments only)."""
        if self.released.is_set():
            return
        try:
            await asyncio.wait_for(self.released.wait(), within)
        except TimeoutError:
            log.warning("Giver never finished sid=%s from=%s", self.offer.sid, self.offer.giver)
            mixer.cut.release({})
