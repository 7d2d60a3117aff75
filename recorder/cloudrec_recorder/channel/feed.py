"""One subscription to a publisher: its RTP forwarders, its receiver threads and its tracks.

:func:`open_feed` starts a :class:`~.receiver.StreamReceiver` per wanted stream on a fresh
port pair of the recorder's media address, waits until each holds its port, then asks Janus
(on the channel's own VideoRoom handle) to ``rtp_forward`` the publisher's streams there
(:func:`~.forward.forward_request`): with SRTP (:attr:`ForwardTarget.srtp`), one request per
stream, each under a fresh key of its own (:func:`~.srtp.new_key`) that only Janus and that
stream's SDP see. Keyframe requests are the receivers' (their thread, and
:class:`~.receiver.ReceiverWatch` before the first frame and when media stalls).

The receiver threads hand over whole frames with ``call_soon_threadsafe``: decoded frames to
the :class:`~.tracks.ReceivedTrack` s (or, once its reader asked, straight to the track's
``direct`` in the receiver's thread), encoded ones to :attr:`SubscribedFeed.encoded_video` /
:attr:`SubscribedFeed.encoded_audio`, with one timeline per track across receivers
(:class:`~.forward.TimestampStitcher`, kept in the receiver's thread); encoded video goes
straight to the tap's :attr:`~.encoded_video.EncodedVideoTap.direct` when its reader set one
(stored as received: the event loop sees none of those frames). A simulcast substream switch
(:meth:`SubscribedFeed.switch_video`) starts a new video forwarder and receiver before it stops
the old ones; the old receiver's late frames are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import av

from cloudrec_recorder.channel.encoded import EncodedAudio
from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.channel.errors import (
    ChannelError,
    JanusApiError,
    MediaConnectError,
    forward_refusal,
)
from cloudrec_recorder.channel.forward import (
    CLOCK_RATES,
    ForwardedStream,
    Forwarder,
    TimestampStitcher,
    forward_request,
    forwarders_made,
    stop_forward_request,
)
from cloudrec_recorder.channel.receiver import KeyframeRequests, StreamReceiver, port_held
from cloudrec_recorder.channel.room import PublisherInfo, StreamInfo
from cloudrec_recorder.channel.session import JanusHandle
from cloudrec_recorder.channel.srtp import new_key
from cloudrec_recorder.channel.tracks import ReceivedTrack

__all__ = ["ForwardTarget", "SubscribedFeed", "open_feed"]

logger = logging.getLogger(__name__)

_BIND_ATTEMPTS = 5
_BIND_WAIT_SECONDS = 3.0
_DEFAULT_CODEC = {"audio": "opus", "video": "vp8"}


@dataclass(frozen=True)
class ForwardTarget:
    """Where a channel's subscriptions are forwarded: the recorder's media address, Janus'
    address for keyframe requests, VideoRoom's ``admin_key`` (if ``lock_rtp_forward``), the
    room and the publisher as requests carry them, and whether the forwarders send SRTP."""

    host: str
    janus_host: str
    room: str | int
    publisher: str | int
    admin_key: str | None = None
    srtp: bool = False


@dataclass
class SubscribedFeed:
    """The tracks received from one publisher.

    ``audio`` / ``video`` are :class:`~.tracks.ReceivedTrack` s whose ``recv()`` yields
    decoded ``av.AudioFrame`` / ``av.VideoFrame``; None when not asked for or not published.
    After the publisher leaves or
    :meth:`~cloudrec_recorder.channel.janus.JanusChannel.unsubscribe`, ``recv()`` raises
    :class:`~.tracks.TrackEndedError`.
    """

    uid: str
    audio: ReceivedTrack | None = None
    video: ReceivedTrack | None = None
    encoded_audio: asyncio.Queue[EncodedAudio] | None = None
    """The audio's Opus packets as sent (``subscribe(..., encoded_audio=True)``)."""
    encoded_video: EncodedVideoTap | None = None
    """The video's encoded frames as sent (``subscribe(..., encoded_video=...)``)."""
    video_mid: str | None = None
    """The publisher's mid of the video stream received."""
    substream: int | None = None
    """The simulcast substream asked for (None: not simulcast)."""
    relayed_substream: int | None = None
    """The substream the current video forwarder delivers (set at its first frame)."""
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _receivers: dict[str, StreamReceiver] = field(default_factory=dict)
    _forwarders: dict[str, list[Forwarder]] = field(default_factory=dict)
    _keyframes: KeyframeRequests | None = None
    _stitchers: dict[str, TimestampStitcher] = field(default_factory=dict)
    _stitch_lock: threading.Lock = field(default_factory=threading.Lock)
    _target: ForwardTarget | None = None
    _handle: JanusHandle | None = None
    _streams: dict[str, StreamInfo] = field(default_factory=dict)
    _simulcast: bool = False
    _loop: asyncio.AbstractEventLoop | None = None
    _next_index: int = 0
    _pending_substream: int | None = None

    @property
    def attached(self) -> bool:
        """The subscription's forwarders exist (a substream switch can be asked for)."""
        return bool(self._forwarders) and not self.closed.is_set()

    @property
    def keyframe_requests(self) -> int:
        """Keyframe requests (PLIs) sent for the video so far."""
        return self._keyframes.sent if self._keyframes is not None else 0

    # ------------------------------------------------------------ receiver sink (threads)

    def wants_frames(self, kind: str) -> bool:
        if kind == "audio":
            return self.audio is not None
        tap = self.encoded_video
        return self.video is not None and (tap is None or tap.decode)

    def wants_packets(self, kind: str) -> bool:
        return (self.encoded_audio if kind == "audio" else self.encoded_video) is not None

    def on_packet(self, receiver: int, kind: str, codec: str, data: bytes, pts: int) -> None:
        with self._stitch_lock:  # a substream switch: two receivers of a kind for a moment
            if not self._current(kind, receiver):
                return
            self._first_of(kind, receiver)
            stitcher = self._stitchers.setdefault(kind, TimestampStitcher(CLOCK_RATES[kind]))
            timestamp = stitcher.map(receiver, pts, time.monotonic())
        tap = self.encoded_video if kind == "video" else None
        direct = tap.direct if tap is not None else None
        if direct is not None and direct(codec, data, timestamp):
            return
        self._call(self._take_packet, receiver, kind, codec, data, timestamp)

    def on_frame(self, receiver: int, frame: av.VideoFrame | av.AudioFrame) -> None:
        kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
        track = self.video if kind == "video" else self.audio
        # straight to the reader's consumer once it asked (tracks.py), unless this frame has
        # loop-side work: it is a replaced receiver's, or the first of a new substream's
        if (
            track is not None
            and track.direct is not None
            and self._current(kind, receiver)
            and (kind == "audio" or self._pending_substream is None)
        ):
            taken = track.offer(frame)
            if taken:
                return
            if taken is None:  # the last one through the loop, the marker behind it
                self._call(self._take_frame, receiver, frame)
                self._call(track.hand_over)
                return
        self._call(self._take_frame, receiver, frame)

    def _call(self, callback: object, *args: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or self.closed.is_set():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]

    # ------------------------------------------------------------------- event loop

    def _current(self, kind: str, receiver: int) -> bool:
        current = self._receivers.get(kind)
        return current is not None and current.index == receiver and not self.closed.is_set()

    def _take_packet(
        self, receiver: int, kind: str, codec: str, data: bytes, timestamp: int
    ) -> None:
        if not self._current(kind, receiver):
            return
        if kind == "video" and self.encoded_video is not None:
            self.encoded_video.offer(codec, data, timestamp)
        elif kind == "audio" and self.encoded_audio is not None:
            queue = self.encoded_audio
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(EncodedAudio(data, timestamp))

    def _take_frame(self, receiver: int, frame: av.VideoFrame | av.AudioFrame) -> None:
        kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
        if not self._current(kind, receiver):
            return
        self._first_of(kind, receiver)
        track = self.video if kind == "video" else self.audio
        if track is not None:
            track.put(frame)

    def _first_of(self, kind: str, receiver: int) -> None:
        if kind == "video" and self._pending_substream is not None:
            self.relayed_substream = self._pending_substream
            self._pending_substream = None

    # ---------------------------------------------------------------------- control

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now (rate-limited by the receiver's policy)."""
        receiver = self._receivers.get("video")
        if receiver is not None:
            receiver.ask_keyframe(damaged=True)

    async def switch_video(self, substream: int) -> None:
        """Receive simulcast ``substream`` instead: a new video forwarder and receiver."""
        stream = self._streams.get("video")
        if stream is None or not self._simulcast or self.closed.is_set():
            return
        old_receiver = self._receivers.get("video")
        old_forwarders = self._forwarders.get("video", [])
        self.substream = substream
        await self._start({"video": stream}, substream)
        if old_receiver is not None:
            old_receiver.stop()
        await self._stop_forwarders(old_forwarders)

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        receivers = list(self._receivers.values())
        for receiver in receivers:
            receiver.stop()
        forwarders = [f for group in self._forwarders.values() for f in group]
        self._forwarders.clear()
        await self._stop_forwarders(forwarders)
        for track in (self.audio, self.video):
            if track is not None:
                track.end()
        await asyncio.to_thread(_join_all, receivers)
        if self._keyframes is not None:
            self._keyframes.close()

    # -------------------------------------------------------------------- internals

    async def _stop_forwarders(self, forwarders: list[Forwarder]) -> None:
        target, handle = self._target, self._handle
        if target is None or handle is None or handle.detached or handle.session.closed:
            return  # no session: Janus is gone (or restarted) and its forwarders with it

        async def stop(forwarder: Forwarder) -> None:
            body = stop_forward_request(
                target.room, target.publisher, forwarder.stream_id, admin_key=target.admin_key
            )
            with contextlib.suppress(ChannelError):  # the publisher left: Janus dropped it
                await handle.message(body)

        await asyncio.gather(*(stop(forwarder) for forwarder in forwarders))

    async def _start(self, streams: dict[str, StreamInfo], substream: int | None) -> None:
        """Receivers for ``streams`` (kind -> stream), then their forwarders."""
        target, handle = self._target, self._handle
        assert target is not None and handle is not None
        started: dict[str, StreamReceiver] = {}
        forwarded: list[ForwardedStream] = []
        try:
            for kind, info in streams.items():
                receiver = await self._bound_receiver(kind, info, substream)
                started[kind] = receiver
                forwarded.append(receiver.stream)
            # Janus takes one SRTP key per request: with SRTP, a request per stream
            groups = [[stream] for stream in forwarded] if target.srtp else [forwarded]
            answers = await asyncio.gather(
                *(self._forward(group) for group in groups), return_exceptions=True
            )
            made = [f for answer in answers if isinstance(answer, list) for f in answer]
            failed = [answer for answer in answers if isinstance(answer, BaseException)]
            if failed:
                await self._stop_forwarders(made)  # a request of several failed: none stays
                raise failed[0]
        except BaseException:
            for receiver in started.values():
                receiver.stop()
            raise
        audio_port = started["audio"].stream.port if "audio" in started else None
        for kind, receiver in started.items():
            port = receiver.stream.port
            # a video forwarder may also send a layer to the discard port: it is the video's
            self._forwarders[kind] = [
                f for f in made if (f.port == audio_port) == (kind == "audio")
            ]
            self._receivers[kind] = receiver
            if kind == "video":
                self._pending_substream = substream if self._simulcast else None
                rtcp = [f.rtcp_port for f in made if f.port == port and f.rtcp_port]
                if self._keyframes is not None and rtcp:
                    self._keyframes.port = rtcp[0]

    async def _forward(self, streams: list[ForwardedStream]) -> list[Forwarder]:
        """Ask Janus to forward ``streams`` (one ``rtp_forward``); the forwarders it made."""
        target, handle = self._target, self._handle
        assert target is not None and handle is not None
        body = forward_request(
            target.room,
            target.publisher,
            target.host,
            streams,
            discard_port=_discard_port(target.host),
            admin_key=target.admin_key,
        )
        keys = [stream.srtp.inline for stream in streams if stream.srtp is not None]
        try:
            data, _ = await handle.message(body)
        except JanusApiError as exc:
            refusal = forward_refusal(exc, key_given=target.admin_key is not None)
            if refusal is not None:
                raise refusal from exc
            if not any(key in exc.reason for key in keys):
                raise
            # Janus quotes an SRTP key it refuses: raised without it, and without the
            # original as its context
            scrubbed = JanusApiError(exc.code, _without(exc.reason, keys))
        else:
            return forwarders_made(data)
        raise scrubbed

    async def _bound_receiver(
        self, kind: str, info: StreamInfo, substream: int | None
    ) -> StreamReceiver:
        target = self._target
        assert target is not None
        for _ in range(_BIND_ATTEMPTS):
            port = _free_port_pair(target.host)
            stream = ForwardedStream(
                mid=info.mid,
                kind=kind,
                codec=info.codec or _DEFAULT_CODEC[kind],
                port=port,
                simulcast=info.simulcast and kind == "video",
                substream=substream if kind == "video" else None,
                srtp=new_key() if target.srtp else None,
            )
            self._next_index += 1
            receiver = StreamReceiver(
                stream,
                target.host,
                self,
                index=self._next_index,
                keyframes=self._keyframes if kind == "video" else None,
            )
            receiver.start()
            deadline = time.monotonic() + _BIND_WAIT_SECONDS
            while time.monotonic() < deadline and receiver.failed is None:
                if receiver.opened.is_set() or port_held(target.host, port):
                    return receiver
                await asyncio.sleep(0.005)
            receiver.stop()
            logger.debug("receiver could not bind port=%s error=%s", port, receiver.failed)
        raise MediaConnectError(f"no free UDP port for {self.uid}'s {kind} on {target.host}")


def _without(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<srtp key>")
    return text


def _join_all(receivers: list[StreamReceiver]) -> None:
    for receiver in receivers:
        receiver.join(2.0)


def _free_port_pair(host: str) -> int:
    """An even UDP port on ``host`` whose neighbour is free too (libavformat takes both)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
        port -= port % 2
        if port >= 1024 and not port_held(host, port) and not port_held(host, port + 1):
            return port
    raise MediaConnectError(f"no free UDP port pair on {host}")


_DISCARD: dict[str, socket.socket] = {}


def _discard_port(host: str) -> int:
    """A port on ``host`` held and never read: where a forwarder's unwanted layer goes."""
    sock = _DISCARD.get(host)
    if sock is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((host, 0))
        _DISCARD[host] = sock
    return int(sock.getsockname()[1])


async def open_feed(
    feed: SubscribedFeed,
    publisher: PublisherInfo,
    mids: list[str],
    substream: int | None,
    *,
    handle: JanusHandle,
    target: ForwardTarget,
) -> None:
    """Receive ``mids`` of ``publisher`` into ``feed`` (its first audio and video stream).

    Returns once Janus forwards them; the frames follow. ``feed.substream`` is set when the
    video is simulcast. Raises :class:`~.errors.MediaConnectError` when no port can be bound,
    and Janus' errors for the ``rtp_forward`` request.
    """
    feed._loop = asyncio.get_running_loop()
    feed._target = target
    feed._handle = handle
    streams: dict[str, StreamInfo] = {}
    for info in publisher.streams:
        if info.mid in mids and info.type in ("audio", "video") and info.type not in streams:
            streams[info.type] = info
    feed._streams = streams
    if "video" in streams:
        feed.video = ReceivedTrack("video")
        feed.video_mid = streams["video"].mid
        feed._simulcast = streams["video"].simulcast
        feed._keyframes = KeyframeRequests(target.janus_host)
        if feed.encoded_video is not None:
            feed.encoded_video.keyframe_requester = feed.request_keyframe
    else:
        feed.encoded_video = None
    if "audio" in streams:
        feed.audio = ReceivedTrack("audio")
    else:
        feed.encoded_audio = None
    if not streams:
        return
    wanted = substream if feed._simulcast else None
    await feed._start(streams, wanted)
    if feed._simulcast and substream is not None:
        feed.substream = substream
