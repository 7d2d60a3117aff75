"""A subscription's audio as the publisher sent it: Opus packets, not decoded.

``streamMode`` ``original`` records audio without transcoding it, so the recorder needs the
packets themselves. The audio's receiver thread (:mod:`~cloudrec_recorder.channel.receiver`)
copies each Opus packet libavformat depacketises (in order: its jitter buffer reorders and
drops duplicates), with its RTP time (48 kHz from the first packet), into the subscription's
queue of :class:`EncodedAudio`; a gap (a lost packet) stays a gap, which an Opus decoder
conceals. The decoded track keeps running beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENCODED_QUEUE_PACKETS", "EncodedAudio"]

ENCODED_QUEUE_PACKETS = 500
"""Packets held per subscription (10 s of 20 ms packets); beyond that the oldest is dropped."""


@dataclass(frozen=True, slots=True)
class EncodedAudio:
    """One Opus packet: its payload and its RTP time in 48 kHz samples from the first one."""

    data: bytes
    timestamp: int
