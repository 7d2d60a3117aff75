"""The live client over HTTP against a small in-process server: the base URL's path is kept,
the credentials and content type are sent, an answer that is not 200 becomes the protocol's
error, a refused connection a transport error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from cloudrec_devenv.process import free_port
from cloudrec_operator.client.recording import CONTENT_TYPE, RecordingClient, basic_auth
from cloudrec_protocol.errors import ProtocolError, TransportError

SEEN: list[tuple[str, str, str]] = []


async def capacity(request: web.Request) -> web.Response:
    SEEN.append((request.path, request.headers["Authorization"], request.content_type))
    if request.match_info["app"] == "full":
        return web.json_response({"code": 2, "reason": "invalid appid"}, status=400)
    return web.json_response(
        {"maxConcurrentRecordings": 4, "active": 1, "pending": 0, "available": 3}
    )


@pytest.fixture
async def url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/prefix/v1/apps/{app}/cloud_recording/capacity", capacity)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/prefix/"
    await runner.cleanup()


async def test_a_request_goes_under_the_base_urls_path_with_the_credentials(url: str) -> None:
    SEEN.clear()
    async with RecordingClient(url, "customer", "secret", retries=0) as client:
        answer = await client.capacity("app1")
    assert answer.available == 3
    path, auth, content_type = SEEN[0]
    assert path == "/prefix/v1/apps/app1/cloud_recording/capacity"
    assert auth == basic_auth("customer", "secret")
    assert content_type == CONTENT_TYPE.split(";")[0]


async def test_an_error_answer_becomes_the_protocols_error(url: str) -> None:
    async with RecordingClient(url, "customer", "secret", retries=0) as client:
        with pytest.raises(ProtocolError) as raised:
            await client.capacity("full")
    assert raised.value.http_status == 400
    assert not isinstance(raised.value, TransportError)


async def test_a_refused_connection_is_a_transport_error() -> None:
    calls: list[str] = []
    client = RecordingClient(
        f"http://127.0.0.1:{free_port()}",
        "customer",
        "secret",
        retries=1,
        backoff=(0.0,),
        on_request=lambda operation, _, outcome: calls.append(outcome),
    )
    async with client:
        with pytest.raises(TransportError, match="ClientConnectorError"):
            await client.capacity("app1")
    assert calls == ["transport_error"]  # a capacity query is never resent
