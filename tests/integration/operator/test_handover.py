"""A CloudRecording whose recorder replica drains (issue 14): it never leaves Recording.

Two real recorder replicas behind a stand-in Service (requests go to a ready replica only, as
a Kubernetes Service does), the real operator and kube-apiserver, real Janus and versitygw.
The replica recording gets SIGTERM and comes back (a rolling restart): the recording moves to
the other replica under the same sid, the operator posts a HandedOver Event naming both,
the resource stays Recording with Ready True throughout, and ``state: Stopped`` through
kubectl stops it on the replica that holds it now. The bucket holds one continuous playlist.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, condition, ready
from tests.fixtures.recorder import RecorderProcess
from tests.fixtures.service import ReadyService
from tests.integration.recorder.handover_checks import (
    check_continuous,
    read_handed_over,
    read_playlist,
)
from tests.integration.recorder.test_handover import wait_exit

from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread


class Watch:
    """Every (phase, Ready) the resource shows, read from the API every 0.2 s."""

    def __init__(self, env: RecordingEnv, name: str) -> None:
        self.seen: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(env, name), daemon=True)
        self._thread.start()

    def _run(self, env: RecordingEnv, name: str) -> None:
        while not self._stop.wait(0.2):
            obj: dict[str, Any] = env.get(name)
            status = obj.get("status") or {}
            self.seen.append((status.get("phase", ""), condition(obj, "Ready").get("status", "")))

    def stop(self) -> list[tuple[str, str]]:
        self._stop.set()
        self._thread.join()
        return self.seen


async def test_a_recording_handed_between_replicas_stays_recording_and_stops_through_kubectl(
    recordings: RecordingEnv,
    operator_replicas: list[RecorderProcess],
    room: str,
    publish: PublishFactory,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    env = recordings
    ra, rb = operator_replicas
    service = ReadyService([ra.base_url, rb.base_url])
    try:
        await run(env.add_backend, "replicas", dataclasses.replace(ra, base_url=service.url))
        async with publish(room, ["1001", "1002"], width=160, height=120):
            await run(
                env.apply,
                "handed",
                room,
                backendRef={"name": "replicas"},
                recordingConfig={"maxIdleTime": 30, "transcodingConfig": {"layout": "BestFit"}},
            )
            first = await run(env.wait, "handed", ready, 60.0, "Ready True")
            sid = first["status"]["recordingId"]
            watch = Watch(env, "handed")
            await asyncio.sleep(4)
            assert ra.process.pid is not None
            os.kill(ra.process.pid, signal.SIGTERM)
            await wait_exit(ra)
            await run(ra.process.start)  # a rolling restart: the replica comes back
            await run(lambda: ra.process.wait_http(f"{ra.base_url}/readyz", timeout=60))
            await run(
                env.wait,
                "handed",
                lambda o: "HandedOver" in env.reasons("handed"),
                60.0,
                "a HandedOver Event",
            )
            await asyncio.sleep(4)
            seen = watch.stop()
            await run(env.patch_spec, "handed", {"state": "Stopped"})
            done = await run(env.wait_phase, "handed", "Completed", 90.0)
    finally:
        service.close()
    assert seen and set(seen) == {("Recording", "True")}, sorted(set(seen))
    assert done["status"]["recordingId"] == sid
    handed = [m for _, r, m in await run(env.events, "handed") if r == "HandedOver"]
    assert len(handed) == 1 and "from recorder replica ra to rb" in handed[0], handed
    assert f"Took over sid={sid} from=ra" in rb.log_path.read_text()
    media = read_handed_over(s3_server, ra.bucket, sid, tmp_path)
    check_continuous(media, 15, [color_for(0), color_for(1)])


async def test_an_individual_recording_handed_between_replicas_stays_recording_throughout(
    recordings: RecordingEnv,
    operator_replicas: list[RecorderProcess],
    room: str,
    publish: PublishFactory,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    """Individual mode, tracks re-encoded (streamMode Standard): each uid's playlists go on
    on the other replica; the resource never leaves Recording."""
    env = recordings
    ra, rb = operator_replicas
    users = ["1001", "1002"]
    service = ReadyService([ra.base_url, rb.base_url])
    try:
        await run(env.add_backend, "replicas", dataclasses.replace(ra, base_url=service.url))
        async with publish(room, users, width=160, height=120):
            await run(
                env.apply,
                "handed-individual",
                room,
                backendRef={"name": "replicas"},
                recordingConfig={
                    "mode": "Individual",
                    "streamMode": "Standard",
                    "maxIdleTime": 30,
                    "subscribeAudioUids": users,
                    "subscribeVideoUids": users,
                },
            )
            first = await run(env.wait, "handed-individual", ready, 60.0, "Ready True")
            sid = first["status"]["recordingId"]
            watch = Watch(env, "handed-individual")
            await asyncio.sleep(4)
            assert ra.process.pid is not None
            os.kill(ra.process.pid, signal.SIGTERM)
            await wait_exit(ra)
            await run(
                env.wait,
                "handed-individual",
                lambda o: "HandedOver" in env.reasons("handed-individual"),
                60.0,
                "a HandedOver Event",
            )
            await asyncio.sleep(4)
            seen = watch.stop()
            await run(env.patch_spec, "handed-individual", {"state": "Stopped"})
            done = await run(env.wait_phase, "handed-individual", "Completed", 90.0)
    finally:
        service.close()
    assert seen and set(seen) == {("Recording", "True")}, sorted(set(seen))
    assert done["status"]["recordingId"] == sid
    keys = {k for k in s3_server.object_keys(ra.bucket) if sid in k}
    for index, uid in enumerate(users):
        [key] = [k for k in keys if k.endswith(f"__uid_s_{uid}__uid_e_video.m3u8")]
        media = read_playlist(s3_server, ra.bucket, key, tmp_path)
        check_continuous(media, 15, [color_for(index)])
    listed = {f["fileName"] for f in done["status"]["files"]}
    assert {k for k in keys if k.endswith(".m3u8")} <= listed, sorted(listed)
