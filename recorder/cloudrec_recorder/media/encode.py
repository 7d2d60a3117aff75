"""The encoders of one output: libx264 for video, AAC for audio.

They live for the whole recording (a segment boundary never restarts them, so audio has no
priming gaps and timestamps run on). Their streams sit in a `null` container that never writes
anything and serve as templates for every file the packets are muxed into (TS segments, MP4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from av.video.frame import PictureType

from cloudrec_recorder.media.audio import SAMPLE_RATE

__all__ = ["AAC_FRAME", "AudioParams", "Encoders", "VideoParams", "encoder_threads"]

AAC_FRAME = 1024  # samples per AAC frame


def encoder_threads(requested: int, width: int, height: int) -> int:
    """x264 threads: as requested, or for 0 one thread up to 1280x720 and two above.

    One thread is the cheapest per frame (what counts when one machine runs many recordings);
    larger canvases get a second so that one recording still keeps up in real time.
    """
    if requested > 0:
        return requested
    return 1 if width * height <= 1280 * 720 else 2


@dataclass(frozen=True)
class VideoParams:
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    keyframe_interval: int
    preset: str = "veryfast"
    threads: int = 0


@dataclass(frozen=True)
class AudioParams:
    channels: int
    bitrate: int


class Encoders:
    """Video and/or audio encoders; `templates` lists their streams (video first)."""

    def __init__(self, video: VideoParams | None, audio: AudioParams | None) -> None:
        if video is None and audio is None:
            raise ValueError("an output needs audio, video or both")
        self._holder = av.open(os.devnull, "w", format="null")
        self.video: av.VideoStream | None = None
        self.audio: av.AudioStream | None = None
        if video is not None:
            stream = self._holder.add_stream(
                "libx264",
                rate=video.fps,
                options={
                    "preset": video.preset,
                    "tune": "zerolatency",
                    "g": str(video.keyframe_interval),
                    "keyint_min": str(video.keyframe_interval),
                    "sc_threshold": "0",
                    "threads": str(encoder_threads(video.threads, video.width, video.height)),
                },
            )
            stream.width, stream.height = video.width, video.height
            stream.pix_fmt = "yuv420p"
            stream.bit_rate = video.bitrate_kbps * 1000
            stream.codec_context.time_base = Fraction(1, video.fps)
            self.video = stream
        if audio is not None:
            layout = "mono" if audio.channels == 1 else "stereo"
            astream = self._holder.add_stream("aac", rate=SAMPLE_RATE, layout=layout)
            astream.bit_rate = audio.bitrate
            astream.codec_context.time_base = Fraction(1, SAMPLE_RATE)
            self.audio = astream
        self._holder.start_encoding()  # opens the encoders, fills the streams' parameters

    @property
    def templates(self) -> list[av.VideoStream | av.AudioStream]:
        return [s for s in (self.video, self.audio) if s is not None]

    def encode_video(
        self, frame: av.VideoFrame | None, *, keyframe: bool = False
    ) -> list[av.Packet[Any]]:
        assert self.video is not None
        if frame is not None:  # a frame may be encoded again (repeated): always set its type
            frame.pict_type = PictureType.I if keyframe else PictureType.NONE
        return list(self.video.codec_context.encode(frame))

    def encode_audio(self, frame: av.AudioFrame | None) -> list[av.Packet[Any]]:
        assert self.audio is not None
        return list(self.audio.codec_context.encode(frame))

    def close(self) -> None:
        self._holder.close()
