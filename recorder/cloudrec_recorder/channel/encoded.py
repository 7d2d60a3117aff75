"""A subscription's audio as the publisher sent it: Opus packets, not decoded.

``streamMode`` ``original`` records audio without transcoding it, so the recorder needs the
packets themselves. aiortc hands a track decoded frames only; the packets pass through the
receiver's RTP handler first, which :func:`tap_encoded_audio` wraps (on that one receiver) to
copy each Opus payload, with its RTP timestamp (48 kHz), into a queue. Duplicates and packets
older than one already taken are dropped (they would go backwards in time); a gap (a lost
packet) stays a gap, which an Opus decoder conceals. The decoded track keeps running as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiortc import RTCRtpTransceiver

__all__ = ["ENCODED_QUEUE_PACKETS", "EncodedAudio", "tap_encoded_audio"]

ENCODED_QUEUE_PACKETS = 500
"""Packets held per subscription (10 s of 20 ms packets); beyond that the oldest is dropped."""

_SEQ_MOD = 1 << 16
_TS_MOD = 1 << 32


@dataclass(frozen=True, slots=True)
class EncodedAudio:
    """One Opus packet: its payload and its RTP time in 48 kHz samples from the first one."""

    data: bytes
    timestamp: int


def _newer(seq: int, last: int) -> bool:
    """RTP sequence ``seq`` comes after ``last`` (16-bit wrap-around)."""
    return seq != last and (seq - last) % _SEQ_MOD < _SEQ_MOD // 2


def tap_encoded_audio(transceiver: RTCRtpTransceiver, queue: asyncio.Queue[EncodedAudio]) -> None:
    """Copy the Opus packets ``transceiver`` receives into ``queue`` (see the module doc)."""
    receiver = transceiver.receiver
    handle: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet
    state: dict[str, int] = {}
    opus: set[int] = set()

    def opus_payload_types() -> set[int]:
        """The negotiated Opus payload types (known once the answer is set; then kept)."""
        if not opus:
            codecs = getattr(transceiver, "_codecs", [])
            opus.update(c.payloadType for c in codecs if str(c.mimeType).lower() == "audio/opus")
        return opus

    async def tapped(packet: Any, *args: Any, **kwargs: Any) -> None:
        if packet.payload and packet.payload_type in opus_payload_types():
            last = state.get("seq")
            if last is None or _newer(packet.sequence_number, last):
                state["seq"] = packet.sequence_number
                first = state.setdefault("first", packet.timestamp)
                item = EncodedAudio(bytes(packet.payload), (packet.timestamp - first) % _TS_MOD)
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(item)
        await handle(packet, *args, **kwargs)

    receiver._handle_rtp_packet = tapped  # type: ignore[method-assign]
