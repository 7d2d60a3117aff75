"""Several recordings of one channel fed the same frames: an individual recording with
snapshots (protocol.md §3.2.4: "recording + snapshots in one task"), or snapshots alone.

`RecordingGroup` has the push / start / remove / stop / files API of each member and hands
every call to each of them; each member keeps its own worker thread, so a slow encoder never
delays a snapshot and the other way round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import av

from cloudrec_recorder.media.config import OutputFile
from cloudrec_recorder.media.pipeline import IndividualRecording
from cloudrec_recorder.media.snapshot import SnapshotRecording

__all__ = ["RecordingGroup"]

Member = IndividualRecording | SnapshotRecording


class RecordingGroup:
    """The members' union; see the module docstring."""

    def __init__(self, members: Sequence[Member]) -> None:
        if not members:
            raise ValueError("a recording group needs at least one member")
        self.members = tuple(members)

    @property
    def recording(self) -> IndividualRecording | None:
        """The member that writes playable files, None for snapshots only."""
        return next((m for m in self.members if isinstance(m, IndividualRecording)), None)

    @property
    def records_media(self) -> bool:
        """True when a member writes playable files (not only snapshots)."""
        return self.recording is not None

    @property
    def copies_audio(self) -> bool:
        """Audio is kept as sent (streamMode original): `push_audio_packet`, not `push_audio`."""
        recording = self.recording
        return recording is not None and recording.copies_audio

    @property
    def copies_video(self) -> bool:
        """Video is kept as sent: `push_video_packet` feeds the recording."""
        recording = self.recording
        return recording is not None and recording.copies_video

    @property
    def decodes_video(self) -> bool:
        """A member needs decoded pictures (`push_video`): snapshots, or re-encoded video."""
        return any(
            not isinstance(m, IndividualRecording) or not m.copies_video for m in self.members
        )

    def push_video_packet(self, uid: str, codec: str, data: bytes, timestamp: int) -> None:
        """Stored video: the encoded frame goes to the recording (snapshots need pictures)."""
        recording = self.recording
        if recording is not None:
            recording.push_video_packet(uid, codec, data, timestamp)

    def wants_keyframe(self, uid: str) -> bool:
        """The recording's stored video of `uid` asks for a keyframe (once)."""
        recording = self.recording
        return recording is not None and recording.wants_keyframe(uid)

    def start(self, origin_epoch_ms: int | None = None) -> None:
        for member in self.members:
            member.start(origin_epoch_ms)

    def push_video(self, uid: str, frame: av.VideoFrame) -> None:
        for member in self.members:
            member.push_video(uid, frame)

    def push_audio(self, uid: str, frame: av.AudioFrame) -> None:
        for member in self.members:
            member.push_audio(uid, frame)

    def push_audio_packet(self, uid: str, data: bytes, timestamp: int) -> None:
        """streamMode original: the packet goes to the recording (snapshots have no audio)."""
        recording = self.recording
        if recording is not None:
            recording.push_audio_packet(uid, data, timestamp)

    def remove(self, uid: str) -> None:
        for member in self.members:
            member.remove(uid)

    def pause(self) -> None:
        for member in self.members:
            member.pause()

    def resume(self) -> None:
        for member in self.members:
            member.resume()

    @property
    def failed(self) -> BaseException | None:
        return next((m.failed for m in self.members if m.failed is not None), None)

    def lag(self, now: float | None = None) -> float:
        """The most lagging member's lag (seconds)."""
        return max(m.lag(now) for m in self.members)

    @property
    def worst_lag(self) -> float:
        return max(m.worst_lag for m in self.members)

    def end(self, at: float | None = None) -> None:
        for member in self.members:
            member.end(at)

    async def stop(self) -> list[OutputFile]:
        """Stop every member (even when one fails); the first failure is raised."""
        results = await asyncio.gather(*(m.stop() for m in self.members), return_exceptions=True)
        files: list[OutputFile] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            files += result
        return files

    def files(self) -> list[OutputFile]:
        return [f for member in self.members for f in member.files()]

    def start_of(self, name: str) -> int | None:
        for member in self.members:
            start = member.start_of(name)
            if start is not None:
                return start
        return None
