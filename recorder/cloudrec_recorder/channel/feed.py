"""One subscription to a publisher: its Janus handle, its WebRTC connection and its tracks.

:func:`connect_feed` is the subscriber side of VideoRoom: a handle of its own joins the room as
a subscriber of the publisher's streams (asking for a simulcast substream in the join itself),
Janus sends the SDP offer, aiortc answers with a complete SDP (half-trickle), and the call
returns once Janus reports ``webrtcup``. The handle's later events tell which substream Janus
relays (:attr:`SubscribedFeed.relayed_substream`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from cloudrec_recorder.channel.encoded import EncodedAudio, tap_encoded_audio
from cloudrec_recorder.channel.encoded_video import EncodedVideoTap, tap_encoded_video
from cloudrec_recorder.channel.errors import ChannelError, MediaConnectError
from cloudrec_recorder.channel.room import PublisherInfo, relayed_substream, subscription_streams
from cloudrec_recorder.channel.session import JanusHandle, JanusSession, Message

__all__ = ["SubscribedFeed", "connect_feed"]


@dataclass
class SubscribedFeed:
    """The tracks received from one publisher.

    ``audio`` / ``video`` are aiortc ``MediaStreamTrack``s whose ``recv()``
    yields decoded ``av.AudioFrame`` / ``av.VideoFrame``; None when not asked
    for or not published. After the publisher leaves or
    :meth:`~cloudrec_recorder.channel.janus.JanusChannel.unsubscribe`,
    ``recv()`` raises ``aiortc.mediastreams.MediaStreamError``.
    """

    uid: str
    audio: MediaStreamTrack | None = None
    video: MediaStreamTrack | None = None
    encoded_audio: asyncio.Queue[EncodedAudio] | None = None
    """The audio's Opus packets as sent (``subscribe(..., encoded_audio=True)``)."""
    encoded_video: EncodedVideoTap | None = None
    """The video's encoded frames as sent (``subscribe(..., encoded_video=...)``)."""
    video_mid: str | None = None
    """The subscription's mid for the video stream (what ``configure`` names)."""
    substream: int | None = None
    """The simulcast substream asked for (None: Janus' default, the largest)."""
    relayed_substream: int | None = None
    """The substream Janus last said it relays to this subscription."""
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _handle: JanusHandle | None = None
    _pc: RTCPeerConnection | None = None

    @property
    def attached(self) -> bool:
        """The subscription has its Janus handle (requests can be sent on it)."""
        return self._handle is not None

    async def configure(self, body: Message) -> None:
        """Send a subscriber ``configure`` on the feed's handle (once :attr:`attached`)."""
        if self._handle is None:
            raise ChannelError(f"the subscription to {self.uid} has no Janus handle yet")
        await self._handle.message(body)

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        if self._handle is not None:
            await self._handle.detach()
        if self._pc is not None:
            await self._pc.close()


@dataclass(frozen=True)
class SubscriberJoin:
    """Where a subscription joins: the room, the publisher's id as requests carry them, and our
    publisher handle's ``private_id`` (Janus ties the subscription to our participant with it)."""

    room: str | int
    feed: str | int
    private_id: int | None


async def connect_feed(
    session: JanusSession,
    feed: SubscribedFeed,
    publisher: PublisherInfo,
    mids: list[str],
    substream: int | None,
    *,
    join: SubscriberJoin,
    ice_servers: Sequence[RTCIceServer],
    connect_timeout: float,
) -> None:
    """Receive ``mids`` of ``publisher`` into ``feed``; returns once media is connected.

    ``feed.substream`` is set when a simulcast substream was asked for in the join.
    Raises :class:`MediaConnectError` when no WebRTC connection comes up in time.
    """
    handle = feed._handle = await session.attach()
    up = asyncio.Event()

    def on_message(message: Message) -> None:
        kind = message.get("janus")
        if kind == "webrtcup":
            up.set()
        elif kind in ("hangup", "detached"):
            feed.closed.set()
        elif kind == "event":
            relayed = relayed_substream(message.get("plugindata", {}).get("data", {}))
            if relayed is not None:
                feed.relayed_substream = relayed

    handle.listener = on_message
    streams = subscription_streams(publisher, join.feed, mids, substream)
    body: Message = {
        "request": "join",
        "ptype": "subscriber",
        "room": join.room,
        "streams": streams,
    }
    if join.private_id is not None:
        body["private_id"] = join.private_id
    data, offer = await handle.message(body)
    if offer is None:
        raise ChannelError(f"Janus sent no SDP offer for {publisher.uid}")
    for stream in data.get("streams", []):
        if stream.get("type") == "video" and stream.get("active", True):
            feed.video_mid = str(stream["mid"])
    pc = feed._pc = RTCPeerConnection(RTCConfiguration(iceServers=list(ice_servers)))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
    take_tracks(feed, pc)
    await pc.setLocalDescription(await pc.createAnswer())
    answer = pc.localDescription
    await handle.message(
        {"request": "start"}, jsep={"type": answer.type, "sdp": answer.sdp, "trickle": False}
    )
    try:
        await asyncio.wait_for(up.wait(), connect_timeout)
    except TimeoutError as exc:
        raise MediaConnectError(
            f"no WebRTC connection for {publisher.uid} within {connect_timeout:.0f}s "
            f"(ICE state {pc.iceConnectionState})"
        ) from exc
    if any("substream" in stream for stream in streams):
        feed.substream = substream


def take_tracks(feed: SubscribedFeed, pc: RTCPeerConnection) -> None:
    """The feed's first audio and video track (and the audio's packets, when asked for)."""
    for transceiver in pc.getTransceivers():
        track = transceiver.receiver.track
        if track.kind == "audio" and feed.audio is None:
            feed.audio = track
            if feed.encoded_audio is not None:
                tap_encoded_audio(transceiver, feed.encoded_audio)
        elif track.kind == "video" and feed.video is None:
            feed.video = track
            if feed.encoded_video is not None:
                tap_encoded_video(transceiver, feed.encoded_video)
