"""The Opus tap of streamMode original: every packet still reaches aiortc, the queue gets each
Opus payload once, in order, with its time from the first packet."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from cloudrec_recorder.channel.encoded import EncodedAudio, tap_encoded_audio


@dataclass
class Codec:
    payloadType: int  # noqa: N815 (aiortc's spelling)
    mimeType: str  # noqa: N815


@dataclass
class Packet:
    sequence_number: int
    timestamp: int
    payload: bytes
    payload_type: int = 111


@dataclass
class Receiver:
    handled: list[Packet] = field(default_factory=list)

    async def _handle_rtp_packet(self, packet: Packet, arrival_time_ms: int) -> None:
        self.handled.append(packet)


@dataclass
class Transceiver:
    receiver: Receiver = field(default_factory=Receiver)
    _codecs: list[Codec] = field(
        default_factory=lambda: [Codec(111, "audio/opus"), Codec(126, "audio/telephone-event")]
    )


async def test_the_tap_copies_each_opus_packet_once_in_order_and_passes_every_packet_on() -> None:
    transceiver = Transceiver()
    queue: asyncio.Queue[EncodedAudio] = asyncio.Queue(10)
    tap_encoded_audio(transceiver, queue)  # type: ignore[arg-type]
    first = 2**32 - 480  # the RTP clock wraps between the first two packets
    packets = [
        Packet(65535, first, b"a"),
        Packet(0, (first + 960) % 2**32, b"b"),
        Packet(0, (first + 960) % 2**32, b"b"),  # a duplicate
        Packet(65535, first, b"a"),  # late
        Packet(1, (first + 1920) % 2**32, b"", payload_type=111),  # empty (padding only)
        Packet(2, (first + 2880) % 2**32, b"\x01", payload_type=126),  # DTMF, not Opus
        Packet(3, (first + 3840) % 2**32, b"c"),
    ]
    for packet in packets:
        await transceiver.receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    assert transceiver.receiver.handled == packets
    taken = [queue.get_nowait() for _ in range(queue.qsize())]
    assert taken == [EncodedAudio(b"a", 0), EncodedAudio(b"b", 960), EncodedAudio(b"c", 3840)]


async def test_a_full_queue_drops_its_oldest_packet() -> None:
    transceiver = Transceiver()
    queue: asyncio.Queue[EncodedAudio] = asyncio.Queue(2)
    tap_encoded_audio(transceiver, queue)  # type: ignore[arg-type]
    for n in range(4):
        await transceiver.receiver._handle_rtp_packet(Packet(n, n * 960, bytes([n])), 0)
    assert [queue.get_nowait().data for _ in range(2)] == [b"\x02", b"\x03"]
