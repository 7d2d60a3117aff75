"""Callback bodies and their signatures (protocol.md §7)."""

from __future__ import annotations

import json

from cloudrec_recorder.events import MSG_NAME_OF, SERVICE_TYPE_OF, encode, sign

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


def test_recorder_events_come_from_the_recorder_and_upload_events_from_the_uploader() -> None:
    assert {SERVICE_TYPE_OF[e] for e in (40, 41, 42, 43, 44)} == {1}
    assert {SERVICE_TYPE_OF[e] for e in (30, 31, 32, 33)} == {2}
    assert {SERVICE_TYPE_OF[e] for e in (1, 2, 11)} == {0}
    assert MSG_NAME_OF[41] == "recorder_leave"
    assert MSG_NAME_OF[11] == "session_exit"
