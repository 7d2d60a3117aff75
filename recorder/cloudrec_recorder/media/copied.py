"""One uid's audio as it was sent, Opus not transcoded, in HLS TS slices (``streamMode``
``original``).

Packets come with their RTP time in 48 kHz samples from the uid's first packet; they are
muxed as they are into MPEG-TS segments (FFmpeg's TS muxer carries Opus with its control
header), cut at the recording's segment boundaries, with the playlist the other outputs write.
The stream's parameters (the ``OpusHead``) come from an Opus encoder that is opened but never
fed, as the transcoded outputs take theirs from their encoders.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from cloudrec_recorder.media.config import OutputFile, TrackType
from cloudrec_recorder.media.cut import Cut
from cloudrec_recorder.media.hls import HlsWriter, SegmentSchedule
from cloudrec_recorder.media.output import OutputNames
from cloudrec_recorder.media.spool import FileReady

__all__ = ["OPUS_RATE", "CopiedAudioOutput", "opus_samples"]

OPUS_RATE = 48_000
_TIME_BASE = Fraction(1, OPUS_RATE)
_FRAME_MS = (10.0, 20.0, 40.0, 60.0)
_CELT_MS = (2.5, 5.0, 10.0, 20.0)


def opus_samples(packet: bytes) -> int:
    """How many 48 kHz samples an Opus packet holds, from its TOC byte (RFC 6716 §3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        ms = _FRAME_MS[config % 4]
    elif config < 16:
        ms = _FRAME_MS[config % 2]
    else:
        ms = _CELT_MS[config % 4]
    code = toc & 0x3
    frames = (
        1 if code == 0 else 2 if code in (1, 2) else (packet[1] & 0x3F if len(packet) > 1 else 0)
    )
    return round(frames * ms * OPUS_RATE / 1000)


class CopiedAudioOutput:
    """Opus packets in, TS slices and a playlist out (worker thread only)."""

    def __init__(
        self,
        spool_dir: Path,
        names: OutputNames,
        schedule: SegmentSchedule,
        on_file_ready: FileReady,
        *,
        uid: str,
        start_epoch_ms: int,
        cut: Cut | None = None,
        shift: int = 0,
    ) -> None:
        self._holder = av.open(os.devnull, "w", format="null")
        template = self._holder.add_stream("libopus", rate=OPUS_RATE, layout="stereo")
        template.codec_context.time_base = _TIME_BASE
        self._holder.start_encoding()  # fills the stream's parameters (OpusHead)
        self.start_epoch_ms = start_epoch_ms
        self.hls = HlsWriter(
            spool_dir,
            names.playlist,
            names.segment,
            [template],
            schedule,
            start_epoch_ms,
            on_file_ready,
            lead=0,
            lead_frame_seconds=0.02,
            cut=cut,
        )
        self._shift = shift
        """Added to every packet's time (a hand-over's taker: the giver's times)."""
        self._file = OutputFile(names.playlist, TrackType.AUDIO, uid, False, start_epoch_ms)
        self._end = -1

    def write(self, data: bytes, timestamp: int) -> None:
        """Mux one packet at ``timestamp`` (48 kHz samples from time 0); late ones are dropped."""
        timestamp += self._shift
        if timestamp < self._end:
            return
        samples = opus_samples(data) or 960
        packet = av.Packet(data)
        packet.pts = packet.dts = timestamp
        packet.duration = samples
        packet.time_base = _TIME_BASE
        self.hls.mux(0, packet)
        self._end = timestamp + samples

    def pause(self) -> None:
        """The recording pauses: the open segment ends (the next is a discontinuity)."""
        self.hls.pause()

    def resume(self, gap: float) -> None:
        """Packets carry the sender's time, which ran on through the pause: nothing moves."""

    def finish(self) -> None:
        """The last segment and the final playlist."""
        self.hls.close()
        self._holder.close()

    def files(self) -> list[OutputFile]:
        """The playlist once it lists a segment."""
        return [self._file] if self.hls.has_segments else []
