"""The recorder's interface types: what the API (``app``) needs of a recording, what the
running recorder holds, and what a recording drives (its channel, media pipeline, upload and
events). The app, the recordings and the restart logic meet here, so none of them imports
another's module for its types; the recording's own parts are Protocols, so unit tests drive
a recording through in-process fakes (the Janus client, the encoders and the uploader are
tested against the real servers in the integration tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import av

from cloudrec_protocol.events import LeaveCode
from cloudrec_protocol.manifest import ManifestObject
from cloudrec_protocol.models import (
    LayoutSettings,
    ServerResponse,
    StartClientRequest,
    StreamSubscribe,
)
from cloudrec_recorder.channel.encoded import EncodedAudio
from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.channel.room import ChannelEvent, PublisherInfo
from cloudrec_recorder.events import CallbackSender, RecordingEvents
from cloudrec_recorder.media.background import Backgrounds
from cloudrec_recorder.media.config import OutputFile, RegionSpec, VideoLayout
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.track_cuts import TrackCuts
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.quotas import AcquireRate
from cloudrec_recorder.sessions import Resource, Session, SessionRegistry
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.uploader import UploadResult

if TYPE_CHECKING:
    from cloudrec_recorder.taking import Taking

__all__ = [
    "AddressCheck",
    "Channel",
    "Feed",
    "MediaParts",
    "MediaPipeline",
    "MediaTrack",
    "Mixer",
    "PacketSink",
    "Pictures",
    "RecordMode",
    "RecorderState",
    "Recording",
    "RecordingEventSink",
    "RecordingFactory",
    "StopOutcome",
    "TrackPipeline",
    "Upload",
]

log = logging.getLogger(__name__)


class RecordMode(StrEnum):
    """The recording modes this recorder serves (no ``web`` page recording)."""

    INDIVIDUAL = "individual"
    MIX = "mix"


@dataclass
class StopOutcome:
    """What ``stop`` reports: the files and the upload state."""

    server_response: ServerResponse
    had_media: bool
    upload_timed_out: bool = False


class Recording(Protocol):
    """One recording as the API sees it (implemented by :mod:`cloudrec_recorder.recording`)."""

    def status(self) -> int: ...

    async def start(self) -> None:
        """Join the channel; raise :class:`ApiError` when that fails."""

    async def update(self, subscribe: StreamSubscribe) -> None: ...

    async def update_layout(self, layout: LayoutSettings) -> None: ...

    async def hold(self, onhold: bool) -> None:
        """Pause (``True``: capture no media, the same sid and files go on) or resume
        (``False``); our extension, ``update``'s ``clientRequest.onhold``."""

    async def stop(self, *, wait_upload: bool, wait_seconds: float) -> StopOutcome:
        """Leave the channel, finish the files; upload (waited for when ``wait_upload``)."""

    def server_response(self) -> ServerResponse:
        """The query answer: status, fileListMode, fileList, sliceStartTime."""

    def media_lag(self) -> float:
        """Seconds its media worker is behind the wall clock now (0 without media)."""


class RecordingFactory(Protocol):
    """Builds (and validates) a recording; raises :class:`ApiError` for a bad request."""

    def __call__(
        self,
        *,
        appid: str,
        resource: Resource,
        sid: str,
        mode: RecordMode,
        request: StartClientRequest,
        events: RecordingEvents,
        on_exit: Callable[[], None],
        taking: Taking | None = None,
    ) -> Recording:
        """``taking``: the recording is taken over from another replica (a hand-over)."""


HandOver = Callable[[Session["Recording"]], Awaitable[bool]]
"""Hands one recording to another replica; False when it stays here."""


@dataclass
class RecorderState:
    """What the running app holds (``app.state.recorder``)."""

    settings: RecorderSettings
    registry: SessionRegistry[Recording]
    metrics: Metrics
    sender: CallbackSender
    factory: RecordingFactory
    acquire_rate: AcquireRate

    hand_over: HandOver | None = None
    """Passes a running recording to another replica (giving.py); None: never."""

    held_elsewhere: Callable[[str, str], Awaitable[str | None]] | None = None
    """(app id, sid) -> the peer replica that took it over, if any (heartbeat.py); None:
    never asked."""

    async def drain(self) -> None:
        """Take no new work; hand every running recording to another replica, or stop it
        (its files finished); flush the callbacks."""
        self.registry.draining = True
        sessions = [s for s in self.registry.live_sessions() if not s.stop_requested]
        await asyncio.gather(*(self._drain_one(session) for session in sessions))
        await self.sender.flush(10.0)

    async def _drain_one(self, session: Session[Recording]) -> None:
        if self.hand_over is not None:
            try:
                if await self.hand_over(session):
                    return
            except Exception:
                log.exception("Hand-over failed sid=%s", session.sid)
        if session.stop_requested:
            return
        session.stop_requested = True
        try:
            await session.recording.stop(
                wait_upload=True, wait_seconds=self.settings.drain_timeout_seconds
            )
        except Exception:
            log.exception("Drain failed to stop recording sid=%s", session.sid)


# ------------------------------------------------------------------ what a recording drives


class MediaTrack(Protocol):
    """A received track (:class:`~cloudrec_recorder.channel.tracks.ReceivedTrack`): ``recv()``
    gives decoded ``av.AudioFrame`` / ``av.VideoFrame`` values until the track ends
    (:class:`~cloudrec_recorder.channel.tracks.TrackEndedError`)."""

    async def recv(self) -> object: ...


class Feed(Protocol):
    """One publisher's tracks as subscribed
    (:class:`~cloudrec_recorder.channel.feed.SubscribedFeed`)."""

    @property
    def audio(self) -> MediaTrack | None: ...

    @property
    def video(self) -> MediaTrack | None: ...

    @property
    def encoded_audio(self) -> asyncio.Queue[EncodedAudio] | None:
        """The audio's packets as sent (asked for with ``encoded_audio=True``)."""

    @property
    def encoded_video(self) -> EncodedVideoTap | None:
        """The video's encoded frames as sent (asked for with ``encoded_video``)."""


class Channel(Protocol):
    """The channel a recording joins (:class:`~cloudrec_recorder.channel.janus.JanusChannel`).

    ``join`` raises the :mod:`~cloudrec_recorder.channel.errors` (no room, uid taken, token
    refused, unreachable); ``events`` yields the room's changes from the join on and ends
    after :class:`~cloudrec_recorder.channel.room.ChannelClosed`.
    """

    @property
    def room(self) -> str: ...

    @property
    def uid(self) -> str: ...

    @property
    def participants(self) -> frozenset[str]:
        """Everyone else in the room, publishing or not (recorders excluded)."""

    @property
    def publishers(self) -> Mapping[str, PublisherInfo]: ...

    async def join(self) -> None: ...

    def events(self) -> AsyncIterator[ChannelEvent]: ...

    async def subscribe(
        self,
        uid: str,
        *,
        audio: bool,
        video: bool,
        substream: int | None,
        encoded_audio: bool,
        encoded_video: EncodedVideoTap | None,
    ) -> Feed: ...

    async def unsubscribe(self, uid: str) -> None: ...

    async def leave(self) -> None: ...


class MediaPipeline(Protocol):
    """The files a recording writes from the frames it is fed (mix or individual, from
    :mod:`~cloudrec_recorder.media`). ``start`` makes output time 0; ``stop`` finishes every
    file and may raise when the pipeline failed."""

    def start(self, origin_epoch_ms: int | None = None) -> None:
        """Output time 0 is now, or ``origin_epoch_ms`` (a hand-over's taker)."""

    def push_video(self, uid: str, frame: av.VideoFrame) -> None: ...

    def push_audio(self, uid: str, frame: av.AudioFrame) -> None: ...

    def remove(self, uid: str) -> None: ...

    def pause(self) -> None:
        """Write nothing more until :meth:`resume` (the open segment and MP4 end now)."""

    def resume(self) -> None:
        """Go on into the same outputs: a discontinuity, the next MP4 part."""

    def end(self, at: float | None = None) -> None:
        """Write nothing after monotonic time ``at`` (now); finish in the background."""

    async def stop(self) -> list[OutputFile]: ...

    def files(self) -> list[OutputFile]: ...

    def start_of(self, name: str) -> int | None:
        """An MP4 part's first media time (ms since the epoch), None when unknown."""

    def lag(self, now: float | None = None) -> float:
        """Seconds its media worker is behind the wall clock (0: on time or not running)."""

    @property
    def worst_lag(self) -> float:
        """The largest lag its media worker had so far (seconds)."""


class Mixer(MediaPipeline, Protocol):
    """A mix pipeline: one canvas whose layout and shown participants follow the recording."""

    def set_participants(self, uids: Sequence[str]) -> None: ...

    def check_layout(
        self,
        layout: VideoLayout,
        *,
        max_resolution_uid: str | None = None,
        regions: Sequence[RegionSpec] = (),
        background_color: str = "#000000",
    ) -> None:
        """``ValueError`` naming what :meth:`set_layout` would refuse."""

    def set_layout(
        self,
        layout: VideoLayout,
        *,
        max_resolution_uid: str | None = None,
        regions: Sequence[RegionSpec] = (),
        background_color: str = "#000000",
        backgrounds: Backgrounds = ...,
    ) -> None: ...

    def set_backgrounds(self, backgrounds: Backgrounds) -> None: ...

    # A hand-over (mix recordings move between replicas; media/cut.py).
    cut: Cut
    first_mp4_index: int
    origin_epoch_ms: int | None

    @property
    def schedule(self) -> SegmentSchedule: ...

    def next_mp4_index(self) -> int: ...

    def rewrite_playlists(self) -> None: ...


class TrackPipeline(Protocol):
    """An individual pipeline: one output per uid and track, each on its own clock, so a
    hand-over cuts each at its own boundary (media/track_cuts.py)."""

    track_cuts: TrackCuts

    def files(self) -> list[OutputFile]: ...

    @property
    def schedule(self) -> SegmentSchedule: ...

    def rewrite_playlists(self) -> None: ...


class PacketSink(Protocol):
    """A pipeline that records audio packets as sent (individual ``streamMode`` original)."""

    def push_audio_packet(self, uid: str, data: bytes, timestamp: int) -> None: ...


@dataclass(frozen=True)
class MediaParts:
    """A recording's media: its pipeline and what else that pipeline is."""

    pipeline: MediaPipeline
    mixer: Mixer | None = None
    """The pipeline when it mixes (layout and shown participants follow the recording)."""
    packets: PacketSink | None = None
    """The pipeline when it records audio packets as sent (subscriptions then ask for them)."""
    pictures: Pictures | None = None
    """A mix's background pictures."""
    tracks: TrackPipeline | None = None
    """The individual pipeline that writes playable files (a hand-over moves its outputs)."""


class Pictures(Protocol):
    """A mix's background pictures (:class:`~cloudrec_recorder.backgrounds.LayoutPictures`)."""

    def show(self, layout: LayoutSettings) -> Backgrounds:
        """The pictures held now; the missing ones are fetched and applied later."""

    async def aclose(self) -> None: ...


class Upload(Protocol):
    """The recording's upload to its bucket
    (:class:`~cloudrec_recorder.storage.uploader.Uploader`)."""

    async def start(self) -> None: ...

    def file_ready(self, name: str, start_ms: int | None = None) -> None: ...

    def playable_files(self) -> Sequence[StoredFile]: ...

    def delivered_elsewhere(
        self,
        names: Iterable[str],
        objects: Iterable[ManifestObject] = (),
        files: Iterable[StoredFile] = (),
    ) -> None:
        """These files are in the bucket already (a hand-over's giver delivered them);
        ``objects`` go into this recording's manifest, ``files`` into its ``fileList``."""

    def manifest_objects(self) -> Sequence[ManifestObject]:
        """The objects this recording's manifest lists now."""

    async def finish(self, within: float) -> UploadResult: ...

    async def wait_delivered(self, within: float) -> bool: ...

    async def aclose(self) -> None: ...


class RecordingEventSink(Protocol):
    """The notifications a recording sends itself
    (:class:`~cloudrec_recorder.events.RecordingEvents`)."""

    def recorder_started(self) -> None: ...

    def recorder_leave(self, leave_code: LeaveCode) -> None: ...

    def slice_start(self, start_ms: int) -> None: ...

    def stream_state(self, kind: str, stream_uid: str, receiving: bool) -> None: ...

    def participant_refused(self, shown_id: str) -> None: ...

    def background_image_unavailable(self, reason: str) -> None: ...

    def session_exit(self, abnormal: bool = False) -> None: ...

    def recorder_failed(self, message: str) -> None: ...

    def session_failover(
        self, new_uid: str, from_replica: str, to_replica: str, gap_ms: int | None = None
    ) -> None: ...

    def mute(self) -> None:
        """Send nothing more (the recording was handed over: the taker speaks)."""

    def unmute(self) -> None:
        """Events go out again (a hand-over lost after the giver left: its exit is told)."""

    def uploader_could_not_start(self) -> None: ...


class AddressCheck(Protocol):
    """Whether the recorder may send data to a URL
    (:class:`~cloudrec_recorder.egress.EgressGuard`)."""

    async def check_url(self, url: str, field: str) -> None:
        """Raise :class:`~cloudrec_recorder.egress.EgressRefusedError` when not allowed."""
