"""kopf's own bookkeeping on a CloudRecording: valid annotations, never a 422.

While a handler retries (here: a referenced Secret is missing), kopf keeps its progress in
annotations named after the handler's id. The API server refuses an invalid name with 422
and kopf then throttles the resource; nothing in a run may get such an answer.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from tests.fixtures.operator import RecordingEnv

from cloudrec_operator.api.names import GROUP

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(120)]

run = asyncio.to_thread

NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
PREFIX = f"{GROUP}/"
REFUSED = re.compile(r"Invalid value|UnprocessableEntity|status=422|'code': 422")
"""How kopf logs a write the API server refused with 422."""


def progress_annotations(obj: dict[str, Any]) -> dict[str, str]:
    annotations = obj["metadata"].get("annotations") or {}
    return {k: v for k, v in annotations.items() if k.startswith(PREFIX) and "retries" in v}


async def test_a_retrying_handler_keeps_its_progress_in_valid_annotations_without_a_422(
    recordings: RecordingEnv, room: str
) -> None:
    env = recordings
    await run(env.apply, "progress", room, tokenSecretRef={"name": "no-such-token"})
    blocked = await run(
        env.wait,
        "progress",
        lambda o: bool(progress_annotations(o)),
        45.0,
        "kopf's progress annotation of the retrying handler",
    )
    assert env.condition(blocked, "Ready")["reason"] == "SecretNotFound"
    keys = [k for k in blocked["metadata"]["annotations"] if k.startswith(PREFIX)]
    invalid = [k for k in keys if not NAME.fullmatch(k[len(PREFIX) :]) or len(k) > 63 + 18]
    assert invalid == [], invalid
    assert f"{PREFIX}create" in progress_annotations(blocked)
    log = env.operator.logs()
    refused = [line for line in log.splitlines() if REFUSED.search(line)]
    assert refused == [], "\n".join(refused[:5])
