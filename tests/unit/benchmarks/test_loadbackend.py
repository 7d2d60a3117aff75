"""The operator benchmark's load backend speaks the protocol the operator's client speaks.

Served on loopback in this process; the operator's own ``RecordingClient`` talks to it and a
receiver checks each callback with ``cloudrec_protocol.events.verify`` (what the operator's
callback receiver does) before parsing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from benchmarks.operator.loadbackend import LoadBackend

from cloudrec_operator.client.recording import RecordingClient
from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.errors import AlreadyRunningError, AuthenticationError
from cloudrec_protocol.events import EventType, Notification, verify
from cloudrec_protocol.models import AcquireClientRequest, StartRequest

APPID = "benchapp"
SECRET = "callback-secret"


@dataclass
class Receiver:
    """Keeps the callbacks whose signature checks out; counts the others."""

    notes: list[Notification] = field(default_factory=list)
    forged: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not verify(raw, dict(request.headers), SECRET):
            self.forged += 1
            return web.json_response({"ok": False}, status=401)
        self.notes.append(Notification.model_validate_json(raw))
        self.arrived.set()
        return web.json_response({"ok": True})

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.notes) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    port = server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def stack() -> AsyncIterator[tuple[str, Receiver]]:
    receiver = Receiver()
    sink = web.Application()
    sink.router.add_post("/callbacks", receiver.receive)
    sink_runner, sink_url = await _serve(sink)
    backend = LoadBackend(
        customer_id="customer",
        customer_secret="customer-secret",
        callback_url=f"{sink_url}/callbacks",
        callback_secret=SECRET,
        latency=0.0,
        progress_interval=0.0,
    )
    backend_runner, backend_url = await _serve(backend.app())
    yield backend_url, receiver
    await backend_runner.cleanup()
    await sink_runner.cleanup()


def _start_request(cname: str, uid: str) -> StartRequest:
    return StartRequest.model_validate(
        {
            "cname": cname,
            "uid": uid,
            "clientRequest": {
                "recordingConfig": {"streamTypes": 0},
                "recordingFileConfig": {"avFileType": ["hls"]},
                "storageConfig": {
                    "vendor": 11,
                    "region": 0,
                    "bucket": "b",
                    "accessKey": "ak",
                    "secretKey": "sk",
                    "extensionParams": {"endpoint": "http://127.0.0.1:9"},
                },
            },
        }
    )


async def test_a_started_recording_is_answered_at_once_and_announced_by_a_signed_event_40(
    stack: tuple[str, Receiver],
) -> None:
    url, receiver = stack
    async with RecordingClient(url, "customer", "customer-secret", retries=0) as client:
        acquired = await client.acquire(APPID, "room-1", "801", AcquireClientRequest())
        started = await client.start(
            APPID, acquired.resource_id, "mix", _start_request("room-1", "801")
        )
        queried = await client.query(APPID, acquired.resource_id, started.sid, "mix")
        await receiver.wait_for(1)

    assert queried.server_response.status == RecordingStatus.IN_PROGRESS
    note = receiver.notes[0]
    assert note.event_type == EventType.RECORDER_STARTED
    assert (note.payload.sid, note.payload.cname, note.payload.uid) == (
        started.sid,
        "room-1",
        "801",
    )
    assert receiver.forged == 0


async def test_a_repeated_start_names_the_running_recording_for_adoption(
    stack: tuple[str, Receiver],
) -> None:
    url, _ = stack
    async with RecordingClient(url, "customer", "customer-secret", retries=0) as client:
        acquired = await client.acquire(APPID, "room-2", "802", AcquireClientRequest())
        request = _start_request("room-2", "802")
        started = await client.start(APPID, acquired.resource_id, "mix", request)
        with pytest.raises(AlreadyRunningError) as repeated:
            await client.start(APPID, acquired.resource_id, "mix", request)

    assert getattr(repeated.value.body, "sid", None) == started.sid


async def test_a_stop_lists_the_file_and_sends_uploaded_then_session_exit(
    stack: tuple[str, Receiver],
) -> None:
    url, receiver = stack
    async with RecordingClient(url, "customer", "customer-secret", retries=0) as client:
        acquired = await client.acquire(APPID, "room-3", "803", AcquireClientRequest())
        started = await client.start(
            APPID, acquired.resource_id, "mix", _start_request("room-3", "803")
        )
        stopped = await client.stop(
            APPID, acquired.resource_id, started.sid, "mix", "room-3", "803"
        )
        await receiver.wait_for(3)

    assert stopped.server_response.uploading_status == "uploaded"
    assert sorted(n.event_type for n in receiver.notes) == [
        EventType.SESSION_EXIT,
        EventType.UPLOADED,
        EventType.RECORDER_STARTED,
    ]


async def test_wrong_customer_credentials_are_refused(stack: tuple[str, Receiver]) -> None:
    url, _ = stack
    async with RecordingClient(url, "customer", "not-the-secret", retries=0) as client:
        with pytest.raises(AuthenticationError):
            await client.acquire(APPID, "room-4", "804", AcquireClientRequest())
