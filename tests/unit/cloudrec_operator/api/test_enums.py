"""Unit tests of the API enums: CamelCase values and their protocol numbers."""

from __future__ import annotations

from enum import Enum

import pytest

from cloudrec_operator.api import enums
from cloudrec_operator.api.enums import (
    AudioProfile,
    ChannelType,
    DecryptionMode,
    Layout,
    OutputFormat,
    RecordingErrorCode,
    RecordingMode,
    RenderMode,
    StorageVendor,
    StreamTypes,
    TrackType,
    VideoStreamType,
)


@pytest.mark.parametrize(
    ("member", "code"),
    [
        (StreamTypes.AUDIO_ONLY, 0),
        (StreamTypes.VIDEO_ONLY, 1),
        (StreamTypes.AUDIO_VIDEO, 2),
        (DecryptionMode.NONE, 0),
        (DecryptionMode.AES256XTS, 3),
        (DecryptionMode.SM4128ECB, 4),
        (DecryptionMode.AES256GCM2, 8),
        (ChannelType.COMMUNICATION, 0),
        (ChannelType.LIVE, 1),
        (AudioProfile.MUSIC_HIGH_QUALITY_STEREO, 2),
        (VideoStreamType.LOW, 1),
        (Layout.FLOAT, 0),
        (Layout.BEST_FIT, 1),
        (Layout.VERTICAL, 2),
        (Layout.CUSTOM, 3),
        (RenderMode.FIT, 1),
        (StorageVendor.QINIU, 0),
        (StorageVendor.AMAZON_S3, 1),
        (StorageVendor.BAIDU_CLOUD, 8),
        (StorageVendor.S3_COMPATIBLE, 11),
    ],
    ids=str,
)
def test_member_maps_to_the_protocol_number(member: enums.StreamTypes, code: int) -> None:
    assert member.code == code


def test_the_fourteen_seed_error_codes_have_their_header_values() -> None:
    assert [int(c) for c in RecordingErrorCode] == [0, *range(430, 443)]


@pytest.mark.parametrize(
    ("code", "reason", "seed"),
    [
        (RecordingErrorCode.OK, "Ok", "kRecordingErrorOk"),
        (
            RecordingErrorCode.INVALID_PARAMETER,
            "InvalidParameter",
            "kRecordingErrorInvalidParameter",
        ),
        (RecordingErrorCode.NO_USERS, "NoUsers", "kRecordingErrorNoUsers"),
        (
            RecordingErrorCode.RECORDER_INIT_FAILED,
            "RecorderInitFailed",
            "kRecordingErrorRecorderInitFailed",
        ),
        (
            RecordingErrorCode.UPLOADER_INIT_FAILED,
            "UploaderInitFailed",
            "kRecordingErrorUploaderInitFailed",
        ),
        (
            RecordingErrorCode.RECORDER_EXPIRE_EXIT,
            "RecorderExpireExit",
            "kRecordingErrorRecorderExpireExit",
        ),
        (RecordingErrorCode.GENERAL_ERROR, "GeneralError", "kRecordingErrorGeneralError"),
    ],
    ids=lambda v: str(v),
)
def test_error_code_has_a_camel_case_reason_and_the_seed_name(
    code: RecordingErrorCode, reason: str, seed: str
) -> None:
    assert code.reason == reason
    assert code.seed_name == seed
    assert RecordingErrorCode.from_reason(reason) is code


def test_an_unknown_error_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown recording error reason"):
        RecordingErrorCode.from_reason("Oops")


def test_every_string_enum_value_is_camel_case() -> None:
    string_enums = [
        item
        for item in vars(enums).values()
        if isinstance(item, type) and issubclass(item, Enum) and issubclass(item, str)
    ]
    assert len(string_enums) >= 15
    for item in string_enums:
        for member in item:
            assert member.value[0].isupper(), member
            assert "_" not in member.value and " " not in member.value, member


def test_wire_spellings_of_mode_format_and_track_type() -> None:
    assert RecordingMode.MIX.path_segment == "mix"
    assert RecordingMode.INDIVIDUAL.path_segment == "individual"
    assert [f.wire for f in OutputFormat] == ["hls", "mp4"]
    assert TrackType.from_wire("audio_and_video") is TrackType.AUDIO_AND_VIDEO


def test_only_the_gcm2_modes_need_a_salt() -> None:
    assert {m for m in DecryptionMode if m.needs_salt} == {
        DecryptionMode.AES128GCM2,
        DecryptionMode.AES256GCM2,
    }
