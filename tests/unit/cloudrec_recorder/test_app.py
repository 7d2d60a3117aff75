"""The HTTP API's answers that need no recording: auth, routes, body errors, resource ids.

In process through ``httpx.ASGITransport``; the recording factory is never reached in
these cases (it raises if it were). The recorder process with real recordings is tested
in ``tests/integration/recorder``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cloudrec_recorder.app import basic_auth_header, create_app, worst_media_lag
from cloudrec_recorder.metrics import MediaLagReport, Metrics
from cloudrec_recorder.ports import Recording
from cloudrec_recorder.sessions import SessionRegistry
from cloudrec_recorder.settings import RecorderSettings

APP = "app1"
AUTH = {"Authorization": basic_auth_header("cust", "s3cret")}


def never_called(**kwargs: Any) -> Recording:
    raise AssertionError("the recording factory must not be reached")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = RecorderSettings.model_validate(
        {
            "customerId": "cust",
            "customerSecret": "s3cret",
            "apps": {APP: {"janus": {"wsUrl": "ws://127.0.0.1:1/"}}},
            "maxConcurrentRecordings": 2,
            "resourceIdTtlSeconds": 300,
        }
    )
    app = create_app(settings, never_called)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://recorder") as c:
        yield c


def url(path: str, appid: str = APP) -> str:
    return f"/v1/apps/{appid}/cloud_recording/{path}"


async def test_a_request_without_credentials_gets_the_gateway_401(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(url("acquire"), json={"cname": "r", "uid": "1"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


async def test_wrong_credentials_get_invalid_authentication_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        url("acquire"),
        json={"cname": "r", "uid": "1"},
        headers={"Authorization": basic_auth_header("cust", "nope")},
    )
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid authentication credentials"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/apps/app1/cloudrecording/acquire"), ("GET", url("acquire"))],
    ids=["unknown path", "wrong method"],
)
async def test_an_unknown_route_gets_the_gateway_404(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"message": "no Route matched with those values"}


async def test_acquire_returns_a_resource_id_for_cname_and_uid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        url("acquire"), json={"cname": "room", "uid": "42", "clientRequest": {}}, headers=AUTH
    )
    assert response.status_code == 200
    body = response.json()
    assert body["cname"] == "room" and body["uid"] == "42"
    assert body["resourceId"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cname": "room", "uid": 42, "clientRequest": {}}, "uid"),
        (
            {"cname": "room", "uid": "42", "clientRequest": {"resourceExpiredHour": 0}},
            "resourceExpiredHour",
        ),
        ({"uid": "42", "clientRequest": {}}, "cname"),
    ],
    ids=["uid as number", "resourceExpiredHour out of range", "cname missing"],
)
async def test_a_bad_body_is_code_2_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post(url("acquire"), json=body, headers=AUTH)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == 2
    assert field in answer["reason"]


async def test_a_body_that_is_not_json_is_code_2(client: httpx.AsyncClient) -> None:
    response = await client.post(
        url("acquire"), content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 2


async def test_an_unknown_app_id_is_invalid_appid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        url("acquire", appid="other"), json={"cname": "r", "uid": "1"}, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json()["code"] == 400


async def test_acquire_beyond_the_limit_is_code_406(client: httpx.AsyncClient) -> None:
    for uid in ("1", "2"):
        ok = await client.post(url("acquire"), json={"cname": "r", "uid": uid}, headers=AUTH)
        assert ok.status_code == 200
    response = await client.post(url("acquire"), json={"cname": "r", "uid": "3"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["code"] == 406


async def test_the_capacity_extension_counts_acquired_resource_ids_down_to_zero(
    client: httpx.AsyncClient,
) -> None:
    free = await client.get(url("capacity"), headers=AUTH)
    assert free.status_code == 200
    assert free.json() == {"maxConcurrentRecordings": 2, "active": 0, "pending": 0, "available": 2}
    for uid in ("1", "2"):
        await client.post(url("acquire"), json={"cname": "r", "uid": uid}, headers=AUTH)
    full = await client.get(url("capacity"), headers=AUTH)
    assert full.json() == {"maxConcurrentRecordings": 2, "active": 0, "pending": 2, "available": 0}


async def test_the_capacity_extension_needs_credentials_and_a_served_app_id(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(url("capacity"))).status_code == 401
    other = await client.get(url("capacity", appid="other"), headers=AUTH)
    assert (other.status_code, other.json()["code"]) == (400, 400)


async def test_query_of_an_unknown_sid_is_404_failed_to_find_worker(
    client: httpx.AsyncClient,
) -> None:
    acquired = await client.post(url("acquire"), json={"cname": "r", "uid": "1"}, headers=AUTH)
    rid = acquired.json()["resourceId"]
    response = await client.get(url(f"resourceid/{rid}/sid/abc/mode/mix/query"), headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"code": 404, "reason": "failed to find worker"}


async def test_update_layout_exists_only_for_mix(client: httpx.AsyncClient) -> None:
    response = await client.post(
        url("resourceid/x/sid/y/mode/individual/updateLayout"),
        json={"cname": "r", "uid": "1", "clientRequest": {}},
        headers=AUTH,
    )
    assert response.status_code == 404
    assert "message" in response.json()


async def test_the_served_openapi_lists_every_protocol_route_and_no_422(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json", headers=AUTH)).json()
    paths = document["paths"]
    for suffix in ("acquire", "start", "query", "update", "updateLayout", "stop"):
        assert any(p.endswith("/" + suffix) for p in paths), suffix
    assert "422" not in str(
        [op.get("responses", {}).keys() for item in paths.values() for op in item.values()]
    )


class Lagging:
    """Stands for a recording whose media worker is ``seconds`` behind."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def media_lag(self) -> float:
        return self.seconds


def test_the_media_lag_metric_is_the_most_lagging_running_recordings() -> None:
    registry: SessionRegistry[Any] = SessionRegistry(max_active=5)
    assert worst_media_lag(registry) == 0.0  # nothing running
    sessions = []
    for uid, seconds in (("1", 0.2), ("2", 3.5), ("3", 0.0)):
        resource = registry.acquire(APP, "room", uid)
        registry.claim(resource.resource_id, APP, "room", uid)
        sessions.append(registry.register(resource, "mix", Lagging(seconds)))
    assert worst_media_lag(registry) == 3.5
    registry.mark_exited(sessions[1])  # an exited recording lags no more
    assert worst_media_lag(registry) == 0.2


async def test_metrics_lists_the_media_lag(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert "cloudrec_media_lag_seconds 0.0" in response.text
    assert "cloudrec_media_lag_episodes_total 0.0" in response.text
    assert 'cloudrec_media_lag_worst_seconds_bucket{le="1.0"} 0.0' in response.text


def test_the_workers_reports_count_episodes_and_keep_each_recordings_worst_lag() -> None:
    metrics = Metrics()
    report = MediaLagReport(metrics)
    report.fell_behind()
    report.worker_done(0.2)
    report.worker_done(2.5)
    text = metrics.render().decode()
    assert "cloudrec_media_lag_episodes_total 1.0" in text
    assert 'cloudrec_media_lag_worst_seconds_bucket{le="1.0"} 1.0' in text
    assert 'cloudrec_media_lag_worst_seconds_bucket{le="4.0"} 2.0' in text
