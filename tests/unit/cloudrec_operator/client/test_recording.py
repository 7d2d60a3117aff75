"""The client's pure parts: request building, back-off schedule, retry decision, outcomes.

The live client is exercised against the real recorder in the recorder's integration tests.
"""

from __future__ import annotations

import json

import pytest

from cloudrec_operator.client.recording import (
    CONTENT_TYPE,
    SYNC_STOP_TIMEOUT,
    backoff_schedule,
    basic_auth,
    build_acquire,
    build_query,
    build_start,
    build_stop,
    build_update,
    build_update_layout,
    outcome_label,
    should_retry,
)
from cloudrec_protocol.errors import TransportError, error_from_response
from cloudrec_protocol.models import (
    AcquireClientRequest,
    StartRequest,
    UpdateLayoutRequest,
    UpdateRequest,
)

START = {
    "cname": "room",
    "uid": "5",
    "clientRequest": {
        "token": "rtc-token",
        "recordingConfig": {"streamTypes": 2},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": {
            "vendor": 1,
            "region": 0,
            "bucket": "b",
            "accessKey": "ak-value",
            "secretKey": "sk-value",
        },
    },
}


def test_basic_auth_encodes_customer_id_and_secret() -> None:
    assert basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_the_content_type_is_the_one_the_service_insists_on() -> None:
    assert CONTENT_TYPE == "application/json;charset=utf-8"


def test_acquire_posts_cname_uid_and_client_request() -> None:
    spec = build_acquire("app", "room", "5", AcquireClientRequest(resource_expired_hour=24))
    assert (spec.operation, spec.method, spec.path) == (
        "acquire",
        "POST",
        "/v1/apps/app/cloud_recording/acquire",
    )
    assert spec.body is not None
    assert json.loads(spec.body) == {
        "cname": "room",
        "uid": "5",
        "clientRequest": {"resourceExpiredHour": 24},
    }


def test_acquire_refuses_a_bad_uid_before_sending() -> None:
    with pytest.raises(ValueError, match="uid"):
        build_acquire("app", "room", "0", AcquireClientRequest())


def test_start_sends_secrets_on_the_wire_but_never_in_its_repr() -> None:
    spec = build_start("app", "rid", "mix", StartRequest.model_validate(START))
    assert spec.path == "/v1/apps/app/cloud_recording/resourceid/rid/mode/mix/start"
    assert spec.body is not None
    sent = json.loads(spec.body)
    assert sent["clientRequest"]["token"] == "rtc-token"
    assert sent["clientRequest"]["storageConfig"]["secretKey"] == "sk-value"
    for secret in ("rtc-token", "ak-value", "sk-value"):
        assert secret not in repr(spec)


def test_query_is_a_get_without_body() -> None:
    spec = build_query("app", "rid", "sid", "individual")
    assert (spec.method, spec.body) == ("GET", None)
    assert spec.path.endswith("/resourceid/rid/sid/sid/mode/individual/query")


def test_update_and_update_layout_post_their_requests() -> None:
    update = build_update(
        "app",
        "rid",
        "sid",
        "mix",
        UpdateRequest.model_validate(
            {
                "cname": "room",
                "uid": "5",
                "clientRequest": {
                    "streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["7"]}}
                },
            }
        ),
    )
    layout = build_update_layout(
        "app", "rid", "sid", UpdateLayoutRequest.model_validate({"cname": "room", "uid": "5"})
    )
    assert update.path.endswith("/sid/sid/mode/mix/update")
    assert layout.path.endswith("/sid/sid/mode/mix/updateLayout")
    assert layout.body is not None
    assert json.loads(layout.body)["clientRequest"]["mixedVideoLayout"] == 0


@pytest.mark.parametrize(("async_stop", "min_timeout"), [(False, SYNC_STOP_TIMEOUT), (True, 0.0)])
def test_a_synchronous_stop_waits_long_enough_for_the_upload(
    async_stop: bool, min_timeout: float
) -> None:
    spec = build_stop("app", "rid", "sid", "mix", "room", "5", async_stop)
    assert spec.body is not None
    assert json.loads(spec.body)["clientRequest"] == {"async_stop": async_stop}
    assert spec.min_timeout == min_timeout


@pytest.mark.parametrize(
    ("retries", "backoff", "expected"),
    [
        (3, (1, 3, 6), [1.0, 3.0, 6.0]),
        (5, (1, 3, 6), [1.0, 3.0, 6.0, 6.0, 6.0]),
        (2, (1, 3, 6), [1.0, 3.0]),
        (0, (), []),
        (2, (0.5,), [0.5, 0.5]),
    ],
)
def test_the_backoff_schedule_follows_the_documented_delays(
    retries: int, backoff: tuple[float, ...], expected: list[float]
) -> None:
    assert backoff_schedule(retries, backoff) == expected


@pytest.mark.parametrize(
    ("retries", "backoff"),
    [(-1, (1,)), (1, ()), (1, (-1,))],
    ids=["negative", "empty", "negative-delay"],
)
def test_a_bad_backoff_is_refused(retries: int, backoff: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        backoff_schedule(retries, backoff)


@pytest.mark.parametrize(
    ("status", "body", "attempt", "retry"),
    [
        (503, {"code": 62}, 0, True),
        (503, {"code": 62}, 2, True),
        (503, {"code": 62}, 3, False),
        (429, {"message": "API rate limit exceeded"}, 0, True),
        (206, {"code": 65}, 1, True),
        (206, {"code": 435}, 0, False),
        (400, {"code": 2}, 0, False),
        (401, {"message": "Unauthorized"}, 0, False),
        (404, {"code": 404}, 0, False),
        (201, {"code": 7}, 0, False),
    ],
)
def test_only_retryable_answers_are_resent_and_only_while_retries_remain(
    status: int, body: dict[str, object], attempt: int, retry: bool
) -> None:
    assert should_retry(error_from_response(status, body), attempt, retries=3) is retry


def test_network_failures_are_resent_until_retries_run_out() -> None:
    error = TransportError("ReadTimeout: timed out")
    assert [should_retry(error, attempt, retries=3) for attempt in range(4)] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("status", "label"), [(200, "ok"), (None, "transport_error"), (500, "500"), (206, "206")]
)
def test_outcome_labels_are_few_and_stable_for_metrics(status: int | None, label: str) -> None:
    assert outcome_label(status) == label
