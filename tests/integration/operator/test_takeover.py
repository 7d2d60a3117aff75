"""A CloudRecording whose recorder replica is killed (issue 14): taken over, Degraded with the gap.

Two real recorder replicas behind a stand-in Service, the real operator and kube-apiserver,
real Janus and versitygw. The replica recording gets SIGKILL (no drain). The other replica
takes the recording over under the same sid: the operator posts a TakenOver Event, the
resource shows ``Degraded`` True (reason TakenOver, the media time missing in its message),
stays Recording and is Ready again; the killed replica comes back on its volume and
delivers its part; ``state: Stopped`` through kubectl stops the recording where it runs now.
The gap the status shows is the one the decoded media shows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import CALLBACK_SECRET, RecordingEnv, condition, ready
from tests.fixtures.recorder import CallbackSink, RecorderProcess
from tests.fixtures.service import ReadyService
from tests.integration.operator.test_handover import Watch
from tests.integration.recorder.handover_checks import shows_colour
from tests.integration.recorder.takeover_checks import read_taken_over
from tests.integration.recorder.test_handover import start_replicas, wait_exit

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread
FPS = 15
GAP_TOLERANCE = 0.3
"""The recorder test's tolerance (takeover test: 2-3 frame intervals) plus the rounding of the
message (0.1 s)."""


@pytest.fixture
def replicas(
    tmp_path: Path,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    operator_recorder: RecorderProcess,
    operator_callback_port: int,
) -> Iterator[list[RecorderProcess]]:
    callbacks = {
        "urls": [f"http://127.0.0.1:{operator_callback_port}/callbacks"],
        "secret": CALLBACK_SECRET,
        "retries": 3,
    }
    running = start_replicas(
        tmp_path,
        janus,
        callback_sink,
        s3_server,
        operator_recorder.bucket,
        callbacks=callbacks,
        maxConcurrentRecordings=8,
        storageEncryptionKey=secrets.token_urlsafe(24),
    )
    try:
        yield running
    finally:
        for replica in running:
            replica.process.stop()


async def test_a_recording_taken_over_after_its_replica_is_killed_is_degraded_with_its_gap(
    recordings: RecordingEnv,
    replicas: list[RecorderProcess],
    room: str,
    publish: PublishFactory,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    env = recordings
    ra, rb = replicas
    service = ReadyService([ra.base_url, rb.base_url])
    try:
        await run(env.add_backend, "replicas", dataclasses.replace(ra, base_url=service.url))
        async with publish(room, ["1001", "1002"], width=160, height=120):
            await run(
                env.apply,
                "taken",
                room,
                backendRef={"name": "replicas"},
                recordingConfig={
                    "maxIdleTime": 30,
                    "transcodingConfig": {"layout": "BestFit", "fps": FPS},
                },
            )
            first = await run(env.wait, "taken", ready, 60.0, "Ready True")
            sid = first["status"]["recordingId"]
            watch = Watch(env, "taken")
            await asyncio.sleep(5)
            assert ra.process.pid is not None
            killed = time.monotonic()
            os.killpg(ra.process.pid, signal.SIGKILL)
            await wait_exit(ra)
            ra.process.stop()
            degraded = await run(
                env.wait,
                "taken",
                lambda o: condition(o, "Degraded").get("reason") == "TakenOver",
                60.0,
                "Degraded TakenOver",
            )
            shown = time.monotonic() - killed
            await run(ra.process.start)  # its volume comes back
            await run(lambda: ra.process.wait_http(f"{ra.base_url}/readyz", timeout=60))
            await run(env.wait, "taken", ready, 60.0, "Ready True again")
            await asyncio.sleep(4)
            seen = watch.stop()
            await run(env.patch_spec, "taken", {"state": "Stopped"})
            done = await run(env.wait_phase, "taken", "Completed", 90.0)
    finally:
        service.close()
    assert done["status"]["recordingId"] == sid
    assert {phase for phase, _ in seen} == {"Recording"}, sorted(set(seen))
    assert seen[-1] == ("Recording", "True")
    state = condition(degraded, "Degraded")
    assert state["status"] == "True"
    assert state["observedGeneration"] == degraded["metadata"]["generation"]
    found = re.search(r"([0-9.]+)s of media missing", state["message"])
    assert found is not None, state["message"]
    gap = float(found.group(1))
    taken = [m for _, r, m in await run(env.events, "taken") if r == "TakenOver"]
    assert len(taken) == 1 and "after recorder replica ra was lost" in taken[0], taken
    assert shown <= 30.0, f"Degraded shown {shown:.1f}s after the kill"
    media = read_taken_over(s3_server, ra.bucket, sid, room, tmp_path)
    for part in (media.first, media.second):
        for colour in (color_for(0), color_for(1)):
            assert shows_colour(part.frames, colour), f"{colour} missing"
    decoded = media.missing_seconds(FPS)
    assert abs(decoded - gap) <= GAP_TOLERANCE, f"status {gap}s, decoded {decoded:.3f}s"
