"""One encoded output of a recording: encoders, the HLS writer and optionally an MP4 writer.

Video frames get consecutive pts at `fps`, audio frames consecutive sample counts at 48 kHz, so
the output runs on a fixed clock whatever the senders do. Used from the recording's worker thread
only.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from cloudrec_recorder.media.audio import SAMPLE_RATE
from cloudrec_recorder.media.config import OutputFile, TrackType
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.encode import AAC_FRAME, AudioParams, Encoders, VideoParams
from cloudrec_recorder.media.hls import HlsWriter, SegmentSchedule
from cloudrec_recorder.media.mp4 import Mp4Limits, Mp4Series
from cloudrec_recorder.media.spool import FileReady

__all__ = ["AUDIO_DELAY", "MAX_LAG", "Output", "OutputNames"]

AUDIO_DELAY = 0.1  # s: how far the audio clock runs behind the wall clock (jitter cushion)
MAX_LAG = 1.0  # s: beyond this a worker repeats pictures to catch up

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutputNames:
    """File names of one output: playlist, segments (by start time in epoch ms), MP4s (by
    index) or none."""

    playlist: str
    segment: Callable[[int], str]
    mp4: Callable[[int], str] | None = None


def _safe(callback: FileReady) -> FileReady:
    def announce(name: str) -> None:
        try:
            callback(name)
        except Exception:
            log.exception("on_file_ready failed for %s", name)

    return announce


class Output:
    """Encodes frames given in output order and writes them to the spool."""

    def __init__(
        self,
        spool_dir: Path,
        names: OutputNames,
        *,
        video: VideoParams | None,
        audio: AudioParams | None,
        schedule: SegmentSchedule,
        on_file_ready: FileReady,
        track_type: TrackType,
        uid: str,
        mixed_all_user: bool,
        start_monotonic: float | None = None,
        mp4_limits: Mp4Limits | None = None,
        start_epoch_ms: int | None = None,
        cut: Cut | None = None,
        first_mp4_index: int = 0,
    ) -> None:
        self.start_monotonic = time.monotonic() if start_monotonic is None else start_monotonic
        self.start_epoch_ms = (
            round((time.time() - (time.monotonic() - self.start_monotonic)) * 1000)
            if start_epoch_ms is None
            else start_epoch_ms
        )
        self.fps = video.fps if video is not None else 0
        self.video_params = video
        """The video encoding (None for an audio-only output)."""
        self._schedule = schedule
        self._encoders = Encoders(video, audio)
        templates = self._encoders.templates
        announce = _safe(on_file_ready)
        self.hls = HlsWriter(
            spool_dir,
            names.playlist,
            names.segment,
            templates,
            schedule,
            self.start_epoch_ms,
            announce,
            lead=0,
            lead_frame_seconds=1 / video.fps if video is not None else AAC_FRAME / SAMPLE_RATE,
            cut=cut,
        )
        self._video_index = 0 if video is not None else -1
        self._audio_index = len(templates) - 1 if audio is not None else -1
        self.mp4 = (
            Mp4Series(
                spool_dir,
                names.mp4,
                templates,
                announce,
                limits=mp4_limits or Mp4Limits(),
                video_index=self._video_index,
                audio_index=self._audio_index,
                start_epoch_ms=self.start_epoch_ms,
                cut=cut,
                first_index=first_mp4_index,
            )
            if names.mp4 is not None
            else None
        )
        self._track = (track_type, uid, mixed_all_user)
        # A hand-over's taker joins the giver's clock late: its first frame is the one due now.
        resume = max(0.0, time.monotonic() - self.start_monotonic) if cut and cut.taking else 0.0
        self.frames = math.ceil(resume * self.fps)
        self.samples = math.ceil(resume * SAMPLE_RATE / AAC_FRAME) * AAC_FRAME
        self._first_frame = self.frames
        self.encoded = 0
        """Frames (video and audio) given to the encoders so far."""
        self.last_video: av.VideoFrame | None = None
        self._keyframe_next = False
        """The next video frame starts a segment after a pause: a keyframe."""
        self._file = OutputFile(
            names.playlist, track_type, uid, mixed_all_user, self.start_epoch_ms
        )

    @property
    def has_video(self) -> bool:
        return self._video_index >= 0

    @property
    def has_audio(self) -> bool:
        return self._audio_index >= 0

    def next_video_time(self) -> float:
        """Output time (s) of the next video frame."""
        return self.frames / self.fps if self.fps else 0.0

    def next_audio_time(self) -> float:
        return self.samples / 48_000

    def _mux(self, index: int, packets: list[av.Packet[Any]]) -> None:
        for packet in packets:
            self.hls.mux(index, packet)
            if self.mp4 is not None:
                self.mp4.mux(index, packet)

    def write_video(self, frame: av.VideoFrame) -> None:
        t = self.frames / self.fps
        previous = (self.frames - 1) / self.fps
        keyframe = (
            self.frames == self._first_frame
            or self._keyframe_next
            or self._schedule.index_at(t) != self._schedule.index_at(previous)
        )
        self._keyframe_next = False
        frame.pts = self.frames
        frame.time_base = Fraction(1, self.fps)
        self._mux(self._video_index, self._encoders.encode_video(frame, keyframe=keyframe))
        self.frames += 1
        self.encoded += 1
        self.last_video = frame

    def write_audio(self, frame: av.AudioFrame) -> None:
        # One frame late: the AAC encoder's priming makes its first packet start a frame before
        # its input, and nothing may start before the first video frame (time 0).
        frame.pts = self.samples + AAC_FRAME
        self._mux(self._audio_index, self._encoders.encode_audio(frame))
        self.samples += AAC_FRAME
        self.encoded += 1

    def advance(
        self,
        horizon: float,
        final: bool,
        video_frame: Callable[[], av.VideoFrame] | None,
        audio_frame: Callable[[int], av.AudioFrame] | None,
        on_item: Callable[[float], None] | None = None,
    ) -> float:
        """Write the frames due by monotonic time `horizon` in time order; return the next due.

        `on_item(due)` hears of each frame before it is written, with the monotonic time it
        was due (the worker's lag, media/lag.py).

        `video_frame()` composes a picture, `audio_frame(pts)` mixes 1024 samples. Audio runs
        `AUDIO_DELAY` behind the wall clock (`final`: catch up to the end). A worker more than
        `MAX_LAG` behind (CPU starved) repeats its last picture instead of composing new ones:
        the video freezes for a moment, timestamps stay continuous and catching up is cheap (a
        repeated picture encodes to almost nothing).
        """
        start = self.start_monotonic
        audio_horizon = horizon + (AUDIO_DELAY if final else 0.0)
        frame_seconds = AAC_FRAME / SAMPLE_RATE
        while True:
            video_t, audio_t = self.next_video_time(), self.next_audio_time()
            video_due = video_frame is not None and start + video_t <= horizon
            audio_due = (
                audio_frame is not None
                and start + audio_t + frame_seconds + AUDIO_DELAY <= audio_horizon
            )
            if video_frame is not None and video_due and (not audio_due or video_t <= audio_t):
                if on_item is not None:
                    on_item(start + video_t)
                behind = horizon - (start + video_t) > MAX_LAG
                repeat = self.last_video if behind else None
                self.write_video(repeat if repeat is not None else video_frame())
            elif audio_frame is not None and audio_due:
                if on_item is not None:
                    on_item(start + audio_t + frame_seconds + AUDIO_DELAY)
                self.write_audio(audio_frame(self.samples))
            else:
                break
        due = []
        if video_frame is not None:
            due.append(start + self.next_video_time())
        if audio_frame is not None:
            due.append(start + self.next_audio_time() + frame_seconds + AUDIO_DELAY)
        return min(due)

    def pause(self) -> None:
        """The recording pauses (everything up to the pause is written): the open segment
        and the MP4 file end here."""
        self.hls.pause()
        if self.mp4 is not None:
            self.mp4.pause()
        self.last_video = None

    def resume(self, gap: float) -> None:
        """The recording resumes after ``gap`` seconds: output time goes on where it stopped
        (the clock moves by the gap), in a new segment after a discontinuity and a new MP4."""
        self.start_monotonic += gap
        gap_ms = round(gap * 1000)
        self.hls.resume(gap_ms)
        if self.mp4 is not None:
            times = []
            if self.has_video:
                times.append(self.next_video_time())
            if self.has_audio:
                times.append(self.next_audio_time())
            self.mp4.resume(min(times), gap_ms)
        self._keyframe_next = True

    def finish(self) -> None:
        """Flush the encoders, finish the last segment, the final playlist and the MP4."""
        if self.has_video:
            self._mux(self._video_index, self._encoders.encode_video(None))
        if self.has_audio:
            self._mux(self._audio_index, self._encoders.encode_audio(None))
        self.hls.close()
        if self.mp4 is not None:
            self.mp4.close()
        self._encoders.close()

    def files(self) -> list[OutputFile]:
        """The playlist once it exists, each MP4 once it is finished."""
        files = [self._file] if self.hls.has_segments else []
        if self.mp4 is not None:
            files += [OutputFile(name, *self._track, start) for name, start in self.mp4.finished]
        return files
