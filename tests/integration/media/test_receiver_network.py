"""The forwarded-stream receiver on a bad network: real libavformat, real VP8, RTP from a socket.

What Janus' RTP forwarder would send is made here: a VP8 encoder (libvpx through PyAV) at
15 fps, packetised per RFC 7741 (with picture ids, as browsers and aiortc send them) into
packets of at most 300 bytes, sent in real time to a :class:`StreamReceiver`'s port, with
packets reordered and lost on the way. A socket stands in for the forwarder's RTCP port: each
PLI it gets makes the next frame a keyframe, as a publisher's encoder does.

(The kernel here has no ``sch_netem``, so ``tc ... netem`` cannot impair the path between Janus
and the recorder; ``test_lossy_network.py`` drops packets with iptables on that real path, and
reordering is made here, where the order is under the test's control.)

With an SRTP key the publisher protects its packets with libsrtp (as Janus does) and the
receiver's SDP carries the key; a forger without it sends plain RTP or SRTP under another key.
"""

from __future__ import annotations

import itertools
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import pylibsrtp
import pytest

from cloudrec_recorder.channel.forward import ForwardedStream
from cloudrec_recorder.channel.receiver import KeyframeRequests, StreamReceiver, port_held
from cloudrec_recorder.channel.srtp import SrtpKey, new_key

pytestmark = [pytest.mark.media, pytest.mark.timeout(60)]

FPS = 15
MTU_PAYLOAD = 300


@dataclass
class Sink:
    """Collects what the receiver hands over (from its thread)."""

    decode: bool = True
    frames: list[tuple[float, int | None]] = field(default_factory=list)
    packets: list[tuple[float, int]] = field(default_factory=list)

    def wants_frames(self, kind: str) -> bool:
        return self.decode

    def wants_packets(self, kind: str) -> bool:
        return True

    def on_packet(self, receiver: int, kind: str, codec: str, data: bytes, pts: int) -> None:
        self.packets.append((time.monotonic(), pts))

    def on_frame(self, receiver: int, frame: av.VideoFrame | av.AudioFrame) -> None:
        self.frames.append((time.monotonic(), frame.pts))


def vp8_packets(data: bytes, picture_id: int) -> list[tuple[bytes, bool]]:
    """One frame as RTP payloads (RFC 7741 descriptor with a 15-bit picture id), marker last."""
    chunks = [data[i : i + MTU_PAYLOAD] for i in range(0, len(data), MTU_PAYLOAD)]
    payloads = []
    for n, chunk in enumerate(chunks):
        start = 0x10 if n == 0 else 0x00
        descriptor = bytes([0x80 | start, 0x80]) + struct.pack("!H", 0x8000 | picture_id)
        payloads.append((descriptor + chunk, n == len(chunks) - 1))
    return payloads


class Publisher:
    """Encodes a moving picture and sends it as RTP to ``port``, impaired; answers PLIs."""

    def __init__(
        self, port: int, *, loss: float, reorder: float, seed: int, key: SrtpKey | None = None
    ) -> None:
        self.port = port
        self.srtp = (
            pylibsrtp.Session(
                pylibsrtp.Policy(key=key.material, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
            )
            if key is not None
            else None
        )
        self.loss = loss
        self.reorder = reorder
        self.random = random.Random(seed)
        self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp.bind(("127.0.0.1", 0))
        self.rtcp.setblocking(False)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.plis = 0
        self.sent_frames = 0
        self.lost_packets = 0
        self.reordered = 0
        self.blackout: tuple[float, float] | None = None
        codec = av.CodecContext.create("libvpx", "w")
        codec.width, codec.height, codec.pix_fmt = 320, 180, "yuv420p"
        codec.time_base = Fraction(1, FPS)
        codec.options = {"deadline": "realtime", "cpu-used": "8", "g": "100000"}
        self.codec = codec

    def frame(self, n: int, keyframe: bool) -> bytes:
        picture = np.zeros((180, 320, 3), dtype=np.uint8)
        picture[:, (n * 8) % 320 :][:, :16] = 255  # a moving bar
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        if keyframe:
            frame.pict_type = av.video.frame.PictureType.I
        return b"".join(bytes(p) for p in self.codec.encode(frame))

    def run(self, seconds: float) -> None:
        seq, started = 0, time.monotonic()
        keyframe = True
        held: bytes | None = None
        for n in range(int(seconds * FPS)):
            time.sleep(max(0.0, started + n / FPS - time.monotonic()))
            try:
                while True:
                    data, _ = self.rtcp.recvfrom(1500)
                    if len(data) >= 2 and data[1] == 206 and data[0] & 0x1F == 1:
                        self.plis += 1
                        keyframe = True
            except BlockingIOError:
                pass
            encoded = self.frame(n, keyframe)
            keyframe = False
            self.sent_frames += 1
            now = time.monotonic() - started
            dark = self.blackout is not None and self.blackout[0] <= now < self.blackout[1]
            for payload, marker in vp8_packets(encoded, n & 0x7FFF):
                header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 96, seq, n * 6000, 7)
                seq = (seq + 1) & 0xFFFF
                packet = header + payload
                if self.srtp is not None:
                    packet = self.srtp.protect(packet)
                if dark or self.random.random() < self.loss:
                    self.lost_packets += 1
                    continue
                if held is None and self.random.random() < self.reorder:
                    held = packet  # goes out after the next one
                    self.reordered += 1
                    continue
                self.rtp.sendto(packet, ("127.0.0.1", self.port))
                if held is not None:
                    self.rtp.sendto(held, ("127.0.0.1", self.port))
                    held = None


def free_even_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        port -= port % 2
        if not port_held("127.0.0.1", port) and not port_held("127.0.0.1", port + 1):
            return port


def receive(
    seconds: float,
    *,
    loss: float,
    reorder: float,
    blackout: tuple[float, float] | None = None,
    silence: float = 0.5,
    key: SrtpKey | None = None,
    forger: str | None = None,
) -> tuple[Publisher, Sink, KeyframeRequests, float]:
    """``key``: the receiver's SRTP key, which the publisher uses too, unless it is a
    ``forger`` that sends ``plain`` RTP or SRTP under ``another`` key."""
    sender_key = {None: key, "plain": None, "another": new_key()}[forger]
    port = free_even_port()
    sink = Sink()
    keyframes = KeyframeRequests("127.0.0.1")
    receiver = StreamReceiver(
        ForwardedStream(mid="0", kind="video", codec="vp8", port=port, srtp=key),
        "127.0.0.1",
        sink,
        index=1,
        keyframes=keyframes,
    )
    publisher = Publisher(port, loss=loss, reorder=reorder, seed=13, key=sender_key)
    publisher.blackout = blackout
    keyframes.port = int(publisher.rtcp.getsockname()[1])
    receiver.start()
    deadline = time.monotonic() + 3
    while not port_held("127.0.0.1", port):
        assert time.monotonic() < deadline, "the receiver never bound its port"
        time.sleep(0.01)
    # Until the stream is open the subscription asks for keyframes (from the event loop).
    asker = threading.Thread(
        target=lambda: [
            (receiver.ask_keyframe(), time.sleep(0.1))
            for _ in range(30)
            if not receiver.opened.is_set()
        ]
    )
    asker.start()
    publisher.run(seconds)
    time.sleep(silence)
    stopped = time.monotonic()
    receiver.stop()
    receiver.join(3)
    took = time.monotonic() - stopped
    asker.join(5)
    assert not receiver.running and receiver.failed is None
    return publisher, sink, keyframes, took


def longest_gap(times: list[float]) -> float:
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def test_reordered_packets_come_out_as_every_frame_in_order() -> None:
    publisher, sink, _, _ = receive(4.0, loss=0.0, reorder=0.3)
    assert publisher.reordered > 5
    times = [pts for _, pts in sink.packets]
    assert times == sorted(times)
    # every frame but the very first (sent before the stream opened) came out whole
    assert len(sink.packets) >= publisher.sent_frames - 2
    assert len(sink.frames) >= publisher.sent_frames - 2


def test_with_two_percent_loss_and_reordering_keyframes_are_asked_for_and_video_keeps_moving() -> (
    None
):
    publisher, sink, keyframes, _ = receive(8.0, loss=0.02, reorder=0.1)
    assert publisher.lost_packets > 3
    # each loss damages the picture until a keyframe: the receiver asked, the publisher heard
    assert keyframes.sent >= 2 and publisher.plis >= 2
    frame_times = [at for at, _ in sink.frames]
    assert len(frame_times) > publisher.sent_frames * 0.6
    assert longest_gap(frame_times) < 1.0


def test_after_a_loss_burst_the_picture_moves_again_within_a_second() -> None:
    burst = (3.0, 3.6)
    publisher, sink, _keyframes, _ = receive(6.0, loss=0.0, reorder=0.0, blackout=burst)
    frame_times = [at for at, _ in sink.frames]
    first = frame_times[0]
    after = [t - first for t in frame_times]
    # frames stop during the burst and resume within 1 s after it ends
    resumed = [t for t in after if t > burst[1] - 0.5]
    assert resumed, "no frame after the burst"
    assert longest_gap(frame_times) < (burst[1] - burst[0]) + 1.0
    assert publisher.plis >= 2  # the first keyframe, and one after the burst


@pytest.mark.parametrize("srtp", [False, True], ids=["rtp", "srtp"])
def test_a_receiver_whose_stream_went_silent_ends_within_a_fifth_of_a_second_of_stop(
    srtp: bool,
) -> None:
    # its read blocks (no timeout: see receiver.py); the stop's wake packets end it (SRTP: an
    # SRTCP BYE, whatever rollover counter the stream reached)
    key = new_key() if srtp else None
    _, sink, _, took = receive(2.0, loss=0.0, reorder=0.0, silence=1.5, key=key)
    assert sink.frames
    assert took < 0.2


def test_an_srtp_receiver_decodes_every_frame_sent_under_its_key() -> None:
    publisher, sink, _, _ = receive(3.0, loss=0.0, reorder=0.1, key=new_key())
    assert len(sink.frames) >= publisher.sent_frames - 2


@pytest.mark.parametrize("forger", ["plain", "another"], ids=["plain RTP", "another key"])
def test_an_srtp_receiver_drops_every_packet_not_protected_with_its_key(forger: str) -> None:
    publisher, sink, _, _ = receive(2.0, loss=0.0, reorder=0.0, key=new_key(), forger=forger)
    assert publisher.sent_frames > 20
    assert sink.frames == [] and sink.packets == []


@pytest.mark.parametrize("srtp", [False, True], ids=["rtp", "srtp"])
@pytest.mark.parametrize(
    ("kind", "codec"), [("audio", "opus"), ("video", "vp8"), ("video", "h264"), ("video", "vp9")]
)
def test_a_receiver_that_never_got_a_frame_ends_within_a_fifth_of_a_second_of_stop(
    kind: str, codec: str, srtp: bool
) -> None:
    port = free_even_port()
    stream = ForwardedStream(
        mid="0", kind=kind, codec=codec, port=port, srtp=new_key() if srtp else None
    )
    receiver = StreamReceiver(stream, "127.0.0.1", Sink(), index=1)
    receiver.start()
    deadline = time.monotonic() + 3
    while not port_held("127.0.0.1", port):
        assert time.monotonic() < deadline, "the receiver never bound its port"
        time.sleep(0.01)
    time.sleep(0.3)  # blocked in the open, waiting for a first frame
    stopped = time.monotonic()
    receiver.stop()
    receiver.join(3)
    assert not receiver.running and receiver.failed is None
    assert time.monotonic() - stopped < 0.2
