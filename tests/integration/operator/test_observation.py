"""Observation: query alone reaches the same end state; callbacks must be signed and new;
an event that arrives before its sid is stored still counts."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import (
    CALLBACK_SECRET,
    OperatorProcess,
    RecordingEnv,
    prepare_recordings,
    ready,
)
from tests.fixtures.recorder import RecorderProcess

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.process import free_port
from cloudrec_operator.api.names import CLOUDRECORDINGS
from cloudrec_protocol.events import sign


async def run_wait_released(env: RecordingEnv, name: str) -> None:
    """No recording left to stop: kopf's finalizer comes off."""
    await asyncio.to_thread(
        env.wait, name, lambda o: not o["metadata"].get("finalizers"), 15.0, "no finalizer"
    )


pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

run = asyncio.to_thread


def notification(sid: str, cname: str, uid: str, event_type: int, **details: Any) -> bytes:
    now_ms = int(time.time() * 1000)  # fresh: the receiver refuses notifyMs 5 min away
    body = {
        "noticeId": str(uuid.uuid4()),
        "productId": 3,
        "eventType": event_type,
        "notifyMs": now_ms,
        "payload": {
            "cname": cname,
            "uid": uid,
            "sid": sid,
            "sequence": 99,
            "sendts": now_ms,
            "serviceType": 0,
            "details": {"msgName": "x", **details},
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def test_without_callbacks_query_alone_reaches_the_same_end_state(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "query-only", room, backendRef={"name": "local-query-only"})
        started = await run(env.wait, "query-only", ready, 60.0, "Ready True")
        assert started["status"]["phase"] == "Recording"
        await asyncio.sleep(4)
    done = await run(env.wait_phase, "query-only", "Completed", 90.0)
    # A user sees the same story as with callbacks: each step once, in order, no warnings
    # (then the bucket's check: without a callback secret it cannot check the signature, and
    # says so with a Normal VerificationUnknown).
    await run(env.wait_reasons, "query-only", "Uploaded", "VerificationUnknown")
    events = await run(env.events, "query-only")
    lifecycle = [event for event in events if not event[1].startswith("Verification")]
    assert [reason for _, reason, _ in lifecycle] == [
        "Connecting",
        "Started",
        "Stopped",
        "Uploaded",
    ]
    assert [reason for _, reason, _ in events if reason not in {r for _, r, _ in lifecycle}] == [
        "VerificationUnknown"
    ]
    assert {kind for kind, _, _ in events} == {"Normal"}
    uploaded = lifecycle[-1][2]
    assert ".m3u8" in uploaded, uploaded
    assert done["status"]["upload"] == {"progress": 100, "status": "Uploaded"}
    assert any(
        c["type"] == "Uploaded" and c["status"] == "True" for c in done["status"]["conditions"]
    )
    listed = {f["fileName"] for f in done["status"]["files"]}
    assert any(n.endswith(".m3u8") for n in listed)
    assert listed <= set(env.recorder.s3.object_keys(env.recorder.bucket))
    await run_wait_released(env, "query-only")


async def test_a_callback_with_a_bad_signature_is_rejected_counted_and_changes_nothing(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        manifest = await run(env.apply, "signed", room)
        started = await run(env.wait, "signed", ready, 60.0, "Ready True")
        sid = started["status"]["recordingId"]
        cname, uid = manifest["spec"]["channelName"], manifest["spec"]["uid"]
        before = await run(
            env.operator.metric, "cloudrec_callbacks_rejected_total", reason="bad_signature"
        )
        fatal = notification(sid, cname, uid, 11, exitStatus=1)
        forged = sign(fatal, "not-the-callback-secret")
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(env.operator.callback_url, content=fatal, headers=forged)
            assert response.status_code == 401
            unsigned = await client.post(env.operator.callback_url, content=fatal)
            assert unsigned.status_code == 401
            after = await run(
                env.operator.metric, "cloudrec_callbacks_rejected_total", reason="bad_signature"
            )
            assert after == before + 2
            # A correctly signed notice is applied once; its resend is dropped.
            progress = notification(sid, cname, uid, 33, progress=4200)
            headers = sign(progress, CALLBACK_SECRET)
            first = await client.post(env.operator.callback_url, content=progress, headers=headers)
            again = await client.post(env.operator.callback_url, content=progress, headers=headers)
        assert first.json() == {"ok": True}
        assert again.json() == {"ok": True, "duplicate": True}
        await asyncio.sleep(2)
        status = await run(env.status, "signed")
        assert status["phase"] == "Recording"
        assert "FatalError" not in await run(env.reasons, "signed")


SLOW_QUERIES = ("--tick", "1", "--first-query", "60", "--steady-query", "60")
"""Queries a minute apart: within this test only a callback can confirm the recorder."""


@pytest.fixture
def slow_query_env(
    control_plane: ControlPlane,
    crds_installed: list[Path],
    namespace: str,
    fresh_recorder: Callable[..., RecorderProcess],
    tmp_path: Path,
) -> Iterator[RecordingEnv]:
    """An operator of its own (slow queries, watching only ``namespace``) and a recorder
    that sends each callback to it once, never again."""
    operator = OperatorProcess(
        workdir=tmp_path,
        kubeconfig=control_plane.kubeconfig,
        callback_port=free_port(),
        liveness_port=free_port(),
        namespaces=(namespace,),
        options=SLOW_QUERIES,
    )
    callbacks = {"urls": [operator.callback_url], "secret": CALLBACK_SECRET, "retries": 0}
    recorder = fresh_recorder(callbacks=callbacks)
    operator.start()
    try:
        yield prepare_recordings(control_plane, namespace, recorder, operator)
    finally:
        control_plane.kubectl(
            "-n", namespace, "delete", CLOUDRECORDINGS, "--all", "--timeout=60s", check=False
        )
        operator.stop()


async def test_an_event_sent_before_the_start_answer_is_stored_makes_the_recording_ready(
    slow_query_env: RecordingEnv, room: str
) -> None:
    # The recorder sends "recorder started" (event 40) while it answers start, once. The
    # operator has not stored the sid yet, let alone seen it come back through its index:
    # it holds the event and applies it as soon as the sid is known.
    env = slow_query_env
    await run(env.apply, "early", room, recordingConfig={"maxIdleTime": 120})
    started = await run(env.wait, "early", ready, 30.0, "Ready True")
    assert started["status"]["phase"] == "Recording"
    events = await run(env.events, "early")
    assert [reason for _, reason, _ in events][:2] == ["Connecting", "Started"]
    assert started["status"]["recordingId"] in events[1][2]
    metric = env.operator.metric
    assert await run(metric, "cloudrec_protocol_request_seconds_count", operation="start") >= 1
    # No query was made, so the callback made it Ready, and nothing was refused as unknown
    # (nothing for the sender to resend). When it comes is the recorder's affair: held
    # while the start is answered, found through the sid the pass stored (the index not
    # updated yet), or through the index; each order is a unit test in test_callbacks.py.
    assert await run(metric, "cloudrec_protocol_request_seconds_count", operation="query") == 0
    assert await run(metric, "cloudrec_callbacks_rejected_total", reason="unknown_recording") == 0
    assert await run(metric, "cloudrec_callbacks_received_total", event_type="40") == 1
