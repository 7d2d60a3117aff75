"""A namespace user, or any pod, attacking through the operator (docs/security.md).

The real operator, recorder, Janus and versitygw: a forged tracking annotation, a backend
URL aimed at another service, a foreign answer, and replayed callbacks are refused with a
clear message, and the recording of the namespace keeps running.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.fixtures.controlplane import fresh_namespace
from tests.fixtures.foreign import MARKER
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import (
    CALLBACK_SECRET,
    FAST_QUERIES,
    RECORDER_UID,
    OperatorProcess,
    RecordingEnv,
    _backend,
    condition,
    prepare_recordings,
    ready,
)
from tests.fixtures.recorder import RecorderProcess
from tests.integration.live import hls_from_bucket

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.process import free_port
from cloudrec_operator.api.names import (
    API_VERSION,
    CLOUDRECORDINGS,
    RECORDINGBACKENDS,
    TRACKING_ANNOTATION,
)
from cloudrec_protocol.events import RecorderStartedDetails, make_notification, sign

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(240)]

run = asyncio.to_thread
TRACKING = TRACKING_ANNOTATION
MIN_SPAN = 5.0
"""Seconds of continuous video the replayed recording is checked over."""


async def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, content=body, headers=headers)


def warnings(env: RecordingEnv, name: str, reason: str) -> list[str]:
    return [m for t, r, m in env.events(name) if t == "Warning" and r == reason]


async def test_a_forged_tracking_annotation_is_ignored_with_a_warning_and_the_recording_runs(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    forged = {
        "failures": 4000000000,
        "retry_at": "2100-01-01T00:00:00Z",
        "lost_start": "resource-id-of-another-tenant",
    }
    manifest = env.manifest("forged", room)
    manifest["metadata"]["annotations"] = {TRACKING: json.dumps(forged)}
    async with publish(room, "1001", width=160, height=120):
        await run(env.kubectl, "apply", "-f", "-", input=yaml.safe_dump(manifest))
        recording = await run(env.wait, "forged", ready, 90.0, "Ready True")
        [message] = await run(warnings, env, "forged", "TrackingIgnored")
        assert "not signed by this operator" in message
        assert recording["status"]["phase"] == "Recording"
        # The operator wrote its own, signed annotation over the forged one.
        written = json.loads(recording["metadata"]["annotations"].get(TRACKING) or "{}")
        assert "failures" not in json.dumps(written.get("state", {}))
        assert set(written) <= {"sig", "state"}
        # The user rewrites it while the recording runs: the operator's value wins.
        await run(
            env.kubectl,
            "annotate",
            "--overwrite",
            "cloudrecording",
            "forged",
            f"{TRACKING}={json.dumps({'failures': 4000000000})}",
        )
        await asyncio.sleep(2)
        assert env.operator.running()
        assert (await run(env.get, "forged"))["status"]["phase"] == "Recording"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7:9200/_security/user/admin?x=",
        "http://10.0.0.7:9200/_security/user/admin#",
        "http://admin:secret@10.0.0.7:9200/",
        "http://10.0.0.7:9200/ path",
    ],
    ids=["query", "fragment", "userinfo", "blank"],
)
def test_a_backend_url_with_a_query_fragment_or_user_information_is_refused(
    recordings: RecordingEnv, url: str
) -> None:
    doc = _backend("aimed", url, callbacks=False)
    refused = recordings.plane.kubectl(
        "-n", recordings.namespace, "apply", "-f", "-", input=yaml.safe_dump(doc), check=False
    )
    assert refused.returncode != 0
    assert "spec.url" in refused.stderr
    assert not recordings.kubectl("get", RECORDINGBACKENDS, "aimed", "--ignore-not-found")


async def test_an_answer_that_is_not_the_protocols_shows_only_its_status_code(
    recordings: RecordingEnv, room: str, foreign_service: str
) -> None:
    env = recordings
    doc = _backend("foreign", foreign_service, callbacks=False)
    await run(env.kubectl, "apply", "-f", "-", input=yaml.safe_dump(doc))
    await run(env.apply, "aimed-elsewhere", room, backendRef={"name": "foreign"})

    def told(obj: dict[str, Any]) -> bool:
        return "HTTP 403" in json.dumps(obj.get("status") or {})

    recording = await run(env.wait, "aimed-elsewhere", told, 60.0, "the 403 in the status")
    seen = json.dumps(recording["status"]) + json.dumps(await run(env.events, "aimed-elsewhere"))
    assert "not a recording service error" in seen
    assert MARKER not in seen and "admin" not in seen


async def test_a_replayed_or_day_old_callback_is_refused_even_after_an_operator_restart(
    recordings: RecordingEnv, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "replayed", room)
        recording = await run(env.wait, "replayed", ready, 90.0, "Ready True")
        recording_since = time.monotonic()
        sid = recording["status"]["recordingId"]
        now_ms = int(time.time() * 1000)
        note = make_notification(
            cname=room,
            uid=RECORDER_UID,
            sid=sid,
            sequence=900,
            details=RecorderStartedDetails(),
            now_ms=now_ms,
            notice_id=str(uuid.uuid4()),
        )
        raw = note.to_wire_json()
        url = env.operator.callback_url
        first = await post(url, raw, sign(raw, CALLBACK_SECRET))
        assert first.json() == {"ok": True}
        await run(
            env.wait,
            "replayed",
            lambda o: note.notice_id in (o.get("status") or {}).get("appliedCallbacks", []),
            30.0,
            "the notice in status.appliedCallbacks",
        )
        env.operator.kill()
        env.operator.start()
        # Until the restarted operator has resumed the recording it answers 404 (the
        # sender retries); the first other answer must name the resend a duplicate.
        deadline = time.monotonic() + 60
        while True:
            again = await post(url, raw, sign(raw, CALLBACK_SECRET))
            if again.status_code != 404 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert again.json() == {"ok": True, "duplicate": True}
        old = note.model_copy(update={"notify_ms": now_ms - 24 * 3600 * 1000, "notice_id": "x"})
        stale = old.to_wire_json()
        refused = await post(url, stale, sign(stale, CALLBACK_SECRET))
        assert (refused.status_code, refused.json()["reason"]) == (400, "stale")
        # On the backend's own path an unsigned megabyte costs one HMAC and is refused.
        path = f"/callbacks/namespaces/{env.namespace}/recordingbackends/local"
        junk = await post(url.removesuffix("/callbacks") + path, b"{" * 1_000_000, {})
        assert (junk.status_code, junk.json()["reason"]) == (401, "bad_signature")
        assert (await run(env.get, "replayed"))["status"]["phase"] == "Recording"
        # however fast the replays went, record long enough for the continuity check
        await asyncio.sleep(max(2.0, recording_since + MIN_SPAN + 3.0 - time.monotonic()))
        await run(env.patch_spec, "replayed", {"state": "Stopped"})
        done = await run(env.wait_phase, "replayed", "Completed", 60.0)
    # Through the attacks and the operator's restart the recording ran on: its uploaded
    # video has no gap.
    [playlist] = [f["fileName"] for f in done["status"]["files"] if f["fileName"].endswith(".m3u8")]
    hls = await run(hls_from_bucket, env.recorder.s3, env.recorder.bucket, playlist, tmp_path)
    hls.assert_continuous(15, at_least=MIN_SPAN)


GUARDED_PREFIX = "crec-guard-"
ALLOWED_HOST = "recorder.allowed.example"


@pytest.fixture(scope="module")
def guarded_operator(
    tmp_path_factory: pytest.TempPathFactory,
    control_plane: ControlPlane,
    crds_installed: list[Path],
) -> Iterator[OperatorProcess]:
    """An operator whose administrator allows namespaced backends on one host only."""
    operator = OperatorProcess(
        workdir=tmp_path_factory.mktemp("guarded-operator"),
        kubeconfig=control_plane.kubeconfig,
        callback_port=free_port(),
        liveness_port=free_port(),
        namespaces=(f"{GUARDED_PREFIX}*",),
        options=(*FAST_QUERIES, "--backend-host", ALLOWED_HOST),
    )
    operator.start()
    try:
        yield operator
    finally:
        operator.stop()


def reason_is(expected: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: condition(obj, "Ready").get("reason") == expected


async def test_backends_the_administrator_did_not_allow_for_a_namespace_are_not_used(
    control_plane: ControlPlane,
    guarded_operator: OperatorProcess,
    operator_recorder: RecorderProcess,
    request: pytest.FixtureRequest,
    room: str,
    publish: PublishFactory,
) -> None:
    rec = operator_recorder
    with (
        fresh_namespace(control_plane, request, GUARDED_PREFIX + "red-", 20) as red,
        fresh_namespace(control_plane, request, GUARDED_PREFIX + "blue-", 20) as blue,
    ):
        control_plane.kubectl("label", "namespace", blue, "tenant=blue")
        red_env = prepare_recordings(control_plane, red, rec, guarded_operator)
        blue_env = prepare_recordings(control_plane, blue, rec, guarded_operator)
        shared = f"shared-{secrets.token_hex(3)}"
        cluster_backend = {
            "apiVersion": API_VERSION,
            "kind": "ClusterRecordingBackend",
            "metadata": {"name": shared},
            "spec": {
                "url": rec.base_url,
                "credentialsSecretRef": {"name": "recorder-credentials", "namespace": blue},
                "allowedNamespaces": {"matchLabels": {"tenant": "blue"}},
                "allowedAppIds": [rec.app_id],
            },
        }
        await run(control_plane.kubectl, "apply", "-f", "-", input=yaml.safe_dump(cluster_backend))
        via_shared = {"backendRef": {"kind": "ClusterRecordingBackend", "name": shared}}
        try:
            # A namespaced backend on a host the administrator did not allow.
            await run(red_env.apply, "own-host", room)
            refused = await run(
                red_env.wait, "own-host", reason_is("BackendHostNotAllowed"), 60.0, "refusal"
            )
            message = condition(refused, "Ready")["message"]
            assert f"RecordingBackend {red}/local: host 127.0.0.1" in message
            assert "phase" not in refused["status"] or refused["status"]["phase"] == "Pending"
            # The shared backend serves namespaces labelled tenant=blue, and one app id.
            await run(red_env.apply, "not-for-red", room, **via_shared)
            await run(red_env.wait, "not-for-red", reason_is("BackendNotAllowed"), 60.0, "no")
            await run(blue_env.apply, "other-app", room, appId="another-app", **via_shared)
            await run(blue_env.wait, "other-app", reason_is("AppIdNotAllowed"), 60.0, "no")
            async with publish(room, "1001", width=160, height=120):
                await run(blue_env.apply, "blue-records", room, **via_shared)
                await run(blue_env.wait, "blue-records", ready, 90.0, "Ready True")
            warned = [r for t, r, _ in await run(red_env.events, "not-for-red") if t == "Warning"]
            assert "BackendNotAllowed" in warned
        finally:
            for env in (red_env, blue_env):
                env.kubectl("delete", CLOUDRECORDINGS, "--all", "--wait=false", check=False)
            control_plane.kubectl("delete", "clusterrecordingbackend", shared, check=False)
