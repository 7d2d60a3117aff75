"""One recording: a channel (Janus room) + a media pipeline + an uploader.

:class:`RecordingBuilder` is the app's factory: it validates the start request (decryption,
storage, canvas: :func:`~cloudrec_recorder.startplan.plan_start`) and builds a
:class:`ChannelRecording` from the real parts (a Janus channel, the encoders, the uploader).
The recording drives its parts through the Protocols of :mod:`~cloudrec_recorder.ports`
only, and follows the channel with a :class:`~cloudrec_recorder.following.ChannelFollower`.
The recording

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
   (Live): events 41 (leaveCode 4) and, once the files are delivered, 11 (the idle clock,
   :mod:`~cloudrec_recorder.idle`, starts once the channel is joined and the uploader runs);
5. on ``update`` with ``onhold: true`` (our extension) pauses: the subscriptions stay, but no
   frame reaches the pipeline, which ends its open segment and MP4 file; the idle clock
   stops. ``onhold: false`` resumes into the same files (a discontinuity in the playlist,
   the next numbered MP4). The manifest's timeline says when (Paused, Resumed), as it says
   where nothing was captured for longer than a segment (Gap; :mod:`~cloudrec_recorder.timeline`);
6. on ``stop``: leaves (event 41, leaveCode 16; status 6), finishes the files (status 7),
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

from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.events import LeaveCode
from cloudrec_protocol.manifest import TimelineEntry
from cloudrec_protocol.models import (
    FileInfo,
    LayoutSettings,
    ServerResponse,
    StartClientRequest,
    StreamSubscribe,
)
from cloudrec_recorder import errors
from cloudrec_recorder.backgrounds import LayoutPictures, layout_refusal
from cloudrec_recorder.channel.errors import (
    ChannelError,
    RoomNotFoundError,
    TokenRejectedError,
    UidConflictError,
)
from cloudrec_recorder.channel.janus import JanusChannel
from cloudrec_recorder.egress import EgressGuard, EgressRefusedError
from cloudrec_recorder.events import RecordingEvents, UploaderEvents
from cloudrec_recorder.following import ChannelFollower
from cloudrec_recorder.media import config as media
from cloudrec_recorder.media.group import RecordingGroup
from cloudrec_recorder.media.lag import LagReport
from cloudrec_recorder.media.pipeline import IndividualRecording, MixRecording, RecordingNames
from cloudrec_recorder.media.snapshot import SnapshotRecording
from cloudrec_recorder.media.spool import FileReady
from cloudrec_recorder.phases import mark
from cloudrec_recorder.ports import (
    AddressCheck,
    Channel,
    MediaParts,
    RecordingEventSink,
    RecordMode,
    StopOutcome,
    Upload,
)
from cloudrec_recorder.restart import write_metadata
from cloudrec_recorder.sessions import Resource
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.startplan import MixLayout, StartPlan, media_layout, plan_start
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.manifest import ManifestSource
from cloudrec_recorder.storage.target import fernet_for
from cloudrec_recorder.storage.uploader import Uploader, UploadPolicy
from cloudrec_recorder.subscription import from_update
from cloudrec_recorder.taking import Taking
from cloudrec_recorder.timeline import RecordingTimeline
from cloudrec_recorder.upload import RecordingUpload

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

RESYNC_MIN_SECONDS = 2.0
RESYNC_MAX_SECONDS = 10.0
IDLE_CHECK_SECONDS = 0.5
"""How often a recording looks at its idle clock."""

MediaFactory = Callable[[FileReady], MediaParts]
"""Builds a recording's media parts, given where the pipeline reports each finished file."""
Timeline = Callable[[], list[TimelineEntry]]
UploadFactory = Callable[[Timeline], Upload]
"""Builds a recording's upload, given where its manifest's timeline comes from."""


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


def change_layout(media: MediaParts, layout: LayoutSettings, settings: RecorderSettings) -> None:
    """updateLayout: check the layout (400 naming what is wrong), then show it."""
    mixer, pictures = media.mixer, media.pictures
    if mixer is None or pictures is None:
        return
    refused = layout_refusal(layout, settings.background_images, "clientRequest")
    if refused is not None:
        raise errors.invalid_parameter(refused)
    wanted: MixLayout = media_layout(layout)
    try:
        mixer.check_layout(
            wanted.layout,
            max_resolution_uid=wanted.max_resolution_uid,
            regions=wanted.regions,
            background_color=wanted.background_color,
        )
    except ValueError as exc:
        raise errors.invalid_parameter(f"clientRequest: {exc}") from None
    # the pictures held already come with the layout; the others follow when fetched
    mixer.set_layout(
        wanted.layout,
        max_resolution_uid=wanted.max_resolution_uid,
        regions=wanted.regions,
        background_color=wanted.background_color,
        backgrounds=pictures.show(layout),
    )


async def join(channel: Channel) -> None:
    """Join the channel; the API error (room, uid, token, Janus) when that fails."""
    try:
        await channel.join()
    except RoomNotFoundError:
        raise errors.channel_not_found(channel.room) from None
    except UidConflictError:
        raise errors.uid_in_channel(channel.room, channel.uid) from None
    except TokenRejectedError:
        raise errors.token_invalid() from None
    except ChannelError as exc:
        raise errors.channel_unreachable(type(exc).__name__) from None


async def quit_channel(channel: Channel, media: MediaParts, sid: str) -> None:
    """Leave the channel (whatever fails there) and drop the layout's pictures."""
    with contextlib.suppress(Exception):
        await channel.leave()
    mark(sid, "channel-left")
    if media.pictures is not None:
        await media.pictures.aclose()


def spawn_into(tasks: set[asyncio.Task[object]], coro: Coroutine[object, object, object]) -> None:
    """Run ``coro`` as a task kept in ``tasks`` until it ends."""
    task: asyncio.Task[object] = asyncio.ensure_future(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _nothing() -> None:
    pass


def abandon(recording: ChannelRecording) -> None:
    """A hand-over to this replica that never completed: silent, and nothing goes up."""
    recording.events.mute()
    recording.upload.abandoned = True


# ------------------------------------------------------------------ the recording


class ChannelRecording:
    """See the module docstring."""

    def __init__(
        self,
        plan: StartPlan,
        *,
        settings: RecorderSettings,
        appid: str,
        sid: str,
        mode: RecordMode,
        spool: Path,
        channel: Channel,
        media: MediaFactory,
        uploader: UploadFactory,
        events: RecordingEventSink,
        on_exit: Callable[[], None],
        egress: AddressCheck,
        idle_check_seconds: float = IDLE_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.config = plan.config
        self.target = plan.target
        self.settings = settings
        self.appid = appid
        self.sid = sid
        self.mode = mode
        self.spool = spool
        self.channel = channel
        self._first_frame_ms: int | None = None
        self._segment_seen = False
        self.course = RecordingTimeline(spool, round(settings.hls_segment_seconds * 1000))
        self.upload = RecordingUpload(
            uploader(self.course.entries),
            spool,
            prefix=plan.target.prefix,
            sid=sid,
            drain_timeout=settings.drain_timeout_seconds,
            keep_delivered_spool=settings.keep_delivered_spool,
        )
        self.events = events
        self.on_exit = on_exit
        self.egress = egress
        self.media = media(self._file_ready)
        self.pipeline = self.media.pipeline
        self.snapshots_only = not plan.records_media
        self.following = ChannelFollower(
            channel,
            self.media,
            events,
            config=plan.config,
            snapshots_only=self.snapshots_only,
            sid=sid,
            on_frame=self._got_frame,
            clock=clock,
        )
        self._idle_check_seconds = idle_check_seconds
        self._status: int = INITIALIZED
        self._tasks: set[asyncio.Task[object]] = set()
        self._leaving: asyncio.Task[StopOutcome] | None = None
        self._finishing: asyncio.Task[StopOutcome] | None = None
        self._abnormal = False
        self._final: StopOutcome | None = None
        self.request: StartClientRequest | None = None
        """The start request (a hand-over passes it on)."""
        self.taking: Taking | None = None
        """Set when this replica took the recording over from another (taking.py)."""
        self.layout: LayoutSettings | None = None  # the last updateLayout and update in force
        self.subscribe: StreamSubscribe | None = None
        self.on_segment: Callable[[], None] = _nothing  # a file is complete (heartbeat.py)
        self.on_stop: Callable[[], None] = _nothing  # asked to stop (a giver's hand-over ends)

    # -------------------------------------------------------------- API

    def status(self) -> int:
        return self._status

    @property
    def paused(self) -> bool:
        return self.following.paused

    async def start(self) -> None:
        self._status = STARTING
        mark(self.sid, "start")
        try:
            await self.egress.check_url(self.target.endpoint, self.plan.endpoint_field)
        except EgressRefusedError as exc:
            raise errors.invalid_parameter(str(exc)) from None
        await join(self.channel)
        self._status = PARTLY_READY
        mark(self.sid, "joined")
        write_metadata(
            self.spool,
            appid=self.appid,
            cname=self.channel.room,
            uid=self.channel.uid,
            mode=self.mode.value,
        )
        if not await self.upload.start():
            self.events.uploader_could_not_start()
        self._status = READY
        mark(self.sid, "ready")
        if self.taking is None:  # a taken-over recording started long ago
            self.events.recorder_started()
        tc = self.config.transcoding_config
        if self.media.pictures is not None and tc is not None and self.media.mixer is not None:
            self.media.mixer.set_backgrounds(self.media.pictures.show(tc))
        # The idle clock starts now, from who is in the channel now: a start held up (a slow
        # store, a slow join) does not count as idle time.
        self.following.note_presence(self.channel.participants, frozenset(self.channel.publishers))
        spawn_into(self._tasks, self.following.follow(self._channel_closed))
        spawn_into(self._tasks, self._idle_watch())

    async def update(self, subscribe: StreamSubscribe) -> None:
        self.following.update(from_update(self.config.stream_types, subscribe))
        self.subscribe = subscribe

    async def hold(self, onhold: bool) -> None:
        """Pause (``onhold`` True) or resume; asking for the state it is in changes nothing."""
        if onhold == self.following.paused or self._leaving is not None:
            return
        at_ms = int(time.time() * 1000)
        started = self._first_frame_ms is not None  # the pipeline runs
        if onhold:
            self.following.pause()  # first: no frame reaches the pipeline from now on
            if started:
                self.pipeline.pause()
            self.course.pause(at_ms)
            log.info("Paused sid=%s", self.sid)
            return
        if started:
            self.pipeline.resume()  # first: it forgets what it held from before the pause
        self.following.resume()
        self.course.resume(at_ms)
        log.info("Resumed sid=%s", self.sid)

    async def update_layout(self, layout: LayoutSettings) -> None:
        change_layout(self.media, layout, self.settings)
        self.layout = layout

    async def stop(self, *, wait_upload: bool, wait_seconds: float) -> StopOutcome:
        self.on_stop()
        if self._leaving is None:
            self._leaving = asyncio.create_task(self._leave(LeaveCode.CLIENT_LEAVE))
        outcome = await asyncio.shield(self._leaving)
        if not wait_upload:
            return outcome
        return await self._finish_upload(wait_seconds)

    def server_response(self) -> ServerResponse:
        if self.snapshots_only:  # §3.3: "individual with snapshots only"
            return ServerResponse(status=self._status, slice_start_time=self._first_frame_ms or 0)
        mode, files = file_list(self.mode, self.plan.mp4, self.upload.files(self.pipeline))
        first = self._first_frame_ms or 0
        return ServerResponse(
            status=self._status, file_list_mode=mode, file_list=files, slice_start_time=first
        )

    def media_lag(self) -> float:
        return self.pipeline.lag()

    def _stop_response(self, status: str) -> ServerResponse:
        """§3.6: the files and the upload state (``status``); only that for snapshots."""
        if self.snapshots_only:
            return ServerResponse(uploading_status=status)
        mode, files = file_list(self.mode, self.plan.mp4, self.upload.files(self.pipeline))
        return ServerResponse(file_list_mode=mode, file_list=files, uploading_status=status)

    # -------------------------------------------------------------- internals

    def _file_ready(self, name: str) -> None:
        """Called by the media worker thread: hand the file to the uploader on the loop."""
        if self.upload.running:
            start = self.pipeline.start_of(name) if name.endswith(".mp4") else None
            self.upload.hand_over(name, start)
        if not (self._segment_seen or name.endswith(".m3u8")):
            self._segment_seen = mark(self.sid, "first-segment", f"name={name}")
        self.on_segment()

    def _channel_closed(self, reason: str) -> None:
        log.info("Channel closed sid=%s reason=%s", self.sid, reason)
        if self._leaving is None:
            self._leaving = asyncio.create_task(self._leave(LeaveCode.INIT, abnormal=True))

    async def _idle_watch(self) -> None:
        while self._leaving is None:
            await asyncio.sleep(self._idle_check_seconds)
            if self._leaving is None and self.following.idle_expired():
                log.info(
                    "Leaving idle channel sid=%s after=%ss", self.sid, self.config.max_idle_time
                )
                self._leaving = asyncio.create_task(self._leave(LeaveCode.NO_USERS))
                return

    @property
    def first_frame_ms(self) -> int | None:
        """When the recording's first media came (``sliceStartTime``)."""
        return self._first_frame_ms

    async def hand_off(self) -> dict[str, str]:
        """Leave for a hand-over, silently: the files (ending at the cut) are finished and
        delivered. Returns the final playlists (name -> text) for the taker."""
        self.events.mute()
        if self._leaving is None:
            self._leaving = asyncio.create_task(self._leave(LeaveCode.CLIENT_LEAVE, hand_off=True))
        await asyncio.shield(self._leaving)
        playlists = {p.name: p.read_text(encoding="utf-8") for p in self.spool.glob("*.m3u8")}
        await self._finish_upload(None)
        return playlists

    def _got_frame(self) -> None:
        now_ms = int(time.time() * 1000)
        if self._first_frame_ms is not None:
            self.course.media(now_ms)
            return
        if self._leaving is not None:
            return
        if self.taking is not None:  # on the giver's clock (taking.py)
            self._first_frame_ms = self.taking.begin_media(self.media)
        else:
            mark(self.sid, "media-start")  # first: the worker's own phases come after it
            self.pipeline.start()  # output time 0 is the first media, as the service's slices
            self._first_frame_ms = now_ms
            if not self.snapshots_only:  # snapshots have no slices
                self.events.slice_start(now_ms)
        self._status = RECORDING
        self.course.start(self._first_frame_ms, now_ms)

    async def _leave(
        self, leave_code: LeaveCode, *, abnormal: bool = False, hand_off: bool = False
    ) -> StopOutcome:
        self._status = STOP_REQUESTED
        stopped_at = time.monotonic()
        self.course.stop(int(time.time() * 1000))
        mark(self.sid, "stop")
        if self.taking is None:  # (a taker first waits for its giver's entries: settle)
            self.pipeline.end(stopped_at)  # the files end at the stop, finished meanwhile
        for task in list(self._tasks):
            if task is not asyncio.current_task() and not task.get_name().startswith("finish"):
                task.cancel()
        await self.following.stop_readers()
        # Leaving Janus (a request per forwarder) goes on while the files are finished and
        # uploaded: the stop waits for the longer of the two, not for both in turn.
        quitting = asyncio.ensure_future(quit_channel(self.channel, self.media, self.sid))
        if self.taking is not None:  # first: an abandoned taking says nothing (taking.py)
            await self.taking.settle(self.media, self.settings.handover.timeout_seconds)
            self.pipeline.end(stopped_at)
        self.events.recorder_leave(leave_code)
        try:
            await self.pipeline.stop()
            mark(self.sid, "files-finished", f"worst-lag={self.pipeline.worst_lag:.3f}")
        except Exception as exc:
            log.error("Media pipeline failed sid=%s error=%s", self.sid, exc)
            self.events.recorder_failed("media pipeline failed")
            abnormal = True
        self._abnormal = abnormal
        # The upload finishes in the background whoever asked to leave (sync stop waits on it);
        # a hand-off reads the final playlists first (they leave the spool once delivered).
        if not hand_off:
            spawn_into(self._tasks, self._finish_upload(None))
        await quitting
        self._status = STOPPED
        return StopOutcome(
            server_response=self._stop_response("unknown"),
            had_media=self._first_frame_ms is not None,
        )

    async def _finish_upload(self, wait_seconds: float | None) -> StopOutcome:
        """Finish the upload (shared by every caller), then status 8 and event 11."""
        if self._final is not None:
            return self._final
        if self._finishing is None:
            self._finishing = asyncio.create_task(self._do_finish(), name="finish-upload")
        task = self._finishing
        if wait_seconds is None:
            return await asyncio.shield(task)
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait_seconds)
        except TimeoutError:
            assert self._leaving is not None
            outcome = self._leaving.result()
            outcome.upload_timed_out = True
            return outcome

    async def _do_finish(self) -> StopOutcome:
        assert self._leaving is not None
        status = await self.upload.finish()
        mark(self.sid, "uploaded", f"status={status}")
        outcome = await self._leaving  # the channel is left too
        self._final = StopOutcome(
            server_response=self._stop_response(status),
            had_media=outcome.had_media,
        )
        self._status = ABNORMAL if self._abnormal else EXITED
        self.events.session_exit(abnormal=self._abnormal)
        self.on_exit()
        if status == "uploaded":
            await self.upload.drop_spool()
        return self._final


# ------------------------------------------------------------------ the factory


class RecordingBuilder:
    """The app's :class:`~cloudrec_recorder.ports.RecordingFactory` for Janus channels: the
    request checked (:func:`~cloudrec_recorder.startplan.plan_start`, 400 naming the field),
    then a :class:`ChannelRecording` of the real parts."""

    def __init__(self, settings: RecorderSettings) -> None:
        self.settings = settings
        self.egress = EgressGuard.from_settings(settings.egress)
        self.manifest_key = settings.manifest_private_key()
        self.lag_report: LagReport | None = None
        """Where the recordings' media workers report their lag (the app's metrics)."""

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
    ) -> ChannelRecording:
        settings = self.settings
        plan = plan_start(
            settings,
            appid=appid,
            resource=resource,
            individual=mode == RecordMode.INDIVIDUAL,
            request=request,
        )
        app = settings.app(appid)
        assert app is not None  # plan_start checked it
        prefix = taking.file_prefix if taking is not None else ""
        # A taken-over part has its own spool: the lost replica's may still be on this volume.
        spool = settings.spool_dir / (f"{sid}.{prefix[:-1]}" if prefix else sid)
        channel = JanusChannel(
            str(app.janus.ws_url),
            room=resource.cname,
            uid=taking.channel_uid if taking is not None else resource.uid,
            token=request.token.get_secret_value() if request.token else None,
            api_secret=app.janus.api_secret.get_secret_value() if app.janus.api_secret else None,
            string_ids=app.janus.string_ids,
            resync_interval=resync_interval(plan.config.max_idle_time),
            forward_host=str(app.janus.forward_host),
            forward_srtp=app.janus.srtp_forwarding,
            admin_key=app.janus.admin_key.get_secret_value() if app.janus.admin_key else None,
        )
        secret = events.target.secret

        def uploader(timeline: Timeline) -> Uploader:
            return Uploader(
                plan.target,
                spool,
                BackupStore(settings.backup_dir),
                UploaderEvents(events),
                policy=UploadPolicy(progress_interval=settings.progress_interval_seconds),
                sealing_key=fernet_for(settings.storage_encryption_key)
                if settings.storage_encryption_key
                else None,
                egress=self.egress,
                manifest=ManifestSource(
                    sid=sid,
                    cname=resource.cname,
                    uid=resource.uid,
                    secret=secret.get_secret_value() if secret else None,
                    timeline=timeline,
                    private_key=self.manifest_key,
                    prefix=prefix,
                ),
            )

        names = RecordingNames(sid=sid, cname=resource.cname, prefix=prefix)

        def media_parts(on_file_ready: FileReady) -> MediaParts:
            return self._media(plan, spool, names, events, on_file_ready)

        recording = ChannelRecording(
            plan,
            settings=settings,
            appid=appid,
            sid=sid,
            mode=mode,
            spool=spool,
            channel=channel,
            media=media_parts,
            uploader=uploader,
            events=events,
            on_exit=on_exit,
            egress=self.egress,
        )
        recording.request = request
        if taking is not None and recording.media.mixer is not None:
            taking.prepare(recording.media.mixer)
            recording.taking = taking
            recording.course.marks = taking.marks
        elif taking is not None and recording.media.tracks is not None:
            taking.prepare_tracks(recording.media.tracks)
            recording.taking = taking
            recording.course.marks = taking.marks
        if recording.taking is not None and not recording.taking.released.is_set():
            recording.upload.hold()  # the giver's names until it is done (taking.py)
            recording.taking.on_abandoned = lambda: abandon(recording)
        return recording

    def _media(
        self,
        plan: StartPlan,
        spool: Path,
        names: RecordingNames,
        events: RecordingEvents,
        on_file_ready: FileReady,
    ) -> MediaParts:
        """The mix (with its background pictures) or the individual pipeline of ``plan``."""
        if isinstance(plan.media, media.MixConfig):
            mix = MixRecording(spool, names, plan.media, on_file_ready)
            mix.lag_report = self.lag_report

            def unavailable(field: str, reason: str) -> None:
                events.background_image_unavailable(f"{field}: {reason}")

            pictures = LayoutPictures(
                self.settings.background_images,
                (plan.media.width, plan.media.height),
                mix.set_backgrounds,
                unavailable,
            )
            return MediaParts(mix, mixer=mix, pictures=pictures)
        group = individual_pipeline(spool, names, plan, on_file_ready)
        if group.recording is not None:  # (snapshots are not a recording's real time)
            group.recording.lag_report = self.lag_report
        return MediaParts(
            group, packets=group if group.copies_audio else None, tracks=group.recording
        )


__all__ = ["ChannelRecording", "MediaFactory", "RecordingBuilder", "UploadFactory", "file_list"]
