"""A subscription's encoded video frames to the recording that stores them as sent.

The channel taps the frames (:mod:`cloudrec_recorder.channel.encoded_video`); the recording
(:class:`~cloudrec_recorder.media.group.RecordingGroup`) muxes them without decoding and says
when it needs a keyframe, which this reader asks the publisher for through the tap. The tap
decodes only when a member of the recording needs pictures (snapshots, re-encoded video).
"""

from __future__ import annotations

from collections.abc import Callable

from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.media.group import RecordingGroup

__all__ = ["read_encoded_video", "video_tap_for"]


def video_tap_for(pipeline: object) -> EncodedVideoTap | None:
    """A tap when ``pipeline`` stores video as sent (decoding only if it also needs pictures)."""
    if isinstance(pipeline, RecordingGroup) and pipeline.copies_video:
        return EncodedVideoTap(decode=pipeline.decodes_video)
    return None


async def read_encoded_video(
    uid: str,
    tap: EncodedVideoTap,
    pipeline: RecordingGroup,
    admits: Callable[[str], bool],
    on_media: Callable[[], None],
) -> None:
    """Hand ``uid``'s frames to ``pipeline`` while ``admits(uid)``; runs until cancelled."""
    while True:
        frame = await tap.frames.get()
        if not admits(uid):
            continue
        on_media()
        pipeline.push_video_packet(uid, frame.codec, frame.data, frame.timestamp)
        if pipeline.wants_keyframe(uid):
            tap.request_keyframe()
