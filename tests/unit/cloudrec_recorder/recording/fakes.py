"""In-process fakes of the recording's ports (``cloudrec_recorder.ports``).

Each one keeps what was asked of it and lets the test play the other side: a channel whose
publishers come and go, tracks the test sends frames on, a pipeline that records what it
was fed, an uploader whose start and finish the test controls, and the notifications. They
stand in for Janus, the encoders and the S3 store in unit tests only; the integration tests
run the real ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av

from cloudrec_protocol.events import LeaveCode
from cloudrec_protocol.manifest import TimelineEntry
from cloudrec_protocol.models import LayoutSettings, StartClientRequest
from cloudrec_recorder.channel.encoded import EncodedAudio
from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.channel.room import (
    ChannelClosed,
    ChannelEvent,
    ParticipantsChanged,
    PublisherInfo,
    PublisherJoined,
    PublisherLeft,
    StreamInfo,
)
from cloudrec_recorder.channel.tracks import TrackEndedError
from cloudrec_recorder.egress import EgressRefusedError
from cloudrec_recorder.media.background import NO_BACKGROUNDS, Backgrounds
from cloudrec_recorder.media.config import OutputFile, RegionSpec, TrackType, VideoLayout
from cloudrec_recorder.media.spool import FileReady
from cloudrec_recorder.ports import MediaParts, RecordMode
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.sessions import Resource
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.startplan import plan_start
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.uploader import UploadResult, UploadStatus

APP = "app1"
CNAME = "room1"
RECORDER_UID = "900"
PREFIX = ("rec", "day1")


# ------------------------------------------------------------------ the channel


class FakeTrack:
    """A received track: ``recv`` gives what the test :meth:`send`s, until :meth:`end`."""

    def __init__(self) -> None:
        self._frames: asyncio.Queue[object | None] = asyncio.Queue()

    def send(self, frame: object) -> None:
        self._frames.put_nowait(frame)

    def end(self) -> None:
        self._frames.put_nowait(None)

    async def recv(self) -> object:
        frame = await self._frames.get()
        if frame is None:
            raise TrackEndedError
        return frame


@dataclass
class FakeFeed:
    uid: str
    audio: FakeTrack | None = None
    video: FakeTrack | None = None
    encoded_audio: asyncio.Queue[EncodedAudio] | None = None
    encoded_video: EncodedVideoTap | None = None


@dataclass
class Subscribed:
    uid: str
    audio: bool
    video: bool
    substream: int | None
    encoded_audio: bool


class FakeChannel:
    """A room the test fills: :meth:`publish`, :meth:`watch`, :meth:`depart`, :meth:`close`."""

    def __init__(self, room: str = CNAME, uid: str = RECORDER_UID) -> None:
        self.room = room
        self.uid = uid
        self.join_error: Exception | None = None
        self.subscribe_error: Exception | None = None
        self.subscribe_gate: asyncio.Event | None = None
        """When set: subscriptions wait for it (Janus and WebRTC take their time)."""
        self.gates: dict[str, asyncio.Event] = {}
        """uid -> what its subscription waits for (instead of ``subscribe_gate``)."""
        self.failing: dict[str, Exception] = {}
        """uid -> what its subscription raises (instead of ``subscribe_error``)."""
        self.joined = False
        self.left = False
        self.left_at: float | None = None
        """When (monotonic) the recording began to leave."""
        self.subscribed: list[Subscribed] = []
        self.unsubscribed: list[str] = []
        self.feeds: dict[str, FakeFeed] = {}
        self.subscribed_signal = asyncio.Event()
        self._participants: set[str] = set()
        self._publishers: dict[str, PublisherInfo] = {}
        self._events: asyncio.Queue[ChannelEvent] = asyncio.Queue()

    @property
    def participants(self) -> frozenset[str]:
        return frozenset(self._participants)

    @property
    def publishers(self) -> Mapping[str, PublisherInfo]:
        return dict(self._publishers)

    # the test's side

    def publish(self, uid: str, *, audio: bool = True, video: bool = True) -> None:
        """``uid`` comes in and publishes (already there when published before the join)."""
        streams = []
        if audio:
            streams.append(StreamInfo("audio", "0", "opus"))
        if video:
            streams.append(StreamInfo("video", "1", "vp8"))
        info = PublisherInfo(uid, display=f"user {uid}", streams=tuple(streams))
        self._participants.add(uid)
        self._publishers[uid] = info
        self._events.put_nowait(PublisherJoined(info))
        self._changed()

    def watch(self, uid: str) -> None:
        """``uid`` comes in without publishing (an audience member in a Live channel)."""
        self._participants.add(uid)
        self._changed()

    def depart(self, uid: str) -> None:
        if self._publishers.pop(uid, None) is not None:
            self._events.put_nowait(PublisherLeft(uid))
        self._participants.discard(uid)
        self._changed()

    def close(self, reason: str) -> None:
        """The channel ends under the recording (room destroyed, session lost)."""
        for uid in sorted(self._publishers):
            self._events.put_nowait(PublisherLeft(uid))
        self._publishers.clear()
        self._participants.clear()
        self._changed()
        self._events.put_nowait(ChannelClosed(reason))

    def _changed(self) -> None:
        self._events.put_nowait(
            ParticipantsChanged(frozenset(self._participants), frozenset(self._publishers))
        )

    # the recording's side (ports.Channel)

    async def join(self) -> None:
        if self.join_error is not None:
            raise self.join_error
        self.joined = True

    async def events(self) -> AsyncIterator[ChannelEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, ChannelClosed):
                return

    async def subscribe(
        self,
        uid: str,
        *,
        audio: bool,
        video: bool,
        substream: int | None,
        encoded_audio: bool,
        encoded_video: EncodedVideoTap | None,
    ) -> FakeFeed:
        self.subscribed.append(Subscribed(uid, audio, video, substream, encoded_audio))
        self.subscribed_signal.set()
        publisher = self._publishers[uid]  # as Janus listed it when asked
        gate = self.gates.get(uid, self.subscribe_gate)
        if gate is not None:
            await gate.wait()
        error = self.failing.get(uid, self.subscribe_error)
        if error is not None:
            raise error
        feed = FakeFeed(
            uid,
            audio=FakeTrack() if audio and publisher.has_audio else None,
            video=FakeTrack() if video and publisher.has_video else None,
            encoded_audio=asyncio.Queue() if encoded_audio and audio else None,
        )
        self.feeds[uid] = feed
        return feed

    async def unsubscribe(self, uid: str) -> None:
        self.unsubscribed.append(uid)
        feed = self.feeds.pop(uid, None)
        for track in (feed.audio, feed.video) if feed else ():
            if track is not None:
                track.end()

    async def leave(self) -> None:
        self.left = True
        self.left_at = time.monotonic()


def video_frame() -> av.VideoFrame:
    return av.VideoFrame(16, 16, "yuv420p")


def audio_frame() -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=960)
    frame.sample_rate = 48000
    return frame


# ------------------------------------------------------------------ media


@dataclass
class FakePipeline:
    """A mix (or individual) pipeline that keeps what it was fed."""

    on_file_ready: FileReady
    stop_error: Exception | None = None
    started: int = 0
    stopped: bool = False
    ended_at: float | None = None
    """The last instant to write (``end``), once asked."""
    holds: list[str] = field(default_factory=list)
    """"pause" and "resume", in the order asked."""
    origin_epoch_ms: int | None = None
    """A mixer's output time 0 (hand-over), once it has media."""
    video: list[str] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)
    packets: list[tuple[str, bytes]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    participants: list[list[str]] = field(default_factory=list)
    layouts: list[tuple[VideoLayout, str]] = field(default_factory=list)
    backgrounds: list[Backgrounds] = field(default_factory=list)
    written: list[OutputFile] = field(default_factory=list)
    fed: asyncio.Event = field(default_factory=asyncio.Event)
    lagging: float = 0.0
    """What ``lag()`` and ``worst_lag`` say (seconds)."""

    def start(self) -> None:
        self.started += 1

    def push_video(self, uid: str, frame: av.VideoFrame) -> None:
        self.video.append(uid)
        self.fed.set()

    def push_audio(self, uid: str, frame: av.AudioFrame) -> None:
        self.audio.append(uid)
        self.fed.set()

    def push_audio_packet(self, uid: str, data: bytes, timestamp: int) -> None:
        self.packets.append((uid, data))
        self.fed.set()

    def remove(self, uid: str) -> None:
        self.removed.append(uid)

    def pause(self) -> None:
        self.holds.append("pause")

    def resume(self) -> None:
        self.holds.append("resume")

    def end(self, at: float | None = None) -> None:
        self.ended_at = at

    async def stop(self) -> list[OutputFile]:
        self.stopped = True
        if self.stop_error is not None:
            raise self.stop_error
        return self.files()

    def files(self) -> list[OutputFile]:
        return list(self.written)

    def start_of(self, name: str) -> int | None:
        return 1_700_000_000_000 if name.endswith(".mp4") else None

    def lag(self, now: float | None = None) -> float:
        return self.lagging

    @property
    def worst_lag(self) -> float:
        return self.lagging

    def write(self, name: str) -> None:
        """The encoder finished ``name`` in the spool (and says so, as its thread does)."""
        self.written.append(
            OutputFile(
                name=name,
                track_type=TrackType.AUDIO_AND_VIDEO,
                uid="0",
                mixed_all_user=True,
                slice_start_time_ms=1_700_000_000_000,
            )
        )
        self.on_file_ready(name)

    # a mixer's

    def set_participants(self, uids: Sequence[str]) -> None:
        self.participants.append(list(uids))

    def check_layout(
        self,
        layout: VideoLayout,
        *,
        max_resolution_uid: str | None = None,
        regions: Sequence[RegionSpec] = (),
        background_color: str = "#000000",
    ) -> None:
        if len(regions) > 17:
            raise ValueError(f"layoutConfig holds at most 17 regions, got {len(regions)}")

    def set_layout(
        self,
        layout: VideoLayout,
        *,
        max_resolution_uid: str | None = None,
        regions: Sequence[RegionSpec] = (),
        background_color: str = "#000000",
        backgrounds: Backgrounds = NO_BACKGROUNDS,
    ) -> None:
        self.layouts.append((layout, background_color))
        self.backgrounds.append(backgrounds)

    def set_backgrounds(self, backgrounds: Backgrounds) -> None:
        self.backgrounds.append(backgrounds)


class FakePictures:
    """Background pictures that are all held already (nothing to fetch)."""

    def __init__(self) -> None:
        self.shown: list[LayoutSettings] = []
        self.closed = False

    def show(self, layout: LayoutSettings) -> Backgrounds:
        self.shown.append(layout)
        return NO_BACKGROUNDS

    async def aclose(self) -> None:
        self.closed = True


# ------------------------------------------------------------------ storage and events


class FakeUploader:
    """An uploader the test drives: its start may fail or hang, its finish is scripted."""

    def __init__(self) -> None:
        self.start_error: Exception | None = None
        self.start_gate: asyncio.Event | None = None
        """When set: ``start`` waits for it (a store that hangs)."""
        self.finish_status: UploadStatus = "uploaded"
        self.finish_gate: asyncio.Event | None = None
        self.ready: list[tuple[str, int | None]] = []
        self.finished_within: float | None = None
        self.closed = asyncio.Event()
        self.delivered = asyncio.Event()
        """Set by the test for a backup's re-upload that reached the bucket."""
        self.timeline: Callable[[], list[TimelineEntry]] = list

    def with_timeline(self, timeline: Callable[[], list[TimelineEntry]]) -> FakeUploader:
        """The uploader of a recording whose manifest timeline is ``timeline``."""
        self.timeline = timeline
        return self

    async def start(self) -> None:
        if self.start_gate is not None:
            await self.start_gate.wait()
        if self.start_error is not None:
            raise self.start_error

    def file_ready(self, name: str, start_ms: int | None = None) -> None:
        self.ready.append((name, start_ms))

    def playable_files(self) -> tuple[StoredFile, ...]:
        return tuple(
            StoredFile(
                file_name="/".join((*PREFIX, name)),
                track_type="audio_and_video",
                uid="0",
                mixed_all_user=True,
                is_playable=True,
                slice_start_time=start or 0,
            )
            for name, start in self.ready
        )

    async def finish(self, within: float) -> UploadResult:
        self.finished_within = within
        if self.finish_gate is not None:
            await self.finish_gate.wait()
        if self.finish_status == "uploaded":
            self.delivered.set()
        return UploadResult(self.finish_status, self.playable_files())

    async def wait_delivered(self, within: float) -> bool:
        try:
            await asyncio.wait_for(self.delivered.wait(), within)
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        self.closed.set()


class FakeEvents:
    """The notifications, as ``(name, argument)`` in order; :meth:`wait` for one."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def _note(self, name: str, argument: Any = None) -> None:
        self.sent.append((name, argument))
        for predicate, done in self._waiters:
            if not done.done() and predicate():
                done.set_result(None)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 1.0) -> None:
        """Until ``predicate()`` holds after a notification (or already holds)."""
        if predicate():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, done))
        try:
            async with asyncio.timeout(within):
                await done
        finally:
            self._waiters.remove((predicate, done))

    async def wait(self, name: str, within: float = 1.0) -> None:
        """Until notification ``name`` was sent."""
        await self.wait_until(lambda: name in self.names(), within)

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]

    def of(self, name: str) -> list[Any]:
        return [argument for sent, argument in self.sent if sent == name]

    def recorder_started(self) -> None:
        self._note("recorder_started")

    def recorder_leave(self, leave_code: LeaveCode) -> None:
        self._note("recorder_leave", leave_code)

    def slice_start(self, start_ms: int) -> None:
        self._note("slice_start", start_ms)

    def stream_state(self, kind: str, stream_uid: str, receiving: bool) -> None:
        self._note("stream_state", (kind, stream_uid, receiving))

    def participant_refused(self, shown_id: str) -> None:
        self._note("participant_refused", shown_id)

    def background_image_unavailable(self, reason: str) -> None:
        self._note("background_image_unavailable", reason)

    def session_exit(self, abnormal: bool = False) -> None:
        self._note("session_exit", abnormal)

    def recorder_failed(self, message: str) -> None:
        self._note("recorder_failed", message)

    def uploader_could_not_start(self) -> None:
        self._note("uploader_could_not_start")


class FakeEgress:
    """Allows every address, or refuses every one."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.checked: list[tuple[str, str]] = []

    async def check_url(self, url: str, field: str) -> None:
        self.checked.append((url, field))
        if self.refuse:
            raise EgressRefusedError(f"{field}: 10.0.0.1 is a private address")


class ManualClock:
    """Monotonic time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ------------------------------------------------------------------ a recording of fakes


def start_request(
    *,
    channel_type: int = 0,
    max_idle_time: int = 10,
    mp4: bool = False,
    recording_config: dict[str, Any] | None = None,
    files: bool = True,
    snapshots: dict[str, Any] | None = None,
) -> StartClientRequest:
    config: dict[str, Any] = {
        "channelType": channel_type,
        "streamTypes": 2,
        "maxIdleTime": max_idle_time,
        **(recording_config or {}),
    }
    body: dict[str, Any] = {
        "recordingConfig": config,
        "storageConfig": {
            "vendor": 11,
            "region": 0,
            "bucket": "bucket",
            "accessKey": "ak",
            "secretKey": "sk",
            "fileNamePrefix": list(PREFIX),
            "extensionParams": {"endpoint": "http://127.0.0.1:9000"},
        },
    }
    if files:
        body["recordingFileConfig"] = {"avFileType": ["hls", "mp4"] if mp4 else ["hls"]}
    if snapshots is not None:
        body["snapshotConfig"] = snapshots
    return StartClientRequest.model_validate(body)


@dataclass
class Rig:
    """A recording of fakes and the fakes, for one test."""

    recording: ChannelRecording
    channel: FakeChannel
    pipeline: FakePipeline
    uploader: FakeUploader
    events: FakeEvents
    egress: FakeEgress
    clock: ManualClock
    pictures: FakePictures
    exits: list[str]

    async def exited(self, within: float = 1.0) -> None:
        """Until the recording's last notification (event 11) is out."""
        await self.events.wait("session_exit", within)


IDLE_CHECK = 0.002
"""Seconds between two looks at the idle clock (0.5 s in the recorder)."""


def rig(
    spool: Path,
    request: StartClientRequest | None = None,
    *,
    mode: RecordMode = RecordMode.MIX,
    copies_audio: bool = False,
    keep_delivered_spool: bool = False,
) -> Rig:
    """A :class:`ChannelRecording` of fakes (call inside the test's event loop)."""
    settings = RecorderSettings.model_validate(
        {
            "customerId": "cust",
            "customerSecret": "s3cret",
            "apps": {APP: {"janus": {"wsUrl": "ws://127.0.0.1:1/"}}},
            "spoolDir": str(spool),
            "keepDeliveredSpool": keep_delivered_spool,
            "drainTimeoutSeconds": 30,
        }
    )
    resource = Resource("res", APP, CNAME, RECORDER_UID, acquired_at=0.0, expired_hour=24)
    plan = plan_start(
        settings,
        appid=APP,
        resource=resource,
        individual=mode == RecordMode.INDIVIDUAL,
        request=request or start_request(),
    )
    channel, uploader, events = FakeChannel(), FakeUploader(), FakeEvents()
    egress, clock, pictures = FakeEgress(), ManualClock(), FakePictures()
    pipelines: list[FakePipeline] = []

    def media(on_file_ready: FileReady) -> MediaParts:
        pipeline = FakePipeline(on_file_ready)
        pipelines.append(pipeline)
        if mode == RecordMode.MIX:
            return MediaParts(pipeline, mixer=pipeline, pictures=pictures)
        return MediaParts(pipeline, packets=pipeline if copies_audio else None)

    exits: list[str] = []
    recording = ChannelRecording(
        plan,
        settings=settings,
        appid=APP,
        sid="sid1",
        mode=mode,
        spool=spool / "sid1",
        channel=channel,
        media=media,
        uploader=lambda timeline: uploader.with_timeline(timeline),
        events=events,
        on_exit=lambda: exits.append("exit"),
        egress=egress,
        idle_check_seconds=IDLE_CHECK,
        clock=clock,
    )
    return Rig(recording, channel, pipelines[0], uploader, events, egress, clock, pictures, exits)
