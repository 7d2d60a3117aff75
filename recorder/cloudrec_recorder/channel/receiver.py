"""One forwarded stream read by libavformat in a thread of its own.

:class:`StreamReceiver` opens the stream's SDP (:func:`~.forward.stream_sdp`) with PyAV:
libavformat binds the RTP port (and its RTCP neighbour), reorders packets in its jitter buffer
and depacketises them into whole frames (VP8, H.264) or Opus packets; the thread hands each
to a :class:`ReceiverSink`, decoded when the sink wants pictures or sound. None of this runs on
the event loop: the loop hears of whole frames only.

Keyframes: an RTP forwarder has no retransmission, so a lost packet damages the picture until
the next keyframe. The thread asks for one (:class:`KeyframeRequests`, a PLI to the
forwarder's RTCP port) as :class:`~.forward.KeyframePolicy` says: when libavformat marks a
frame damaged and when media stalls (its VP8 depacketiser drops everything after a loss until
a keyframe). Before the first frame the stream is not open yet (libavformat waits for a
keyframe to learn the picture size), so the subscription asks from the loop meanwhile.

The thread reads with a 0.25 s timeout, so :meth:`StreamReceiver.stop` takes effect within
that time; a stream that stays silent costs one wake-up per timeout.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import av
import av.error

from cloudrec_recorder.channel.forward import (
    ForwardedStream,
    KeyframePolicy,
    pli_packet,
    stream_sdp,
)

__all__ = [
    "OPEN_TIMEOUT_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "KeyframeRequests",
    "ReceiverSink",
    "StreamReceiver",
    "port_held",
]

logger = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 0.25
"""The longest one read blocks: how soon a receiver notices ``stop`` or a stall."""
OPEN_TIMEOUT_SECONDS = 2.0
"""How long one open waits for the first keyframe before opening again."""

_OPTIONS = {
    "protocol_whitelist": "udp,rtp",
    # The SDP names the codec: read no more than the first frame to open the stream.
    "probesize": "32",
    "analyzeduration": "0",
    # Jitter buffer: reordered packets wait this long (µs) or this many packets.
    "max_delay": "100000",
    "reorder_queue_size": "128",
    "buffer_size": str(1 << 20),
}


def port_held(host: str, port: int) -> bool:
    """Whether some socket already holds UDP ``host``:``port`` (the receiver has bound it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class KeyframeRequests:
    """Sends PLIs to one forwarder's RTCP port (from any thread; counts them)."""

    def __init__(self, janus_host: str) -> None:
        family = socket.AF_INET6 if ":" in janus_host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._host = janus_host
        self.port = 0
        """Janus' RTCP port for the forwarder (0 until the forwarder exists)."""
        self.sent = 0

    def request(self) -> bool:
        if not self.port:
            return False
        try:
            self._socket.sendto(pli_packet(), (self._host, self.port))
        except OSError as exc:
            logger.debug("keyframe request not sent port=%s error=%s", self.port, exc)
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        self._socket.close()


class ReceiverSink(Protocol):
    """Where a receiver's media goes (called in the receiver's thread)."""

    def wants_frames(self, kind: str) -> bool:
        """Decode: someone needs pictures or sound of this kind."""

    def wants_packets(self, kind: str) -> bool:
        """Copy the encoded frames / packets as received."""

    def on_packet(self, receiver: int, kind: str, codec: str, data: bytes, pts: int) -> None: ...

    def on_frame(self, receiver: int, frame: av.VideoFrame | av.AudioFrame) -> None: ...


class StreamReceiver:
    """Reads ``stream`` on ``host`` into ``sink`` until :meth:`stop` (see the module doc)."""

    def __init__(
        self,
        stream: ForwardedStream,
        host: str,
        sink: ReceiverSink,
        *,
        index: int,
        keyframes: KeyframeRequests | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.host = host
        self.index = index
        """Tells this receiver's frames from an earlier one's of the same track."""
        self.sink = sink
        self.keyframes = keyframes
        self.policy = KeyframePolicy()
        self.opened = threading.Event()
        """Set once libavformat opened the stream (its first frame is in)."""
        self.failed: BaseException | None = None
        self.frames = 0
        self._clock = clock
        self._sdp = stream_sdp(stream, host).encode()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"rtp-{stream.kind}-{stream.port}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def ask_keyframe(self, *, damaged: bool = False) -> None:
        """Send a keyframe request if the policy says one is due."""
        if self.keyframes is None:
            return
        now = self._clock()
        if self.policy.due(now, damaged=damaged) and self.keyframes.request():
            self.policy.sent(now)

    # ------------------------------------------------------------------ thread

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                container = self._open()
                if container is None:
                    continue
                try:
                    self.opened.set()
                    self._read(container)
                finally:
                    container.close()
        except Exception as exc:  # bind failure, or a bug: the subscription reports it
            self.failed = exc
            logger.warning(
                "Receiver failed kind=%s port=%s error=%s", self.stream.kind, self.stream.port, exc
            )

    def _open(self) -> av.container.InputContainer | None:
        try:
            container = av.open(
                io.BytesIO(self._sdp),
                format="sdp",
                options=_OPTIONS,
                timeout=(OPEN_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
        except av.error.ExitError:
            return None  # no keyframe yet: the loop keeps asking; open again
        assert isinstance(container, av.container.InputContainer)
        return container

    def _read(self, container: av.container.InputContainer) -> None:
        stream = container.streams[0]
        kind = self.stream.kind
        codec_name = self.stream.codec.upper()
        if kind == "video":
            stream.codec_context.thread_count = 1
        while not self._stop.is_set():
            try:
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.pts is None:
                        continue
                    self._handle(packet, kind, codec_name)
                    if self._stop.is_set():
                        return
            except av.error.ExitError:
                pass  # read timeout: nothing arrived for READ_TIMEOUT_SECONDS
            except av.error.EOFError:
                return
            if kind == "video":
                self.ask_keyframe()

    def _handle(self, packet: av.Packet[Any], kind: str, codec_name: str) -> None:
        self.frames += 1
        if kind == "video":
            self.policy.frame(self._clock())
            if packet.is_corrupt:
                self.ask_keyframe(damaged=True)
        sink = self.sink
        if sink.wants_packets(kind):
            sink.on_packet(self.index, kind, codec_name, bytes(packet), int(packet.pts or 0))
        if sink.wants_frames(kind):
            try:
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame | av.AudioFrame):
                        sink.on_frame(self.index, frame)
            except av.error.FFmpegError as exc:  # a damaged frame: the next keyframe heals it
                logger.debug("decode failed kind=%s error=%s", kind, exc)
                if kind == "video":
                    self.ask_keyframe(damaged=True)
