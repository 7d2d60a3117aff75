"""The taking side of a take-over (takeover.py): this replica goes on with a lost one's recording.

:func:`take_over` starts the recording a :class:`~cloudrec_recorder.takeover.Standby` record
describes under its sid and resource id, as a new uid in the channel, on the lost replica's
output clock (decoded frame times continue the recording's, the gap shows as a step), with
the service's ``bak<n>_`` names. :class:`TakingOver` rides on the recording the way a planned
hand-over's :class:`~cloudrec_recorder.taking.Taking` does, without a cut or a giver to wait
for: at the first media it sends event 12 (session_failover) with both replicas and the gap,
and the manifest's timeline gets the gap and a HandedOver entry.

An individual recording goes on per output: each of the lost replica's outputs on its own
clock under the new names (:func:`~cloudrec_recorder.takeover.taken_clocks`), a re-encoded
one from the frame due at the first media, one stored as received from its first packet
here (video: its first keyframe) on a shift from the wall clock; a uid the lost replica
never recorded gets outputs of its own. A recording lost while paused goes on paused: event
12 is sent at once (nothing was missed after the pause), and nothing is recorded until a
resume here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from cloudrec_protocol.filenames import mix_playlist
from cloudrec_protocol.manifest import NOT_LISTED, TimelineEntry, TimelineKind
from cloudrec_protocol.models import StartClientRequest
from cloudrec_recorder import errors
from cloudrec_recorder.events import RecordingEvents
from cloudrec_recorder.handover import Changes, Offer, taker_uid
from cloudrec_recorder.later_changes import apply_changes
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.ports import (
    MediaParts,
    Mixer,
    RecorderState,
    Recording,
    RecordMode,
    TrackPipeline,
)
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.recordingkey import RecordingKey
from cloudrec_recorder.restart import spool_apps
from cloudrec_recorder.sessions import Resource, Session
from cloudrec_recorder.takeover import Standby, backup_prefix, gap_ms, taken_clocks
from cloudrec_recorder.taking import Taking

__all__ = ["TakingOver", "take_over", "unvouched"]

log = logging.getLogger(__name__)


@dataclass
class TakingOver(Taking):
    """A take-over's continuation of the recording (see the module docstring)."""

    media_until_ms: int | None = None
    """Where the lost replica's complete media ends (its last beat said so)."""
    paused_ms: int | None = None
    """When the recording was paused, if it was paused when its replica was lost."""
    events: RecordingEvents | None = None
    gap: int | None = None
    """Media time missing (ms), once this replica's first frame came (or at once when
    taken over paused)."""

    def prepare(self, mixer: Mixer) -> None:
        """Before the start: the outputs join the lost replica's clock at the frame due when
        the first media comes (a taker's cut), the playlists are not held (no giver's
        entries to wait for); MP4 parts count from 0 again under the new prefix."""
        mixer.cut = Cut(taking=True)
        mixer.cut.release({})
        self.released.set()

    def prepare_tracks(self, tracks: TrackPipeline) -> None:
        """Before the start (an individual recording): the lost replica's outputs are made
        here (under the new names, see :func:`take_over`); their playlists are not held."""
        tracks.track_cuts.offer([clock.media() for clock in self.offer.tracks])
        tracks.track_cuts.release({})
        self.released.set()

    def announce(self) -> None:
        """Event 12, once: who took over and how much media is missing."""
        if self.switched_ms is not None:
            return
        self.switched_ms = int(time.time() * 1000)
        self.gap = gap_ms(self.media_until_ms, self.switched_ms, self.paused_ms)
        if self.events is not None:
            self.events.session_failover(self.channel_uid, self.offer.giver, self.here, self.gap)
        seconds = "unknown" if self.gap is None else f"{self.gap / 1000:.3f}"
        log.info(
            "Took over sid=%s from=%s gap=%s prefix=%s paused=%s",
            self.offer.sid,
            self.offer.giver,
            seconds,
            self.file_prefix,
            self.paused_ms is not None,
        )

    def begin(self, mixer: Mixer) -> int:
        """The first media: the pipeline runs on the lost replica's clock from the frame due
        now; event 12 (unless sent at a paused take-over)."""
        self.announce()
        origin = self.offer.origin_epoch_ms
        mixer.start(origin)
        mixer.cut.not_before = (time.time() * 1000 - origin) / 1000
        return self.offer.first_frame_ms

    def begin_tracks(self, tracks: TrackPipeline) -> int:
        """The first media (an individual recording): each re-encoded output of the lost
        replica's begins at the frame due now on its clock; event 12 (as :meth:`begin`)."""
        self.announce()
        now_ms = time.time() * 1000
        tracks.track_cuts.take(
            {
                clock.playlist: max(0.0, (now_ms - clock.origin_epoch_ms) / 1000)
                for clock in self.offer.tracks
                if not clock.copied
            }
        )
        return self.offer.first_frame_ms

    def marks(self) -> list[TimelineEntry]:
        """The gap (from the lost replica's last complete segment) and the take-over; the
        take-over's detail names the parts this manifest does not vouch for."""
        if self.switched_ms is None:
            return []
        detail = f"taken over from replica {self.offer.giver} (lost)"
        entries = []
        earlier = unvouched(
            self.offer.sid, self.offer.cname, self.takeovers, individual=bool(self.offer.tracks)
        )
        handed = f"{detail}; {earlier}"
        if self.media_until_ms is not None and self.gap:
            entries.append(
                TimelineEntry(
                    kind=TimelineKind.GAP,
                    at_ms=self.media_until_ms,
                    until_ms=self.media_until_ms + self.gap,
                    detail=detail,
                )
            )
        entries.append(
            TimelineEntry(kind=TimelineKind.HANDED_OVER, at_ms=self.switched_ms, detail=handed)
        )
        return entries

    async def settle(self, media: MediaParts, within: float) -> None:
        """Nothing to wait for: no giver."""


def unvouched(sid: str, cname: str, takeovers: int, *, individual: bool = False) -> str:
    """What a manifest written after the ``takeovers``-th take-over does not list: the earlier
    parts' playlists and the objects they list (their replicas delivered them); an
    individual recording's by the names' beginning (one playlist per uid and kind)."""
    if individual:
        earlier = [f"{backup_prefix(n)}{sid}_*.m3u8" for n in range(takeovers)]
    else:
        earlier = [backup_prefix(n) + mix_playlist(sid, cname) for n in range(takeovers)]
    return NOT_LISTED + ", ".join(earlier) + " and the objects they list"


async def take_over(state: RecorderState, appid: str, record: Standby, lost: str) -> bool:
    """Start ``record`` here (see the module docstring); False (logged) when it cannot."""
    settings = state.settings
    key = RecordingKey(appid, record.sid)
    if state.registry.holds(key):
        return False
    if state.registry.clashes(key) or spool_apps(settings.spool_dir, record.sid) - {appid}:
        log.warning(
            "Not taken over sid=%s app=%s from=%s: the sid is another app's recording here",
            record.sid,
            appid,
            lost,
        )
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
    mode = RecordMode(record.mode)
    offer = Offer(
        sid=record.sid,
        resource_id=record.resource_id,
        cname=record.cname,
        uid=record.uid,
        mode=mode.value,
        client_request=record.client_request,
        expired_hour=record.expired_hour,
        giver=lost,
        taker_uid=taker_uid(),
        origin_epoch_ms=record.origin_epoch_ms,
        first_frame_ms=record.first_frame_ms,
        tracks=taken_clocks(record.tracks, record.takeovers + 1),
        takeovers=record.takeovers + 1,
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
        paused_ms=record.paused_ms,
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
            mode=mode,
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
    if record.paused_ms is not None:  # paused when lost: paused here, nothing missed since
        await recording.hold(True)
        taking.announce()
    await apply_changes(recording, Changes(layout=record.layout, subscribe=record.subscribe))
    try:  # (another app's recording may have come under the sid while this one started)
        holder.append(state.registry.adopt(resource, mode.value, recording, record.sid))
    except errors.ApiError:
        log.warning("Not taken over sid=%s app=%s: another app's sid here", record.sid, appid)
        taking.failed = True
        recording.events.mute()
        await recording.stop(wait_upload=False, wait_seconds=settings.sync_stop_timeout_seconds)
        return False
    state.metrics.recordings_active.set(state.registry.active_count())
    log.info("Taking over sid=%s from=%s (lost) uid=%s", record.sid, lost, offer.taker_uid)
    return True
