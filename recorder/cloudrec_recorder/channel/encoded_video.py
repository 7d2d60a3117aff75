"""A subscription's video as the publisher sent it: whole encoded frames, not decoded.

Individual mode stores each uid's video without transcoding it (protocol.md §8: the slices are
the received codec's own container), so the recorder needs the encoded frames. libavformat
reassembles them from the forwarded RTP in the video's receiver thread
(:mod:`~cloudrec_recorder.channel.receiver`); the subscription hands each whole frame, with
its RTP time (90 kHz from the first frame) and codec, to :class:`EncodedVideoTap`: to
:attr:`EncodedVideoTap.direct` in the receiver's thread when the reader set one and it takes
the frame (the event loop then sees none of them), else to its queue on the event loop. The
receiver decodes only while someone needs pictures (``decode``: snapshots, the transcoding
path). Not decoding is what makes a stored stream cheap.

``request_keyframe`` sends a PLI to the forwarder (RFC 4585 §6.3.1); Janus relays it to the
publisher, whose encoder answers with a keyframe: segments start on keyframes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ENCODED_VIDEO_QUEUE_FRAMES", "DirectVideo", "EncodedVideo", "EncodedVideoTap"]

ENCODED_VIDEO_QUEUE_FRAMES = 300
"""Frames held per subscription (10 s at 30 fps); beyond that the oldest is dropped."""


@dataclass(frozen=True, slots=True)
class EncodedVideo:
    """One encoded frame: its codec (``VP8``, ``H264``), data and 90 kHz time from the first."""

    codec: str
    data: bytes
    timestamp: int


DirectVideo = Callable[[str, bytes, int], bool]
"""Takes one encoded frame (codec, data, timestamp) in a receiver's thread; False: not now
(the frame goes to the queue instead)."""


class EncodedVideoTap:
    """The encoded frames of one subscription's video (see the module doc); the queue is the
    event loop's, :attr:`direct` is called in receiver threads."""

    def __init__(self, *, decode: bool) -> None:
        self.frames: asyncio.Queue[EncodedVideo] = asyncio.Queue(ENCODED_VIDEO_QUEUE_FRAMES)
        self.decode = decode
        """The receiver also decodes (the track yields pictures); else it does not."""
        self.keyframe_requester: Callable[[], None] | None = None
        """Set by the subscription: asks the publisher for a keyframe."""
        self.direct: DirectVideo | None = None
        """Set by the reader: takes frames in the receiver's thread (must be thread-safe)."""

    def offer(self, codec: str, data: bytes, timestamp: int) -> None:
        if self.frames.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.frames.get_nowait()
        self.frames.put_nowait(EncodedVideo(codec, data, timestamp))

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe (at most one request per quarter second; any
        thread)."""
        if self.keyframe_requester is not None:
            self.keyframe_requester()
