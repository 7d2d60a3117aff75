"""No secret value in the operator's logs, the Events, or any status of a run."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
import yaml
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready

from cloudrec_operator.api.names import CLOUDRECORDINGS, RECORDINGBACKENDS

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

run = asyncio.to_thread


async def test_no_secret_value_appears_in_logs_events_or_status(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    token = "tok-" + secrets.token_urlsafe(24)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "rtc-token"},
        "stringData": {"token": token},
    }
    await run(env.kubectl, "apply", "-f", "-", input=yaml.safe_dump(secret))
    async with publish(room, "1001", width=160, height=120):
        await run(env.apply, "secretive", room, tokenSecretRef={"name": "rtc-token"})
        await run(env.wait, "secretive", ready, 60.0, "Ready True")
        await asyncio.sleep(3)
        await run(env.patch_spec, "secretive", {"state": "Stopped"})
        await run(env.wait_phase, "secretive", "Completed", 60.0)
    # A failing one too: its error text must not carry the request either.
    await run(env.apply, "secretive-missing", room, tokenSecretRef={"name": "no-such-token"})
    await run(
        env.wait,
        "secretive-missing",
        lambda o: any(
            c["type"] == "Ready" and c["reason"] == "SecretNotFound"
            for c in (o.get("status") or {}).get("conditions", [])
        ),
        30.0,
        "SecretNotFound",
    )
    haystacks = {
        "operator logs": env.operator.logs(),
        "recordings": await run(env.kubectl, "get", CLOUDRECORDINGS, "-o", "json"),
        "events": await run(env.kubectl, "get", "events", "-o", "json"),
        "backends": await run(env.kubectl, "get", RECORDINGBACKENDS, "-o", "json"),
        "metrics": await run(lambda: json.dumps(env.operator.metric("cloudrec_recordings"))),
    }
    values = [token, *env.secret_values]
    for where, text in haystacks.items():
        for value in values:
            assert value not in text, f"a secret value appears in the {where}"
    assert "rtc-token" in haystacks["recordings"]  # the reference is fine, the value is not
