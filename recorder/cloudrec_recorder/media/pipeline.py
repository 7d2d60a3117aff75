"""Recordings: decoded frames in (per uid, from any thread), HLS/MP4 files out in the spool.

`MixRecording` composes every uid's video into one canvas and mixes their audio;
`IndividualRecording` writes one audio and one video HLS per uid. Both run one worker thread that
owns every encoder and writer: `push_video`/`push_audio` only store a reference (the latest video
frame per uid; a bounded queue of audio frames per uid, oldest dropped), so callers on the asyncio
loop never block. The worker emits video at a fixed `fps` (repeating a uid's last frame; a uid
without video shows the background) and audio at 48 kHz (silence when nobody sends).

`pause()` stops the output clock: the worker writes everything up to the pause, ends each
output's open segment and MP4 file, and writes nothing more; `resume()` moves the clock on by
the time paused, so output time (the timestamps) goes on where it stopped, with a keyframe, a
new segment after `#EXT-X-DISCONTINUITY` and the next numbered MP4. What is pushed while
paused is dropped, and whatever was fed before the pause (the latest pictures, queued audio)
is forgotten at the resume: nothing of the paused interval can reach a file. A worker lagging
behind (CPU starved) when the pause comes writes only up to the pause's moment.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av

from cloudrec_protocol.filenames import Track
from cloudrec_recorder.media import naming
from cloudrec_recorder.media.audio import AudioMixer
from cloudrec_recorder.media.background import NO_BACKGROUNDS, Backgrounds
from cloudrec_recorder.media.bitstream import stored_video
from cloudrec_recorder.media.compose import Compositor
from cloudrec_recorder.media.config import (
    IndividualConfig,
    MixConfig,
    OutputFile,
    RegionSpec,
    RenderMode,
    StreamMode,
    StreamTypes,
    TrackType,
    VideoLayout,
    audio_bitrate,
    audio_channels,
    parse_color,
)
from cloudrec_recorder.media.copied import OPUS_RATE, CopiedAudioOutput
from cloudrec_recorder.media.copied_video import VIDEO_RATE, CopiedVideoOutput
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.encode import AAC_FRAME, AudioParams, VideoParams
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.lag import LagChange, LagReport, LagWatch, lag_at
from cloudrec_recorder.media.layout import Region, compute_layout
from cloudrec_recorder.media.merged import merged_playlist
from cloudrec_recorder.media.mp4 import Mp4Limits
from cloudrec_recorder.media.output import Output, OutputNames
from cloudrec_recorder.media.spool import FileReady, write_text_atomically
from cloudrec_recorder.media.track_cuts import TrackCuts
from cloudrec_recorder.phases import mark

__all__ = [
    "ErrorCallback",
    "IndividualRecording",
    "MediaPipelineError",
    "MixRecording",
    "RecordingNames",
    "RecordingWorker",
]

log = logging.getLogger(__name__)

AUDIO_QUEUE_FRAMES = 250  # per uid: 5 s of 20 ms frames
VIDEO_QUEUE_FRAMES = 150  # per uid: 5 s at 30 fps
PAUSE_POLL = 0.25  # s: how often a paused worker looks at its flags (it is woken at once anyway)


ErrorCallback = Callable[[BaseException], None]


class MediaOutput(Protocol):
    """What the worker finishes and lists: an encoded output or a copied one."""

    def files(self) -> list[OutputFile]: ...

    def pause(self) -> None: ...

    def resume(self, gap: float) -> None: ...

    def finish(self) -> None: ...


class MediaPipelineError(RuntimeError):
    """The worker thread failed; the message says why."""


@dataclass(frozen=True)
class RecordingNames:
    """What the spool file names are made of (protocol.md §8)."""

    sid: str
    cname: str
    prefix: str = ""
    """``bak<n>_`` for a recording taken over from a lost replica (every file's name)."""

    def playlist(self, uid: str, track: Track) -> str:
        """An individual recording's playlist of ``uid``'s ``track``."""
        return self.prefix + naming.individual_playlist_name(self.sid, self.cname, uid, track)

    def segment(self, uid: str, track: Track, epoch_ms: int, extension: str = "ts") -> str:
        """An individual recording's slice of ``uid``'s ``track`` starting at ``epoch_ms``."""
        return self.prefix + naming.individual_segment_name(
            self.sid, self.cname, uid, track, epoch_ms, extension
        )

    def merged(self, uid: str) -> str:
        """An individual recording's master playlist of ``uid``'s audio and video."""
        return self.prefix + naming.individual_merged_playlist_name(self.sid, self.cname, uid)

    def snapshot(self, uid: str, epoch_ms: int) -> str:
        return self.prefix + naming.snapshot_name(self.sid, self.cname, uid, epoch_ms)


def note_lag(sid: str, watch: LagWatch, lag: float, report: LagReport | None) -> None:
    """Worker side: keep ``lag``, warn (and report) once per episode."""
    change = watch.observe(lag)
    if change is LagChange.FELL_BEHIND:
        if report is not None:
            report.fell_behind()
        log.warning(
            "Media worker behind sid=%s lag=%.1fs: more than a segment (%gs) late, its files "
            "are written late and its pictures repeat until it catches up",
            sid,
            lag,
            watch.behind_after,
        )
    elif change is LagChange.CAUGHT_UP:
        log.info("Media worker caught up sid=%s worst-lag=%.1fs", sid, watch.episode_worst)


class RecordingWorker:
    """The worker thread, the inputs and the stop protocol shared by both modes."""

    def __init__(
        self,
        spool_dir: Path,
        names: RecordingNames,
        on_file_ready: FileReady,
        on_error: ErrorCallback | None,
    ) -> None:
        self.spool_dir = Path(spool_dir)
        self.names = names
        self._on_file_ready = on_file_ready
        self._on_error = on_error
        self._latest: dict[str, av.VideoFrame] = {}
        self._audio_in: dict[str, deque[av.AudioFrame]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop_at: float | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._files: list[OutputFile] = []
        self._paused_at: float | None = None
        """Monotonic time of the pause asked for (None: not paused)."""
        self._resumed_at: float | None = None
        """Monotonic time of the resume asked for, until the worker has made it."""
        self._pause_written = False
        """The worker wrote everything up to the pause and ended the open files (its side)."""
        self.cut = Cut()
        """Where this recording's files begin and end (a hand-over; media/cut.py)."""
        self.first_mp4_index = 0
        """The number of the first MP4 part (a hand-over's taker continues the giver's)."""
        self.origin_epoch_ms: int | None = None
        """Wall-clock time (epoch ms) of output time 0, once started."""
        self._rewrite = False
        self._due: float | None = None
        """Monotonic time the oldest item not yet written is due (None: not running, paused
        or finished): the worker's lag is how long ago that was (media/lag.py)."""
        self.lag_watch = LagWatch(behind_after=float("inf"))
        """The worker's worst lag and its episodes (set at the start, worker side)."""
        self.lag_report: LagReport | None = None
        """Where its episodes and its worst lag are reported (the recorder's metrics)."""
        self._encoded = False

    # ------------------------------------------------------------------ caller side
    def start(self, origin_epoch_ms: int | None = None) -> None:
        """Start the worker; output time 0 is now, or ``origin_epoch_ms`` (a hand-over's
        taker continues the giver's clock). Idempotent."""
        if self._thread is not None:
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        now_ms = time.time() * 1000
        self.origin_epoch_ms = round(now_ms) if origin_epoch_ms is None else origin_epoch_ms
        self._start_monotonic = time.monotonic() - (now_ms - self.origin_epoch_ms) / 1000
        self.lag_watch = LagWatch(behind_after=self._behind_after())
        self._due = time.monotonic()  # the first round's lag is the thread's start and set-up
        self._thread = threading.Thread(
            target=self._run, name=f"media-{self.names.sid}", daemon=True
        )
        self._thread.start()

    @property
    def _holding(self) -> bool:
        """Paused and not yet asked to resume: what is pushed now is dropped (read without
        the lock: a push racing the pause is the pause's to forget at the resume)."""
        return self._paused_at is not None and self._resumed_at is None

    def push_video(self, uid: str, frame: av.VideoFrame) -> None:
        """Offer `uid`'s latest decoded video frame (never blocks; older frames are dropped)."""
        if self._holding:
            return
        self._latest[uid] = frame

    def push_audio(self, uid: str, frame: av.AudioFrame) -> None:
        """Queue one decoded audio frame of `uid` (never blocks; the oldest is dropped if full)."""
        if self._holding:
            return
        queue = self._audio_in.get(uid)
        if queue is None:
            queue = self._audio_in.setdefault(uid, deque(maxlen=AUDIO_QUEUE_FRAMES))
        queue.append(frame)

    def pause(self) -> None:
        """Capture nothing from now on until :meth:`resume` (see the module docstring).
        A pause asked for again before the worker made the resume cancels the resume."""
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.monotonic()
            self._resumed_at = None
        self._wake.set()

    def resume(self) -> None:
        """Capture again after a pause; what was fed before it is forgotten now (the
        caller feeds nothing while paused)."""
        with self._lock:
            if self._paused_at is None:
                return
            self._forget_inputs()
            self._resumed_at = time.monotonic()
        self._wake.set()

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused_at is not None and self._resumed_at is None

    @property
    def failed(self) -> BaseException | None:
        """The worker's error, if it died."""
        return self._error

    def lag(self, now: float | None = None) -> float:
        """Seconds the worker is behind the wall clock at monotonic ``now`` (default: now):
        how long the oldest item it has not written yet has been due; 0 while on time,
        paused, before the start and once finished. From any thread."""
        return lag_at(time.monotonic() if now is None else now, self._due)

    @property
    def worst_lag(self) -> float:
        """The largest lag the worker had (seconds, as it began an item or a round)."""
        return self.lag_watch.worst

    def end(self, at: float | None = None) -> None:
        """Write nothing after monotonic time ``at`` (default and at the latest: now): the
        worker writes up to it and finishes every file in its thread, without waiting for
        it (:meth:`stop` does). The first end asked for counts."""
        if self._thread is None:
            return
        if self._stop_at is None:
            now = time.monotonic()
            self._stop_at = now if at is None else min(at, now)
        self._wake.set()

    async def stop(self) -> list[OutputFile]:
        """Finish every file (last segments, final playlists, MP4) and return the file list;
        nothing after now is written, or after the :meth:`end` asked for before."""
        if self._thread is None:
            return []
        self.end()
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise MediaPipelineError(f"media pipeline failed: {self._error}") from self._error
        return self.files()

    def files(self) -> list[OutputFile]:
        """Files complete so far (the playlists once they list a segment; MP4s once finished)."""
        with self._lock:
            return list(self._files)

    def start_of(self, name: str) -> int | None:
        """When file ``name`` starts (epoch ms), for the ``on_file_ready`` callback (which
        runs on the worker thread, where the outputs are up to date)."""
        for output in self._outputs():
            for f in output.files():
                if f.name == name:
                    return f.slice_start_time_ms
        return None

    # ------------------------------------------------------------------ worker side
    def _run(self) -> None:
        try:
            self._setup()
            mark(self.names.sid, "worker-ready")
            while True:
                self._wake.clear()  # flags are read after it: a later set wakes the next wait
                stop_at = self._stop_at
                if self._held():
                    self._due = None  # nothing is due while paused
                    if stop_at is not None:
                        break
                    self._wake.wait(PAUSE_POLL)
                    continue
                now = time.monotonic()
                note_lag(self.names.sid, self.lag_watch, lag_at(now, self._due), self.lag_report)
                horizon = now if stop_at is None else stop_at
                paused_at = self._paused_at  # asked since _held() looked: write up to it only
                if paused_at is not None:
                    horizon = min(horizon, paused_at)
                self._drain_audio()
                next_due = self._produce(horizon, final=stop_at is not None)
                self._due = next_due
                if not self._encoded:
                    self._note_first_encoded()
                self._publish_files()
                if stop_at is not None:
                    break
                if self._rewrite:
                    self._rewrite = False
                    self._wake.clear()
                    self._rewrite_playlists()
                delay = next_due - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
            self._due = None
            if self.lag_report is not None:
                self.lag_report.worker_done(self.lag_watch.worst)
            self._finish()
        except BaseException as exc:  # reported through stop() and `failed`
            log.exception("media pipeline of %s failed", self.names.sid)
            self._error = exc
            if self._on_error is not None:
                try:
                    self._on_error(exc)
                except Exception:
                    log.exception("on_error failed")
        finally:
            self._due = None
            self._publish_files()

    def _note_due(self, due: float) -> None:
        """Worker side: the item due at monotonic ``due`` is written now (its lag)."""
        self._due = due
        note_lag(self.names.sid, self.lag_watch, lag_at(time.monotonic(), due), self.lag_report)

    def _note_first_encoded(self) -> None:
        """Phase ``first-encoded`` once an output has encoded its first frame."""
        if any(isinstance(o, Output) and o.encoded for o in self._outputs()):
            self._encoded = mark(self.names.sid, "first-encoded")

    def _held(self) -> bool:
        """Make a pause or a resume asked for (worker side); True while paused."""
        with self._lock:
            paused_at, resumed_at = self._paused_at, self._resumed_at
        if paused_at is None:
            return False
        if not self._pause_written:
            self._drain_audio()  # what was fed before the pause
            self._produce(paused_at, final=True)
            for output in self._outputs():
                output.pause()
            self._pause_written = True
            self._publish_files()
        if resumed_at is None:
            return True
        with self._lock:  # (not reentrant: nothing below takes it)
            if self._resumed_at != resumed_at:
                return True  # paused again before the resume was made: it is cancelled
            self._after_pause()
            for output in self._outputs():
                output.resume(max(0.0, resumed_at - paused_at))
            self._paused_at = self._resumed_at = None
            self._pause_written = False
        return False

    def _forget_inputs(self) -> None:
        """Caller side, under the lock: drop what was fed before a pause."""
        self._latest.clear()
        for queue in list(self._audio_in.values()):
            queue.clear()

    def _after_pause(self) -> None:
        """Worker side, at a resume: drop what the worker holds from before the pause."""

    def _drain_audio(self) -> None:
        for uid, queue in list(self._audio_in.items()):
            while queue:
                self._accept_audio(uid, queue.popleft())

    def _publish_files(self) -> None:
        files = [f for output in self._outputs() for f in output.files()]
        with self._lock:
            self._files = files

    # Implemented by the modes.
    def _setup(self) -> None:
        raise NotImplementedError

    def _behind_after(self) -> float:
        """Seconds of lag worth a warning (a segment)."""
        raise NotImplementedError

    def _accept_audio(self, uid: str, frame: av.AudioFrame) -> None:
        raise NotImplementedError

    def _produce(self, horizon: float, *, final: bool) -> float:
        """Write everything due by monotonic time `horizon`; return when the next item is due."""
        raise NotImplementedError

    def _finish(self) -> None:
        """Finish every output, even when one of them fails; then raise the first error."""
        errors = []
        for output in self._outputs():
            try:
                output.finish()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def _outputs(self) -> Sequence[MediaOutput]:
        raise NotImplementedError

    def _rewrite_playlists(self) -> None:
        for output in self._outputs():
            if isinstance(output, Output):
                output.hls.rewrite_playlist()


def _schedule(segment_seconds: float, first_segment_seconds: float | None) -> SegmentSchedule:
    if first_segment_seconds is not None:
        first_segment_seconds = min(first_segment_seconds, segment_seconds)
    return SegmentSchedule(segment_seconds, first_segment_seconds)


class MixRecording(RecordingWorker):
    """All uids composed into one canvas with one mixed audio track (mix mode)."""

    def __init__(
        self,
        spool_dir: Path,
        names: RecordingNames,
        config: MixConfig,
        on_file_ready: FileReady,
        *,
        on_error: ErrorCallback | None = None,
    ) -> None:
        super().__init__(spool_dir, names, on_file_ready, on_error)
        self.config = config
        self._layout = (
            config.layout,
            config.max_resolution_uid,
            tuple(config.regions),
            config.background_color,
        )
        self._backgrounds = NO_BACKGROUNDS
        self._arrived: dict[str, float] | None = None
        """uid -> when its newest frame came, kept only while uids have pictures."""
        self._participants: list[str] = []
        self._explicit_participants = False
        self._layout_version = 0
        self._output: Output | None = None
        self._mixer = AudioMixer(audio_channels(config.audio_profile))
        self._removed_audio: deque[str] = deque()  # uids to drop from the mix (worker side)

    # ------------------------------------------------------------------ caller side
    def push_video(self, uid: str, frame: av.VideoFrame) -> None:
        if self._holding:
            return
        if not self._explicit_participants and uid not in self._latest:
            with self._lock:
                if uid not in self._participants:
                    self._participants.append(uid)
                    self._layout_version += 1
        arrived = self._arrived
        if arrived is not None:
            arrived[uid] = time.monotonic()
        super().push_video(uid, frame)

    def set_participants(self, uids: Sequence[str]) -> None:
        """The uids shown, in join order (a uid without video gets its region, as background)."""
        with self._lock:
            self._participants = list(dict.fromkeys(uids))
            self._explicit_participants = True
            self._layout_version += 1

    def remove(self, uid: str) -> None:
        """Drop `uid` from the canvas and the audio mix."""
        with self._lock:
            if uid in self._participants:
                self._participants.remove(uid)
            self._layout_version += 1
        self._latest.pop(uid, None)
        self._audio_in.pop(uid, None)
        self._removed_audio.append(uid)

    def set_layout(
        self,
        layout: VideoLayout,
        *,
        max_resolution_uid: str | None = None,
        regions: Sequence[RegionSpec] = (),
        background_color: str = "#000000",
        backgrounds: Backgrounds = NO_BACKGROUNDS,
    ) -> None:
        """Replace the whole layout (updateLayout semantics); applies from the next frame."""
        self.check_layout(layout, regions=regions, background_color=background_color)
        with self._lock:
            self._layout = (layout, max_resolution_uid, tuple(regions), background_color)
            self._store_backgrounds(backgrounds)

    @staticmethod
    def check_layout(
        layout: VideoLayout,
        *,
        max_resolution_uid: str | None = None,
        regions: Sequence[RegionSpec] = (),
        background_color: str = "#000000",
    ) -> None:
        """``ValueError`` naming what ``set_layout`` would refuse in these arguments."""
        parse_color(background_color)
        if len(regions) > 17:
            raise ValueError(f"layoutConfig holds at most 17 regions, got {len(regions)}")

    def set_backgrounds(self, backgrounds: Backgrounds) -> None:
        """Replace the background pictures; applies from the next frame (scaled then, once)."""
        with self._lock:
            self._store_backgrounds(backgrounds)

    def _store_backgrounds(self, backgrounds: Backgrounds) -> None:
        """Under the lock: the pictures, and arrival times kept only while uids have some."""
        self._backgrounds = backgrounds
        self._layout_version += 1
        if not backgrounds.has_user_pictures:
            self._arrived = None
        elif self._arrived is None:
            self._arrived = dict.fromkeys(self._latest, time.monotonic())

    # ------------------------------------------------------------------ worker side
    def _behind_after(self) -> float:
        return self.config.segment_seconds

    def _setup(self) -> None:
        cfg = self.config
        video = None
        if cfg.stream_types.has_video:
            keyint = max(1, round(cfg.segment_seconds * cfg.fps))
            video = VideoParams(
                cfg.width,
                cfg.height,
                cfg.fps,
                cfg.bitrate_kbps,
                keyint,
                cfg.x264_preset,
                cfg.encoder_threads,
            )
        audio = None
        if cfg.stream_types.has_audio:
            audio = AudioParams(audio_channels(cfg.audio_profile), audio_bitrate(cfg.audio_profile))
        track = {
            StreamTypes.AUDIO_AND_VIDEO: TrackType.AUDIO_AND_VIDEO,
            StreamTypes.AUDIO_ONLY: TrackType.AUDIO,
            StreamTypes.VIDEO_ONLY: TrackType.VIDEO,
        }[cfg.stream_types]
        sid, cname, bak = self.names.sid, self.names.cname, self.names.prefix
        names = OutputNames(
            bak + naming.mix_playlist_name(sid, cname),
            lambda ms: bak + naming.mix_segment_name(sid, cname, ms),
            (lambda index: bak + naming.mix_mp4_name(sid, cname, index)) if cfg.mp4 else None,
        )
        self._compositor = Compositor(cfg.width, cfg.height, cfg.background_color)
        self._seen_version = -1
        self._output = Output(
            self.spool_dir,
            names,
            video=video,
            audio=audio,
            schedule=_schedule(cfg.segment_seconds, cfg.first_segment_seconds),
            on_file_ready=self._on_file_ready,
            track_type=track,
            uid="0",
            mixed_all_user=True,
            start_monotonic=self._start_monotonic,
            mp4_limits=Mp4Limits(cfg.mp4_max_seconds, cfg.mp4_max_bytes),
            start_epoch_ms=self.origin_epoch_ms,
            cut=self.cut,
            first_mp4_index=self.first_mp4_index,
        )

    def _accept_audio(self, uid: str, frame: av.AudioFrame) -> None:
        self._mixer.push(uid, frame)

    def _apply_layout(self) -> None:
        with self._lock:
            version = self._layout_version
            if version == self._seen_version:
                return
            layout, max_uid, regions, background = self._layout
            backgrounds = self._backgrounds
            participants = list(self._participants)
        cfg = self.config
        placed = compute_layout(
            layout,
            participants,
            cfg.width,
            cfg.height,
            max_resolution_uid=max_uid,
            regions=regions,
        )
        self._compositor.set_layout(placed, background, backgrounds)
        self._seen_version = version

    def _video_frame(self) -> av.VideoFrame:
        self._apply_layout()
        arrived = self._arrived
        if arrived is None:
            return self._compositor.compose(self._latest)
        since = time.monotonic() - self.config.video_stopped_seconds
        flowing = {
            uid: frame for uid, frame in self._latest.items() if arrived.get(uid, 0.0) >= since
        }
        return self._compositor.compose(flowing)

    def _forget_inputs(self) -> None:
        super()._forget_inputs()
        if self._arrived is not None:
            self._arrived.clear()

    def _after_pause(self) -> None:
        for uid in self._mixer.uids():
            self._mixer.remove(uid)  # its buffered audio is from before the pause
        for uid in list(self._participants):
            self._compositor.forget(uid)

    def _produce(self, horizon: float, *, final: bool) -> float:
        assert self._output is not None
        while self._removed_audio:
            uid = self._removed_audio.popleft()
            self._mixer.remove(uid)
            self._compositor.forget(uid)
        return self._output.advance(
            horizon,
            final,
            self._video_frame if self._output.has_video else None,
            (lambda pts: self._mixer.pull_frame(AAC_FRAME, pts))
            if self._output.has_audio
            else None,
            self._note_due,
        )

    def _outputs(self) -> list[Output]:
        return [self._output] if self._output is not None else []

    @property
    def schedule(self) -> SegmentSchedule:
        """Where segments begin (the hand-over's cut is one of these boundaries)."""
        return _schedule(self.config.segment_seconds, self.config.first_segment_seconds)

    def next_mp4_index(self) -> int:
        """The number the next MP4 part would have (0 without MP4 or before the start)."""
        output = self._output
        return output.mp4.next_index if output is not None and output.mp4 is not None else 0

    def rewrite_playlists(self) -> None:
        """Write the playlists again (a hand-over's taker got the giver's entries); from the
        event loop, so it only asks the worker thread."""
        self._rewrite = True
        self._wake.set()


@dataclass
class _Member:
    video: Output | None = None
    audio: Output | None = None
    mixer: AudioMixer | None = None
    compositor: Compositor | None = None
    merged: OutputFile | None = None
    """The merged audio+video playlist, once written (streamMode standard)."""
    copied: CopiedAudioOutput | None = None
    """The audio as sent, not transcoded (streamMode original)."""
    copied_video: CopiedVideoOutput | None = None
    """The video as sent, not transcoded (``video_as_sent``)."""


def write_merged(
    spool_dir: Path,
    names: RecordingNames,
    cfg: IndividualConfig,
    uid: str,
    member: _Member,
    on_file_ready: FileReady,
) -> OutputFile | None:
    """``uid``'s merged playlist, written once its audio and video playlists both exist."""
    video, audio = member.video, member.audio
    if video is None or audio is None:
        return None
    if not (video.hls.has_segments and audio.hls.has_segments):
        return None
    params = video.video_params
    assert params is not None
    name = names.merged(uid)
    text = merged_playlist(
        audio=audio.hls.playlist_name,
        video=video.hls.playlist_name,
        width=params.width,
        height=params.height,
        bandwidth_bps=cfg.bitrate_kbps * 1000 + audio_bitrate(cfg.audio_profile),
    )
    write_text_atomically(spool_dir, name, text, on_file_ready)
    return OutputFile(name, TrackType.AUDIO_AND_VIDEO, uid, False, video.start_epoch_ms)


class IndividualRecording(RecordingWorker):
    """One video HLS and one audio HLS per uid (individual mode).

    A uid's video output starts with its first video frame, at that frame's size (rounded down
    to even); its audio output with its first audio frame. Outputs run until stop: while a uid is
    away its video shows black and its audio is silent.
    """

    def __init__(
        self,
        spool_dir: Path,
        names: RecordingNames,
        config: IndividualConfig,
        on_file_ready: FileReady,
        *,
        on_error: ErrorCallback | None = None,
    ) -> None:
        super().__init__(spool_dir, names, on_file_ready, on_error)
        self.config = config
        self._members: dict[str, _Member] = {}
        self._packets_in: dict[str, deque[tuple[bytes, int]]] = {}
        self._video_in: dict[str, deque[tuple[str, bytes, int]]] = {}
        self._keyframe_wanted: set[str] = set()
        self._unstorable: set[str] = set()
        self.track_cuts = TrackCuts()
        """Where each output begins and ends in a hand-over (media/track_cuts.py)."""

    @property
    def copies_audio(self) -> bool:
        """Audio is kept as sent (streamMode original): `push_audio_packet`, not `push_audio`."""
        return self.config.stream_mode is StreamMode.ORIGINAL

    @property
    def copies_video(self) -> bool:
        """Video is kept as sent: `push_video_packet`, not `push_video`."""
        return self.config.video_as_sent and self.config.stream_types.has_video

    def set_participants(self, uids: Sequence[str]) -> None:
        """Accepted for symmetry with MixRecording; outputs start with each uid's first frame."""

    def push_video(self, uid: str, frame: av.VideoFrame) -> None:
        if not self.copies_video:
            super().push_video(uid, frame)

    def push_video_packet(self, uid: str, codec: str, data: bytes, timestamp: int) -> None:
        """Queue one encoded video frame of `uid` as sent (`codec` its RTP name), at
        `timestamp` (90 kHz from the uid's first frame); never blocks, the oldest is dropped."""
        if self._holding:
            return
        queue = self._video_in.get(uid)
        if queue is None:
            queue = self._video_in.setdefault(uid, deque(maxlen=VIDEO_QUEUE_FRAMES))
        queue.append((codec, data, timestamp))

    def wants_keyframe(self, uid: str) -> bool:
        """`uid`'s stored video asks for a keyframe (once: the caller sends the request)."""
        if uid in self._keyframe_wanted:
            self._keyframe_wanted.discard(uid)
            return True
        return False

    def push_audio_packet(self, uid: str, data: bytes, timestamp: int) -> None:
        """Queue one Opus packet of `uid` as sent, at `timestamp` (48 kHz samples from the
        uid's first packet); never blocks, the oldest is dropped if full."""
        if self._holding:
            return
        queue = self._packets_in.get(uid)
        if queue is None:
            queue = self._packets_in.setdefault(uid, deque(maxlen=AUDIO_QUEUE_FRAMES))
        queue.append((data, timestamp))

    def remove(self, uid: str) -> None:
        """Stop showing `uid` (black video, silence) until it sends again."""
        self._latest.pop(uid, None)
        self._audio_in.pop(uid, None)
        self._packets_in.pop(uid, None)
        self._video_in.pop(uid, None)

    def _drain_audio(self) -> None:
        super()._drain_audio()
        for uid, queue in list(self._packets_in.items()):
            while queue:
                self._accept_packet(uid, *queue.popleft())
        for uid, frames in list(self._video_in.items()):
            while frames:
                self._accept_video_packet(uid, *frames.popleft())

    def _accept_packet(self, uid: str, data: bytes, timestamp: int) -> None:
        member = self._members.setdefault(uid, _Member())
        names = self.names
        playlist = names.playlist(uid, "audio")
        self.track_cuts.note(playlist, data, timestamp)
        if member.copied is None:
            clock = self.track_cuts.open_stored(
                playlist, uid, video=False, timestamp=timestamp, rate=OPUS_RATE
            )
            if clock is None:
                return  # a hand-over's: the giver makes no more, the taker has no shift yet
            member.copied = CopiedAudioOutput(
                self.spool_dir,
                OutputNames(playlist, lambda ms: names.segment(uid, "audio", ms)),
                self._schedule(),
                self._on_file_ready,
                uid=uid,
                start_epoch_ms=clock.start_epoch_ms,
                cut=clock.cut,
                shift=clock.shift,
            )
        member.copied.write(data, timestamp)

    def _accept_video_packet(self, uid: str, codec: str, data: bytes, timestamp: int) -> None:
        member = self._members.setdefault(uid, _Member())
        names = self.names
        playlist = names.playlist(uid, "video")
        if stored_video(codec) is None:
            if uid not in self._unstorable:
                self._unstorable.add(uid)
                log.warning("video of uid=%s is %s: not stored (no container)", uid, codec)
            return
        self.track_cuts.note(playlist, data, timestamp)
        if member.copied_video is None:
            clock = self.track_cuts.open_stored(
                playlist, uid, video=True, timestamp=timestamp, rate=VIDEO_RATE
            )
            if clock is None:
                return
            member.copied_video = CopiedVideoOutput(
                self.spool_dir,
                playlist,
                lambda ms, ext: names.segment(uid, "video", ms, ext),
                self._schedule(),
                self._on_file_ready,
                codec=codec,
                uid=uid,
                start_epoch_ms=clock.start_epoch_ms,
                cut=clock.cut,
                shift=clock.shift,
            )
        member.copied_video.write(data, timestamp)
        if member.copied_video.wants_keyframe:
            self._keyframe_wanted.add(uid)

    def _behind_after(self) -> float:
        return self.config.segment_seconds

    def _setup(self) -> None:
        for clock in self.track_cuts.offered():  # a taker: the giver's outputs go on here
            if clock.copied:
                continue  # made at a packet, once its shift is known (track_cuts.py)
            if clock.video:
                self._start_video_sized(clock.uid, clock.width, clock.height)
            else:
                self._start_audio(clock.uid)

    def _forget_inputs(self) -> None:
        super()._forget_inputs()
        for packets in list(self._packets_in.values()):
            packets.clear()
        for frames in list(self._video_in.values()):
            frames.clear()

    def _after_pause(self) -> None:
        for uid, member in list(self._members.items()):
            if member.mixer is not None:
                member.mixer.remove(uid)  # its buffered audio is from before the pause

    def _schedule(self) -> SegmentSchedule:
        return _schedule(self.config.segment_seconds, self.config.first_segment_seconds)

    @property
    def schedule(self) -> SegmentSchedule:
        """Where each output's segments begin, on its own clock (a hand-over cuts there)."""
        return self._schedule()

    def rewrite_playlists(self) -> None:
        """Write the playlists again (a hand-over's taker got the giver's entries); from the
        event loop, so it only asks the worker thread."""
        self._rewrite = True
        self._wake.set()

    def _new_output(self, uid: str, track: Track, video: VideoParams | None) -> Output | None:
        """``uid``'s ``track`` output, None when a hand-over's giver makes no more."""
        cfg = self.config
        audio = None
        if video is None:
            audio = AudioParams(audio_channels(cfg.audio_profile), audio_bitrate(cfg.audio_profile))
        names = OutputNames(
            self.names.playlist(uid, track), lambda ms: self.names.segment(uid, track, ms)
        )
        size = (video.width, video.height) if video is not None else None
        clock = self.track_cuts.open(names.playlist, uid, size)
        if clock is None:
            return None
        return Output(
            self.spool_dir,
            names,
            video=video,
            audio=audio,
            schedule=self._schedule(),
            on_file_ready=self._on_file_ready,
            track_type=TrackType.VIDEO if video is not None else TrackType.AUDIO,
            uid=uid,
            mixed_all_user=False,
            start_monotonic=clock.start_monotonic,
            start_epoch_ms=clock.start_epoch_ms,
            cut=clock.cut,
        )

    def _accept_audio(self, uid: str, frame: av.AudioFrame) -> None:
        if not self.config.stream_types.has_audio or self.copies_audio:
            return
        member = self._members.get(uid)
        if (member is None or member.audio is None) and not self._start_audio(uid):
            return
        member = self._members[uid]
        assert member.mixer is not None
        member.mixer.push(uid, frame)

    def _start_audio(self, uid: str) -> bool:
        """Make ``uid``'s audio output; False when it is not made (a hand-over's giver)."""
        output = self._new_output(uid, "audio", None)
        if output is None:
            return False
        member = self._members.setdefault(uid, _Member())
        member.mixer = AudioMixer(audio_channels(self.config.audio_profile))
        member.audio = output
        return True

    def _start_video(self, uid: str, frame: av.VideoFrame) -> None:
        self._start_video_sized(uid, frame.width, frame.height)

    def _start_video_sized(self, uid: str, width: int, height: int) -> None:
        cfg = self.config
        width, height = max(2, width - width % 2), max(2, height - height % 2)
        keyint = max(1, round(cfg.segment_seconds * cfg.fps))
        params = VideoParams(
            width, height, cfg.fps, cfg.bitrate_kbps, keyint, cfg.x264_preset, cfg.encoder_threads
        )
        output = self._new_output(uid, "video", params)
        if output is None:
            return
        member = self._members.setdefault(uid, _Member())
        member.video = output
        member.compositor = Compositor(width, height)
        # later frames of another size (simulcast layer switch) are letterboxed, never cropped
        whole = Region(uid, 0, 0, width, height, render_mode=RenderMode.FIT)
        member.compositor.set_layout([whole], "#000000")

    def _produce(self, horizon: float, *, final: bool) -> float:
        if self.config.stream_types.has_video:
            for uid, frame in list(self._latest.items()):
                member = self._members.get(uid)
                if member is None or member.video is None:
                    self._start_video(uid, frame)
        next_due = horizon + 0.05
        for uid, member in list(self._members.items()):
            if member.video is not None and member.compositor is not None:
                latest = self._latest.get(uid)
                one = {uid: latest} if latest is not None else {}
                compose = functools.partial(member.compositor.compose, one)
                advanced = member.video.advance(horizon, final, compose, None, self._note_due)
                next_due = min(next_due, advanced)
            if member.audio is not None and member.mixer is not None:
                pull = functools.partial(member.mixer.pull_frame, AAC_FRAME)
                advanced = member.audio.advance(horizon, final, None, pull, self._note_due)
                next_due = min(next_due, advanced)
        return next_due

    def _outputs(self) -> list[MediaOutput]:
        outputs: list[MediaOutput] = []
        for member in list(self._members.values()):
            outputs += [
                o
                for o in (member.video, member.audio, member.copied, member.copied_video)
                if o is not None
            ]
        return outputs

    def _publish_files(self) -> None:
        if self.config.stream_mode is StreamMode.STANDARD:
            for uid, member in list(self._members.items()):
                if member.merged is None:
                    self._write_merged(uid, member)
        super()._publish_files()
        merged = [m.merged for m in list(self._members.values()) if m.merged is not None]
        if merged:
            with self._lock:
                self._files = self._files + merged

    def _write_merged(self, uid: str, member: _Member) -> None:
        """Write ``uid``'s merged playlist once its audio and video playlists both exist."""
        member.merged = write_merged(
            self.spool_dir, self.names, self.config, uid, member, self._on_file_ready
        )
