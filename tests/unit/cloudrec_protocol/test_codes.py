"""Protocol codes: status helpers, the seed's error codes, and the §9.5 / §12 decisions."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_operator.api.enums import RecordingErrorCode
from cloudrec_protocol.codes import (
    SERVICE_ERRORS,
    ErrorCode,
    RecordingStatus,
    SdkErrorCode,
    is_already_running,
    is_already_stopped,
    is_exited,
    is_retryable,
    is_running,
    is_stopping,
    sdk_code_for_event,
    sdk_code_for_response,
)
from cloudrec_protocol.events import parse_details


@pytest.mark.parametrize(
    ("status", "running", "stopping", "exited"),
    [
        (0, False, False, False),
        (3, False, False, False),
        (4, True, False, False),
        (5, True, False, False),
        (6, False, True, False),
        (7, False, True, False),
        (8, False, False, True),
        (20, False, False, True),
    ],
)
def test_only_status_4_and_5_count_as_running(
    status: int, running: bool, stopping: bool, exited: bool
) -> None:
    assert (is_running(status), is_stopping(status), is_exited(status)) == (
        running,
        stopping,
        exited,
    )


def test_recording_status_holds_the_values_of_section_6() -> None:
    assert [int(s) for s in RecordingStatus] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 20]


def test_the_seed_error_codes_are_the_api_ones_not_a_second_copy() -> None:
    assert SdkErrorCode is RecordingErrorCode


def test_every_service_code_has_an_http_status_and_a_reason() -> None:
    assert set(SERVICE_ERRORS) == set(ErrorCode)
    assert SERVICE_ERRORS[ErrorCode.ALREADY_STARTED].http_status == 201
    assert SERVICE_ERRORS[ErrorCode.NO_RECORDED_DATA].http_status == 206
    assert SERVICE_ERRORS[ErrorCode.REQUEST_INCOMPLETE].http_status == 206
    assert SERVICE_ERRORS[ErrorCode.WORKER_NOT_FOUND].reason == "failed to find worker"
    assert SERVICE_ERRORS[ErrorCode.VENDOR_OVER_LOAD].reason == "vendor_over_load"


@pytest.mark.parametrize(
    ("http_status", "code", "expected"),
    [
        (200, None, SdkErrorCode.OK),
        (201, 7, SdkErrorCode.INVALID_OPERATION),
        (206, 435, SdkErrorCode.NO_RECORDED_DATA),
        (206, 65, SdkErrorCode.CONNECT_ERROR),
        (400, 2, SdkErrorCode.INVALID_PARAMETER),
        (400, 432, SdkErrorCode.INVALID_PARAMETER),
        (400, 1013, SdkErrorCode.INVALID_PARAMETER),
        (400, 1028, SdkErrorCode.INVALID_PARAMETER),
        (400, 49, SdkErrorCode.INVALID_OPERATION),
        (400, 53, SdkErrorCode.INVALID_OPERATION),
        (400, 433, SdkErrorCode.INVALID_OPERATION),
        (400, 400, SdkErrorCode.CONNECT_ERROR),
        (400, None, SdkErrorCode.CONNECT_ERROR),
        (401, None, SdkErrorCode.CONNECT_ERROR),
        (404, 404, SdkErrorCode.DISCONNECTED),
        (404, None, SdkErrorCode.CONNECT_ERROR),
        (429, None, SdkErrorCode.CONNECT_ERROR),
        (500, 500, SdkErrorCode.GENERAL_ERROR),
        (500, 502, SdkErrorCode.CONNECT_ERROR),
        (504, 62, SdkErrorCode.CONNECT_ERROR),
        (500, 50, SdkErrorCode.UPLOADER_FAILED),
        (400, 999, SdkErrorCode.INVALID_PARAMETER),
        (302, None, SdkErrorCode.GENERAL_ERROR),
    ],
)
def test_http_answers_map_to_the_closest_seed_error_code(
    http_status: int, code: int | None, expected: SdkErrorCode
) -> None:
    assert sdk_code_for_response(http_status, code) == expected


@pytest.mark.parametrize(
    ("event_type", "details", "expected"),
    [
        (1, {"module": 0, "errorLevel": 5, "errorCode": 110}, SdkErrorCode.RECORDER_FAILED),
        (1, {"module": 1, "errorCode": 32}, SdkErrorCode.UPLOADER_INIT_FAILED),
        (1, {"module": 1, "errorCode": 47}, SdkErrorCode.UPLOADER_FAILED),
        (1, {"module": "2", "errorCode": "52"}, SdkErrorCode.RECORDER_EXPIRE_EXIT),
        (1, {"module": 2, "errorCode": 50}, SdkErrorCode.UPLOADER_FAILED),
        (2, {"module": 1, "warnCode": 31}, SdkErrorCode.UPLOADER_FAILED),
        (2, {"module": 0, "warnCode": 1}, SdkErrorCode.RECORDER_FAILED),
        (11, {"exitStatus": 0}, None),
        (11, {"exitStatus": 1}, SdkErrorCode.RECORDER_EXPIRE_EXIT),
        (12, {"newUid": 5}, SdkErrorCode.DISCONNECTED),
        (30, {"status": 0}, None),
        (30, {"status": 1}, SdkErrorCode.UPLOADER_INIT_FAILED),
        (40, {"status": 0}, None),
        (40, {"status": 2}, SdkErrorCode.RECORDER_INIT_FAILED),
        (41, {"leaveCode": 0}, SdkErrorCode.RECORDER_INIT_FAILED),
        (41, {"leaveCode": 4}, SdkErrorCode.NO_USERS),
        (41, {"leaveCode": 4 | 8}, SdkErrorCode.NO_USERS),
        (41, {"leaveCode": 16}, None),
        (31, {"status": 0, "fileList": []}, None),
        (90, {"fileName": "a;b"}, SdkErrorCode.UPLOADER_FAILED),
        (33, {"progress": 5000}, None),
        (9999, {}, None),
    ],
)
def test_events_map_to_the_seed_error_code_they_report(
    event_type: int, details: dict[str, Any], expected: SdkErrorCode | None
) -> None:
    assert sdk_code_for_event(event_type, details) == expected


@pytest.mark.parametrize(
    ("http_status", "code", "retry"),
    [
        (500, 500, True),
        (502, None, True),
        (504, 62, True),
        (429, None, True),
        (206, 65, True),
        (400, 62, True),
        (206, 435, False),
        (201, 7, False),
        (200, None, False),
        (400, 2, False),
        (400, 49, False),
        (401, None, False),
        (404, 404, False),
        (404, None, False),
    ],
)
def test_only_5xx_429_206_65_and_62_are_retried(
    http_status: int, code: int | None, retry: bool
) -> None:
    assert is_retryable(http_status, code) is retry


@pytest.mark.parametrize(
    ("http_status", "code", "running", "stopped"),
    [
        (201, 7, True, False),
        (400, 7, False, False),
        (400, 49, False, True),
        (206, 435, False, True),
        (400, 435, False, False),
        (404, 404, False, False),
    ],
)
def test_already_running_and_already_stopped_answers_are_recognised(
    http_status: int, code: int, running: bool, stopped: bool
) -> None:
    assert is_already_running(http_status, code) is running
    assert is_already_stopped(http_status, code) is stopped


SECTION_9_5 = [
    # (row of protocol.md §9.5, eventType, details, the seed code)
    ("431 NCS 12 session_failover", 12, {"newUid": 7}, SdkErrorCode.DISCONNECTED),
    ("434 NCS 41 leaveCode & 4", 41, {"leaveCode": 4 | 16}, SdkErrorCode.NO_USERS),
    ("436 NCS 41 leaveCode 0", 41, {"leaveCode": 0}, SdkErrorCode.RECORDER_INIT_FAILED),
    ("436 NCS 40 status not 0", 40, {"status": 1}, SdkErrorCode.RECORDER_INIT_FAILED),
    (
        "437 NCS 1 module 0 errorLevel >= 4",
        1,
        {"module": 0, "errorLevel": 4, "errorCode": 9},
        SdkErrorCode.RECORDER_FAILED,
    ),
    ("438 NCS 30 status not 0", 30, {"status": 2}, SdkErrorCode.UPLOADER_INIT_FAILED),
    (
        "438 NCS 1 module 1 errorCode 32",
        1,
        {"module": 1, "errorLevel": 3, "errorCode": 32},
        SdkErrorCode.UPLOADER_INIT_FAILED,
    ),
    (
        "439 NCS 1 module 1 errorCode 47",
        1,
        {"module": 1, "errorLevel": 3, "errorCode": 47},
        SdkErrorCode.UPLOADER_FAILED,
    ),
    (
        "439 NCS 1 module 1 errorCode 51",
        1,
        {"module": 1, "errorLevel": 3, "errorCode": 51},
        SdkErrorCode.UPLOADER_FAILED,
    ),
    ("439 NCS 90 download_failed", 90, {"fileName": "a"}, SdkErrorCode.UPLOADER_FAILED),
    ("441 NCS 11 exitStatus 1", 11, {"exitStatus": 1}, SdkErrorCode.RECORDER_EXPIRE_EXIT),
    (
        "441 NCS 1 cloud-service 52",
        1,
        {"module": 2, "errorLevel": 5, "errorCode": 52},
        SdkErrorCode.RECORDER_EXPIRE_EXIT,
    ),
]


@pytest.mark.parametrize(
    ("event_type", "details", "expected"),
    [row[1:] for row in SECTION_9_5],
    ids=[row[0] for row in SECTION_9_5],
)
def test_the_one_event_to_error_code_mapping_is_the_table_of_protocol_md_9_5(
    event_type: int, details: dict[str, Any], expected: SdkErrorCode
) -> None:
    # The same answer from the wire JSON and from the typed details the operator decides on.
    assert sdk_code_for_event(event_type, details) == expected
    typed = parse_details(event_type, details)
    assert sdk_code_for_event(event_type, typed) == expected
