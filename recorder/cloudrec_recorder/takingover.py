"""The taking side of a take-over (takeover.py): this replica goes on with a lost one's recording.

:func:`take_over` starts the recording a :class:`~cloudrec_recorder.takeover.Standby` record
describes under its sid and resource id, as a new uid in the channel, on the lost replica's
output clock (decoded frame times continue the recording's, the gap shows as a step), with
the service's ``bak<n>_`` names. :class:`TakingOver` rides on the recording the way a planned
hand-over's :class:`~cloudrec_recorder.taking.Taking` does, without a cut or a giver to wait
for: at the first media it sends event 12 (session_failover) with both replicas and the gap,
and the manifest's timeline gets the gap and a HandedOver entry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from cloudrec_protocol.filenames import mix_playlist
from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_protocol.models import StartClientRequest
from cloudrec_recorder.events import RecordingEvents
from cloudrec_recorder.handover import Changes, Offer, taker_uid
from cloudrec_recorder.later_changes import apply_changes
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.ports import MediaParts, Mixer, RecorderState, Recording, RecordMode
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.sessions import Resource, Session
from cloudrec_recorder.takeover import Standby, backup_prefix, gap_ms
from cloudrec_recorder.taking import Taking

__all__ = ["TakingOver", "take_over", "unvouched"]

log = logging.getLogger(__name__)


@dataclass
class TakingOver(Taking):
    """A take-over's continuation of the recording (see the module docstring)."""

    media_until_ms: int | None = None
    """Where the lost replica's complete media ends (its last beat said so)."""
    events: RecordingEvents | None = None
    gap: int | None = None
    """Media time missing (ms), once this replica's first frame came."""

    def prepare(self, mixer: Mixer) -> None:
        """Before the start: the outputs join the lost replica's clock at the frame due when
        the first media comes (a taker's cut), the playlists are not held (no giver's
        entries to wait for); MP4 parts count from 0 again under the new prefix."""
        mixer.cut = Cut(taking=True)
        mixer.cut.release({})
        self.released.set()

    def begin(self, mixer: Mixer) -> int:
        """The first media: the pipeline runs on the lost replica's clock from the frame due
        now; event 12 says who took over and how much media is missing."""
        origin = self.offer.origin_epoch_ms
        self.switched_ms = int(time.time() * 1000)
        mixer.start(origin)
        mixer.cut.not_before = (self.switched_ms - origin) / 1000
        self.gap = gap_ms(self.media_until_ms, self.switched_ms)
        if self.events is not None:
            self.events.session_failover(self.channel_uid, self.offer.giver, self.here, self.gap)
        seconds = "unknown" if self.gap is None else f"{self.gap / 1000:.3f}"
        log.info(
            "Took over sid=%s from=%s gap=%s prefix=%s",
            self.offer.sid,
            self.offer.giver,
            seconds,
            self.file_prefix,
        )
        return self.offer.first_frame_ms

    def marks(self) -> list[TimelineEntry]:
        """The gap (from the lost replica's last complete segment) and the take-over; the
        take-over's detail names the parts this manifest does not vouch for."""
        if self.switched_ms is None:
            return []
        detail = f"taken over from replica {self.offer.giver} (lost)"
        entries = []
        handed = f"{detail}; {unvouched(self.offer.sid, self.offer.cname, self.takeovers)}"
        if self.media_until_ms is not None and self.media_until_ms < self.switched_ms:
            entries.append(
                TimelineEntry(
                    kind=TimelineKind.GAP,
                    at_ms=self.media_until_ms,
                    until_ms=self.switched_ms,
                    detail=detail,
                )
            )
        entries.append(
            TimelineEntry(kind=TimelineKind.HANDED_OVER, at_ms=self.switched_ms, detail=handed)
        )
        return entries

    async def settle(self, media: MediaParts, within: float) -> None:
        """Nothing to wait for: no giver."""


def unvouched(sid: str, cname: str, takeovers: int) -> str:
    """What a manifest written after the ``takeovers``-th take-over does not list: the earlier
    parts' playlists and the objects they list (their replicas delivered them)."""
    earlier = [backup_prefix(n) + mix_playlist(sid, cname) for n in range(takeovers)]
    return "not listed here: " + ", ".join(earlier) + " and the objects they list"


async def take_over(state: RecorderState, appid: str, record: Standby, lost: str) -> bool:
    """Start ``record`` here (see the module docstring); False (logged) when it cannot."""
    settings = state.settings
    if state.registry.holds(record.sid):
        return False
    try:
        request = StartClientRequest.model_validate(record.client_request)
    except ValueError:
        log.warning("Not taken over sid=%s: its start request does not parse", record.sid)
        return False
    resource = Resource(
        resource_id=record.resource_id,
        appid=appid,
        cname=record.cname,
        uid=record.uid,
        acquired_at=time.monotonic(),
        expired_hour=record.expired_hour,
    )
    offer = Offer(
        sid=record.sid,
        resource_id=record.resource_id,
        cname=record.cname,
        uid=record.uid,
        mode=RecordMode.MIX.value,
        client_request=record.client_request,
        expired_hour=record.expired_hour,
        giver=lost,
        taker_uid=taker_uid(),
        origin_epoch_ms=record.origin_epoch_ms,
        first_frame_ms=record.first_frame_ms,
    )
    events = RecordingEvents(
        state.sender, settings.callbacks_for(appid), record.cname, record.uid, record.sid
    )
    taking = TakingOver(
        offer,
        here=settings.replica_id,
        margin=0.0,
        takeovers=record.takeovers + 1,
        media_until_ms=record.media_until_ms,
        events=events,
    )
    holder: list[Session[Recording]] = []

    def on_exit() -> None:
        if holder:
            state.registry.mark_exited(holder[0])
            state.metrics.recordings_active.set(state.registry.active_count())

    try:
        recording = state.factory(
            appid=appid,
            resource=resource,
            sid=record.sid,
            mode=RecordMode.MIX,
            request=request,
            events=events,
            on_exit=on_exit,
            taking=taking,
        )
        assert isinstance(recording, ChannelRecording)
        await recording.start()
    except Exception as exc:  # the channel or the store refused: nothing runs here
        log.warning("Not taken over sid=%s from=%s error=%s", record.sid, lost, exc)
        return False
    await apply_changes(recording, Changes(layout=record.layout, subscribe=record.subscribe))
    holder.append(state.registry.adopt(resource, RecordMode.MIX.value, recording, record.sid))
    state.metrics.recordings_active.set(state.registry.active_count())
    log.info("Taking over sid=%s from=%s (lost) uid=%s", record.sid, lost, offer.taker_uid)
    return True
