"""Receiving a publisher through Janus VideoRoom RTP forwarders: the decisions (pure: no I/O).

A subscription asks Janus to ``rtp_forward`` each of the publisher's streams to a UDP port the
recorder owns on its media address (``forwardHost``), as SRTP under a key of the stream's own
(:mod:`~cloudrec_recorder.channel.srtp`) or as plain RTP; libavformat reads each port through a
one-stream SDP (:mod:`~cloudrec_recorder.channel.receiver`). This module holds what that needs,
without sockets or threads:

- :func:`forward_request` / :func:`stop_forward_request`: the VideoRoom request bodies.
  A simulcast video stream is forwarded as the one substream asked for
  (:func:`substream_ports`): High (2) with ``simulcast: true`` (Janus then relays the best
  layer it has, like a subscriber, rewriting sequence numbers at each switch), Low (0) as the
  plain forwarder's own layer, Medium (1) on ``port_2`` with layer 0 sent to a discard port.
- :func:`stream_sdp`: the SDP libavformat opens for one forwarded stream (with its SRTP key,
  if any, in an ``a=crypto`` line: it is never written to disk).
- :func:`pli_packet`: an RTCP Picture Loss Indication (RFC 4585 §6.3.1) for the forwarder's
  RTCP port; Janus relays it to the publisher as a keyframe request.
- :func:`wake_packets`: what a receiver sends its own port to end a blocking read (a frame
  libavformat's depacketiser hands out whatever state it is in; an SRTCP BYE for SRTP).
- :class:`KeyframePolicy`: when a receiver asks for a keyframe (nothing yet, a damaged
  frame, media stalled).
- :class:`TimestampStitcher`: one 90 kHz / 48 kHz timeline per track across receivers (a
  live substream switch starts a new forwarder whose RTP times start anywhere).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from cloudrec_recorder.channel.srtp import JANUS_SRTP_SUITE, SDES_SUITE, SrtpKey, protected_bye

__all__ = [
    "AUDIO_PAYLOAD_TYPE",
    "VIDEO_PAYLOAD_TYPE",
    "ForwardedStream",
    "Forwarder",
    "KeyframePolicy",
    "TimestampStitcher",
    "UnsupportedCodecError",
    "forward_request",
    "forwarders_made",
    "pli_packet",
    "stop_forward_request",
    "stream_sdp",
    "substream_ports",
    "wake_packets",
]

VIDEO_PAYLOAD_TYPE = 96
"""The RTP payload type Janus rewrites forwarded video to (what the SDP names)."""
AUDIO_PAYLOAD_TYPE = 111
"""The RTP payload type Janus rewrites forwarded audio to."""

_RTPMAP = {
    "vp8": "VP8/90000",
    "vp9": "VP9/90000",
    "h264": "H264/90000",
    "opus": "opus/48000/2",
}
_FMTP = {"h264": "packetization-mode=1"}
CLOCK_RATES = {"video": 90_000, "audio": 48_000}
"""RTP clock rates of the forwarded media (every video codec is 90 kHz; Opus is 48 kHz)."""


class UnsupportedCodecError(ValueError):
    """The publisher sends a codec the forwarded path does not read."""


@dataclass(frozen=True)
class ForwardedStream:
    """One of the publisher's streams and the recorder port it is forwarded to."""

    mid: str
    kind: str
    """``audio`` or ``video``."""
    codec: str
    """The publisher's codec as Janus names it (``vp8``, ``h264``, ``opus``...)."""
    port: int
    simulcast: bool = False
    substream: int | None = None
    srtp: SrtpKey | None = field(default=None, repr=False)
    """The stream's own SRTP key (None: plain RTP)."""


def stream_sdp(stream: ForwardedStream, host: str) -> str:
    """The SDP libavformat opens to read ``stream`` on ``host``:``stream.port``.

    Raises :class:`UnsupportedCodecError` for a codec without an RTP depacketiser here.
    """
    codec = stream.codec.lower()
    rtpmap = _RTPMAP.get(codec)
    if rtpmap is None:
        raise UnsupportedCodecError(f"{stream.kind} codec {stream.codec!r} cannot be received")
    pt = VIDEO_PAYLOAD_TYPE if stream.kind == "video" else AUDIO_PAYLOAD_TYPE
    family = "IP6" if ":" in host else "IP4"
    profile = "RTP/AVP" if stream.srtp is None else "RTP/SAVP"
    lines = [
        "v=0",
        f"o=- 0 0 IN {family} {host}",
        "s=cloudrec",
        f"c=IN {family} {host}",
        "t=0 0",
        f"m={stream.kind} {stream.port} {profile} {pt}",
        f"a=rtpmap:{pt} {rtpmap}",
    ]
    if codec in _FMTP:
        lines.append(f"a=fmtp:{pt} {_FMTP[codec]}")
    if stream.srtp is not None:
        lines.append(f"a=crypto:1 {SDES_SUITE} inline:{stream.srtp.inline}")
    return "\r\n".join(lines) + "\r\n"


def substream_ports(port: int, substream: int | None, discard_port: int) -> dict[str, Any]:
    """The port fields of a simulcast video forwarder that delivers ``substream`` to ``port``.

    None (no preference) and 2 ask Janus to act as a subscriber wanting the largest layer;
    0 is the plain forwarder's own layer; 1 goes to ``port_2`` while layer 0, which a plain
    forwarder always sends, goes to ``discard_port``.
    """
    if substream is None or substream == 2:
        return {"port": port, "simulcast": True}
    if substream == 0:
        return {"port": port}
    if substream == 1:
        return {"port": discard_port, "port_2": port}
    raise ValueError(f"simulcast substream must be 0, 1 or 2, not {substream}")


def forward_request(
    room: str | int,
    publisher: str | int,
    host: str,
    streams: list[ForwardedStream],
    *,
    discard_port: int,
    admin_key: str | None = None,
) -> dict[str, Any]:
    """The ``rtp_forward`` body that forwards ``streams`` of ``publisher`` to ``host``.

    Each RTP stream gets its payload type rewritten (the SDP's); video gets an RTCP port, so
    that Janus opens one of its own to take keyframe requests (:func:`pli_packet`), and a
    simulcast video the ports of :func:`substream_ports`. ``admin_key`` is VideoRoom's,
    needed when the server sets ``lock_rtp_forward``. Streams with an SRTP key are forwarded
    as SRTP: Janus takes one key per request, so such a request holds one stream only.
    """
    keys = {stream.srtp for stream in streams}
    if len(keys) > 1 or (None not in keys and len(streams) > 1):
        raise ValueError("an SRTP forward request holds one stream (Janus takes one key)")
    entries: list[dict[str, Any]] = []
    for stream in streams:
        entry: dict[str, Any] = {"mid": stream.mid}
        if stream.kind == "video":
            # Janus makes an RTCP socket for the forwarder only when given a port to latch
            # to: the RTP port's neighbour, which libavformat holds (and ignores).
            entry["pt"] = VIDEO_PAYLOAD_TYPE
            entry["rtcp_port"] = stream.port + 1
            if stream.simulcast:
                entry.update(substream_ports(stream.port, stream.substream, discard_port))
            else:
                entry["port"] = stream.port
        else:
            entry["pt"] = AUDIO_PAYLOAD_TYPE
            entry["port"] = stream.port
        entries.append(entry)
    body: dict[str, Any] = {
        "request": "rtp_forward",
        "room": room,
        "publisher_id": publisher,
        "host": host,
        "streams": entries,
    }
    key = streams[0].srtp if streams else None
    if key is not None:
        body["srtp_suite"] = JANUS_SRTP_SUITE
        body["srtp_crypto"] = key.inline
    if admin_key is not None:
        body["admin_key"] = admin_key
    return body


@dataclass(frozen=True)
class Forwarder:
    """One forwarder Janus made: its id (to stop it), the recorder port it sends to, and the
    port Janus reads RTCP feedback on for it (0: none)."""

    stream_id: int
    port: int
    rtcp_port: int


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def forwarders_made(data: dict[str, Any]) -> list[Forwarder]:
    """The forwarders an ``rtp_forward`` answer lists."""
    return [
        Forwarder(_int(f.get("stream_id")), _int(f.get("port")), _int(f.get("local_rtcp_port")))
        for f in data.get("forwarders", [])
        if _int(f.get("stream_id"))
    ]


def stop_forward_request(
    room: str | int, publisher: str | int, stream_id: int, *, admin_key: str | None = None
) -> dict[str, Any]:
    """The ``stop_rtp_forward`` body for one forwarder."""
    body: dict[str, Any] = {
        "request": "stop_rtp_forward",
        "room": room,
        "publisher_id": publisher,
        "stream_id": stream_id,
    }
    if admin_key is not None:
        body["admin_key"] = admin_key
    return body


_RTCP_PSFB = 206
_PLI_FMT = 1


def pli_packet(sender_ssrc: int = 1, media_ssrc: int = 0) -> bytes:
    """An RTCP PLI (version 2, PSFB, FMT 1, length 2 words). Janus' forwarder reads only
    that it is a PLI, not the SSRCs."""
    return struct.pack("!BBHII", 0x80 | _PLI_FMT, _RTCP_PSFB, 2, sender_ssrc, media_ssrc)


_VP8_KEYFRAME = bytes([0x10, 0x10, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0x10, 0x00, 0x10, 0x00])
"""RFC 7741 descriptor (start of partition 0), then a keyframe's frame tag (bit 0 clear), start
code and a 16x16 size: the depacketiser starts a frame at it, the marker ends it."""
_VP9_FRAME = bytes([0x0C, 0x82, 0x49, 0x83, 0x42, 0x00])
"""VP9 descriptor: the start (B) and end (E) of a frame."""
_H264_AUD = bytes([0x09, 0xF0])
_H264_IDR_SLICE = bytes([0x65, 0x88, 0x84])
_OPUS_PACKET = bytes([0x08])
"""A TOC byte: every Opus packet is a frame."""
_WAKE_PAYLOADS = {
    # Each run starts with a packet libavformat may refuse: after a jump of more than 3000
    # sequence numbers it takes a packet only when the next one follows it (a restarted
    # sender), so what must come out comes after it.
    "vp8": [_VP8_KEYFRAME, _VP8_KEYFRAME],
    "vp9": [_VP9_FRAME, _VP9_FRAME],
    # the H.264 parser hands out an access unit when the next one begins
    "h264": [_H264_AUD, _H264_AUD, _H264_IDR_SLICE, _H264_AUD, _H264_IDR_SLICE],
    "opus": [_OPUS_PACKET, _OPUS_PACKET],
}
_WAKE_PADDING = 64
"""Bytes after each payload: more than the SDP open's ``probesize``, so an open that is still
waiting for its first frame returns too."""
_WAKE_SSRC = 0x57414B45
_WAKE_BYES = 2
"""SRTCP BYEs per wake: libavformat ends the stream at its first (a second covers a loss)."""


def wake_packets(stream: ForwardedStream) -> list[bytes]:
    """RTP packets that make the receiver of ``stream`` return from a blocking read.

    libavformat's jitter buffer drops a packet older than the last one it handed out and holds
    a newer one back for ``max_delay``; the sequence numbers it saw are not known here, so the
    packets go twice, half the sequence space apart: one run is newer, whatever the last was.
    Each carries the marker bit and a payload its codec's depacketiser ends a frame with.
    An SRTP stream gets SRTCP BYEs instead (:func:`~.srtp.protected_bye`): its packets must
    authenticate, and an SRTP packet would have to guess the receiver's rollover counter.
    """
    payloads = _WAKE_PAYLOADS.get(stream.codec.lower())
    if payloads is None:
        raise UnsupportedCodecError(f"{stream.kind} codec {stream.codec!r} cannot be received")
    if stream.srtp is not None:
        # libavformat drops unauthenticated packets; an SRTCP BYE ends its read (EOF)
        return [protected_bye(stream.srtp, _WAKE_SSRC, n) for n in range(_WAKE_BYES)]
    pt = VIDEO_PAYLOAD_TYPE if stream.kind == "video" else AUDIO_PAYLOAD_TYPE
    return [
        struct.pack("!BBHII", 0x80, 0x80 | pt, base + n, n, _WAKE_SSRC)
        + payload
        + bytes(_WAKE_PADDING)
        for base in (0x0000, 0x8000)
        for n, payload in enumerate(payloads)
    ]


@dataclass
class KeyframePolicy:
    """When a video receiver asks for a keyframe (RTP forwarders have no NACK, so a lost
    packet damages the picture until the next keyframe).

    Ask when nothing arrived yet, when the depacketiser marks a frame damaged (it lost part of
    it or a frame it depends on), and when media stalled (libavformat drops everything after a
    loss until a keyframe). Never more often than ``min_interval``; a stall that lasts
    (a publisher that stopped sending video) is asked about every ``idle_interval`` only.
    """

    min_interval: float = 0.25
    stall: float = 0.4
    idle_after: float = 5.0
    idle_interval: float = 5.0
    last_request: float | None = None
    last_frame: float | None = None
    started: float | None = None

    def due(self, now: float, *, damaged: bool = False) -> bool:
        """Whether to send a keyframe request now (then :meth:`sent` it)."""
        if self.started is None:
            self.started = now
        if self.last_request is not None and now - self.last_request < self.min_interval:
            return False
        if damaged:
            return True
        quiet_since = self.last_frame if self.last_frame is not None else self.started
        quiet = now - quiet_since
        if self.last_frame is not None and quiet < self.stall:
            return False
        if quiet >= self.idle_after and self.last_request is not None:
            return now - self.last_request >= self.idle_interval
        return self.last_request is None or now - self.last_request >= self.min_interval * 2

    def sent(self, now: float) -> None:
        self.last_request = now

    def frame(self, now: float) -> None:
        self.last_frame = now


@dataclass
class TimestampStitcher:
    """One continuous RTP-clock timeline for a track fed by successive receivers.

    :meth:`map` takes a receiver's own time (its first frame is 0) and the wall clock: the
    first receiver's times pass as they are; a later receiver's first frame continues the
    timeline by the wall time elapsed since the previous frame (at least one tick), so times
    never go backwards.
    """

    rate: int
    _offset: int = 0
    _last_out: int | None = None
    _last_wall: float = 0.0
    _receiver: int = -1

    def map(self, receiver: int, timestamp: int, wall: float) -> int:
        if receiver != self._receiver:
            self._receiver = receiver
            if self._last_out is None:
                self._offset = -timestamp
            else:
                gap = max(1, round((wall - self._last_wall) * self.rate))
                self._offset = self._last_out + gap - timestamp
        out = timestamp + self._offset
        if self._last_out is not None and out <= self._last_out:
            out = self._last_out + 1
        self._last_out = out
        self._last_wall = wall
        return out
