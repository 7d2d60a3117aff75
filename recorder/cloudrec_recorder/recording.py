"""One recording: a channel (Janus room) + a media pipeline + an uploader.

:class:`RecordingBuilder` is the app's factory: it validates the start request (decryption,
storage, canvas) and builds a :class:`ChannelRecording`. The recording

1. joins the room ``cname`` as participant ``uid`` with the token (status 1-3; Janus' refusals
   become protocol errors: no room -> 400/401, uid taken -> 400/53, token refused -> 400/110,
   Janus unreachable -> 504/62);
2. starts the uploader reading from ``<spoolDir>/<sid>/`` (status 4, event 40);
3. follows the room: subscribes to each publisher per streamTypes (frames of uids that the
   allow/block lists exclude are not fed to the pipeline, so ``update`` takes effect at once),
   unsubscribes when they leave; the first admitted frame starts the pipeline (mix or
   individual; its time 0, ``sliceStartTime``) and gives status 5 and event 42. A channel where
   nobody ever sends media records nothing (no silence, no encoder, no uploads; ``stop``
   answers 206/435), so an idle recording costs a Janus session and nothing more;
4. leaves after ``maxIdleTime`` with nobody in the room (Communication) or no publisher
   (Live): events 41 (leaveCode 4) and, once the files are delivered, 11;
5. on ``stop``: leaves (event 41, leaveCode 16; status 6), finishes the files (status 7),
   waits for the upload (sync stop) or lets it go on (``async_stop``), then status 8 and
   event 11.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.enums import ChannelType, StreamTypes, VideoStreamType
from cloudrec_protocol.events import LeaveCode
from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_protocol.models import (
    FileInfo,
    LayoutSettings,
    ServerResponse,
    StartClientRequest,
    StreamSubscribe,
)
from cloudrec_recorder import errors
from cloudrec_recorder.backgrounds import LayoutPictures, layout_refusal
from cloudrec_recorder.channel.encoded import EncodedAudio
from cloudrec_recorder.channel.errors import (
    ChannelError,
    RoomNotFoundError,
    TokenRejectedError,
    UidConflictError,
)
from cloudrec_recorder.channel.janus import JanusChannel, SubscribedFeed
from cloudrec_recorder.channel.room import (
    SUBSTREAM_HIGH,
    SUBSTREAM_LOW,
    ChannelClosed,
    ParticipantsChanged,
    PublisherJoined,
    PublisherLeft,
    PublisherUpdated,
)
from cloudrec_recorder.egress import EgressGuard, EgressRefusedError
from cloudrec_recorder.events import RecordingEvents, UploaderEvents
from cloudrec_recorder.media import config as media
from cloudrec_recorder.media.group import RecordingGroup
from cloudrec_recorder.media.pipeline import IndividualRecording, MixRecording, RecordingNames
from cloudrec_recorder.media.snapshot import SnapshotRecording
from cloudrec_recorder.media.spool import FileReady
from cloudrec_recorder.participants import is_recordable, shown
from cloudrec_recorder.ports import RecordMode, StopOutcome
from cloudrec_recorder.restart import write_metadata
from cloudrec_recorder.sessions import Resource
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.startplan import StartPlan, media_layout, plan_start
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.manifest import ManifestSource
from cloudrec_recorder.storage.spool import remove_delivered
from cloudrec_recorder.storage.target import fernet_for
from cloudrec_recorder.storage.uploader import Uploader, UploadPolicy
from cloudrec_recorder.stored_video import read_encoded_video, video_tap_for
from cloudrec_recorder.subscription import Subscription, from_config, from_update

log = logging.getLogger(__name__)

# Query statuses (§6.1)
INITIALIZED = RecordingStatus.INITIALIZED
STARTING = RecordingStatus.STARTING
PARTLY_READY = RecordingStatus.PARTIALLY_READY
READY = RecordingStatus.READY
RECORDING = RecordingStatus.IN_PROGRESS
STOP_REQUESTED = RecordingStatus.STOP_REQUESTED
STOPPED = RecordingStatus.STOPPED
EXITED = RecordingStatus.EXITED
ABNORMAL = RecordingStatus.EXITED_ABNORMALLY

MAX_REFUSED_REPORTED = 64
"""Refused participant ids reported per recording (later ones are ignored silently)."""

RESYNC_MIN_SECONDS = 2.0
RESYNC_MAX_SECONDS = 10.0


def resync_interval(max_idle_time: float) -> float:
    """How often a recording lists its room's participants (the events' safety net).

    Events announce publishers, and non-publishers only in rooms with ``notify_joining``;
    the listing catches the rest. A third of ``maxIdleTime`` still sees someone come in
    well before an empty channel is left, and the cap keeps many long-idle recordings from
    flooding Janus with listings (each is one request).
    """
    return min(RESYNC_MAX_SECONDS, max(RESYNC_MIN_SECONDS, max_idle_time / 3))


def individual_pipeline(
    spool: Path, names: RecordingNames, plan: StartPlan, on_file_ready: FileReady
) -> RecordingGroup:
    """Individual mode: the per-uid HLS (``recordingFileConfig``), the snapshots
    (``snapshotConfig``) or both, fed the same frames."""
    assert isinstance(plan.media, media.IndividualConfig)
    members: list[IndividualRecording | SnapshotRecording] = []
    if plan.records_media:
        members.append(IndividualRecording(spool, names, plan.media, on_file_ready))
    if plan.snapshots is not None:
        members.append(SnapshotRecording(spool, names, plan.snapshots, on_file_ready))
    return RecordingGroup(members)


def file_list(
    mode: RecordMode, mp4: bool, files: Sequence[StoredFile]
) -> tuple[str, str | list[FileInfo]]:
    """``fileListMode`` and ``fileList``: a string for mix HLS only, JSON otherwise."""
    if mode == RecordMode.MIX and not mp4:
        playlists = [f.file_name for f in files if f.file_name.endswith(".m3u8")]
        return "string", playlists[0] if playlists else ""
    return "json", [FileInfo.model_validate(f.to_payload()) for f in files]


# ------------------------------------------------------------------ the recording


class ChannelRecording:
    """See the module docstring."""

    def __init__(
        self,
        settings: RecorderSettings,
        *,
        appid: str,
        resource: Resource,
        sid: str,
        mode: RecordMode,
        request: StartClientRequest,
        events: RecordingEvents,
        on_exit: Callable[[], None],
        egress: EgressGuard,
    ) -> None:
        plan = plan_start(
            settings,
            appid=appid,
            resource=resource,
            individual=mode == RecordMode.INDIVIDUAL,
            request=request,
        )
        self.egress = egress
        explicit = request.storage_config.extension_params
        self._endpoint_field = (
            "storageConfig.extensionParams.endpoint"
            if explicit is not None and explicit.endpoint
            else "storageConfig.region"
        )
        app = settings.app(appid)
        assert app is not None  # plan_start checked it
        config = plan.config
        self.target = plan.target
        self.mp4 = plan.mp4
        self.spool = settings.spool_dir / sid
        names = RecordingNames(sid=sid, cname=resource.cname)
        self.pictures: LayoutPictures | None = None
        if isinstance(plan.media, media.MixConfig):
            self.pipeline: MixRecording | RecordingGroup = MixRecording(
                self.spool, names, plan.media, self._file_ready
            )
            self.pictures = LayoutPictures(
                settings.background_images,
                (plan.media.width, plan.media.height),
                self.pipeline.set_backgrounds,
                self._picture_unavailable,
            )
        else:
            self.pipeline = individual_pipeline(self.spool, names, plan, self._file_ready)
        self.snapshots_only = not plan.records_media
        self.settings = settings
        self.appid = appid
        self.mode = mode
        self.sid = sid
        self.config = config
        self.events = events
        self.on_exit = on_exit
        self._copies_audio = (
            isinstance(self.pipeline, RecordingGroup) and self.pipeline.copies_audio
        )
        self.subscription: Subscription = from_config(config)
        self.channel = JanusChannel(
            str(app.janus.http_url),
            room=resource.cname,
            uid=resource.uid,
            token=request.token.get_secret_value() if request.token else None,
            api_secret=app.janus.api_secret.get_secret_value() if app.janus.api_secret else None,
            string_ids=app.janus.string_ids,
            resync_interval=resync_interval(config.max_idle_time),
        )
        self.uploader = Uploader(
            self.target,
            self.spool,
            BackupStore(settings.backup_dir),
            UploaderEvents(events),
            policy=UploadPolicy(progress_interval=settings.progress_interval_seconds),
            sealing_key=fernet_for(settings.storage_encryption_key)
            if settings.storage_encryption_key
            else None,
            egress=egress,
            manifest=ManifestSource(
                sid=sid,
                cname=resource.cname,
                uid=resource.uid,
                secret=events.target.secret.get_secret_value() if events.target.secret else None,
                timeline=self._timeline,
            ),
        )
        self._status: int = INITIALIZED
        self._loop = asyncio.get_running_loop()
        self._uploader_running = False
        self._tasks: set[asyncio.Task[object]] = set()
        self._readers: dict[str, list[asyncio.Task[None]]] = {}
        self._feeds: dict[str, SubscribedFeed] = {}
        self._joined_order: list[str] = []
        self._refused: set[str] = set()
        self._first_frame_ms: int | None = None
        self._idle_since: float | None = None
        """Since when the channel has had nobody to record; None while someone is there. The
        clock starts in :meth:`start`, once the channel is joined and the uploader runs."""
        self._leaving: asyncio.Task[StopOutcome] | None = None
        self._final: StopOutcome | None = None
        self._stopped_ms: int | None = None

    def _timeline(self) -> list[TimelineEntry]:
        """What the manifest says of the recording's course: its first media and its end."""
        entries = []
        if self._first_frame_ms is not None:
            entries.append(TimelineEntry(kind=TimelineKind.STARTED, at_ms=self._first_frame_ms))
        if self._stopped_ms is not None:
            entries.append(TimelineEntry(kind=TimelineKind.STOPPED, at_ms=self._stopped_ms))
        return entries

    # -------------------------------------------------------------- API

    def status(self) -> int:
        return self._status

    async def start(self) -> None:
        self._status = STARTING
        try:
            await self.egress.check_url(self.target.endpoint, self._endpoint_field)
        except EgressRefusedError as exc:
            raise errors.invalid_parameter(str(exc)) from None
        try:
            await self.channel.join()
        except RoomNotFoundError:
            raise errors.channel_not_found(self.channel.room) from None
        except UidConflictError:
            raise errors.uid_in_channel(self.channel.room, self.channel.uid) from None
        except TokenRejectedError:
            raise errors.token_invalid() from None
        except ChannelError as exc:
            raise errors.channel_unreachable(type(exc).__name__) from None
        self._status = PARTLY_READY
        write_metadata(
            self.spool,
            appid=self.appid,
            cname=self.channel.room,
            uid=self.channel.uid,
            mode=self.mode.value,
        )
        try:
            await self.uploader.start()
            self._uploader_running = True
        except Exception as exc:  # the bucket is checked again on every upload
            log.warning("Uploader did not start sid=%s error=%s", self.sid, type(exc).__name__)
            self.events.uploader_could_not_start()
        self._status = READY
        self.events.recorder_started()
        tc = self.config.transcoding_config
        if self.pictures is not None and tc is not None and isinstance(self.pipeline, MixRecording):
            self.pipeline.set_backgrounds(self.pictures.show(tc))
        # The idle clock starts now, from who is in the channel now: a start held up (a slow
        # store, a slow join) does not count as idle time.
        self._note_presence(
            ParticipantsChanged(self.channel.participants, frozenset(self.channel.publishers))
        )
        self._spawn(self._follow())
        self._spawn(self._idle_watch())

    async def update(self, subscribe: StreamSubscribe) -> None:
        self.subscription = from_update(self.config.stream_types, subscribe)
        self._apply_participants()

    async def update_layout(self, layout: LayoutSettings) -> None:
        if isinstance(self.pipeline, MixRecording) and self.pictures is not None:
            refused = layout_refusal(layout, self.settings.background_images, "clientRequest")
            if refused is not None:
                raise errors.invalid_parameter(refused)
            arguments = media_layout(layout)
            try:
                self.pipeline.check_layout(**arguments)  # type: ignore[arg-type]
            except ValueError as exc:
                raise errors.invalid_parameter(f"clientRequest: {exc}") from None
            # the pictures held already come with the layout; the others follow when fetched
            backgrounds = self.pictures.show(layout)
            self.pipeline.set_layout(**arguments, backgrounds=backgrounds)  # type: ignore[arg-type]

    async def stop(self, *, wait_upload: bool, wait_seconds: float) -> StopOutcome:
        if self._leaving is None:
            self._leaving = asyncio.create_task(self._leave(LeaveCode.CLIENT_LEAVE))
        outcome = await asyncio.shield(self._leaving)
        if not wait_upload:
            return outcome
        result = await self._finish_upload(wait_seconds)
        return result

    def server_response(self) -> ServerResponse:
        if self.snapshots_only:  # §3.3: "individual with snapshots only"
            return ServerResponse(status=self._status, slice_start_time=self._first_frame_ms or 0)
        mode, files = file_list(self.mode, self.mp4, self._files())
        return ServerResponse(
            status=self._status,
            file_list_mode=mode,
            file_list=files,
            slice_start_time=self._first_frame_ms or 0,
        )

    def _stop_response(self, uploading_status: str) -> ServerResponse:
        """§3.6: the files and the upload state; only the upload state for snapshots."""
        if self.snapshots_only:
            return ServerResponse(uploading_status=uploading_status)
        mode, files = file_list(self.mode, self.mp4, self._files())
        return ServerResponse(
            file_list_mode=mode, file_list=files, uploading_status=uploading_status
        )

    # -------------------------------------------------------------- internals

    def _picture_unavailable(self, field: str, reason: str) -> None:
        self.events.background_image_unavailable(f"{field}: {reason}")

    def _spawn(self, coro: Coroutine[object, object, object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _file_ready(self, name: str) -> None:
        """Called by the media worker thread: hand the file to the uploader on the loop."""
        if self._uploader_running:
            start = self.pipeline.start_of(name) if name.endswith(".mp4") else None
            self._loop.call_soon_threadsafe(self.uploader.file_ready, name, start)

    def _files(self) -> list[StoredFile]:
        if self._uploader_running:
            return list(self.uploader.playable_files())
        out = []
        for f in self.pipeline.files():
            out.append(
                StoredFile(
                    file_name=self.target_key(f.name),
                    track_type=f.track_type.value,
                    uid=f.uid,
                    mixed_all_user=f.mixed_all_user,
                    is_playable=f.is_playable,
                    slice_start_time=f.slice_start_time_ms,
                )
            )
        return out

    def target_key(self, name: str) -> str:
        return "/".join((*self.target.prefix, name))

    def _apply_participants(self) -> None:
        if isinstance(self.pipeline, MixRecording):
            shown = [u for u in self._joined_order if self.subscription.video.admits(u)]
            if self.subscription.video.enabled:
                self.pipeline.set_participants(shown)
            for uid in self._joined_order:
                if not self.subscription.audio.admits(uid) and not self.subscription.video.admits(
                    uid
                ):
                    self.pipeline.remove(uid)

    async def _follow(self) -> None:
        async for event in self.channel.events():
            if isinstance(event, PublisherJoined | PublisherUpdated | PublisherLeft):
                if not self._recordable(event.uid):
                    continue
            if isinstance(event, PublisherJoined | PublisherUpdated):
                await self._subscribe(event.uid)
            elif isinstance(event, PublisherLeft):
                await self._unsubscribe(event.uid)
            elif isinstance(event, ParticipantsChanged):
                self._note_presence(event)
            elif isinstance(event, ChannelClosed):
                log.info("Channel closed sid=%s reason=%s", self.sid, event.reason)
                if self._leaving is None:
                    self._leaving = asyncio.create_task(self._leave(LeaveCode.INIT, abnormal=True))
                return

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

    def _note_presence(self, event: ParticipantsChanged) -> None:
        present = (
            event.publishers if self.config.channel_type == ChannelType.LIVE else event.participants
        )
        if present:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()

    async def _idle_watch(self) -> None:
        while self._leaving is None:
            await asyncio.sleep(0.5)
            idle = self._idle_since
            if idle is not None and time.monotonic() - idle >= self.config.max_idle_time:
                log.info(
                    "Leaving idle channel sid=%s after=%ss", self.sid, self.config.max_idle_time
                )
                self._leaving = asyncio.create_task(self._leave(LeaveCode.NO_USERS))
                return

    async def _subscribe(self, uid: str) -> None:
        types = self.config.stream_types
        substream = (
            SUBSTREAM_LOW
            if self.config.video_stream_type == VideoStreamType.LOW
            else SUBSTREAM_HIGH
        )
        try:
            feed = await self.channel.subscribe(
                uid,
                # a snapshot task has no use for audio: it is not even decoded
                audio=types != StreamTypes.VIDEO_ONLY and not self.snapshots_only,
                video=types != StreamTypes.AUDIO_ONLY,
                substream=substream,
                encoded_audio=self._copies_audio,
                encoded_video=video_tap_for(self.pipeline),
            )
        except ChannelError as exc:
            log.warning("Subscribe failed sid=%s uid=%s error=%s", self.sid, uid, exc)
            return
        await self._stop_readers(uid)
        self._feeds[uid] = feed
        if uid not in self._joined_order:
            self._joined_order.append(uid)
        self._apply_participants()
        readers = []
        for kind, track in (("audio", feed.audio), ("video", feed.video)):
            if track is not None:
                readers.append(asyncio.create_task(self._read(uid, kind, track)))
                self.events.stream_state(kind, uid, receiving=True)
        if feed.encoded_audio is not None:
            readers.append(asyncio.create_task(self._read_encoded(uid, feed.encoded_audio)))
        if feed.encoded_video is not None and isinstance(self.pipeline, RecordingGroup):
            admits, pipeline = self.subscription.video.admits, self.pipeline
            coro = read_encoded_video(uid, feed.encoded_video, pipeline, admits, self._got_frame)
            readers.append(asyncio.create_task(coro))
        self._readers[uid] = readers

    async def _unsubscribe(self, uid: str) -> None:
        await self._stop_readers(uid)
        if uid in self._joined_order:
            self._joined_order.remove(uid)
        self.pipeline.remove(uid)
        self._apply_participants()
        self._feeds.pop(uid, None)
        with contextlib.suppress(ChannelError):
            await self.channel.unsubscribe(uid)

    async def _stop_readers(self, uid: str) -> None:
        for task in self._readers.pop(uid, []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _read(self, uid: str, kind: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    if self.subscription.video.admits(uid):
                        self._got_frame()
                        self.pipeline.push_video(uid, frame)
                elif isinstance(frame, av.AudioFrame) and self.subscription.audio.admits(uid):
                    self._got_frame()
                    self.pipeline.push_audio(uid, frame)
        except MediaStreamError:
            self.events.stream_state(kind, uid, receiving=False)

    async def _read_encoded(self, uid: str, packets: asyncio.Queue[EncodedAudio]) -> None:
        """streamMode original: the audio's packets as sent go to the pipeline untouched."""
        assert isinstance(self.pipeline, RecordingGroup)
        while True:
            packet = await packets.get()
            if self.subscription.audio.admits(uid):
                self._got_frame()
                self.pipeline.push_audio_packet(uid, packet.data, packet.timestamp)

    def _got_frame(self) -> None:
        if self._first_frame_ms is None:
            if self._leaving is not None:
                return
            self.pipeline.start()  # output time 0 is the first media, as the service's slices
            self._first_frame_ms = int(time.time() * 1000)
            self._status = RECORDING
            if not self.snapshots_only:  # snapshots have no slices
                self.events.slice_start(self._first_frame_ms)

    async def _leave(self, leave_code: LeaveCode, *, abnormal: bool = False) -> StopOutcome:
        self._status = STOP_REQUESTED
        self._stopped_ms = int(time.time() * 1000)
        for task in list(self._tasks):
            if task is not asyncio.current_task() and not task.get_name().startswith("finish"):
                task.cancel()
        for uid in list(self._readers):
            await self._stop_readers(uid)
        with contextlib.suppress(Exception):
            await self.channel.leave()
        if self.pictures is not None:
            await self.pictures.aclose()
        self.events.recorder_leave(leave_code)
        try:
            await self.pipeline.stop()
        except Exception as exc:
            log.error("Media pipeline failed sid=%s error=%s", self.sid, exc)
            self.events.recorder_failed("media pipeline failed")
            abnormal = True
        self._abnormal = abnormal
        self._status = STOPPED
        outcome = StopOutcome(
            server_response=self._stop_response("unknown"),
            had_media=self._first_frame_ms is not None,
        )
        # The upload finishes in the background whoever asked to leave (sync stop waits on it).
        self._spawn(self._finish_upload(None))
        return outcome

    async def _finish_upload(self, wait_seconds: float | None) -> StopOutcome:
        """Finish the upload (shared by every caller), then status 8 and event 11."""
        if self._final is None:
            if not hasattr(self, "_finishing"):
                self._finishing: asyncio.Task[StopOutcome] = asyncio.create_task(
                    self._do_finish(), name="finish-upload"
                )
            task = self._finishing
        else:
            return self._final
        if wait_seconds is None:
            return await asyncio.shield(task)
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait_seconds)
        except TimeoutError:
            assert self._leaving is not None
            outcome = self._leaving.result()
            outcome.upload_timed_out = True
            return outcome

    async def _close_uploader(self, *, after_delivery: bool = False) -> None:
        if after_delivery:
            await self.uploader.wait_delivered(24 * 3600.0)
        with contextlib.suppress(Exception):
            await self.uploader.aclose()
        if after_delivery:
            await self._drop_spool()

    async def _drop_spool(self) -> None:
        """Free the disk once every file is in the bucket (unless the settings keep it)."""
        if not self.settings.keep_delivered_spool:
            await asyncio.to_thread(remove_delivered, self.spool)

    async def _do_finish(self) -> StopOutcome:
        assert self._leaving is not None
        outcome = await self._leaving
        status = "unknown"
        if self._uploader_running:
            try:
                result = await self.uploader.finish(self.settings.drain_timeout_seconds)
                status = result.status
                if status == "uploaded":
                    await self.uploader.wait_delivered(10.0)  # event 31 with the file list
            finally:
                if status == "uploaded":
                    await self._close_uploader()
                else:  # re-uploading from the backup goes on
                    self._spawn(self._close_uploader(after_delivery=True))
        self._final = StopOutcome(
            server_response=self._stop_response(status),
            had_media=outcome.had_media,
        )
        abnormal = getattr(self, "_abnormal", False)
        self._status = ABNORMAL if abnormal else EXITED
        self.events.session_exit(abnormal=abnormal)
        self.on_exit()
        if status == "uploaded":
            await self._drop_spool()
        return self._final


class RecordingBuilder:
    """The app's :class:`~cloudrec_recorder.app.RecordingFactory` for Janus channels."""

    def __init__(self, settings: RecorderSettings) -> None:
        self.settings = settings
        self.egress = EgressGuard.from_settings(settings.egress)

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
    ) -> ChannelRecording:
        return ChannelRecording(
            self.settings,
            appid=appid,
            resource=resource,
            sid=sid,
            mode=mode,
            request=request,
            events=events,
            on_exit=on_exit,
            egress=self.egress,
        )


__all__ = ["ChannelRecording", "RecordingBuilder", "file_list"]
