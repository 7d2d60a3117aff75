"""Following a joined channel for one recording: subscriptions, readers, who is present.

:class:`ChannelFollower` turns the channel's events into the recording's media: each
recordable publisher (:mod:`~cloudrec_recorder.participants`) is subscribed per
``streamTypes`` and ``videoStreamType``, and a reader per track feeds the frames that the
allow/block lists admit (:mod:`~cloudrec_recorder.subscription`) to the pipeline, so an
``update`` takes effect at once; a publisher that leaves is unsubscribed and removed from the
mix. Who is in the channel feeds the idle clock (:mod:`~cloudrec_recorder.idle`). The
publishers' subscriptions are made side by side (each its own task: a channel joined with
several publishers asks Janus for every forwarder at once, so no picture waits for the others'
set-up, and a subscription that fails or hangs holds up nobody else), while the changes of one
publisher (joined, updated, left) are made in the order they came; the mix shows them in the
order they were announced, not in the order their subscriptions completed. The
recording owns the lifecycle: it starts :meth:`ChannelFollower.follow` once started, hears of
every admitted frame (``on_frame``) and of the channel closing (``on_closed``), and stops the
readers when it leaves. While paused (:meth:`ChannelFollower.pause`) the subscriptions stay but
every frame read is dropped, and the idle clock stops.

A track's first frame comes through the event loop (it may start the recording); later ones
go from the receiver's thread straight to the pipeline (the track's ``direct``, in
:mod:`~cloudrec_recorder.channel.tracks`; the pipelines' inputs are thread-safe), with the same
admission, so the loop does no work per decoded frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import time
from collections.abc import Awaitable, Callable

import av

from cloudrec_protocol.enums import StreamTypes, VideoStreamType
from cloudrec_protocol.models import RecordingConfig
from cloudrec_recorder.channel.encoded import EncodedAudio
from cloudrec_recorder.channel.errors import ChannelError
from cloudrec_recorder.channel.room import (
    SUBSTREAM_HIGH,
    SUBSTREAM_LOW,
    ChannelClosed,
    ParticipantsChanged,
    PublisherJoined,
    PublisherLeft,
    PublisherUpdated,
)
from cloudrec_recorder.channel.tracks import ReceivedTrack, TrackEndedError
from cloudrec_recorder.idle import IdleClock
from cloudrec_recorder.media.group import RecordingGroup
from cloudrec_recorder.participants import is_recordable, shown
from cloudrec_recorder.phases import mark
from cloudrec_recorder.ports import (
    Channel,
    MediaParts,
    MediaTrack,
    RecordingEventSink,
)
from cloudrec_recorder.stored_video import read_encoded_video, video_tap_for
from cloudrec_recorder.subscription import Subscription, from_config

__all__ = ["MAX_REFUSED_REPORTED", "ChannelFollower"]

log = logging.getLogger(__name__)

MAX_REFUSED_REPORTED = 64
"""Refused participant ids reported per recording (later ones are ignored silently)."""
MEDIA_NOTE_SECONDS = 0.1
"""How often frames taken in receiver threads tell the recording that media comes (its gaps
are spans of a segment or more without media)."""


class ChannelFollower:
    """See the module docstring."""

    def __init__(
        self,
        channel: Channel,
        media: MediaParts,
        events: RecordingEventSink,
        *,
        config: RecordingConfig,
        snapshots_only: bool,
        sid: str,
        on_frame: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.media = media
        self.events = events
        self.sid = sid
        self.subscription: Subscription = from_config(config)
        self.idle = IdleClock(config.channel_type, config.max_idle_time)
        self._clock = clock
        self._on_frame = on_frame
        types = config.stream_types
        # a snapshot task has no use for audio: it is not even decoded
        self._audio = types != StreamTypes.VIDEO_ONLY and not snapshots_only
        self._video = types != StreamTypes.AUDIO_ONLY
        self._substream = (
            SUBSTREAM_LOW if config.video_stream_type == VideoStreamType.LOW else SUBSTREAM_HIGH
        )
        self.paused = False
        """Frames read are dropped (the recording is paused)."""
        self._readers: dict[str, list[asyncio.Task[None]]] = {}
        self._media_noted = 0.0
        """When frames taken in receiver threads last told the recording (monotonic)."""
        self._joined_order: list[str] = []
        self._changes: dict[str, asyncio.Task[None]] = {}
        """uid -> its newest subscription change (the others' wait for theirs only)."""
        self._announced: dict[str, int] = {}
        """uid -> when it was announced (the mix's order)."""
        self._announcements = itertools.count()
        self._refused: set[str] = set()

    def note_presence(self, participants: frozenset[str], publishers: frozenset[str]) -> None:
        """Who is in the channel now (the idle clock)."""
        self.idle.note(participants, publishers, self._clock())

    def idle_expired(self) -> bool:
        return self.idle.expired(self._clock())

    def pause(self) -> None:
        """Drop every frame from now on; the idle clock stops."""
        self.paused = True
        self.idle.pause(self._clock())

    def resume(self) -> None:
        """Feed the pipeline again; the idle clock goes on (the pause not counted)."""
        self.paused = False
        self.idle.resume(self._clock())

    def _admits_video(self, uid: str) -> bool:
        return not self.paused and self.subscription.video.admits(uid)

    def _admits_audio(self, uid: str) -> bool:
        return not self.paused and self.subscription.audio.admits(uid)

    def update(self, subscription: Subscription) -> None:
        """New allow/block lists: they apply to the next frame read."""
        self.subscription = subscription
        self._apply_participants()

    async def follow(self, on_closed: Callable[[str], None]) -> None:
        """Follow the channel's events until it closes (then ``on_closed(reason)``)."""
        async for event in self.channel.events():
            if isinstance(event, PublisherJoined | PublisherUpdated | PublisherLeft):
                if not self._recordable(event.uid):
                    continue
            if isinstance(event, PublisherJoined | PublisherUpdated):
                self._announced.setdefault(event.uid, next(self._announcements))
                self._in_turn(event.uid, self._subscribe)
            elif isinstance(event, PublisherLeft):
                self._announced.pop(event.uid, None)  # back later: shown last
                self._in_turn(event.uid, self._unsubscribe)
            elif isinstance(event, ParticipantsChanged):
                self.note_presence(event.participants, event.publishers)
            elif isinstance(event, ChannelClosed):
                on_closed(event.reason)
                return

    async def stop_readers(self) -> None:
        """Stop reading every subscription (the recording leaves); a subscription still
        being made is given up (leaving the channel closes what it opened)."""
        changes = list(self._changes.values())
        for task in changes:
            task.cancel()
        await asyncio.gather(*changes, return_exceptions=True)
        for uid in list(self._readers):
            await self._stop_readers(uid)

    # -------------------------------------------------------------- internals

    def _in_turn(self, uid: str, change: Callable[[str], Awaitable[None]]) -> None:
        """Make ``change(uid)`` in a task of its own, after ``uid``'s changes asked before."""
        task = asyncio.create_task(self._after(self._changes.get(uid), change, uid))
        self._changes[uid] = task
        task.add_done_callback(functools.partial(self._change_made, uid))

    def _change_made(self, uid: str, task: asyncio.Task[None]) -> None:
        if self._changes.get(uid) is task:
            del self._changes[uid]

    async def _after(
        self,
        previous: asyncio.Task[None] | None,
        change: Callable[[str], Awaitable[None]],
        uid: str,
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await change(uid)
        except Exception:  # one publisher's failure is not the others'
            log.exception("Subscription change failed sid=%s uid=%s", self.sid, uid)

    def _apply_participants(self) -> None:
        mixer = self.media.mixer
        if mixer is None:
            return
        if self.subscription.video.enabled:
            mixer.set_participants(
                [u for u in self._joined_order if self.subscription.video.admits(u)]
            )
        for uid in self._joined_order:
            audio, video = self.subscription.wants(uid)
            if not audio and not video:
                mixer.remove(uid)

    def _recordable(self, uid: str) -> bool:
        """False for a participant id outside the uid grammar (reported once, then ignored)."""
        if is_recordable(uid):
            return True
        text = shown(uid)  # bounded: the raw id may be of any length
        if text not in self._refused and len(self._refused) < MAX_REFUSED_REPORTED:
            self._refused.add(text)
            log.warning("Participant not recorded sid=%s id=%s: not a uid", self.sid, text)
            self.events.participant_refused(text)
        return False

    async def _subscribe(self, uid: str) -> None:
        try:
            feed = await self.channel.subscribe(
                uid,
                audio=self._audio,
                video=self._video,
                substream=self._substream,
                encoded_audio=self.media.packets is not None,
                encoded_video=video_tap_for(self.media.pipeline),
            )
        except ChannelError as exc:
            log.warning("Subscribe failed sid=%s uid=%s error=%s", self.sid, uid, exc)
            return
        mark(self.sid, "subscribed", f"uid={uid}")
        await self._stop_readers(uid)
        if uid not in self._joined_order:
            self._joined_order.append(uid)
            self._joined_order.sort(key=lambda u: self._announced.get(u, -1))
        self._apply_participants()
        readers = []
        for kind, track in (("audio", feed.audio), ("video", feed.video)):
            if track is not None:
                readers.append(asyncio.create_task(self._read(uid, kind, track)))
                self.events.stream_state(kind, uid, receiving=True)
        if feed.encoded_audio is not None:
            readers.append(asyncio.create_task(self._read_encoded(uid, feed.encoded_audio)))
        pipeline = self.media.pipeline
        if feed.encoded_video is not None and isinstance(pipeline, RecordingGroup):
            coro = read_encoded_video(
                uid,
                feed.encoded_video,
                pipeline,
                self._admits_video,
                self._on_frame,
                MEDIA_NOTE_SECONDS,
            )
            readers.append(asyncio.create_task(coro))
        self._readers[uid] = readers

    async def _unsubscribe(self, uid: str) -> None:
        await self._stop_readers(uid)
        if uid in self._joined_order:
            self._joined_order.remove(uid)
        self.media.pipeline.remove(uid)
        self._apply_participants()
        with contextlib.suppress(ChannelError):
            await self.channel.unsubscribe(uid)

    async def _stop_readers(self, uid: str) -> None:
        for task in self._readers.pop(uid, []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _read(self, uid: str, kind: str, track: MediaTrack) -> None:
        pipeline = self.media.pipeline
        try:
            frame = await track.recv()
            mark(self.sid, "first-frame", f"uid={uid} kind={kind}")
            if isinstance(track, ReceivedTrack):  # later frames: in the receiver's thread
                track.direct = self._direct(uid, kind, asyncio.get_running_loop())
            while True:
                if isinstance(frame, av.VideoFrame):
                    if self._admits_video(uid):
                        self._on_frame()
                        pipeline.push_video(uid, frame)
                elif isinstance(frame, av.AudioFrame) and self._admits_audio(uid):
                    self._on_frame()
                    pipeline.push_audio(uid, frame)
                frame = await track.recv()
        except TrackEndedError:
            self.events.stream_state(kind, uid, receiving=False)
        finally:
            if isinstance(track, ReceivedTrack):
                track.direct = None

    def _direct(
        self, uid: str, kind: str, loop: asyncio.AbstractEventLoop
    ) -> Callable[[av.VideoFrame | av.AudioFrame], None]:
        """What takes ``uid``'s ``kind`` frames in the receiver's thread once the track goes
        direct (the pipeline's inputs are thread-safe): the same admission as :meth:`_read`;
        the recording hears of media (its gaps) at most every :data:`MEDIA_NOTE_SECONDS`."""
        pipeline = self.media.pipeline
        admits = self._admits_video if kind == "video" else self._admits_audio
        on_frame = self._on_frame

        def take(frame: av.VideoFrame | av.AudioFrame) -> None:
            if not admits(uid):
                return
            now = time.monotonic()
            if now - self._media_noted >= MEDIA_NOTE_SECONDS:
                self._media_noted = now
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(on_frame)
            if isinstance(frame, av.VideoFrame):
                pipeline.push_video(uid, frame)
            else:
                pipeline.push_audio(uid, frame)

        return take

    async def _read_encoded(self, uid: str, packets: asyncio.Queue[EncodedAudio]) -> None:
        """streamMode original: the audio's packets as sent go to the pipeline untouched."""
        sink = self.media.packets
        assert sink is not None
        while True:
            packet = await packets.get()
            if self._admits_audio(uid):
                self._on_frame()
                sink.push_audio_packet(uid, packet.data, packet.timestamp)
