"""One uid's video as it was sent, not transcoded: VP8 in WebM slices, H.264 in TS slices.

Frames come whole (as libavformat's RTP depacketiser reassembles them) with their RTP time in 90 kHz
ticks from the uid's first frame; they are muxed as they are into one container per segment
(protocol.md §8: ``<stem>_<utc>.webm`` / ``.ts``), listed by the same HLS playlist the other
outputs write. Segments start on keyframes: frames before the first keyframe are dropped, and a
segment boundary is crossed on the first keyframe at or after it. When the stream starts without
one, or a boundary passes without one, the output asks for one (``wants_keyframe``, read by the
caller, who sends the request). The stream's parameters come from an encoder that is opened but
never fed (at the size read from the keyframe; a new size makes new parameters from the next
segment on).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from cloudrec_recorder.media.bitstream import VideoCodec, is_keyframe, stored_video, vp8_size
from cloudrec_recorder.media.config import OutputFile, TrackType
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.hls import HlsWriter, SegmentSchedule
from cloudrec_recorder.media.keyframes import KeyframeWanted, keyframe_wanted
from cloudrec_recorder.media.spool import FileReady

__all__ = ["VIDEO_RATE", "CopiedVideoOutput", "UnstorableCodecError"]

VIDEO_RATE = 90_000
_TIME_BASE = Fraction(1, VIDEO_RATE)
_FRAME_SECONDS = 1 / 15  # the last frame's length (the frame rate is not signalled)
_DEFAULT_SIZE = (640, 360)  # H.264: the TS muxer does not need the size


class UnstorableCodecError(ValueError):
    """The received codec has no container to be stored in as is."""


class _Parameters:
    """A never-fed encoder whose stream is the template of every segment's stream."""

    def __init__(self, encoder: str, size: tuple[int, int]) -> None:
        self.size = size
        self._holder = av.open(os.devnull, "w", format="null")
        stream = self._holder.add_stream(encoder, rate=15)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.codec_context.time_base = _TIME_BASE
        self._holder.start_encoding()
        self.stream: av.VideoStream = stream

    def close(self) -> None:
        self._holder.close()


class CopiedVideoOutput:
    """Encoded frames in, WebM/TS slices and a playlist out (worker thread only)."""

    def __init__(
        self,
        spool_dir: Path,
        playlist: str,
        segment_name: Callable[[int, str], str],
        schedule: SegmentSchedule,
        on_file_ready: FileReady,
        *,
        codec: str,
        uid: str,
        start_epoch_ms: int,
        cut: Cut | None = None,
        shift: int = 0,
    ) -> None:
        stored = stored_video(codec)
        if stored is None:
            raise UnstorableCodecError(f"video codec {codec} cannot be stored without transcoding")
        self.codec = VideoCodec(codec.upper())
        self._stored = stored
        self._spool_dir = spool_dir
        self._playlist = playlist
        self._segment_name = segment_name
        self._schedule = schedule
        self._on_file_ready = on_file_ready
        self.start_epoch_ms = start_epoch_ms
        self._file = OutputFile(playlist, TrackType.VIDEO, uid, False, start_epoch_ms)
        self._parameters: _Parameters | None = None
        self._retired: list[_Parameters] = []
        self.hls: HlsWriter | None = None
        self._end = -1
        self._last_request: float | None = None
        self._wants_keyframe = True
        self._cut = cut or Cut(on_keyframes=True)
        self._shift = shift
        """Added to every frame's time (a hand-over's taker: the giver's times)."""

    @property
    def wants_keyframe(self) -> bool:
        """The stream asks for a keyframe now (cleared once read)."""
        wanted, self._wants_keyframe = self._wants_keyframe, False
        return wanted

    def write(self, data: bytes, timestamp: int) -> None:
        """Mux one frame at ``timestamp`` (90 kHz from time 0); late ones are dropped."""
        timestamp += self._shift
        if timestamp <= self._end:
            return
        t = timestamp / VIDEO_RATE
        key = is_keyframe(self.codec, data)
        if key:
            self._cut.keyframe(t)
            self._keep_parameters(data)
        hls = self.hls
        started = hls is not None and hls.is_open
        if not key and not started:
            self._ask(t, started=False, next_cut=0.0)
            return  # segments start on keyframes
        assert self._parameters is not None
        if hls is None:
            hls = self.hls = self._new_writer()
        packet = av.Packet(data)
        packet.pts = packet.dts = timestamp
        packet.time_base = _TIME_BASE
        packet.is_keyframe = key
        hls.mux(0, packet)
        self._end = timestamp
        if not key:
            self._ask(t, started=True, next_cut=hls.next_cut)

    def _ask(self, t: float, *, started: bool, next_cut: float) -> None:
        if keyframe_wanted(KeyframeWanted(t, started, next_cut, self._last_request)):
            self._last_request = t
            self._wants_keyframe = True

    def _keep_parameters(self, data: bytes) -> None:
        """Parameters at the keyframe's size (VP8), made again when the size changes."""
        # Segment headers carry the size; the open segment keeps its own, the next gets these.
        size = vp8_size(data) if self.codec is VideoCodec.VP8 else None
        current = self._parameters
        if current is not None and (size is None or size == current.size):
            return
        self._parameters = _Parameters(self._stored.parameters_from, size or _DEFAULT_SIZE)
        if self.hls is not None:
            self.hls.replace_templates([self._parameters.stream])
        if current is not None:
            self._retired.append(current)

    def _new_writer(self) -> HlsWriter:
        assert self._parameters is not None
        extension = self._stored.extension
        return HlsWriter(
            self._spool_dir,
            self._playlist,
            lambda ms: self._segment_name(ms, extension),
            [self._parameters.stream],
            self._schedule,
            self.start_epoch_ms,
            self._on_file_ready,
            lead=0,
            lead_frame_seconds=_FRAME_SECONDS,
            container_format=self._stored.container,
            cut=self._cut,
        )

    def pause(self) -> None:
        """The recording pauses: the open segment ends (the next starts on a keyframe, after
        a discontinuity)."""
        if self.hls is not None:
            self.hls.pause()

    def resume(self, gap: float) -> None:
        """Frames carry the sender's time, which ran on through the pause: ask a keyframe."""
        self._wants_keyframe = True

    def finish(self) -> None:
        """The last segment and the final playlist."""
        if self.hls is not None:
            self.hls.close()
        for parameters in [*self._retired, self._parameters]:
            if parameters is not None:
                parameters.close()

    def files(self) -> list[OutputFile]:
        """The playlist once it lists a segment."""
        return [self._file] if self.hls is not None and self.hls.has_segments else []
