"""A running mix recording as its take-over record (takeover.py's :class:`Standby`).

:class:`Records` builds the record a beat carries (heartbeat.py): the session's resource, the
start request, the layout and subscription in force, the output clock, and where the
recording's complete media ends: its spool playlist's last segment's end (read again only
when the playlist changed).
"""

from __future__ import annotations

from cloudrec_recorder.ports import Recording
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.sessions import Session
from cloudrec_recorder.takeover import Standby, media_until_ms

__all__ = ["Records"]


class Records:
    """See the module docstring."""

    def __init__(self) -> None:
        self._playlists: dict[str, tuple[float, int | None]] = {}

    def standby(
        self, session: Session[Recording], recording: ChannelRecording, takeovers: int
    ) -> Standby | None:
        mixer = recording.media.mixer
        if mixer is None or mixer.origin_epoch_ms is None or recording.request is None:
            return None
        if recording.paused:
            return None  # a paused recording is not taken over (it has no media to go on)
        return Standby(
            sid=recording.sid,
            resource_id=session.resource.resource_id,
            cname=session.resource.cname,
            uid=session.resource.uid,
            client_request=recording.request.to_wire(),
            layout=recording.layout.to_wire() if recording.layout is not None else None,
            subscribe=recording.subscribe.to_wire() if recording.subscribe is not None else None,
            expired_hour=session.resource.expired_hour,
            origin_epoch_ms=mixer.origin_epoch_ms,
            first_frame_ms=recording.first_frame_ms or mixer.origin_epoch_ms,
            media_until_ms=self.media_until(recording),
            takeovers=takeovers,
        )

    def media_until(self, recording: ChannelRecording) -> int | None:
        """The end of the recording's last complete segment (its spool playlist)."""
        for path in recording.spool.glob("*.m3u8"):
            try:
                mtime = path.stat().st_mtime
                cached = self._playlists.get(recording.sid)
                if cached is not None and cached[0] == mtime:
                    return cached[1]
                until = media_until_ms(path.read_text(encoding="utf-8"))
            except OSError:
                return None
            self._playlists[recording.sid] = (mtime, until)
            return until
        return None
