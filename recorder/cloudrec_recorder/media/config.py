"""Settings of a media pipeline: the mix canvas, audio profile, stream types and output formats.

The layout, render mode, audio profile and stream type enums are the protocol's own
(``cloudrec_protocol.enums``), so a wire value converts with ``VideoLayout(n)``; the
media package depends on no protocol model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from cloudrec_protocol.canvas import canvas_problem
from cloudrec_protocol.enums import AudioProfile, RenderMode, StreamMode, StreamTypes, VideoLayout

__all__ = [
    "SUPPORTED_FPS",
    "AudioProfile",
    "IndividualConfig",
    "MixConfig",
    "OutputFile",
    "RegionSpec",
    "RenderMode",
    "StreamMode",
    "StreamTypes",
    "TrackType",
    "VideoLayout",
    "audio_bitrate",
    "audio_channels",
    "effective_fps",
    "parse_color",
]

_COLOR = re.compile(r"^#([0-9A-Fa-f]{6})$")


class TrackType(StrEnum):
    """`trackType` of a fileList entry (protocol.md §3.3)."""

    AUDIO = "audio"
    VIDEO = "video"
    AUDIO_AND_VIDEO = "audio_and_video"


def audio_channels(profile: AudioProfile) -> int:
    """Number of output channels for an audio profile."""
    return 2 if profile is AudioProfile.MUSIC_HIGH_QUALITY_STEREO else 1


def audio_bitrate(profile: AudioProfile) -> int:
    """AAC bit rate in bit/s for an audio profile."""
    return {
        AudioProfile.MUSIC_STANDARD: 48_000,
        AudioProfile.MUSIC_HIGH_QUALITY: 128_000,
        AudioProfile.MUSIC_HIGH_QUALITY_STEREO: 192_000,
    }[profile]


SUPPORTED_FPS = (1, 7, 10, 15, 24, 30, 60)


def effective_fps(fps: int) -> int:
    """The frame rate a mix uses: a supported one as given, anything else falls back to 15."""
    return fps if fps in SUPPORTED_FPS else 15


def parse_color(color: str) -> tuple[int, int, int]:
    """`#RRGGBB` -> (r, g, b); anything else is a ValueError naming the value."""
    match = _COLOR.match(color)
    if match is None:
        raise ValueError(f"backgroundColor must be #RRGGBB, got {color!r}")
    value = int(match.group(1), 16)
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


@dataclass(frozen=True)
class RegionSpec:
    """One `layoutConfig` entry: a region in relative units [0, 1] of the canvas."""

    x: float
    y: float
    width: float
    height: float
    uid: str | None = None
    alpha: float = 1.0
    render_mode: RenderMode = RenderMode.CROP

    def __post_init__(self) -> None:
        for name in ("x", "y", "width", "height", "alpha"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"layoutConfig {name} must be in [0, 1], got {value}")


def _check_segment_seconds(segment_seconds: float, first_segment_seconds: float | None) -> None:
    if not 0.5 <= segment_seconds <= 60:
        raise ValueError(f"segment_seconds must be in [0.5, 60], got {segment_seconds}")
    if first_segment_seconds is not None and first_segment_seconds < 0.5:
        raise ValueError(f"first_segment_seconds must be at least 0.5, got {first_segment_seconds}")


@dataclass(frozen=True)
class MixConfig:
    """A mix recording: one canvas (transcodingConfig), one mixed audio track.

    Defaults are the protocol's (360x640 portrait, 15 fps, 500 kbps, floating layout, black).
    The canvas must pass :func:`cloudrec_protocol.canvas.canvas_problem` (even sides, at most
    1920 on a side and 1920 x 1080 pixels: what the CRD accepts too). The first HLS segment is
    shorter (`first_segment_seconds`, at most `segment_seconds`) so that something playable
    reaches the spool quickly: 1 s, so that the first segment is in the bucket within 2.5 s
    of the start (issue 13; BENCHMARKS.md "Start and stop at 9 publishers").
    """

    width: int = 360
    height: int = 640
    fps: int = 15
    bitrate_kbps: int = 500
    layout: VideoLayout = VideoLayout.FLOAT
    max_resolution_uid: str | None = None
    regions: tuple[RegionSpec, ...] = ()
    background_color: str = "#000000"
    audio_profile: AudioProfile = AudioProfile.MUSIC_STANDARD
    stream_types: StreamTypes = StreamTypes.AUDIO_AND_VIDEO
    segment_seconds: float = 4.0
    first_segment_seconds: float | None = 1.0
    mp4: bool = False
    mp4_max_seconds: float = 7200.0
    """A new MP4 starts at the next segment boundary once the current one is this long..."""
    mp4_max_bytes: int = 2 * 1024**3
    """...or this large (the service's ≈ 2 h / ≈ 2 GB)."""
    x264_preset: str = "veryfast"
    encoder_threads: int = 0  # 0: one x264 thread up to 1280x720, two above
    video_stopped_seconds: float = 3.5
    """A uid without a new frame for this long shows its background picture, if it has one
    (protocol.md §3.2.2: "shown when a user's video stops > 3.5 s"); without a picture its
    last frame stays."""

    def __post_init__(self) -> None:
        problem = canvas_problem(self.width, self.height)
        if problem is not None:
            raise ValueError(problem)
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be in [1, 60], got {self.fps}")
        if not 1 <= self.bitrate_kbps <= 6500:
            raise ValueError(f"bitrate must be in [1, 6500] kbps, got {self.bitrate_kbps}")
        if len(self.regions) > 17:
            raise ValueError(f"layoutConfig holds at most 17 regions, got {len(self.regions)}")
        parse_color(self.background_color)
        _check_segment_seconds(self.segment_seconds, self.first_segment_seconds)


@dataclass(frozen=True)
class IndividualConfig:
    """An individual recording: one audio and one video HLS per uid, each at the uid's own size.

    With `video_as_sent` (what a start gets unless its streamMode is standard) each uid's
    video is stored as received, not decoded: VP8 in WebM slices, H.264 in TS slices
    (protocol.md §8). Otherwise it is re-encoded (H.264 in TS) at `fps` on a fixed clock at
    the size of the uid's first frame (rounded down to even numbers); later frames of another
    size are scaled to it. `stream_mode` `standard` adds, per uid with both audio and video, a
    merged audio+video playlist over the two (no extra encoding); it needs TS slices, so it
    re-encodes the video.
    """

    fps: int = 15
    bitrate_kbps: int = 500
    audio_profile: AudioProfile = AudioProfile.MUSIC_STANDARD
    stream_types: StreamTypes = StreamTypes.AUDIO_AND_VIDEO
    stream_mode: StreamMode = StreamMode.DEFAULT
    segment_seconds: float = 4.0
    first_segment_seconds: float | None = 2.0
    x264_preset: str = "veryfast"
    encoder_threads: int = 0  # 0: one x264 thread up to 1280x720, two above
    video_as_sent: bool = False
    """Store each uid's video as received (what a start asks for unless streamMode standard)."""

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be in [1, 60], got {self.fps}")
        if not 1 <= self.bitrate_kbps <= 6500:
            raise ValueError(f"bitrate must be in [1, 6500] kbps, got {self.bitrate_kbps}")
        if self.video_as_sent and self.stream_mode is StreamMode.STANDARD:
            raise ValueError("streamMode standard re-encodes the video (its merged playlist)")
        _check_segment_seconds(self.segment_seconds, self.first_segment_seconds)


@dataclass(frozen=True)
class OutputFile:
    """One entry of the file list (protocol.md §3.3): a playlist or an MP4 in the spool."""

    name: str
    track_type: TrackType
    uid: str
    mixed_all_user: bool
    slice_start_time_ms: int
    is_playable: bool = True
