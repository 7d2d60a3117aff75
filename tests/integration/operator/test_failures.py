"""Missing inputs, wrong credentials, an unreachable backend: what status and Events say."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import yaml
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, condition, ready
from tests.fixtures.recorder import RecorderProcess

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

run = asyncio.to_thread


async def test_a_missing_secret_is_named_and_the_recording_starts_once_it_exists(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    async with publish(room, "1001", width=160, height=120):
        await run(
            env.apply,
            "late-secret",
            room,
            storageConfig={"credentialsSecretRef": {"name": "bucket-later"}},
        )
        blocked = await run(
            env.wait,
            "late-secret",
            lambda o: condition(o, "Ready").get("reason") == "SecretNotFound",
            30.0,
            "Ready reason SecretNotFound",
        )
        message = condition(blocked, "Ready")["message"]
        assert "bucket-later" in message and env.namespace in message
        assert condition(blocked, "Degraded")["status"] == "True"
        warnings = [e for e in await run(env.events, "late-secret") if e[0] == "Warning"]
        assert [reason for _, reason, _ in warnings] == ["SecretNotFound"]
        assert "resourceId" not in blocked["status"]
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bucket-later"},
            "stringData": {
                "accessKey": env.recorder.s3.access_key,
                "secretKey": env.recorder.s3.secret_key,
            },
        }
        await run(env.kubectl, "apply", "-f", "-", input=yaml.safe_dump(secret))
        started = await run(env.wait, "late-secret", ready, 90.0, "Ready True")
    assert started["status"]["phase"] == "Recording"
    assert condition(started, "Degraded")["status"] == "False"


async def test_wrong_credentials_fail_the_recording_without_retrying(
    recordings: RecordingEnv, room: str
) -> None:
    env = recordings
    await run(env.add_wrong_credentials_backend, "wrong")
    await run(env.apply, "wrong-creds", room, backendRef={"name": "wrong"})
    failed = await run(env.wait_phase, "wrong-creds", "Failed", 30.0)
    assert condition(failed, "Ready")["status"] == "False"
    assert condition(failed, "Ready")["reason"] == "AuthenticationFailed"
    assert failed["status"]["lastError"]["code"] == 430
    await asyncio.sleep(5)
    events = await run(env.events, "wrong-creds")
    assert [(t, r) for t, r, _ in events] == [("Warning", "FatalError")]
    assert (await run(env.status, "wrong-creds"))["phase"] == "Failed"


async def test_an_unreachable_backend_is_retried_and_recording_starts_when_it_is_back(
    recordings: RecordingEnv,
    room: str,
    publish: PublishFactory,
    fresh_recorder: Callable[..., RecorderProcess],
) -> None:
    env = recordings
    flaky = await run(fresh_recorder)
    await run(env.add_backend, "flaky", flaky)
    flaky.process.stop()
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "unreachable", room, backendRef={"name": "flaky"})
        degraded = await run(
            env.wait,
            "unreachable",
            lambda o: condition(o, "Degraded").get("reason") == "BackendUnreachable",
            30.0,
            "Degraded BackendUnreachable",
        )
        assert condition(degraded, "Degraded")["status"] == "True"
        assert condition(degraded, "Ready")["status"] == "False"
        assert degraded["status"]["lastError"]["code"] == 430
        started = time.monotonic()
        await run(flaky.process.start)
        await run(lambda: flaky.process.wait_http(f"{flaky.base_url}/readyz", timeout=60))
        back = await run(env.wait, "unreachable", ready, 90.0, "Ready True")
        assert time.monotonic() - started < 75
    assert back["status"]["phase"] == "Recording"
    assert condition(back, "Degraded")["status"] == "False"


async def test_a_field_the_self_hosted_recorder_cannot_honour_is_named_and_nothing_starts(
    recordings: RecordingEnv, room: str
) -> None:
    # The CRD cannot refuse it (whether backendRef names a SelfHosted backend is known only
    # at reconcile): the operator does, before acquiring anything.
    env = recordings
    decrypting = {"decryption": {"mode": "AES128XTS", "secretRef": {"name": "dec"}}}
    await run(env.apply, "decrypting", room, recordingConfig=decrypting)
    refused = await run(
        env.wait,
        "decrypting",
        lambda o: condition(o, "Ready").get("reason") == "UnsupportedByBackend",
        30.0,
        "Ready reason UnsupportedByBackend",
    )
    message = condition(refused, "Ready")["message"]
    assert message.startswith("spec.recordingConfig.decryption.mode: "), message
    assert "RecordingBackend/local is SelfHosted" in message
    assert "resourceId" not in refused["status"]
    warnings = [e for e in await run(env.events, "decrypting") if e[0] == "Warning"]
    assert [(reason, text) for _, reason, text in warnings] == [("UnsupportedByBackend", message)]
