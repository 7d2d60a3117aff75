"""A subscription's video as the publisher sent it: whole encoded frames, not decoded.

Individual mode stores each uid's video without transcoding it (protocol.md §8: the slices are
the received codec's own container), so the recorder needs the encoded frames. aiortc
reassembles them from RTP in the receiver's jitter buffer (which also sends NACKs and, on loss,
PLIs) and hands each complete frame to its decoder thread through a queue;
:func:`tap_encoded_video` replaces that queue (before the receiver starts) with
:class:`EncodedVideoTap`, which copies each frame, with its RTP time (90 kHz from the first
frame) and codec, into an asyncio queue, and passes it on to the decoder only while someone
needs decoded pictures (snapshots, the transcoding path). Not decoding is what makes a stored
stream cheap.

``request_keyframe`` sends a PLI for the stream (RFC 4585 §6.3.1); Janus relays it to the
publisher, whose encoder answers with a keyframe: segments start on keyframes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from dataclasses import dataclass
from typing import Any

from aiortc import RTCRtpTransceiver

__all__ = [
    "ENCODED_VIDEO_QUEUE_FRAMES",
    "EncodedVideo",
    "EncodedVideoTap",
    "TappedDecoderQueue",
    "tap_encoded_video",
]

logger = logging.getLogger(__name__)

ENCODED_VIDEO_QUEUE_FRAMES = 300
"""Frames held per subscription (10 s at 30 fps); beyond that the oldest is dropped."""


@dataclass(frozen=True, slots=True)
class EncodedVideo:
    """One encoded frame: its codec (``VP8``, ``H264``), data and 90 kHz time from the first."""

    codec: str
    data: bytes
    timestamp: int


class TappedDecoderQueue(queue.Queue[Any]):
    """The receiver's decoder queue, tapped: every frame is copied out first."""

    def __init__(self, tap: EncodedVideoTap) -> None:
        super().__init__()
        self._tap = tap

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:  # None stops the decoder (and ends the track): always passed on
            codec, frame = item
            self._tap.offer(codec.name, bytes(frame.data), int(frame.timestamp))
            if not self._tap.decode:
                return
        super().put(item, block, timeout)


class EncodedVideoTap:
    """The encoded frames of one video receiver (see the module doc); event loop only."""

    def __init__(self, *, decode: bool) -> None:
        self.frames: asyncio.Queue[EncodedVideo] = asyncio.Queue(ENCODED_VIDEO_QUEUE_FRAMES)
        self.decode = decode
        """Frames also go to aiortc's decoder (the track yields pictures); else they do not."""
        self._receiver: Any = None
        self._pending: asyncio.Task[None] | None = None

    def offer(self, codec: str, data: bytes, timestamp: int) -> None:
        if self.frames.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.frames.get_nowait()
        self.frames.put_nowait(EncodedVideo(codec, data, timestamp))

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe: a PLI for each media SSRC heard in the last 10 s
        (not the retransmission ones; one request in flight at a time)."""
        receiver = self._receiver
        if receiver is None or (self._pending is not None and not self._pending.done()):
            return
        rtx = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc", {})
        ssrcs = [s.source for s in receiver.getSynchronizationSources() if s.source not in rtx]
        if ssrcs:
            self._pending = asyncio.ensure_future(self._send_plis(receiver, ssrcs))

    @staticmethod
    async def _send_plis(receiver: Any, ssrcs: list[int]) -> None:
        for ssrc in ssrcs:
            await receiver._send_rtcp_pli(ssrc)
        logger.debug("keyframe requested ssrcs=%s", ssrcs)

    def attach(self, transceiver: RTCRtpTransceiver) -> None:
        receiver = transceiver.receiver
        self._receiver = receiver
        receiver._RTCRtpReceiver__decoder_queue = TappedDecoderQueue(self)  # type: ignore[attr-defined]
        # No REMB from the recorder: Janus VideoRoom ignores its subscribers' REMB (it caps the
        # publisher's bitrate itself), and aiortc's estimator is ~40 % of its per-packet
        # work (cProfile of a bare subscription).
        receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]


def tap_encoded_video(transceiver: RTCRtpTransceiver, tap: EncodedVideoTap) -> None:
    """Copy the frames ``transceiver`` receives into ``tap`` (call before it starts)."""
    tap.attach(transceiver)
