"""A running recording as its take-over record (takeover.py's :class:`Standby`).

:class:`Records` builds the record a beat carries (heartbeat.py): the session's resource, the
start request, the layout and subscription in force, the output clock (a mix's) or each
output's clock (an individual recording's), when it was paused if it is, and where the
recording's complete media ends: its spool playlists' last segments' end (each read again
only when it changed; an individual recording's is the earliest among its outputs still
fed). A recording with no media yet has no record (nothing to go on with: its start is
the operator's to repeat). A recording this replica took over paused and that has had no
media here yet goes on with what it was taken over with.
"""

from __future__ import annotations

from pathlib import Path

from cloudrec_protocol.manifest import TimelineKind
from cloudrec_recorder.handover import TrackClock
from cloudrec_recorder.ports import Recording
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.recordingkey import RecordingKey
from cloudrec_recorder.sessions import Session
from cloudrec_recorder.takeover import Standby, media_until_ms
from cloudrec_recorder.takingover import TakingOver

__all__ = ["Records"]


class Records:
    """See the module docstring."""

    def __init__(self) -> None:
        self._playlists: dict[RecordingKey, dict[Path, tuple[float, int | None]]] = {}
        """By recording: each playlist's modification time and media end."""

    def standby(
        self, session: Session[Recording], recording: ChannelRecording, takeovers: int
    ) -> Standby | None:
        media, taking = recording.media, recording.taking
        earlier = taking if isinstance(taking, TakingOver) else None
        first = recording.first_frame_ms
        if first is None and earlier is not None:  # taken over paused, no media here yet
            first = earlier.offer.first_frame_ms
        if recording.request is None or first is None:
            return None
        tracks: list[TrackClock] = []
        if media.mixer is not None:
            origin = media.mixer.origin_epoch_ms
            if origin is None and earlier is not None:
                origin = earlier.offer.origin_epoch_ms
            if origin is None:
                return None
            playlists = list(recording.spool.glob("*.m3u8"))[:1]
        elif media.tracks is not None:
            origin = first
            tracks = [TrackClock.of(c) for c in media.tracks.track_cuts.clocks()]
            if not tracks:
                return None
            playlists = [recording.spool / c.playlist for c in tracks if not c.idle]
        else:
            return None
        until = self.media_until(session.recording_key, playlists)
        if until is None and earlier is not None:
            until = earlier.media_until_ms
        return Standby(
            sid=recording.sid,
            resource_id=session.resource.resource_id,
            cname=session.resource.cname,
            uid=session.resource.uid,
            client_request=recording.request.to_wire(),
            layout=recording.layout.to_wire() if recording.layout is not None else None,
            subscribe=recording.subscribe.to_wire() if recording.subscribe is not None else None,
            expired_hour=session.resource.expired_hour,
            origin_epoch_ms=origin,
            first_frame_ms=first,
            media_until_ms=until,
            takeovers=takeovers,
            mode=recording.mode.value,
            tracks=tracks,
            paused_ms=self.paused_ms(recording, earlier),
        )

    @staticmethod
    def paused_ms(recording: ChannelRecording, earlier: TakingOver | None) -> int | None:
        """When the recording was paused, if it is paused now (taken over paused and not
        resumed here: when the lost replica paused it)."""
        if not recording.paused:
            return None
        if earlier is not None and earlier.paused_ms is not None and not recording.first_frame_ms:
            return earlier.paused_ms
        holds = recording.course.holds
        if holds and holds[-1].kind is TimelineKind.PAUSED:
            return holds[-1].at_ms
        return None

    def media_until(self, key: RecordingKey, playlists: list[Path]) -> int | None:
        """The earliest end of the last complete segment of ``playlists`` (those written)."""
        known = self._playlists.get(key, {})
        fresh: dict[Path, tuple[float, int | None]] = {}
        for path in playlists:
            try:
                mtime = path.stat().st_mtime
                cached = known.get(path)
                if cached is None or cached[0] != mtime:
                    cached = (mtime, media_until_ms(path.read_text(encoding="utf-8")))
            except OSError:
                continue
            fresh[path] = cached
        self._playlists[key] = fresh
        ends = [end for _, end in fresh.values() if end is not None]
        return min(ends) if ends else None
