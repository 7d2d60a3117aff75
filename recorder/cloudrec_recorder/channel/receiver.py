"""One forwarded stream read by libavformat in a thread of its own.

:class:`StreamReceiver` opens the stream's SDP (:func:`~.forward.stream_sdp`) with PyAV:
libavformat binds the RTP port (and its RTCP neighbour), reorders packets in its jitter buffer
and depacketises them into whole frames (VP8, H.264) or Opus packets; the thread hands each
to a :class:`ReceiverSink`, decoded when the sink wants pictures or sound. None of this runs on
the event loop: the loop hears of whole frames only.

Reads block without a timeout: PyAV's timeouts are an interrupt callback that takes the GIL
each time libavformat polls (several times per RTP packet), which with a few dozen receiver
threads kept the media worker from the GIL (issue 13: 9 publishers fell behind). A receiver
thread takes the GIL once per whole frame only. :meth:`StreamReceiver.stop` ends a blocking
read by sending the receiver's own port :func:`~.forward.wake_packets` (a frame the
depacketiser hands out whatever state it is in); the read returns, sees the stop and ends.

Keyframes: an RTP forwarder has no retransmission, so a lost packet damages the picture until
the next keyframe. A request (:class:`KeyframeRequests`, a PLI to the forwarder's RTCP port)
goes as :class:`~.forward.KeyframePolicy` says: from the receiver's thread when libavformat
marks a frame damaged; from :class:`ReceiverWatch`, one thread for all receivers of the
process that looks every 0.1 s, before the first frame (libavformat opens the stream at a
keyframe) and when media stalls (its VP8 depacketiser drops everything after a loss until a
keyframe, so the blocked thread would not notice). The same thread wakes a stopped receiver
again until it ended (a wake sent before its port was bound is lost).
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
    wake_packets,
)

__all__ = [
    "WATCH_INTERVAL_SECONDS",
    "KeyframeRequests",
    "ReceiverSink",
    "ReceiverWatch",
    "StreamReceiver",
    "port_held",
]

logger = logging.getLogger(__name__)

WATCH_INTERVAL_SECONDS = 0.1
"""How often :class:`ReceiverWatch` looks at the receivers (keyframes due, wakes)."""
_REOPEN_PAUSE_SECONDS = 0.1
"""After a read error: the pause before the stream is opened again."""

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
        self._wake = wake_packets(stream)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"rtp-{stream.kind}-{stream.port}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        ReceiverWatch.shared().add(self)

    def stop(self) -> None:
        """End the thread: it stops at its next frame; a wake makes one come now."""
        self._stop.set()
        self.wake()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Send the port :func:`~.forward.wake_packets` (ends a read blocked on silence)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                for packet in self._wake:
                    sock.sendto(packet, (self.host, self.stream.port))
        except OSError as exc:
            logger.debug("wake not sent port=%s error=%s", self.stream.port, exc)

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
        """The stream opened (blocks until its first frame, or a wake); None when stopped."""
        try:
            container = av.open(io.BytesIO(self._sdp), format="sdp", options=_OPTIONS)
        except av.error.FFmpegError:
            if self._stop.is_set():
                return None  # the wake's frame made the open fail: stopping anyway
            raise
        assert isinstance(container, av.container.InputContainer)
        if self._stop.is_set():
            container.close()
            return None
        return container

    def _read(self, container: av.container.InputContainer) -> None:
        stream = container.streams[0]
        kind = self.stream.kind
        codec_name = self.stream.codec.upper()
        if kind == "video":
            stream.codec_context.thread_count = 1
        try:
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                if packet.size == 0 or packet.pts is None:
                    continue
                self._handle(packet, kind, codec_name)
        except av.error.EOFError:
            pass
        except av.error.FFmpegError as exc:
            if not self._stop.is_set():
                logger.debug("read failed kind=%s error=%s: opening again", kind, exc)
                self._stop.wait(_REOPEN_PAUSE_SECONDS)

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


class ReceiverWatch:
    """One thread for every receiver of the process (see the module doc): every
    :data:`WATCH_INTERVAL_SECONDS` it asks for a video's keyframe when the policy says one is
    due (nothing yet, media stalled) and wakes stopped receivers that still run."""

    _shared: ReceiverWatch | None = None
    _shared_lock = threading.Lock()

    def __init__(self, interval: float = WATCH_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._receivers: set[StreamReceiver] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="rtp-watch", daemon=True)
        self._thread.start()

    @classmethod
    def shared(cls) -> ReceiverWatch:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def add(self, receiver: StreamReceiver) -> None:
        with self._lock:
            self._receivers.add(receiver)

    def look(self) -> None:
        """One round (the thread's; a test may call it)."""
        with self._lock:
            receivers = list(self._receivers)
        for receiver in receivers:
            if not receiver.running:
                with self._lock:
                    self._receivers.discard(receiver)
            elif receiver.stopping:
                receiver.wake()
            elif receiver.stream.kind == "video":
                receiver.ask_keyframe()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self.look()
            except Exception:  # a bug here must not end the keyframe requests of every receiver
                logger.exception("receiver watch failed")
