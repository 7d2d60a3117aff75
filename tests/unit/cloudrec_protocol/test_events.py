"""Event callbacks: models, the catalogue, and signing with the §7.3 test vector."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cloudrec_protocol.events import (
    MSG_NAMES,
    SERVICE_TYPES,
    AudioStreamStateChangedDetails,
    ErrorDetails,
    EventType,
    LeaveCode,
    Notification,
    RecorderLeaveDetails,
    RecorderSliceStartDetails,
    RecorderWarningCode,
    SnapshotFileDetails,
    StreamState,
    UploadedDetails,
    UploadingProgressDetails,
    VideoStreamStateChangedDetails,
    WarningDetails,
    make_notification,
    parse_details,
    sign,
    verify,
)

VECTOR_BODY = (
    b'{"eventMs":1560408533119,"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f",'
    b'"notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}'
)
VECTOR_SHA1 = "033c62f40f687675f17f0f41f91a40c71c0f134c"
VECTOR_SHA256 = "6d3320c60b11101395b7fc8f9068748808a0aa1bfa064438e39d1bc2c7d74d99"


def test_signing_reproduces_the_published_test_vector() -> None:
    assert sign(VECTOR_BODY, "secret") == {
        "Agora-Signature": VECTOR_SHA1,
        "Agora-Signature-V2": VECTOR_SHA256,
    }


@pytest.mark.parametrize(
    ("headers", "valid"),
    [
        ({"Agora-Signature": VECTOR_SHA1, "Agora-Signature-V2": VECTOR_SHA256}, True),
        ({"agora-signature-v2": VECTOR_SHA256}, True),
        ({"Agora-Signature": VECTOR_SHA1}, True),
        ({"Agora-Signature": VECTOR_SHA1.upper()}, True),
        ({"Agora-Signature": VECTOR_SHA1, "Agora-Signature-V2": "0" * 64}, False),
        ({"Agora-Signature-V2": VECTOR_SHA1}, False),
        ({"Agora-Signature": ""}, False),
        ({}, False),
    ],
    ids=[
        "both",
        "v2-lowercase-name",
        "v1-only",
        "uppercase-hex",
        "one-wrong",
        "swapped",
        "empty",
        "none",
    ],
)
def test_verify_accepts_only_matching_signature_headers(
    headers: dict[str, str], valid: bool
) -> None:
    assert verify(VECTOR_BODY, headers, "secret") is valid


def test_verify_refuses_a_changed_body_or_another_secret() -> None:
    headers = sign(VECTOR_BODY, "secret")
    assert not verify(VECTOR_BODY.replace(b'"b":2', b'"b":3'), headers, "secret")
    assert not verify(VECTOR_BODY, headers, "other")


def test_the_catalogue_names_every_event_with_its_msg_name_and_service() -> None:
    assert set(MSG_NAMES) == set(SERVICE_TYPES)
    assert MSG_NAMES[EventType.RECORDER_LEAVE] == "recorder_leave"
    assert SERVICE_TYPES[EventType.RECORDER_LEAVE] == 1
    assert SERVICE_TYPES[EventType.UPLOADED] == 2
    assert SERVICE_TYPES[EventType.SESSION_EXIT] == 0
    assert {1, 2, 11, 12, 30, 31, 32, 33, 40, 41, 42, 43, 44, 45} <= {int(e) for e in EventType}


def test_a_notification_is_built_signed_and_parsed_back() -> None:
    notification = make_notification(
        cname="room",
        uid="527841",
        sid="sid-1",
        sequence=3,
        details=RecorderLeaveDetails(leave_code=LeaveCode.NO_USERS),
        now_ms=1_700_000_000_000,
        notice_id="n-1",
    )
    body = notification.to_wire_json()
    headers = sign(body, "ncs-secret")
    assert verify(body, headers, "ncs-secret")
    received = Notification.model_validate_json(body)
    assert received.to_wire() == {
        "noticeId": "n-1",
        "productId": 3,
        "eventType": 41,
        "notifyMs": 1_700_000_000_000,
        "payload": {
            "cname": "room",
            "uid": "527841",
            "sid": "sid-1",
            "sequence": 3,
            "sendts": 1_700_000_000_000,
            "serviceType": 1,
            "details": {"msgName": "recorder_leave", "leaveCode": 4},
        },
    }
    assert received.typed_details() == RecorderLeaveDetails(leave_code=4)
    assert received.dedupe_key() == "n-1"


@pytest.mark.parametrize(
    ("event_type", "details", "expected"),
    [
        (
            1,
            {"msgName": "cloud_recording_error", "module": 1, "errorLevel": 4, "errorCode": 47},
            ErrorDetails(module=1, error_level=4, error_code=47),
        ),
        (
            31,
            {"msgName": "uploaded", "status": 0, "fileList": [{"filename": "a.m3u8"}]},
            UploadedDetails.model_validate({"fileList": [{"fileName": "a.m3u8"}]}),
        ),
        (33, {"progress": "2500"}, UploadingProgressDetails(progress=2500)),
        (
            42,
            {"startUtcMs": 5, "discontinueUtcMs": 5, "streamUid": "0"},
            RecorderSliceStartDetails(start_utc_ms=5, discontinue_utc_ms=5),
        ),
        (
            43,
            {"streamUid": "9", "state": 1, "UtcMs": 7},
            AudioStreamStateChangedDetails(
                stream_uid="9", state=StreamState.NOT_RECEIVING, utc_ms=7
            ),
        ),
        (
            44,
            {"streamUid": "9", "state": 0, "UtcMs": 7},
            VideoStreamStateChangedDetails(stream_uid="9", state=StreamState.RECEIVING, utc_ms=7),
        ),
        (
            45,
            {"msgName": "recorder_snapshot_file", "fileName": "rec/x.jpg"},
            SnapshotFileDetails(file_name="rec/x.jpg"),
        ),
        (
            2,
            {"module": 0, "warnCode": 1801, "warnMsg": "backgroundImage: HTTP 404"},
            WarningDetails(
                module=0,
                warn_code=RecorderWarningCode.BACKGROUND_IMAGE_UNAVAILABLE,
                warn_msg="backgroundImage: HTTP 404",
            ),
        ),
        (12345, {}, None),
    ],
)
def test_details_parse_into_the_model_of_their_event(
    event_type: int, details: dict[str, Any], expected: object
) -> None:
    assert parse_details(event_type, details) == expected


def test_typed_details_carry_their_msg_name_on_the_wire() -> None:
    details = VideoStreamStateChangedDetails(stream_uid="9", state=StreamState.RECEIVING, utc_ms=1)
    assert details.to_wire() == {
        "msgName": "recorder_video_stream_state_changed",
        "streamUid": "9",
        "state": 0,
        "UtcMs": 1,
    }


@pytest.mark.parametrize(
    ("event_type", "details"),
    [(33, {"progress": 10001}), (1, {"module": 0, "errorLevel": 6, "errorCode": 1}), (41, {})],
    ids=["progress-above-10000", "error-level-6", "leave-without-code"],
)
def test_details_outside_the_catalogue_ranges_are_refused(
    event_type: int, details: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        parse_details(event_type, details)


def test_a_legacy_notification_id_is_read_as_the_notice_id() -> None:
    body = {
        "notificationId": "legacy-1",
        "eventType": 40,
        "notifyMs": 1,
        "payload": {
            "cname": "room",
            "uid": "5",
            "sid": "s",
            "sequence": 0,
            "sendts": 1,
            "serviceType": 1,
            "details": {"msgName": "recorder_started", "status": 0},
        },
    }
    notification = Notification.model_validate(body)
    assert notification.dedupe_key() == "legacy-1"
    assert notification.to_wire()["noticeId"] == "legacy-1"
    assert notification.product_id == 3
