"""An individual recording that stores video as received: VP8 frames in, WebM slices out, cut on
keyframes it asks for. Synthetic VP8 (libvpx, keyframes only when asked) through the real
pipeline and its worker thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.media_files import decode_video, open_media, slices
from tests.unit.cloudrec_recorder.media.senders import H264Sender, Vp8Sender
from tests.unit.cloudrec_recorder.media.synth import close_to

from cloudrec_recorder.media.config import IndividualConfig, OutputFile, StreamTypes, TrackType
from cloudrec_recorder.media.group import RecordingGroup
from cloudrec_recorder.media.pipeline import IndividualRecording, RecordingNames
from cloudrec_recorder.media.snapshot import SnapshotConfig, SnapshotRecording

RED, BLUE = (220, 30, 30), (30, 30, 220)
TICKS = 6000  # 90 kHz at 15 fps


def stored(tmp_path: Path) -> IndividualRecording:
    config = IndividualConfig(
        stream_types=StreamTypes.VIDEO_ONLY,
        video_as_sent=True,
        segment_seconds=1.0,
        first_segment_seconds=None,
    )
    return IndividualRecording(tmp_path, RecordingNames("sid", "room"), config, lambda _: None)


async def send(
    recording: IndividualRecording, frames: int, *, join_at: int = 0, codec: str = "VP8"
) -> tuple[list[OutputFile], list[int]]:
    """``frames`` frames (red, then blue from the middle), the recording getting them from frame
    ``join_at`` on (a subscription to a running stream); a keyframe first and then only when the
    recording asks. Returns the files and the frames after which it asked."""
    sender = Vp8Sender(160, 120) if codec == "VP8" else H264Sender(160, 120)
    recording.start()
    asked: list[int] = []
    wanted = False
    for n in range(frames):
        key = n == 0 or wanted
        data = sender.frame(RED if n < frames // 2 else BLUE, keyframe=key)
        if n < join_at:
            continue
        recording.push_video_packet("11", codec, data, (n - join_at) * TICKS)
        await asyncio.sleep(0.06)
        if recording.wants_keyframe("11"):
            asked.append(n)
            wanted = True
        elif key:
            wanted = False
    return list(await recording.stop()), asked


def test_stored_vp8_is_cut_into_webm_slices_that_each_open_on_a_keyframe(tmp_path: Path) -> None:
    recording = stored(tmp_path)
    files, asked = asyncio.run(send(recording, 60))
    assert [(f.name, f.track_type) for f in files] == [
        ("sid_room__uid_s_11__uid_e_video.m3u8", TrackType.VIDEO)
    ]
    parts = slices(tmp_path / files[0].name)
    assert len(parts) >= 3 and all(p.suffix == ".webm" for p in parts)
    for part in parts:
        with open_media(part) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "vp8"
            assert next(container.demux(stream)).is_keyframe, part
    # asked when it started and at every 1 s boundary (15 frames) that passed without a keyframe
    assert asked[0] < 3 and len(asked) >= 3  # (the worker reads frames every 50 ms)
    frames = decode_video(tmp_path / files[0].name).frames
    assert len(frames) == 60
    assert close_to(frames[0][1][60, 80], RED) and close_to(frames[-1][1][60, 80], BLUE)


def test_frames_before_the_first_keyframe_are_not_stored(tmp_path: Path) -> None:
    recording = stored(tmp_path)
    files, asked = asyncio.run(send(recording, 30, join_at=5))
    assert 5 <= asked[0] < 8  # at once, and nothing is written until the keyframe comes
    frames = decode_video(tmp_path / files[0].name).frames
    first_key = asked[0] + 1
    assert len(frames) == 30 - first_key
    assert abs(frames[0][0] - (first_key - 5) / 15) < 0.01


def test_with_snapshots_the_recording_stores_packets_and_the_snapshots_get_pictures(
    tmp_path: Path,
) -> None:
    recording = stored(tmp_path)
    group = RecordingGroup(
        [
            recording,
            SnapshotRecording(tmp_path, RecordingNames("sid", "room"), SnapshotConfig(5), print),
        ]
    )
    assert group.copies_video and group.decodes_video
    assert RecordingGroup([stored(tmp_path)]).decodes_video is False


def test_stored_h264_is_cut_into_ts_slices_that_each_open_on_a_keyframe(tmp_path: Path) -> None:
    recording = stored(tmp_path)
    files, _ = asyncio.run(send(recording, 45, codec="H264"))
    parts = slices(tmp_path / files[0].name)
    assert len(parts) >= 2 and all(p.suffix == ".ts" for p in parts)
    for part in parts:
        with open_media(part) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert next(p for p in container.demux(stream) if p.size).is_keyframe, part
    frames = decode_video(tmp_path / files[0].name).frames
    assert len(frames) == 45
    assert close_to(frames[0][1][60, 80], RED) and close_to(frames[-1][1][60, 80], BLUE)


async def send_with_pause(
    recording: IndividualRecording, frames: int, paused: range
) -> tuple[list[OutputFile], list[int]]:
    """As :func:`send`, the recording paused for the frames in ``paused`` (the sender goes on:
    its frames then are not fed, as the follower drops them)."""
    sender = Vp8Sender(160, 120)
    recording.start()
    asked: list[int] = []
    wanted = False
    for n in range(frames):
        if n == paused.start:
            recording.pause()
        if n == paused.stop:
            recording.resume()
        key = n == 0 or wanted
        data = sender.frame(BLUE if n in paused else RED, keyframe=key)
        if n in paused:
            await asyncio.sleep(0.06)
            continue
        recording.push_video_packet("11", "VP8", data, n * TICKS)
        await asyncio.sleep(0.06)
        if recording.wants_keyframe("11"):
            asked.append(n)
            wanted = True
        elif key:
            wanted = False
    return list(await recording.stop()), asked


def test_stored_video_after_a_pause_goes_on_after_a_discontinuity_from_a_keyframe_it_asks_for(
    tmp_path: Path,
) -> None:
    recording = stored(tmp_path)
    files, asked = asyncio.run(send_with_pause(recording, 60, range(20, 35)))
    assert any(n >= 35 for n in asked)  # a keyframe asked for after the resume
    playlist = (tmp_path / files[0].name).read_text()
    assert playlist.count("#EXT-X-DISCONTINUITY") == 1, playlist
    after = playlist.split("#EXT-X-DISCONTINUITY")[1]
    assert ".webm" in after
    frames = decode_video(tmp_path / files[0].name).frames
    assert not [t for t, f in frames if close_to(f[60, 80], BLUE)]
    assert 20 + 20 <= len(frames) <= 60 - 15  # what came before and after the pause
