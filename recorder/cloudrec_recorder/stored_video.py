"""A subscription's encoded video frames to the recording that stores them as sent.

The channel taps the frames (:mod:`cloudrec_recorder.channel.encoded_video`); the recording
(:class:`~cloudrec_recorder.media.group.RecordingGroup`) muxes them without decoding and says
when it needs a keyframe, which this reader asks the publisher for through the tap. The tap
decodes only when a member of the recording needs pictures (snapshots, re-encoded video).

A uid's first frame comes through the event loop (it may start the recording: ``on_media``);
from then on the reader takes the frames in the receiver's thread
(:attr:`~cloudrec_recorder.channel.encoded_video.EncodedVideoTap.direct`: the recording's
inputs are thread-safe queues), so the event loop does no work per stored frame. The
recording still hears of the media for its timeline's gaps: at most every ``note_every``
seconds the receiver's thread schedules ``on_media`` on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
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
    note_every: float,
) -> None:
    """Hand ``uid``'s frames to ``pipeline`` while ``admits(uid)``; runs until cancelled.

    Frames only go forward in time: one that was still on its way through the event loop
    when the receiver's thread took over is dropped if a later one went first. ``on_media``
    runs on the event loop for each frame it sees, and at most every ``note_every`` seconds
    for the frames taken in the receiver's thread."""
    loop = asyncio.get_running_loop()
    live = False
    last = -1
    noted = time.monotonic()

    def store(codec: str, data: bytes, timestamp: int) -> None:
        nonlocal last
        if timestamp <= last:
            return
        last = timestamp
        pipeline.push_video_packet(uid, codec, data, timestamp)
        if pipeline.wants_keyframe(uid):
            tap.request_keyframe()

    def direct(codec: str, data: bytes, timestamp: int) -> bool:  # a receiver's thread
        nonlocal noted
        if not live:
            return False
        if admits(uid):
            now = time.monotonic()
            if now - noted >= note_every:
                noted = now
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(on_media)
            store(codec, data, timestamp)
        return True

    tap.direct = direct
    try:
        while True:
            frame = await tap.frames.get()
            if not admits(uid):
                continue
            on_media()
            noted = time.monotonic()
            store(frame.codec, frame.data, frame.timestamp)
            live = True
    finally:
        tap.direct = None
