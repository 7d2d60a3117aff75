"""Individual mode's streamMode: ``standard`` adds a merged playlist, ``original`` keeps the
audio as sent (Opus packets, not transcoded). On synthetic media through the real pipeline."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from tests.media_files import decode_audio, decode_video, open_media, stream_kinds
from tests.unit.cloudrec_recorder.media.synth import (
    COLORS,
    TONES,
    Publisher,
    close_to,
    publish,
    run_all,
    tone_levels,
)

from cloudrec_recorder.media.config import IndividualConfig, StreamMode, StreamTypes, TrackType
from cloudrec_recorder.media.copied import opus_samples
from cloudrec_recorder.media.pipeline import IndividualRecording, RecordingNames

SECONDS = 2.5


def opus_packets(freq: int, seconds: float) -> list[bytes]:
    """20 ms Opus packets of a sine at ``freq``, as a WebRTC sender makes them."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base = Fraction(1, 48_000)
    encoder.bit_rate = 64_000
    packets: list[bytes] = []
    for n in range(int(seconds * 50)):
        t = (np.arange(960) + n * 960) / 48_000
        mono = (0.2 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(mono, 2)[None, :], format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts, frame.time_base = 48_000, n * 960, Fraction(1, 48_000)
        packets += [bytes(p) for p in encoder.encode(frame)]
    return packets


def test_original_mode_keeps_each_uids_opus_packets_untranscoded_in_ts_slices(
    tmp_path: Path,
) -> None:
    config = IndividualConfig(
        stream_types=StreamTypes.AUDIO_ONLY,
        stream_mode=StreamMode.ORIGINAL,
        segment_seconds=1.0,
        first_segment_seconds=None,
    )
    recording = IndividualRecording(tmp_path, RecordingNames("sid", "room"), config, lambda _: None)
    sent = {uid: opus_packets(TONES[uid], SECONDS) for uid in ("11", "12")}

    async def record() -> list[object]:
        recording.start()
        for index in range(len(sent["11"])):
            for uid, packets in sent.items():
                recording.push_audio_packet(uid, packets[index], index * 960)
            await asyncio.sleep(0.02)
        return list(await recording.stop())

    files: list[object] = []
    run_all([_collect(record(), files)])
    playlists = sorted((f.name, f.track_type) for f in files)  # type: ignore[attr-defined]
    assert playlists == [
        ("sid_room__uid_s_11__uid_e_audio.m3u8", TrackType.AUDIO),
        ("sid_room__uid_s_12__uid_e_audio.m3u8", TrackType.AUDIO),
    ]
    for uid, other in (("11", "12"), ("12", "11")):
        playlist = tmp_path / f"sid_room__uid_s_{uid}__uid_e_audio.m3u8"
        assert (
            len([line for line in playlist.read_text().splitlines() if line.endswith(".ts")]) >= 2
        )
        with open_media(playlist) as container:
            assert container.streams.audio[0].codec_context.name == "opus"
        kept = b"".join(bytes(p) for segment in _segments(playlist) for p in _packets(segment))
        assert kept == b"".join(sent[uid])  # the very bytes sent, none re-encoded
        samples, rate, _ = decode_audio(playlist)
        levels = tone_levels(samples[rate // 2 : rate * 2], TONES.values())
        assert levels[TONES[uid]] > 20 * levels[TONES[other]], levels


def test_standard_mode_adds_a_merged_playlist_that_plays_the_uids_audio_and_video(
    tmp_path: Path,
) -> None:
    config = IndividualConfig(
        fps=15,
        bitrate_kbps=200,
        segment_seconds=1.0,
        first_segment_seconds=None,
        stream_mode=StreamMode.STANDARD,
    )
    announced: list[str] = []
    recording = IndividualRecording(
        tmp_path, RecordingNames("sid", "room"), config, announced.append
    )
    files: list[object] = []

    async def record() -> list[object]:
        recording.start()
        await publish(recording, [Publisher("11", size=(160, 96))], SECONDS)
        return list(await recording.stop())

    run_all([_collect(record(), files)])
    merged = "sid_room__uid_s_11__uid_e_av.m3u8"
    listed = {(f.name, f.track_type) for f in files}  # type: ignore[attr-defined]
    assert (merged, TrackType.AUDIO_AND_VIDEO) in listed
    assert merged in announced
    playlist = tmp_path / merged
    assert stream_kinds(playlist) == ["audio", "video"]
    assert close_to(decode_video(playlist).frames[-1][1][48, 80], COLORS["11"])
    samples, rate, _ = decode_audio(playlist)
    assert tone_levels(samples[rate // 2 : rate * 2], [TONES["11"]])[TONES["11"]] > 0


def test_the_opus_toc_byte_gives_each_packets_length() -> None:
    assert opus_samples(bytes([0xFC, 0])) == 960  # CELT 20 ms, one frame
    assert opus_samples(bytes([0x78 | 1, 0])) == 1920  # hybrid 20 ms, two frames
    assert opus_samples(bytes([0x08, 0])) == 960  # SILK 20 ms
    assert opus_samples(bytes([0xFB, 3])) == 2880  # CELT 20 ms, code 3, three frames
    assert opus_samples(b"") == 0


async def _collect(job: object, into: list[object]) -> None:
    into.extend(await job)  # type: ignore[misc]


def _segments(playlist: Path) -> list[Path]:
    lines = playlist.read_text().splitlines()
    return [playlist.parent / line for line in lines if line and not line.startswith("#")]


def _packets(segment: Path) -> list[av.Packet]:
    with open_media(segment) as container:
        return [p for p in container.demux(container.streams.audio[0]) if p.size]
