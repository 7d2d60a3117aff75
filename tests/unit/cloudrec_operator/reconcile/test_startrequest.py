"""The spec as the protocol's request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.reconcile.startrequest import (
    StartSecrets,
    layout_hash,
    layout_settings,
    protocol_mode,
    start_client_request,
    subscribe_hash,
    update_client_request,
)
from cloudrec_protocol.enums import Mode
from cloudrec_protocol.models import (
    StartClientRequest,
    StartRequest,
    UpdateLayoutRequest,
    UpdateRequest,
    check_start_for_mode,
)

SECRETS = StartSecrets(access_key="AK", secret_key="SK", token="TOKEN")


def spec(**recording: Any) -> CloudRecordingSpec:
    return CloudRecordingSpec.load(
        {
            "backendRef": {"name": "local"},
            "channelName": "room1",
            "uid": "527",
            "recordingConfig": recording,
            "storageConfig": {
                "vendor": "S3Compatible",
                "bucket": "b",
                "endpoint": "http://127.0.0.1:7070",
                "credentialsSecretRef": {"name": "s3"},
                "fileNamePrefix": ["rec", "x1"],
            },
        }
    )


def wire(spec_: CloudRecordingSpec) -> dict[str, Any]:
    """The start ``clientRequest`` as sent on the wire."""
    return start_client_request(spec_, SECRETS).to_wire()


def test_seed_defaults_become_the_protocol_numbers() -> None:
    body = wire(spec())
    config = body["recordingConfig"]
    assert config["streamTypes"] == 2
    assert config["channelType"] == 0
    assert config["audioProfile"] == 0
    assert config["videoStreamType"] == 0
    assert config["decryptionMode"] == 0
    assert config["maxIdleTime"] == 30
    assert config["transcodingConfig"] == {
        "width": 360,
        "height": 640,
        "fps": 15,
        "bitrate": 500,
        "mixedVideoLayout": 0,
        "backgroundColor": "#000000",
    }
    assert body["storageConfig"]["vendor"] == 11
    assert body["storageConfig"]["extensionParams"] == {"endpoint": "http://127.0.0.1:7070"}
    assert body["token"] == "TOKEN"
    assert body["recordingFileConfig"] == {"avFileType": ["hls"]}


def test_max_idle_time_zero_is_the_protocols_default() -> None:
    assert wire(spec(maxIdleTime=0))["recordingConfig"]["maxIdleTime"] == 30


def test_individual_mode_sends_no_transcoding_or_audio_profile() -> None:
    body = wire(spec(mode="Individual", streamTypes="AudioOnly"))
    assert "transcodingConfig" not in body["recordingConfig"]
    assert "audioProfile" not in body["recordingConfig"]
    assert body["recordingConfig"]["streamTypes"] == 0
    assert protocol_mode(spec(mode="Individual")) is Mode.INDIVIDUAL


def test_block_lists_use_the_protocols_un_subscribe_spelling() -> None:
    body = wire(spec(unsubscribeAudioUids=["5"], subscribeVideoUids=["6", "7"]))
    assert body["recordingConfig"]["unSubscribeAudioUids"] == ["5"]
    assert body["recordingConfig"]["subscribeVideoUids"] == ["6", "7"]


def test_custom_layout_becomes_layout_config_regions() -> None:
    custom = spec(
        transcodingConfig={
            "layout": "Custom",
            "regions": [{"uid": "1", "xAxis": 0.5, "yAxis": 0, "width": 0.5, "height": 1}],
        }
    )
    layout = layout_settings(custom.recording_config.transcoding_config).to_wire()
    assert layout["mixedVideoLayout"] == 3
    assert layout["layoutConfig"][0]["x_axis"] == 0.5
    assert layout["layoutConfig"][0]["uid"] == "1"


def test_start_body_validates_as_the_protocols_start_request() -> None:
    full = spec(
        transcodingConfig={"layout": "Vertical", "maxResolutionUid": "9"},
        outputFormats=["MP4", "HLS"],
        unsubscribeVideoUids=["3"],
    )
    request = StartRequest(
        cname="room1", uid="527", client_request=start_client_request(full, SECRETS)
    )
    sent = StartRequest.model_validate(request.to_wire()).to_wire()
    assert sent["clientRequest"]["recordingConfig"]["transcodingConfig"]["maxResolutionUid"] == "9"
    assert sent["clientRequest"]["recordingFileConfig"]["avFileType"] == ["hls", "mp4"]
    assert sent["clientRequest"]["storageConfig"]["secretKey"] == "SK"
    assert "SK" not in repr(request) and "SK" not in str(request.model_dump())


def test_update_bodies_validate_as_the_protocols_requests() -> None:
    one = spec(subscribeAudioUids=["4"])
    update = UpdateRequest(cname="room1", uid="527", client_request=update_client_request(one))
    assert UpdateRequest.model_validate(update.to_wire()) == update
    layout = layout_settings(one.recording_config.transcoding_config)
    relayout = UpdateLayoutRequest(cname="room1", uid="527", client_request=layout)
    assert UpdateLayoutRequest.model_validate(relayout.to_wire()) == relayout
    assert update_client_request(spec()).to_wire()["streamSubscribe"]["audioUidList"] == {
        "subscribeAudioUids": ["#allstream#"]
    }
    assert update.to_wire()["clientRequest"]["streamSubscribe"]["audioUidList"] == {
        "subscribeAudioUids": ["4"]
    }


def test_live_change_digests_follow_only_their_own_fields() -> None:
    base = spec()
    relaid = spec(transcodingConfig={"layout": "BestFit"})
    resubscribed = spec(subscribeAudioUids=["4"])
    assert layout_hash(base) != layout_hash(relaid)
    assert subscribe_hash(base) == subscribe_hash(relaid)
    assert subscribe_hash(base) != subscribe_hash(resubscribed)
    assert layout_hash(base) == layout_hash(resubscribed)


def test_stream_mode_encryption_and_tags_reach_the_start_request_in_the_protocols_spelling() -> (
    None
):
    manifest = spec(mode="Individual", streamMode="Standard").dump()
    manifest["storageConfig"] |= {
        "serverSideEncryption": "KMS",
        "objectTags": [{"key": "team", "value": "rtc"}, {"key": "keep", "value": "30 days"}],
    }
    body = wire(CloudRecordingSpec.load(manifest))
    assert body["recordingConfig"]["streamMode"] == "standard"
    assert body["storageConfig"]["extensionParams"] == {
        "endpoint": "http://127.0.0.1:7070",
        "sse": "kms",
        "tag": "team=rtc&keep=30+days",
    }
    parsed = StartRequest.model_validate({"cname": "room1", "uid": "527", "clientRequest": body})
    extension = parsed.client_request.storage_config.extension_params
    assert extension is not None and extension.sse == "kms"


def test_without_stream_mode_encryption_or_tags_none_is_sent() -> None:
    body = wire(spec(mode="Individual"))
    assert "streamMode" not in body["recordingConfig"]
    assert body["storageConfig"]["extensionParams"] == {"endpoint": "http://127.0.0.1:7070"}


@pytest.mark.parametrize(
    ("lists", "group"),
    [
        ({}, 5),
        ({"subscribeAudioUids": ["1"], "subscribeVideoUids": ["1", "2"]}, 0),
        ({"subscribeAudioUids": ["1", "2", "3"]}, 1),
        ({"subscribeVideoUids": [str(uid) for uid in range(1, 13)]}, 2),
        ({"subscribeAudioUids": [str(uid) for uid in range(1, 14)]}, 3),
        ({"subscribeAudioUids": [str(uid) for uid in range(1, 33)]}, 4),
        (
            {
                "subscribeAudioUids": [str(uid) for uid in range(1, 33)],
                "subscribeVideoUids": [str(uid) for uid in range(30, 50)],
            },
            5,
        ),
        ({"subscribeAudioUids": ["#allstream#"]}, 5),
        ({"unsubscribeAudioUids": ["1"]}, 5),
    ],
    ids=[
        "everyone",
        "two",
        "three",
        "twelve",
        "thirteen",
        "thirty_two",
        "union_49",
        "all",
        "block",
    ],
)
def test_individual_mode_sends_the_uid_group_of_the_subscribed_uids(
    lists: dict[str, list[str]], group: int
) -> None:
    individual = spec(mode="Individual", **lists)
    body = wire(individual)
    assert body["recordingConfig"]["subscribeUidGroup"] == group
    request = StartRequest.model_validate({"cname": "room1", "uid": "527", "clientRequest": body})
    check_start_for_mode(request.client_request, Mode.INDIVIDUAL)


def test_mix_mode_sends_no_uid_group() -> None:
    assert "subscribeUidGroup" not in wire(spec())["recordingConfig"]


def test_a_snapshot_only_spec_starts_a_snapshot_task_without_recording_files() -> None:
    snapshots = spec(mode="Individual", outputFormats=[], snapshotConfig={"captureInterval": 2})
    wire = start_client_request(snapshots, SECRETS).to_wire()
    assert wire["snapshotConfig"] == {"captureInterval": 2, "fileType": ["jpg"]}
    assert "recordingFileConfig" not in wire
    check_start_for_mode(StartClientRequest.model_validate(wire), Mode.INDIVIDUAL)
    both = start_client_request(spec(mode="Individual", snapshotConfig={}), SECRETS).to_wire()
    assert both["snapshotConfig"]["captureInterval"] == 10
    assert both["recordingFileConfig"] == {"avFileType": ["hls"]}
    assert "snapshotConfig" not in start_client_request(spec(mode="Individual"), SECRETS).to_wire()


def test_background_pictures_reach_the_start_and_update_layout_bodies() -> None:
    pictured = spec(
        transcodingConfig={
            "backgroundImage": "https://img.example.com/canvas.jpg",
            "defaultUserBackgroundImage": "https://img.example.com/user.png",
            "userBackgroundImages": [
                {"uid": "7", "imageUrl": "https://img.example.com/7.png", "renderMode": "Fit"}
            ],
        }
    )
    wire = start_client_request(pictured, SECRETS).to_wire()
    transcoding = wire["recordingConfig"]["transcodingConfig"]
    assert transcoding["backgroundImage"] == "https://img.example.com/canvas.jpg"
    assert transcoding["defaultUserBackgroundImage"] == "https://img.example.com/user.png"
    assert transcoding["backgroundConfig"] == [
        {"uid": "7", "image_url": "https://img.example.com/7.png", "render_mode": 1}
    ]
    layout = layout_settings(pictured.recording_config.transcoding_config).to_wire()
    assert layout["backgroundImage"] == "https://img.example.com/canvas.jpg"
    assert layout["backgroundConfig"] == transcoding["backgroundConfig"]
    assert layout_hash(pictured) != layout_hash(spec())
