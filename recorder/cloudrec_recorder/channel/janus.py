"""The recorder's Janus VideoRoom client: join a channel, follow it, subscribe to publishers.

::

    channel = JanusChannel("ws://127.0.0.1:8188/", "demo", "999", token=token)
    await channel.join()  # RoomNotFoundError, UidConflictError, TokenRejectedError
    async for event in channel.events():  # PublisherJoined/Updated/Left, ...
        if isinstance(event, PublisherJoined):
            feed = await channel.subscribe(event.uid, substream=SUBSTREAM_HIGH)
            frame = await feed.video.recv()  # av.VideoFrame (decoded in a receiver thread)
    await channel.leave()

Room and participant ids are strings on this side. Against a Janus whose
VideoRoom runs without ``string_ids`` (the stock default) pass
``string_ids=False``: every request then carries them as JSON numbers, and a
room or uid that is not a positive integer raises ``ValueError`` at once,
before anything is sent (see :func:`~cloudrec_recorder.channel.room.janus_id`).

The recorder joins as a *publisher-type participant that never publishes*,
with participant id = its uid, so it appears in the room like the SDK's
recorder uid does. A subscription is a set of VideoRoom RTP forwarders of the
publisher's streams to UDP ports of the recorder's media address
(``forward_host``), read by libavformat in one thread per stream (so
``unsubscribe`` drops exactly one publisher's forwarders): see
:mod:`~cloudrec_recorder.channel.feed`; with ``forward_srtp`` they send SRTP.
``admin_key`` is VideoRoom's, needed for ``rtp_forward`` when the server sets
``lock_rtp_forward``. A simulcast
subscription is kept on the substream it asked for by
:mod:`~cloudrec_recorder.channel.substream`.

Who is in the room comes from Janus' events (rooms made by the launcher have
``notify_joining``, so participants that do not publish are announced too) and
from a ``listparticipants`` every ``resync_interval`` seconds, which corrects
anything events cannot tell (rooms without ``notify_joining``).

Signalling runs on the event loop without blocking: the channel's Janus session travels on
the process' one WebSocket to that Janus (:mod:`~cloudrec_recorder.channel.connection`), which
every channel's session shares. Media never touches the loop per packet: receiver threads
depacketise and decode, and hand over whole frames; a consumer must keep calling ``recv()``
on the tracks it subscribed to (a track holds a bounded number of frames, then drops the
oldest), or unsubscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from cloudrec_recorder.channel.encoded import ENCODED_QUEUE_PACKETS
from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.channel.errors import (
    VIDEOROOM_NO_SUCH_FEED,
    ChannelError,
    JanusApiError,
    RoomNotFoundError,
    SessionLostError,
)
from cloudrec_recorder.channel.feed import ForwardTarget, SubscribedFeed, open_feed
from cloudrec_recorder.channel.room import (
    ChannelClosed,
    ChannelEvent,
    PublisherInfo,
    PublisherLeft,
    RoomState,
    janus_id,
    publisher_join_request,
    recorder_display,
)
from cloudrec_recorder.channel.session import JanusHandle, JanusSession, Message
from cloudrec_recorder.channel.substream import keep_substream

__all__ = ["JanusChannel", "SubscribedFeed"]

logger = logging.getLogger(__name__)


class JanusChannel:
    """One participant ``uid`` in VideoRoom ``room`` on the Janus whose WebSockets API is
    at ``url`` (``ws://`` or ``wss://``).

    ``string_ids`` is the VideoRoom plugin's setting on that server; with False,
    ``room`` and ``uid`` must be positive integers (``ValueError`` otherwise).
    """

    def __init__(
        self,
        url: str,
        room: str,
        uid: str,
        *,
        token: str | None,
        api_secret: str | None = None,
        display: str | None = None,
        resync_interval: float = 2.0,
        connect_timeout: float = 10.0,
        keepalive_interval: float | None = 25.0,
        string_ids: bool = True,
        substream_recheck: float = 3.0,
        forward_host: str = "127.0.0.1",
        forward_srtp: bool = False,
        admin_key: str | None = None,
    ) -> None:
        self.string_ids = string_ids
        self.substream_recheck = substream_recheck
        self._room_id = janus_id(room, string_ids=string_ids, what="room")
        self._uid_id = janus_id(uid, string_ids=string_ids, what="uid")
        self.url = url
        self.room = room
        self.uid = uid
        self.display = display if display is not None else recorder_display(uid)
        self.resync_interval = resync_interval
        self.connect_timeout = connect_timeout
        self._token = token
        self.forward_host = forward_host
        self.forward_srtp = forward_srtp
        """Janus forwards as SRTP, each stream under a key of its own (else plain RTP)."""
        self._admin_key = admin_key
        self._janus_host = urlsplit(url).hostname or "127.0.0.1"
        self._session = JanusSession(
            url, token=token, api_secret=api_secret, keepalive_interval=keepalive_interval
        )
        self._handle: JanusHandle | None = None
        self._state = RoomState(uid)
        self._events: asyncio.Queue[ChannelEvent] = asyncio.Queue()
        self._feeds: dict[str, SubscribedFeed] = {}
        self._private_id: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._resync: asyncio.Task[None] | None = None
        self._left = False
        self.closed = asyncio.Event()
        """Set once we are out of the room (see the :class:`ChannelClosed` event's reason)."""

    # ------------------------------------------------------------------ state

    @property
    def participants(self) -> frozenset[str]:
        """Everyone else in the room (publishing or not)."""
        return frozenset(self._state.participants)

    @property
    def publishers(self) -> Mapping[str, PublisherInfo]:
        """The others that publish, by uid."""
        return dict(self._state.publishers)

    @property
    def subscriptions(self) -> Mapping[str, SubscribedFeed]:
        return dict(self._feeds)

    def _emit(self, events: list[ChannelEvent]) -> None:
        for event in events:
            logger.debug("Channel event room=%s uid=%s event=%s", self.room, self.uid, event)
            self._events.put_nowait(event)
            if isinstance(event, PublisherLeft) and event.uid in self._feeds:
                self._spawn(self._drop_feed(self._feeds[event.uid]))
            if isinstance(event, ChannelClosed):
                self.closed.set()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def events(self) -> AsyncIterator[ChannelEvent]:
        """Channel events in order; ends after :class:`ChannelClosed`.

        One consumer only. Events are queued from :meth:`join` on, so nothing
        is missed between joining and iterating (publishers already in the room
        arrive as ``PublisherJoined``).
        """
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, ChannelClosed):
                return

    async def next_event(self) -> ChannelEvent:
        """The next event (wrap it in ``asyncio.timeout`` to bound the wait)."""
        return await self._events.get()

    # ------------------------------------------------------------------- join

    async def join(self) -> None:
        """Join the room as ``uid`` without publishing.

        Raises :class:`RoomNotFoundError`, :class:`UidConflictError`,
        :class:`TokenRejectedError` (all :class:`JanusApiError`) or
        :class:`ChannelError` when Janus cannot be reached.
        """
        try:
            handle = self._handle = await self._session.open_videoroom(self._on_room_message)
            data, _ = await handle.message(
                publisher_join_request(self._room_id, self._uid_id, self.display, self._token)
            )
            self._private_id = data.get("private_id")
            self._emit(self._state.apply_joined(data))
            await self._resync_once()
        except BaseException:
            await self._session.destroy()
            raise
        self._resync = asyncio.create_task(self._resync_loop(), name=f"janus-resync-{self.room}")
        self._spawn(self._watch_session())
        logger.info("Joined channel room=%s uid=%s", self.room, self.uid)

    def _on_room_message(self, message: Message) -> None:
        kind = message.get("janus")
        if kind == "event":
            data = message.get("plugindata", {}).get("data", {})
            self._emit(self._state.apply_event(data))
        elif kind == "detached":
            self._emit(
                self._state.close(str(message.get("reason", "the Janus handle was detached")))
            )

    async def _resync_once(self) -> None:
        if self._handle is None:
            return
        requested_at = self._state.epoch
        data, _ = await self._handle.message({"request": "listparticipants", "room": self._room_id})
        self._emit(
            self._state.apply_listing(data.get("participants", []), requested_at=requested_at)
        )

    async def _resync_loop(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(self.resync_interval)
            try:
                await self._resync_once()
            except RoomNotFoundError:
                self._emit(self._state.close("the room was destroyed"))
            except SessionLostError as exc:
                self._emit(self._state.close(str(exc)))
            except ChannelError as exc:
                logger.warning("Channel resync failed room=%s error=%s", self.room, exc)

    async def _watch_session(self) -> None:
        await self._session.lost.wait()
        self._emit(self._state.close(f"the Janus session ended: {self._session.lost_reason}"))

    # -------------------------------------------------------------- subscribe

    async def subscribe(
        self,
        uid: str,
        *,
        audio: bool = True,
        video: bool = True,
        substream: int | None = None,
        encoded_audio: bool = False,
        encoded_video: EncodedVideoTap | None = None,
    ) -> SubscribedFeed:
        """Receive ``uid``'s audio and/or video; returns once media is connected.

        ``encoded_audio`` also gives the audio's Opus packets as sent
        (:attr:`SubscribedFeed.encoded_audio`, see :mod:`.encoded`); ``encoded_video``
        taps the video's encoded frames (see :mod:`.encoded_video`).

        ``substream`` (0-2, see ``SUBSTREAM_HIGH``/``SUBSTREAM_LOW``) is asked
        for only when the publisher sends simulcast. A kind the publisher does
        not send stays None; asking for nothing it sends gives an empty feed.
        """
        if self._handle is None or self.closed.is_set():
            raise ChannelError("not in the room: join first")
        if uid in self._feeds:
            await self.unsubscribe(uid)
        publisher = self._state.publishers.get(uid)
        if publisher is None:
            raise JanusApiError(VIDEOROOM_NO_SUCH_FEED, f"{uid} does not publish in {self.room}")
        mids = publisher.mids(audio=audio, video=video)
        feed = SubscribedFeed(uid)
        if encoded_audio and audio:
            feed.encoded_audio = asyncio.Queue(ENCODED_QUEUE_PACKETS)
        feed.encoded_video = encoded_video if video else None
        if not mids:
            return feed
        self._feeds[uid] = feed
        try:
            await self._connect_feed(feed, publisher, mids, substream)
        except BaseException:
            self._feeds.pop(uid, None)
            await feed.close()
            raise
        return feed

    async def _connect_feed(
        self, feed: SubscribedFeed, publisher: PublisherInfo, mids: list[str], substream: int | None
    ) -> None:
        assert self._handle is not None
        target = ForwardTarget(
            host=self.forward_host,
            janus_host=self._janus_host,
            room=self._room_id,
            publisher=self._feed_id(publisher.uid),
            admin_key=self._admin_key,
            srtp=self.forward_srtp,
        )
        if substream is not None and not 0 <= substream <= 2:
            raise ValueError(f"simulcast substream must be 0, 1 or 2, not {substream}")
        await open_feed(feed, publisher, mids, substream, handle=self._handle, target=target)
        if feed.substream is not None:
            self._spawn(
                keep_substream(
                    feed, self.set_substream, recheck=self.substream_recheck, room=self.room
                )
            )

    def _feed_id(self, uid: str) -> str | int:
        """A publisher's id as requests carry it (it came from Janus, so it converts)."""
        return janus_id(uid, string_ids=self.string_ids, what="feed")

    async def set_substream(self, uid: str, substream: int) -> bool:
        """Ask for simulcast ``substream`` of ``uid``'s video; False if it does not simulcast."""
        feed = self._feeds.get(uid)
        publisher = self._state.publishers.get(uid)
        if feed is None or publisher is None or not feed.attached or not publisher.simulcast:
            return False
        if feed.video_mid is None:
            return False
        if not 0 <= substream <= 2:
            raise ValueError(f"simulcast substream must be 0, 1 or 2, not {substream}")
        await feed.switch_video(substream)
        return True

    async def unsubscribe(self, uid: str) -> None:
        """Stop receiving ``uid`` (its tracks end); nothing happens if not subscribed."""
        feed = self._feeds.pop(uid, None)
        if feed is not None:
            await feed.close()

    async def _drop_feed(self, feed: SubscribedFeed) -> None:
        """End the feed of a publisher that left (not a newer one for the same uid)."""
        if self._feeds.get(feed.uid) is feed:
            del self._feeds[feed.uid]
        with contextlib.suppress(ChannelError):
            await feed.close()

    # ------------------------------------------------------------------ leave

    async def leave(self) -> None:
        """Close every subscription and the Janus session (others see us leave)."""
        if self._left:
            return
        self._left = True
        if self._resync is not None:
            self._resync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resync
        # All at once: each stops its forwarders at Janus and joins its receiver threads.
        await asyncio.gather(
            *(self.unsubscribe(uid) for uid in list(self._feeds)), return_exceptions=True
        )
        await self._session.destroy()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._emit(self._state.close("left the room"))
        logger.info("Left channel room=%s uid=%s", self.room, self.uid)

    async def __aenter__(self) -> JanusChannel:
        await self.join()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.leave()
