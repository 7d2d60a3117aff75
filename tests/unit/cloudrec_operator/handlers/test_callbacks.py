"""The callback receiver with a sid no CloudRecording is known to have yet.

The receiver runs on a real local port; the runtime knows one backend (with its
callback secret) and an empty sid index, as right after a start whose answer is
not stored yet. Nothing here reaches the Kubernetes API.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cloudrec_operator.api.v1alpha1.recordingbackend import RecordingBackendSpec
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_operator.handlers.callbacks import _notified, build_app, expire_held
from cloudrec_operator.handlers.notices import FIRST_CALLBACK_WAIT, await_first_callback, take_held
from cloudrec_operator.handlers.runtime import Backend, HeldCallback, Known, Runtime
from cloudrec_operator.metrics import REGISTRY
from cloudrec_operator.reconcile.held import HeldEvents, HoldLimits
from cloudrec_operator.reconcile.model import Desired, EventRecord, Phase, Start, Stop, Tracked
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.settings import Settings
from cloudrec_protocol.events import EventType, Notification, RecorderStartedDetails, sign

SECRET = "callback-secret-of-the-backend"
PATH = "/callbacks/namespaces/ns/recordingbackends/local"
"""The callback path of the one backend the runtime knows."""


class NoKube:
    """Stands in for the API facade where a test never reaches it."""

    writes = 0

    async def aclose(self) -> None:
        pass


def notice(
    sid: str, event_type: int = 40, notice_id: str | None = None, notify_ms: int | None = None
) -> bytes:
    body = {
        "noticeId": notice_id or str(uuid.uuid4()),
        "productId": 3,
        "eventType": event_type,
        "notifyMs": int(time.time() * 1000) if notify_ms is None else notify_ms,
        "payload": {
            "cname": "room",
            "uid": "527",
            "sid": sid,
            "sequence": 1,
            "sendts": 1764000000000,
            "serviceType": 1,
            "details": {"msgName": "recorder_started", "status": 0},
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Runtime, TestClient[object, object]]]:
    rt = Runtime(settings=Settings(), kube=NoKube(), timing=Timing(), index={})  # type: ignore[arg-type]
    rt.held = HeldEvents(HoldLimits(per_sid=2, total=3, seconds=120.0))
    spec = RecordingBackendSpec.load(
        {"url": "http://127.0.0.1:9", "credentialsSecretRef": {"name": "creds"}}
    )
    client = RecordingClient(spec.url, "id", "secret")
    rt.backends[("RecordingBackend", "ns", "local")] = Backend(
        spec, client, SECRET, "f", time.monotonic()
    )
    async with TestClient(TestServer(build_app(rt))) as http:
        yield rt, http
    await client.aclose()


async def test_the_receiver_answers_its_readiness_probe_apart_from_kopf_liveness(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    _, http = receiver
    response = await http.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready"}


async def test_a_signed_event_for_a_sid_not_known_yet_is_answered_200_and_held(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    held_before = counted("cloudrec_callbacks_held_total")
    raw = notice("sid-early")
    answer = await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    assert answer.status == 200
    assert await answer.json() == {"ok": True, "held": True}
    assert "sid-early" in rt.held
    assert counted("cloudrec_callbacks_held_total") == held_before + 1
    # Its resend is a duplicate, not a second held copy.
    again = await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    assert await again.json() == {"ok": True, "duplicate": True}
    [held] = rt.held.claim("sid-early")
    assert held.raw == raw and held.note.event_type == 40


async def test_an_event_its_backend_did_not_sign_is_refused_and_not_held(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    before = counted("cloudrec_callbacks_rejected_total", reason="bad_signature")
    raw = notice("sid-forged")
    forged = await http.post(PATH, data=raw, headers=sign(raw, "someone-else"))
    unsigned = await http.post(PATH, data=raw)
    assert (forged.status, unsigned.status) == (401, 401)
    assert len(rt.held) == 0
    after = counted("cloudrec_callbacks_rejected_total", reason="bad_signature")
    assert after == before + 2


async def test_on_the_shared_path_an_event_no_waiting_recording_vouches_for_is_not_held(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    before = counted("cloudrec_callbacks_rejected_total", reason="unknown_recording")
    raw = notice("sid-unknown")
    signed = await http.post("/callbacks", data=raw, headers=sign(raw, SECRET))
    unsigned = await http.post("/callbacks", data=raw)
    assert (signed.status, unsigned.status) == (404, 404)
    assert len(rt.held) == 0
    after = counted("cloudrec_callbacks_rejected_total", reason="unknown_recording")
    assert after == before + 2


async def test_an_event_after_the_pass_stored_the_sid_and_before_the_index_has_it_is_applied(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    # The interleaving of a start answered before the recorder's first events: the pass
    # stored the sid and ended; the index learns it only from the watch event of that
    # write, a moment later. An event in between is this recording's, not "unknown" (the
    # sender does not always resend it: event 40 was lost that way under load).
    rt, http = receiver
    key = ("ns", "rec")
    rt.bodies[key] = {
        "metadata": {"namespace": "ns", "name": "rec", "uid": "u1"},
        "spec": {
            "backendRef": {"name": "local"},
            "channelName": "room",
            "uid": "527",
            "storageConfig": {
                "vendor": "S3Compatible",
                "bucket": "b",
                "endpoint": "http://s3.invalid",
                "credentialsSecretRef": {"name": "bucket"},
            },
        },
    }
    rt.remember(key, Known("u1", Tracked(phase=Phase.CONNECTING, sid="sid-stored"), {}, ""))
    assert rt.index == {}  # not learned from the watch yet
    unknown = counted("cloudrec_callbacks_rejected_total", reason="unknown_recording")
    received = counted("cloudrec_callbacks_received_total", event_type="40")
    raw = notice("sid-stored")
    answer = await http.post("/callbacks", data=raw, headers=sign(raw, SECRET))
    assert (answer.status, await answer.json()) == (200, {"ok": True})
    assert counted("cloudrec_callbacks_rejected_total", reason="unknown_recording") == unknown
    assert counted("cloudrec_callbacks_received_total", event_type="40") == received + 1


async def test_a_backend_not_in_use_is_refused_by_its_path_alone(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    _, http = receiver
    raw = notice("sid-x")
    answer = await http.post(
        "/callbacks/clusterrecordingbackends/nobody", data=raw, headers=sign(raw, SECRET)
    )
    assert answer.status == 404
    assert await answer.json() == {"ok": False, "reason": "unknown_backend"}


@pytest.mark.parametrize("age_seconds", [24 * 3600, 301, -301])
async def test_a_signed_event_outside_the_freshness_window_is_refused_as_a_replay(
    receiver: tuple[Runtime, TestClient[object, object]], age_seconds: int
) -> None:
    rt, http = receiver
    raw = notice("sid-old", notify_ms=int((time.time() - age_seconds) * 1000))
    answer = await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    assert answer.status == 400
    assert await answer.json() == {"ok": False, "reason": "stale"}
    assert len(rt.held) == 0


async def test_a_notice_applied_before_a_restart_is_still_a_duplicate(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    key = ("ns", "rec")
    rt.bodies[key] = {
        "metadata": {"namespace": "ns", "name": "rec"},
        "spec": {"backendRef": {"name": "local"}, "channelName": "room", "uid": "527"},
    }
    # What a fresh process loads from status.appliedCallbacks: no in-memory notices.
    rt.known[key] = Known("uid", Tracked(sid="sid-live", notices=("applied-before",)), {}, "")
    rt.index = {"sid-live": [key]}
    raw = notice("sid-live", notice_id="applied-before")
    answer = await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    assert await answer.json() == {"ok": True, "duplicate": True}


async def test_an_event_type_outside_the_catalogue_is_counted_as_other(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    key = ("ns", "rec")
    rt.bodies[key] = {"spec": {"backendRef": {"name": "local"}}}
    rt.index = {"sid-live": [key]}
    before = counted("cloudrec_callbacks_received_total", event_type="other")
    for event_type in (987654321, 123456789):
        raw = notice("sid-live", event_type=event_type)
        assert (await http.post(PATH, data=raw, headers=sign(raw, SECRET))).status == 200
    assert counted("cloudrec_callbacks_received_total", event_type="other") == before + 2
    assert counted("cloudrec_callbacks_received_total", event_type="987654321") == 0


async def test_with_the_buffer_full_the_sender_is_told_to_retry_and_nothing_is_lost(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    raws = [notice(sid) for sid in ("a", "a", "a", "b", "c")]
    answers = [await http.post(PATH, data=raw, headers=sign(raw, SECRET)) for raw in raws]
    # Two for "a" at most, three in all.
    assert [a.status for a in answers] == [200, 200, 503, 200, 503]
    assert (await answers[2].json()) == {"ok": False, "reason": "held_full"}
    # A refused event was not remembered as seen: its resend is held once there is room.
    rt.held.claim("a")
    resent = await http.post(PATH, data=raws[4], headers=sign(raws[4], SECRET))
    assert await resent.json() == {"ok": True, "held": True}
    assert [h.raw for h in rt.held.claim("c")] == [raws[4]]


async def test_held_events_never_claimed_are_dropped_and_counted_as_unknown(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    raw = notice("sid-never-started")
    await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    before = counted("cloudrec_callbacks_rejected_total", reason="unknown_recording")
    expire_held(rt, time.monotonic() + 60)
    assert "sid-never-started" in rt.held
    expire_held(rt, time.monotonic() + 121)
    assert "sid-never-started" not in rt.held
    assert counted("cloudrec_callbacks_rejected_total", reason="unknown_recording") == before + 1


def test_a_callback_reaches_the_decisions_with_its_typed_details_or_none_when_they_do_not_fit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = _notified(Notification.model_validate_json(notice("s1")))
    assert isinstance(started.details, RecorderStartedDetails)
    assert started.event_type == EventType.RECORDER_STARTED and started.sid == "s1"
    raw = json.loads(notice("s1", event_type=EventType.RECORDER_LEAVE))
    raw["payload"]["details"] = {"msgName": "recorder_leave"}
    leave = _notified(Notification.model_validate(raw))
    assert leave.details is None
    assert "leaveCode" in caplog.text and "ignored" in caplog.text


async def test_right_after_a_restart_the_watched_status_names_the_applied_notices(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    key = ("ns", "rec")
    # Watched, not reconciled yet: only the body (with its status) is known.
    rt.bodies[key] = {
        "spec": {"backendRef": {"name": "local"}},
        "status": {"recordingId": "sid-live", "appliedCallbacks": ["applied-before"]},
    }
    rt.index = {"sid-live": [key]}
    raw = notice("sid-live", notice_id="applied-before")
    answer = await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    assert await answer.json() == {"ok": True, "duplicate": True}


async def test_events_held_for_the_sid_a_start_returns_are_applied_in_the_same_pass(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    raw = notice("sid-fresh")
    await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    backend = rt.backends[("RecordingBackend", "ns", "local")]
    started = Tracked(phase=Phase.CONNECTING, resource_id="r1", sid="sid-fresh")
    events: list[EventRecord] = []
    ready = take_held(
        rt, ("ns", "rec"), Start("r1"), backend, Desired(generation=1), started, events
    )
    assert (ready.phase, ready.ready) == (Phase.RECORDING, True)
    assert ready.notices == (Notification.model_validate_json(raw).dedupe_key(),)
    assert "sid-fresh" not in rt.held
    # Any other step leaves what is held to the pass that stores the sid.
    await http.post(PATH, data=notice("sid-later"), headers=sign(notice("sid-later"), SECRET))
    later = Tracked(phase=Phase.CONNECTING, resource_id="r2", sid="sid-later")
    assert (
        take_held(
            rt, ("ns", "rec"), Stop("r2", "sid-later"), backend, Desired(generation=1), later, []
        )
        is later
    )


async def test_a_held_event_signed_by_another_backend_is_not_applied_by_the_start(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, _ = receiver
    raw = notice("sid-other")
    note = Notification.model_validate_json(raw)
    rt.held.hold("sid-other", HeldCallback(raw, sign(raw, "another-secret"), note), 0.0)
    backend = rt.backends[("RecordingBackend", "ns", "local")]
    started = Tracked(phase=Phase.CONNECTING, resource_id="r1", sid="sid-other")
    assert (
        take_held(rt, ("ns", "rec"), Start("r1"), backend, Desired(generation=1), started, [])
        == started
    )


async def test_a_start_waits_for_the_recorders_first_callback_so_sid_and_ready_go_in_one_write(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, http = receiver
    backend = rt.backends[("RecordingBackend", "ns", "local")]
    started = Tracked(phase=Phase.CONNECTING, resource_id="r1", sid="sid-soon")
    expecting = Desired(generation=1, callbacks_expected=True)
    raw = notice("sid-soon")
    waiting = asyncio.ensure_future(
        await_first_callback(rt, Start("r1"), backend, expecting, started)
    )
    await asyncio.sleep(0)
    assert not waiting.done()
    await http.post(PATH, data=raw, headers=sign(raw, SECRET))
    await asyncio.wait_for(waiting, FIRST_CALLBACK_WAIT / 2)
    ready = take_held(rt, ("ns", "rec"), Start("r1"), backend, expecting, started, [])
    assert (ready.phase, ready.ready, ready.sid) == (Phase.RECORDING, True, "sid-soon")
    assert not rt.arrivals


async def test_a_start_does_not_wait_when_its_backend_sends_no_callbacks(
    receiver: tuple[Runtime, TestClient[object, object]],
) -> None:
    rt, _ = receiver
    backend = rt.backends[("RecordingBackend", "ns", "local")]
    started = Tracked(phase=Phase.CONNECTING, resource_id="r1", sid="sid-none")
    silent = Desired(generation=1, callbacks_expected=False)
    await asyncio.wait_for(
        await_first_callback(rt, Start("r1"), backend, silent, started), FIRST_CALLBACK_WAIT / 10
    )
    assert not rt.arrivals
