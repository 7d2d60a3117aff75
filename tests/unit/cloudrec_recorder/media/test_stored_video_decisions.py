"""The pure parts of storing video as received: keyframes read from the bitstream, how each
codec is stored, when a stream asks for a keyframe, and which starts store video as sent."""

from __future__ import annotations

import pytest
from tests.unit.cloudrec_recorder.media.senders import Vp8Sender

from cloudrec_protocol.enums import StreamMode
from cloudrec_protocol.models import RecordingConfig
from cloudrec_recorder.media.bitstream import (
    StoredVideo,
    VideoCodec,
    is_keyframe,
    stored_video,
    vp8_size,
)
from cloudrec_recorder.media.config import IndividualConfig
from cloudrec_recorder.media.keyframes import KeyframeWanted, keyframe_wanted
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.startplan import individual_config


def test_a_vp8_keyframe_is_told_from_a_delta_frame_and_gives_the_picture_size() -> None:
    sender = Vp8Sender(320, 180)
    key = sender.frame((10, 200, 10), keyframe=True)
    delta = sender.frame((10, 200, 10))
    assert is_keyframe(VideoCodec.VP8, key) and vp8_size(key) == (320, 180)
    assert not is_keyframe(VideoCodec.VP8, delta) and vp8_size(delta) is None


SPS, PPS, IDR, SLICE = b"\x67\x42\x00", b"\x68\xce", b"\x65\x88\x84", b"\x41\x9a\x02"


@pytest.mark.parametrize(
    ("data", "keyframe"),
    [
        (b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS + b"\x00\x00\x01" + IDR, True),
        (b"\x00\x00\x00\x01" + IDR, True),
        (b"\x00\x00\x00\x01" + SLICE, False),
        (b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS, False),
        (b"", False),
    ],
    ids=["sps-pps-idr", "idr", "non-idr-slice", "parameters-only", "empty"],
)
def test_an_h264_access_unit_is_a_keyframe_when_it_holds_an_idr_slice(
    data: bytes, keyframe: bool
) -> None:
    assert is_keyframe(VideoCodec.H264, data) is keyframe


@pytest.mark.parametrize(
    ("codec", "stored"),
    [
        ("VP8", StoredVideo("webm", "webm", "libvpx")),
        ("vp8", StoredVideo("webm", "webm", "libvpx")),
        ("H264", StoredVideo("mpegts", "ts", "libx264")),
        ("VP9", None),
        ("AV1", None),
    ],
)
def test_each_received_codec_is_stored_in_the_container_protocol_section_8_names(
    codec: str, stored: StoredVideo | None
) -> None:
    assert stored_video(codec) == stored


@pytest.mark.parametrize(
    ("state", "wanted"),
    [
        (KeyframeWanted(t=0.0, started=False, next_cut=0.0, last_request=None), True),
        (KeyframeWanted(t=0.5, started=False, next_cut=0.0, last_request=0.0), False),
        (KeyframeWanted(t=1.0, started=False, next_cut=0.0, last_request=0.0), True),
        (KeyframeWanted(t=3.9, started=True, next_cut=4.0, last_request=0.0), False),
        (KeyframeWanted(t=4.0, started=True, next_cut=4.0, last_request=0.0), True),
        (KeyframeWanted(t=4.5, started=True, next_cut=4.0, last_request=4.0), False),
        (KeyframeWanted(t=5.0, started=True, next_cut=4.0, last_request=4.0), True),
        (KeyframeWanted(t=6.0, started=True, next_cut=8.0, last_request=4.0), False),
    ],
    ids=[
        "a-stream-starting-asks",
        "still-waiting-asks-again-only-after-the-retry",
        "still-waiting-after-the-retry-asks-again",
        "before-the-boundary-nothing",
        "at-the-boundary-without-a-keyframe-asks",
        "just-asked",
        "boundary-passed-a-second-ago-asks-again",
        "the-keyframe-came-the-next-boundary-is-ahead",
    ],
)
def test_a_stored_stream_asks_for_a_keyframe_when_it_starts_or_a_boundary_passes_without_one(
    state: KeyframeWanted, wanted: bool
) -> None:
    assert keyframe_wanted(state) is wanted


@pytest.mark.parametrize(
    ("stream_mode", "stream_types", "as_sent"),
    [
        (None, 2, True),
        (None, 1, True),
        (StreamMode.DEFAULT, 2, True),
        (StreamMode.ORIGINAL, 0, True),  # no video: nothing to store
        (StreamMode.STANDARD, 2, False),
    ],
)
def test_individual_starts_store_video_as_received_unless_standard_needs_ts_for_its_merged_playlist(
    stream_mode: StreamMode | None, stream_types: int, as_sent: bool
) -> None:
    config = RecordingConfig.model_validate(
        {"streamTypes": stream_types, **({"streamMode": stream_mode} if stream_mode else {})}
    )
    settings = RecorderSettings.model_construct(hls_segment_seconds=4.0)
    assert individual_config(config, settings).video_as_sent is as_sent


def test_standard_with_video_as_sent_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="streamMode standard"):
        IndividualConfig(stream_mode=StreamMode.STANDARD, video_as_sent=True)
