"""Callback bodies and their signatures (protocol.md §7)."""

from __future__ import annotations

import json

import pytest

from cloudrec_protocol.events import (
    EventDetails,
    EventType,
    LeaveCode,
    Notification,
    RecorderLeaveDetails,
    RecorderStartedDetails,
    ServiceType,
    SessionExitDetails,
    UploadingProgressDetails,
)
from cloudrec_recorder.events import CallbackSender, RecordingEvents, encode, sign
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.settings import CallbackSettings

VECTOR_BODY = (
    b'{"eventMs":1560408533119,"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f",'
    b'"notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}'
)


def test_signatures_match_the_published_test_vector() -> None:
    assert sign(VECTOR_BODY, "secret") == {
        "Agora-Signature": "033c62f40f687675f17f0f41f91a40c71c0f134c",
        "Agora-Signature-V2": "6d3320c60b11101395b7fc8f9068748808a0aa1bfa064438e39d1bc2c7d74d99",
    }


def test_each_attempt_carries_its_own_notify_ms() -> None:
    body = {"noticeId": "n", "productId": 3, "eventType": 40, "payload": {}}
    assert json.loads(encode(body, 5))["notifyMs"] == 5
    assert json.loads(encode(body, 6))["notifyMs"] == 6


@pytest.mark.parametrize(
    ("details", "event_type", "service", "msg_name"),
    [
        (RecorderStartedDetails(), EventType.RECORDER_STARTED, ServiceType.RECORDER, None),
        (
            RecorderLeaveDetails(leave_code=LeaveCode.CLIENT_LEAVE),
            EventType.RECORDER_LEAVE,
            ServiceType.RECORDER,
            "recorder_leave",
        ),
        (
            UploadingProgressDetails(progress=5000),
            EventType.UPLOADING_PROGRESS,
            ServiceType.UPLOADER,
            None,
        ),
        (
            SessionExitDetails(exit_status=0),
            EventType.SESSION_EXIT,
            ServiceType.CLOUD_RECORDING,
            "session_exit",
        ),
    ],
    ids=["40", "41", "33", "11"],
)
def test_the_recorder_sends_each_event_as_the_protocols_typed_notification(
    details: EventDetails, event_type: EventType, service: ServiceType, msg_name: str | None
) -> None:
    events = RecordingEvents(CallbackSender(Metrics()), CallbackSettings(), "room", "9", "sid1")
    events.body(RecorderStartedDetails())  # sequence 0
    wire = json.loads(encode(events.body(details), 7))
    notification = Notification.model_validate(wire)
    assert notification.event_type == event_type and notification.product_id == 3
    assert notification.payload.service_type == service
    assert notification.payload.sequence == 1
    assert (notification.payload.cname, notification.payload.uid) == ("room", "9")
    assert notification.typed_details() == details
    if msg_name is not None:
        assert notification.payload.details["msgName"] == msg_name
