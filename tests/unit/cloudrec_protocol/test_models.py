"""Wire models: JSON keys, lenient input, protocol.md ranges, and secrets that never leak."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

from cloudrec_protocol.enums import Mode, StorageVendor, StreamTypes, VideoLayout
from cloudrec_protocol.models import (
    AcquireClientRequest,
    AcquireRequest,
    FileInfo,
    QueryResponse,
    RecordingConfig,
    RecordingFileConfig,
    StartClientRequest,
    StartParameter,
    StartRequest,
    StopRequest,
    StopResponse,
    StorageConfig,
    TranscodingConfig,
    UpdateLayoutRequest,
    UpdateRequest,
    check_start_for_mode,
    is_valid_cname,
    is_valid_uid,
)

SECRETS = ("AKIA-ACCESS-KEY-1", "very-secret-key-2", "rtc-token-3", "decrypt-pass-4", "sts-5")


def storage(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "vendor": 11,
        "region": 0,
        "bucket": "recordings",
        "accessKey": SECRETS[0],
        "secretKey": SECRETS[1],
        "stsToken": SECRETS[4],
        "fileNamePrefix": ["team", "daily"],
        "extensionParams": {"endpoint": "http://127.0.0.1:7070"},
    }
    base.update(overrides)
    return base


def start_body(**recording: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"maxIdleTime": 60, **recording}
    return {
        "cname": "room-1",
        "uid": "527841",
        "clientRequest": {
            "token": SECRETS[2],
            "recordingConfig": config,
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": storage(),
        },
    }


# ------------------------------------------------------------------ identities


@pytest.mark.parametrize(
    ("uid", "valid"),
    [
        ("1", True),
        ("527841", True),
        ("4294967295", True),
        ("0", False),
        ("4294967296", False),
        ("007", False),
        ("-5", False),
        ("12a", False),
        ("", False),
    ],
)
def test_a_uid_is_the_string_of_an_integer_from_1_to_2_pow_32_minus_1(
    uid: str, valid: bool
) -> None:
    assert is_valid_uid(uid) is valid


@pytest.mark.parametrize(
    ("cname", "valid"),
    [
        ("room-1", True),
        ("a b|c{d}~,", True),
        ("x" * 63, True),
        ("x" * 64, False),
        ("", False),
        ("room/1", False),
        ("caf\u00e9", False),
        ('quote"', False),
    ],
)
def test_a_cname_has_fewer_than_64_bytes_from_the_protocol_character_set(
    cname: str, valid: bool
) -> None:
    assert is_valid_cname(cname) is valid


def test_a_numeric_uid_is_refused_because_the_protocol_wants_a_string() -> None:
    with pytest.raises(ValidationError, match="uid"):
        AcquireRequest.model_validate({"cname": "room", "uid": 527841, "clientRequest": {}})


# ------------------------------------------------------------------ acquire


def test_acquire_defaults_resource_expired_hour_to_72_and_sends_camel_case_keys() -> None:
    request = AcquireRequest(cname="room", uid="5")
    assert request.to_wire() == {
        "cname": "room",
        "uid": "5",
        "clientRequest": {"resourceExpiredHour": 72},
    }


@pytest.mark.parametrize(
    ("hours", "valid"), [(1, True), (720, True), ("24", True), (0, False), (721, False)]
)
def test_resource_expired_hour_lies_in_1_to_720(hours: object, valid: bool) -> None:
    body = {"resourceExpiredHour": hours}
    if valid:
        assert AcquireClientRequest.model_validate(body).resource_expired_hour == int(str(hours))
    else:
        with pytest.raises(ValidationError, match="resourceExpiredHour"):
            AcquireClientRequest.model_validate(body)


def test_acquire_accepts_both_region_and_region_affinity() -> None:
    parsed = AcquireClientRequest.model_validate({"region": "EU", "regionAffinity": 3})
    assert (parsed.region, parsed.region_affinity) == ("EU", 3)
    assert parsed.to_wire() == {"resourceExpiredHour": 72, "region": "EU", "regionAffinity": 3}


# ------------------------------------------------------------------ start


def test_start_round_trips_to_the_same_wire_json() -> None:
    body = start_body(streamTypes=2, subscribeAudioUids=["#allstream#"], subscribeUidGroup=0)
    parsed = StartRequest.model_validate(body)
    wire = parsed.to_wire()
    assert StartRequest.model_validate(wire).to_wire() == wire
    assert wire["clientRequest"]["token"] == SECRETS[2]
    assert wire["clientRequest"]["storageConfig"]["accessKey"] == SECRETS[0]
    assert wire["clientRequest"]["recordingConfig"]["subscribeAudioUids"] == ["#allstream#"]


@pytest.mark.parametrize(
    "spelling", ["unSubscribeAudioUids", "unsubscribeAudioUids"], ids=["camel", "lower"]
)
def test_both_block_list_spellings_are_accepted_and_sent_as_unsubscribe(spelling: str) -> None:
    config = RecordingConfig.model_validate({spelling: ["7"], "unsubscribeVideoUids": ["8"]})
    assert config.un_subscribe_audio_uids == ["7"]
    wire = config.to_wire()
    assert wire["unSubscribeAudioUids"] == ["7"]
    assert wire["unSubscribeVideoUids"] == ["8"]
    assert "unsubscribeAudioUids" not in wire


def test_numbers_given_as_strings_are_parsed_leniently() -> None:
    config = RecordingConfig.model_validate(
        {"streamTypes": "1", "maxIdleTime": "300", "transcodingConfig": {"fps": "30"}}
    )
    assert config.stream_types == StreamTypes.VIDEO_ONLY
    assert config.max_idle_time == 300
    assert config.transcoding_config is not None
    assert config.transcoding_config.fps == 30


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"maxIdleTime": 4}, "maxIdleTime"),
        ({"maxIdleTime": 2_592_001}, "maxIdleTime"),
        ({"streamTypes": 3}, "streamTypes"),
        ({"decryptionMode": 1}, "secret is required"),
        ({"decryptionMode": 7, "secret": "s"}, "salt is required"),
        (
            {"subscribeAudioUids": ["1"], "unSubscribeAudioUids": ["2"]},
            "mutually exclusive",
        ),
        ({"subscribeVideoUids": ["1"], "streamTypes": 0}, "video uid lists"),
        ({"unSubscribeAudioUids": ["1"], "streamTypes": 1}, "audio uid lists"),
        ({"subscribeAudioUids": [str(n) for n in range(1, 34)]}, "subscribeAudioUids"),
        ({"subscribeAudioUids": ["0"]}, "subscribeAudioUids"),
        ({"streamMode": "original"}, "original"),
        ({"audioProfile": 3}, "audioProfile"),
    ],
    ids=[
        "idle-too-short",
        "idle-too-long",
        "stream-types",
        "secret-missing",
        "salt-missing",
        "allow-and-block-list",
        "video-list-audio-only",
        "audio-list-video-only",
        "33-uids",
        "uid-zero",
        "original-with-video",
        "audio-profile",
    ],
)
def test_recording_config_outside_the_protocol_ranges_is_refused_with_the_field_named(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        RecordingConfig.model_validate(config)


@pytest.mark.parametrize(
    ("transcoding", "message"),
    [
        ({"width": 1921, "height": 100}, "width"),
        ({"width": 1920, "height": 1081}, "1920 \\* 1080"),
        ({"bitrate": 6501}, "bitrate"),
        ({"mixedVideoLayout": 4}, "mixedVideoLayout"),
        ({"mixedVideoLayout": 3}, "layoutConfig"),
        ({"backgroundColor": "red"}, "#RRGGBB"),
        (
            {
                "mixedVideoLayout": 3,
                "layoutConfig": [{"x_axis": 0, "y_axis": 0, "width": 1, "height": 1}] * 18,
            },
            "layoutConfig",
        ),
        (
            {
                "mixedVideoLayout": 3,
                "layoutConfig": [{"x_axis": 1.5, "y_axis": 0, "width": 1, "height": 1}],
            },
            "x_axis",
        ),
    ],
    ids=[
        "width",
        "area",
        "bitrate",
        "layout",
        "custom-without-regions",
        "colour",
        "18-regions",
        "coordinate",
    ],
)
def test_transcoding_config_outside_the_protocol_ranges_is_refused(
    transcoding: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        TranscodingConfig.model_validate(transcoding)


def test_transcoding_config_has_the_seed_defaults_and_portrait_1080p_is_allowed() -> None:
    default = TranscodingConfig()
    assert (default.width, default.height, default.fps, default.bitrate) == (360, 640, 15, 500)
    assert default.mixed_video_layout == VideoLayout.FLOAT
    assert TranscodingConfig(width=1080, height=1920).height == 1920


def test_layout_regions_keep_their_snake_case_wire_keys() -> None:
    config = TranscodingConfig.model_validate(
        {
            "mixedVideoLayout": 3,
            "layoutConfig": [
                {
                    "uid": "9",
                    "x_axis": 0.5,
                    "y_axis": 0,
                    "width": 0.5,
                    "height": 1,
                    "render_mode": 1,
                }
            ],
        }
    )
    region = config.to_wire()["layoutConfig"][0]
    assert region == {
        "uid": "9",
        "x_axis": 0.5,
        "y_axis": 0.0,
        "width": 0.5,
        "height": 1.0,
        "alpha": 1.0,
        "render_mode": 1,
    }


@pytest.mark.parametrize(
    ("types", "valid"),
    [
        (["hls"], True),
        (["hls", "mp4"], True),
        (["mp4", "hls"], True),
        (["mp4"], False),
        (["hls", "hls"], False),
        (["webm"], False),
    ],
)
def test_av_file_type_is_hls_alone_or_hls_with_mp4(types: list[str], valid: bool) -> None:
    if valid:
        assert RecordingFileConfig.model_validate({"avFileType": types}).mp4 is ("mp4" in types)
    else:
        with pytest.raises(ValidationError, match="avFileType"):
            RecordingFileConfig.model_validate({"avFileType": types})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"extensionParams": None}, "endpoint"),
        ({"fileNamePrefix": ["a-b"]}, "fileNamePrefix"),
        ({"fileNamePrefix": ["a" * 100, "b" * 28]}, "128"),
        ({"vendor": 9}, "vendor"),
        ({"bucket": ""}, "bucket"),
    ],
    ids=["s3-compatible-without-endpoint", "prefix-chars", "prefix-length", "vendor", "bucket"],
)
def test_storage_config_breaking_protocol_rules_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        StorageConfig.model_validate(storage(**overrides))


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://127.0.0.1:7070", "http://127.0.0.1:7070"),
        ("s3.example.com", "https://s3.example.com"),
        (None, None),
    ],
)
def test_storage_endpoint_becomes_a_url_with_https_for_a_bare_host(
    endpoint: str | None, url: str | None
) -> None:
    config = StorageConfig.model_validate(
        storage(vendor=1, extensionParams={"endpoint": endpoint} if endpoint else None)
    )
    assert config.endpoint_url() == url
    assert config.vendor == StorageVendor.AMAZON_S3
    assert config.key_prefix() == "team/daily/"


@pytest.mark.parametrize(
    ("mode", "recording", "files", "message"),
    [
        (Mode.MIX, {}, ["hls"], None),
        (Mode.INDIVIDUAL, {"subscribeUidGroup": 0}, ["hls"], None),
        (Mode.INDIVIDUAL, {}, ["hls"], None),
        (Mode.INDIVIDUAL, {"subscribeUidGroup": 0}, ["hls", "mp4"], "mp4"),
        (Mode.INDIVIDUAL, {"subscribeUidGroup": 0, "transcodingConfig": {}}, ["hls"], "mix"),
        (Mode.MIX, {"streamMode": "standard"}, ["hls"], "streamMode"),
        (Mode.MIX, None, ["hls"], "recordingConfig"),
        (Mode.MIX, {}, None, "recordingFileConfig"),
    ],
    ids=[
        "mix-ok",
        "individual-ok",
        "individual-without-group-is-0",
        "individual-mp4",
        "individual-transcoding",
        "mix-stream-mode",
        "mix-without-recording-config",
        "mix-without-file-config",
    ],
)
def test_start_requests_are_checked_against_their_mode(
    mode: Mode, recording: dict[str, Any] | None, files: list[str] | None, message: str | None
) -> None:
    body: dict[str, Any] = {"storageConfig": storage()}
    if recording is not None:
        body["recordingConfig"] = recording
    if files is not None:
        body["recordingFileConfig"] = {"avFileType": files}
    request = StartClientRequest.model_validate(body)
    if message is None:
        check_start_for_mode(request, mode)
    else:
        with pytest.raises(ValueError, match=message):
            check_start_for_mode(request, mode)


# ------------------------------------------------------------------ query, stop, update


def test_query_response_parses_string_status_and_both_file_name_spellings() -> None:
    response = QueryResponse.model_validate(
        {
            "resourceId": "r",
            "sid": "s",
            "serverResponse": {
                "status": "5",
                "fileListMode": "json",
                "fileList": [
                    {
                        "filename": "a.m3u8",
                        "trackType": "audio",
                        "uid": "0",
                        "mixedAllUser": "true",
                    },
                    {"fileName": "b.m3u8", "trackType": "video", "isPlayable": False},
                ],
                "sliceStartTime": 1562724971626,
            },
        }
    )
    files = response.server_response.file_list
    assert response.server_response.status == 5
    assert isinstance(files, list)
    assert [f.file_name for f in files] == ["a.m3u8", "b.m3u8"]
    assert files[0].mixed_all_user is True
    assert files[0].to_wire() == {
        "fileName": "a.m3u8",
        "trackType": "audio",
        "uid": "0",
        "mixedAllUser": True,
    }


def test_a_file_list_in_string_mode_stays_a_string() -> None:
    response = StopResponse.model_validate(
        {
            "resourceId": "r",
            "sid": "s",
            "serverResponse": {
                "fileListMode": "string",
                "fileList": "s_room.m3u8",
                "uploadingStatus": "uploaded",
            },
        }
    )
    assert response.server_response.file_list == "s_room.m3u8"
    assert response.server_response.uploading_status == "uploaded"


def test_file_info_refuses_an_unknown_track_type() -> None:
    with pytest.raises(ValidationError, match="trackType"):
        FileInfo.model_validate({"fileName": "a", "trackType": "subtitles"})


def test_stop_sends_async_stop_in_snake_case_and_defaults_to_false() -> None:
    assert StopRequest(cname="room", uid="5").to_wire() == {
        "cname": "room",
        "uid": "5",
        "clientRequest": {"async_stop": False},
    }


def test_update_accepts_lowercase_block_lists_and_sends_unsubscribe() -> None:
    request = UpdateRequest.model_validate(
        {
            "cname": "room",
            "uid": "5",
            "clientRequest": {
                "streamSubscribe": {
                    "audioUidList": {"unsubscribeAudioUids": ["3"]},
                    "videoUidList": {"subscribeVideoUids": ["#allstream#"]},
                }
            },
        }
    )
    assert request.to_wire()["clientRequest"] == {
        "streamSubscribe": {
            "audioUidList": {"unSubscribeAudioUids": ["3"]},
            "videoUidList": {"subscribeVideoUids": ["#allstream#"]},
        }
    }


def test_update_layout_with_no_fields_means_the_default_layout() -> None:
    request = UpdateLayoutRequest(cname="room", uid="5")
    assert request.to_wire()["clientRequest"] == {
        "mixedVideoLayout": 0,
        "backgroundColor": "#000000",
    }


# ------------------------------------------------------------------ secrets


def secret_bearing_request() -> StartRequest:
    return StartRequest.model_validate(start_body(decryptionMode=1, secret=SECRETS[3]))


def assert_no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_repr_str_and_plain_dumps_never_show_secrets() -> None:
    request = secret_bearing_request()
    assert_no_secret_in(repr(request))
    assert_no_secret_in(str(request))
    assert_no_secret_in(str(request.model_dump()))
    assert_no_secret_in(request.model_dump_json())
    assert_no_secret_in(f"{request.client_request.storage_config!r}")


def test_to_wire_reveals_every_secret_for_the_wire() -> None:
    wire = secret_bearing_request().to_wire_json().decode()
    for secret in SECRETS:
        assert secret in wire


def test_validation_errors_never_echo_secret_input() -> None:
    body = start_body(decryptionMode=1, secret=SECRETS[3])
    body["clientRequest"]["storageConfig"]["vendor"] = 99
    body["clientRequest"]["storageConfig"]["region"] = SECRETS[1]
    body["clientRequest"]["recordingConfig"]["maxIdleTime"] = SECRETS[0]
    with pytest.raises(ValidationError) as caught:
        StartRequest.model_validate(body)
    assert_no_secret_in(str(caught.value))
    assert_no_secret_in(repr(caught.value))
    assert_no_secret_in(str(caught.value.errors(include_input=False)))


def test_logging_a_request_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("Sending %s", secret_bearing_request())
    assert "Sending" in caplog.text
    assert_no_secret_in(caplog.text)


def test_acquire_carries_a_start_parameter_with_the_start_schema_and_its_secrets() -> None:
    body = start_body()
    acquire = AcquireRequest.model_validate(
        {
            "cname": "room-1",
            "uid": "527841",
            "clientRequest": {"startParameter": body["clientRequest"]},
        }
    )
    start = StartRequest.model_validate(body)
    assert acquire.client_request.start_parameter is not None
    assert acquire.client_request.start_parameter.to_wire() == start.client_request.to_wire()
    assert_no_secret_in(repr(acquire))


@pytest.mark.parametrize(
    ("given", "matches"),
    [
        ({"recordingConfig": {"maxIdleTime": 30}}, True),  # storageConfig left out
        ({"recordingConfig": {"maxIdleTime": 60}}, False),
        ({"recordingConfig": {}, "storageConfig": storage(bucket="other")}, False),
        ({}, True),
    ],
    ids=["without-storage", "other-idle-time", "other-bucket", "empty"],
)
def test_a_start_parameter_matches_a_start_on_every_field_it_gives(
    given: dict[str, Any], matches: bool
) -> None:
    parameter = StartParameter.model_validate(given)
    start = StartClientRequest.model_validate(
        {"recordingConfig": {"maxIdleTime": 30}, "storageConfig": storage()}
    )
    assert parameter.matches(start) is matches


def test_null_and_empty_strings_mean_absent_only_on_optional_fields() -> None:
    config = RecordingConfig.model_validate(
        {"streamMode": "", "secret": None, "subscribeUidGroup": "", "maxIdleTime": None}
    )
    assert config == RecordingConfig()
    with pytest.raises(ValidationError, match="bucket"):
        StorageConfig.model_validate(storage(bucket=""))
    with pytest.raises(ValidationError, match="vendor"):
        StorageConfig.model_validate(storage(vendor=None))


@pytest.mark.parametrize(
    ("mode", "recording", "files", "snapshot", "message"),
    [
        (Mode.INDIVIDUAL, {"streamTypes": 1}, None, {"fileType": ["jpg"]}, None),
        (Mode.INDIVIDUAL, {}, ["hls"], {"captureInterval": 5, "fileType": ["jpg"]}, None),
        (Mode.INDIVIDUAL, {}, None, {"captureInterval": 1, "fileType": ["jpg"]}, None),
        (Mode.INDIVIDUAL, {"streamTypes": 0}, None, {"fileType": ["jpg"]}, "streamTypes 1 or 2"),
        (
            Mode.INDIVIDUAL,
            {"subscribeAudioUids": ["1"]},
            None,
            {"fileType": ["jpg"]},
            "subscribeVideoUids",
        ),
        (Mode.MIX, {}, ["hls"], {"fileType": ["jpg"]}, "only for individual"),
    ],
    ids=[
        "snapshots-only",
        "recording-and-snapshots",
        "one-second-interval-of-the-older-docs",
        "audio-only",
        "audio-list-without-video-list",
        "mix",
    ],
)
def test_snapshot_tasks_are_checked_against_their_rules(
    mode: Mode,
    recording: dict[str, Any],
    files: list[str] | None,
    snapshot: dict[str, Any],
    message: str | None,
) -> None:
    body: dict[str, Any] = {
        "storageConfig": storage(),
        "recordingConfig": {"subscribeUidGroup": 0, **recording},
        "snapshotConfig": snapshot,
    }
    if files is not None:
        body["recordingFileConfig"] = {"avFileType": files}
    request = StartClientRequest.model_validate(body)
    if message is None:
        check_start_for_mode(request, mode)
    else:
        with pytest.raises(ValueError, match=message):
            check_start_for_mode(request, mode)


@pytest.mark.parametrize(
    "snapshot",
    [
        {"captureInterval": 0, "fileType": ["jpg"]},
        {"captureInterval": 3601, "fileType": ["jpg"]},
        {"fileType": ["png"]},
        {"captureInterval": 10},
    ],
    ids=["interval-0", "interval-3601", "png", "no-file-type"],
)
def test_a_snapshot_config_outside_its_ranges_is_invalid(snapshot: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StartClientRequest.model_validate({"storageConfig": storage(), "snapshotConfig": snapshot})
