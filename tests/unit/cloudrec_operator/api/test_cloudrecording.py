"""Unit tests of the CloudRecording models: defaults, limits and combination rules."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from cloudrec_operator.api.enums import (
    AudioProfile,
    BackendKind,
    ChannelType,
    DecryptionMode,
    DesiredState,
    Layout,
    OutputFormat,
    RecordingErrorCode,
    RecordingMode,
    ReleasePolicy,
    RestartPolicy,
    StreamTypes,
    VideoStreamType,
)
from cloudrec_operator.api.v1alpha1 import (
    API_VERSION,
    CloudRecording,
    CloudRecordingSpec,
    CloudRecordingStatus,
    RecordingConfig,
    RecordingError,
    StorageConfig,
    TranscodingConfig,
)
from cloudrec_protocol.canvas import canvas_problem

SPEC: dict[str, Any] = {
    "backendRef": {"name": "self-hosted"},
    "channelName": "demo-room",
    "uid": "100001",
    "storageConfig": {
        "vendor": "S3Compatible",
        "endpoint": "http://127.0.0.1:7070",
        "bucket": "recordings",
        "credentialsSecretRef": {"name": "storage-credentials"},
    },
}


def spec(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(SPEC)
    out.update(changes)
    return out


def test_minimal_spec_gets_the_seed_defaults() -> None:
    parsed = CloudRecordingSpec.model_validate(SPEC)
    config = parsed.recording_config
    assert config.mode is RecordingMode.MIX
    assert config.stream_types is StreamTypes.AUDIO_VIDEO
    assert config.decryption.mode is DecryptionMode.NONE
    assert config.channel_type is ChannelType.COMMUNICATION
    assert config.audio_profile is AudioProfile.MUSIC_STANDARD
    assert config.video_stream_type is VideoStreamType.HIGH
    assert config.max_idle_time == 30
    assert config.output_formats == [OutputFormat.HLS]
    tc = config.transcoding_config
    assert (tc.width, tc.height, tc.fps, tc.bitrate, tc.layout) == (360, 640, 15, 500, Layout.FLOAT)
    assert tc.background_color == "#000000"
    assert parsed.backend_ref.kind is BackendKind.RECORDING_BACKEND
    assert parsed.state is DesiredState.RECORDING
    assert parsed.release_policy is ReleasePolicy.STOP
    assert parsed.restart_policy is RestartPolicy.NEVER
    assert parsed.token_secret_ref is None and parsed.app_id is None


def test_zero_max_idle_time_means_the_default_thirty_seconds() -> None:
    assert RecordingConfig(max_idle_time=0).effective_max_idle_time == 30
    assert RecordingConfig(max_idle_time=300).effective_max_idle_time == 300


def test_snake_case_names_are_accepted_and_dumps_use_camel_case() -> None:
    config = TranscodingConfig(max_resolution_uid="7", layout=Layout.VERTICAL)
    assert config.dump()["maxResolutionUid"] == "7"
    assert (
        TranscodingConfig.model_validate({"maxResolutionUid": "7", "layout": "Vertical"}) == config
    )


def test_dump_leaves_out_unset_optional_fields() -> None:
    dumped = CloudRecordingSpec.model_validate(SPEC).dump()
    assert "appId" not in dumped and "tokenSecretRef" not in dumped
    assert "regions" not in dumped["recordingConfig"]["transcodingConfig"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"uid": "0"}, "uid"),
        ({"uid": "4294967296"}, "spec.uid must be at most 4294967295"),
        ({"uid": 5}, "uid"),
        ({"channelName": "c" * 64}, "channelName"),
        ({"channelName": "a/b"}, "channelName"),
        ({"channelName": ""}, "channelName"),
        ({"state": "Suspended"}, "state"),
        ({"backendRef": {"kind": "Issuer", "name": "x"}}, "kind"),
        ({"appId": "has space"}, "appId"),
        ({"unknownField": 1}, "unknownField"),
    ],
    ids=[
        "uid-zero",
        "uid-above-2^32-1",
        "uid-as-an-int",
        "channel-64-chars",
        "channel-with-slash",
        "channel-empty",
        "state-unknown",
        "backend-kind-issuer",
        "app-id-with-space",
        "unknown-field",
    ],
)
def test_invalid_spec_field_is_refused_naming_the_field(
    changes: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        CloudRecordingSpec.model_validate(spec(**changes))


@pytest.mark.parametrize(
    "channel",
    ["a", "Room 1", "!#$%&()+-:;<=.>?@[]^_{}|~,", "c" * 63],
    ids=["one-char", "space", "every-symbol", "63-chars"],
)
def test_channel_names_from_the_protocol_character_set_are_accepted(channel: str) -> None:
    assert CloudRecordingSpec.model_validate(spec(channelName=channel)).channel_name == channel


@pytest.mark.parametrize("uid", ["1", "4294967295", "100001"], ids=str)
def test_uids_in_range_are_accepted(uid: str) -> None:
    assert CloudRecordingSpec.model_validate(spec(uid=uid)).uid == uid


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"width": 1922}, "less than or equal to 1920"),
        ({"width": 1920, "height": 1082}, "must not exceed 1920x1080"),
        ({"width": 321}, "multiple of 2"),
        ({"height": 241}, "multiple of 2"),
        ({"width": 16, "height": 129600}, "less than or equal to 1920"),
        ({"fps": 12}, "fps"),
        ({"bitrate": 6501}, "less than or equal to 6500"),
        ({"bitrate": 0}, "greater than or equal to 1"),
        ({"backgroundColor": "#12345"}, "backgroundColor"),
        ({"maxResolutionUid": "5"}, "only with the Vertical layout"),
        ({"layout": "Vertical", "maxResolutionUid": "0"}, "maxResolutionUid"),
        ({"layout": "Custom"}, "regions is required with the Custom layout"),
        ({"layout": "Custom", "regions": []}, "regions is required with the Custom layout"),
        (
            {"regions": [{"xAxis": 0, "yAxis": 0, "width": 1, "height": 1}]},
            "only with the Custom layout",
        ),
        (
            {"layout": "Custom", "regions": [{"xAxis": 0, "yAxis": 0, "width": 1, "height": 1.1}]},
            "less than or equal to 1",
        ),
        (
            {
                "layout": "Custom",
                "regions": [{"xAxis": 0, "yAxis": 0, "width": 1, "height": 1}] * 18,
            },
            "at most 17",
        ),
    ],
    ids=[
        "width-1922",
        "more-than-1080p-pixels",
        "odd-width",
        "odd-height",
        "a-canvas-the-encoder-cannot-hold",
        "fps-12",
        "bitrate-6501",
        "bitrate-0",
        "colour-5-digits",
        "max-resolution-uid-with-float",
        "max-resolution-uid-zero",
        "custom-without-regions",
        "custom-with-empty-regions",
        "regions-with-float",
        "region-taller-than-canvas",
        "eighteen-regions",
    ],
)
def test_invalid_transcoding_config_is_refused(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        TranscodingConfig.model_validate(config)


@pytest.mark.parametrize(
    "config",
    [
        {"width": 1920, "height": 1080, "fps": 60, "bitrate": 6500},
        {"width": 1080, "height": 1920},
        {"layout": "Vertical", "maxResolutionUid": "4294967295"},
        {"layout": "Custom", "regions": [{"xAxis": 0, "yAxis": 0, "width": 1, "height": 1}] * 17},
        {"layout": "BestFit", "backgroundColor": "#aBcDeF"},
    ],
    ids=["1080p60-at-6500", "portrait-1080p", "vertical-max-uid", "seventeen-regions", "best-fit"],
)
def test_valid_transcoding_configs_at_the_limits_are_accepted(config: dict[str, Any]) -> None:
    TranscodingConfig.model_validate(config)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"maxIdleTime": 4}, "maxIdleTime must be 0"),
        ({"maxIdleTime": 2592001}, "less than or equal to 2592000"),
        ({"maxIdleTime": -1}, "greater than or equal to 0"),
        ({"subscribeAudioUids": ["1"], "unsubscribeAudioUids": ["2"]}, "mutually exclusive"),
        ({"subscribeVideoUids": ["1"], "unsubscribeVideoUids": ["2"]}, "mutually exclusive"),
        ({"subscribeAudioUids": [str(n) for n in range(1, 34)]}, "at most 32"),
        ({"subscribeAudioUids": ["1", "1"]}, "unique"),
        ({"subscribeAudioUids": ["4294967296"]}, "out of range"),
        ({"unsubscribeVideoUids": ["bob"]}, "pattern"),
        ({"outputFormats": ["MP4"]}, "only together with HLS"),
        ({"outputFormats": ["HLS", "MP4"], "mode": "Individual"}, "only in Mix mode"),
        ({"outputFormats": []}, "may be empty only with snapshotConfig"),
        ({"outputFormats": ["HLS", "HLS"]}, "must not repeat"),
        ({"decryption": {"mode": "AES128ECB"}}, "secretRef is required"),
        ({"hlsSegmentSeconds": 0}, "greater than or equal to 1"),
    ],
    ids=[
        "idle-4",
        "idle-above-30-days",
        "idle-negative",
        "audio-lists-together",
        "video-lists-together",
        "33-uids",
        "repeated-uid",
        "uid-above-range",
        "uid-name",
        "mp4-alone",
        "mp4-individual",
        "no-format",
        "hls-twice",
        "decryption-without-secret",
        "zero-second-segments",
    ],
)
def test_invalid_recording_config_is_refused(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        RecordingConfig.model_validate(config)


@pytest.mark.parametrize(
    "config",
    [
        {"maxIdleTime": 0},
        {"maxIdleTime": 5},
        {"maxIdleTime": 2592000},
        {"subscribeAudioUids": ["#allstream#"], "unsubscribeVideoUids": ["3"]},
        {"subscribeAudioUids": [str(n) for n in range(1, 33)]},
        {"outputFormats": ["HLS", "MP4"]},
        {"mode": "Individual", "streamTypes": "AudioOnly"},
        {"decryption": {"mode": "AES256GCM2", "secretRef": {"name": "enc"}}},
    ],
    ids=[
        "idle-0",
        "idle-5",
        "idle-30-days",
        "allstream-audio-and-video-block-list",
        "32-uids",
        "hls-and-mp4-in-mix",
        "individual-audio-only",
        "gcm2-with-secret",
    ],
)
def test_valid_recording_configs_are_accepted(config: dict[str, Any]) -> None:
    RecordingConfig.model_validate(config)


@pytest.mark.parametrize(
    ("storage", "fragment"),
    [
        ({"endpoint": None}, "endpoint is required when vendor is S3Compatible"),
        ({"fileNamePrefix": ["a-b"]}, "pattern"),
        ({"fileNamePrefix": ["d" * 20] * 7}, "at most 128 characters"),
        ({"region": 256}, "less than or equal to 255"),
        ({"vendor": "Dropbox"}, "vendor"),
        ({"bucket": ""}, "bucket"),
    ],
    ids=[
        "s3-compatible-without-endpoint",
        "prefix-dash",
        "prefix-too-long",
        "region-256",
        "vendor",
        "empty-bucket",
    ],
)
def test_invalid_storage_config_is_refused(storage: dict[str, Any], fragment: str) -> None:
    data = {**SPEC["storageConfig"], **storage}
    with pytest.raises(ValidationError, match=fragment):
        StorageConfig.model_validate({k: v for k, v in data.items() if v is not None})


def test_storage_credentials_keys_default_to_access_key_and_secret_key() -> None:
    ref = StorageConfig.model_validate(SPEC["storageConfig"]).credentials_secret_ref
    assert (ref.access_key_key, ref.secret_key_key) == ("accessKey", "secretKey")


def test_prefix_of_exactly_128_characters_is_accepted() -> None:
    prefix = ["d" * 15] * 8  # 120 characters + 7 slashes = 127
    prefix[0] = "d" * 16  # 128
    data = {**SPEC["storageConfig"], "fileNamePrefix": prefix, "vendor": "AmazonS3"}
    assert StorageConfig.model_validate(data).file_name_prefix == prefix


def test_cloud_recording_round_trips_through_its_kubernetes_form() -> None:
    obj = CloudRecording.model_validate(
        {
            "apiVersion": API_VERSION,
            "kind": "CloudRecording",
            "metadata": {"name": "x"},
            "spec": SPEC,
        }
    )
    assert CloudRecording.model_validate(obj.dump()) == obj
    assert obj.dump()["apiVersion"] == API_VERSION


def test_wrong_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        CloudRecording.model_validate({"kind": "RecordingBackend", "spec": SPEC})


def test_recording_error_reason_is_filled_in_from_the_code() -> None:
    error = RecordingError(code=RecordingErrorCode.UPLOADER_FAILED, message="bucket gone")
    assert error.dump() == {"code": 439, "reason": "UploaderFailed", "message": "bucket gone"}


def test_recording_error_with_a_mismatched_reason_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not match code 434"):
        RecordingError.model_validate({"code": 434, "reason": "UploaderFailed"})


def test_status_dumps_times_as_rfc3339_utc_and_parses_back() -> None:
    status = CloudRecordingStatus.model_validate(
        {"phase": "Recording", "startedAt": "2026-01-02T03:04:05Z", "upload": {"progress": 100}}
    )
    assert status.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert status.dump()["startedAt"] == "2026-01-02T03:04:05Z"
    assert status.dump()["conditions"] == []


@pytest.mark.parametrize("progress", [-1, 101], ids=str)
def test_upload_progress_is_a_percentage(progress: int) -> None:
    with pytest.raises(ValidationError, match="progress"):
        CloudRecordingStatus.model_validate({"upload": {"progress": progress}})


@pytest.mark.parametrize(
    ("width", "height"),
    [(w, h) for w in (1, 2, 15, 16, 320, 321, 1080, 1920, 1922) for h in (2, 239, 1080, 1082, 1920)]
    + [(16, 129600), (1440, 1440), (1080, 1920)],
)
def test_the_crd_accepts_exactly_the_canvases_the_encoder_accepts(width: int, height: int) -> None:
    try:
        TranscodingConfig.model_validate({"width": width, "height": height})
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is (canvas_problem(width, height) is None)
