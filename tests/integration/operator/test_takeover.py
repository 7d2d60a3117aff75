"""A CloudRecording whose recorder replica is killed (issue 14): taken over, Degraded with the gap.

Two real recorder replicas behind a stand-in Service, the real operator and kube-apiserver,
real Janus and versitygw. The replica recording gets SIGKILL (no drain). The other replica
takes the recording over under the same sid: the operator posts a TakenOver Event, the
resource shows ``Degraded`` True (reason TakenOver, the media time missing in its message),
stays Recording and is Ready again; the killed replica comes back on its volume and
delivers its part; ``state: Stopped`` through kubectl stops the recording where it runs now.
The gap the status shows is the one the decoded media shows. The same goes through a
CloudRecording for an Individual recording (every uid's tracks of both parts listed in status
and decoded from the bucket) and for a paused one (taken over paused, phase Paused throughout,
resumed through ``state: Recording`` on the taker).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, condition, ready
from tests.fixtures.recorder import RecorderProcess
from tests.fixtures.service import ReadyService
from tests.integration.operator.test_handover import Watch
from tests.integration.recorder.handover_checks import shows_colour
from tests.integration.recorder.takeover_checks import (
    AAC_FRAME_SECONDS,
    read_taken_over,
    read_taken_over_track,
)
from tests.integration.recorder.test_handover import wait_exit
from tests.integration.recorder.test_takeover import KEYFRAME_WAIT, heard

from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol import filenames

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread
FPS = 15
GAP_TOLERANCE = 0.3
"""The recorder test's tolerance (takeover test: 2-3 frame intervals) plus the rounding of the
message (0.1 s)."""


async def test_a_recording_taken_over_after_its_replica_is_killed_is_degraded_with_its_gap(
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
            checked = await run(
                env.wait,
                "taken",
                lambda o: condition(o, "Verified").get("status") in ("True", "False", "Unknown"),
                90.0,
                "a Verified condition",
            )
    finally:
        service.close()
    assert done["status"]["recordingId"] == sid
    # the operator checks the taker's manifest (the recording's name), and says what it covers
    verified = condition(checked, "Verified")
    assert (verified["status"], verified["reason"]) == ("True", "Verified"), verified
    assert "the part after the last take-over only, not listed here" in verified["message"]
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


async def kill(replica: RecorderProcess) -> None:
    """SIGKILL to the replica's process group (no drain), and wait for it to be gone."""
    assert replica.process.pid is not None
    os.killpg(replica.process.pid, signal.SIGKILL)
    await wait_exit(replica)
    replica.process.stop()


def taken_over(obj: dict[str, Any]) -> bool:
    return condition(obj, "Degraded").get("reason") == "TakenOver"


def reported_gap(obj: dict[str, Any]) -> float:
    state = condition(obj, "Degraded")
    assert state["status"] == "True", state
    found = re.search(r"([0-9.]+)s of media missing", state["message"])
    assert found is not None, state["message"]
    return float(found.group(1))


async def test_an_individual_recording_taken_over_after_its_replica_is_killed_completes_per_uid(
    recordings: RecordingEnv,
    operator_replicas: list[RecorderProcess],
    room: str,
    publish: PublishFactory,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    """Individual mode through a CloudRecording: every uid's audio and video go on on ``rb``
    under ``bak0_`` names; the resource shows TakenOver (ra -> rb) and Degraded with the gap,
    is Ready again, never fails, and ``state: Stopped`` completes it with both parts of every
    uid's tracks listed and in the bucket."""
    env = recordings
    ra, rb = operator_replicas
    uids = ["1001", "1002"]
    service = ReadyService([ra.base_url, rb.base_url])
    try:
        await run(env.add_backend, "replicas", dataclasses.replace(ra, base_url=service.url))
        async with publish(room, uids, width=160, height=120, fps=FPS):
            await run(
                env.apply,
                "solo",
                room,
                backendRef={"name": "replicas"},
                recordingConfig={
                    "maxIdleTime": 30,
                    "mode": "Individual",
                    "subscribeAudioUids": uids,
                    "subscribeVideoUids": uids,
                },
            )
            first = await run(env.wait, "solo", ready, 60.0, "Ready True")
            sid = first["status"]["recordingId"]
            watch = Watch(env, "solo")
            await asyncio.sleep(5)
            await kill(ra)
            degraded = await run(env.wait, "solo", taken_over, 60.0, "Degraded TakenOver")
            await run(ra.process.start)  # its volume comes back: its part delivered
            await run(lambda: ra.process.wait_http(f"{ra.base_url}/readyz", timeout=60))
            await run(env.wait, "solo", ready, 60.0, "Ready True again")
            await asyncio.sleep(3)
            seen = watch.stop()
            await run(env.patch_spec, "solo", {"state": "Stopped"})
            done = await run(env.wait_phase, "solo", "Completed", 90.0)
    finally:
        service.close()
    assert done["status"]["recordingId"] == sid
    assert {phase for phase, _ in seen} == {"Recording"}, sorted(set(seen))
    assert seen[-1] == ("Recording", "True")
    gap = reported_gap(degraded)
    assert 0 < gap <= 10.0, gap
    taken = [m for _, r, m in await run(env.events, "solo") if r == "TakenOver"]
    assert len(taken) == 1, taken
    assert "replica rb" in taken[0] and "after recorder replica ra was lost" in taken[0], taken
    listed = {f["fileName"].rsplit("/", 1)[-1] for f in done["status"]["files"]}
    in_bucket = {k.rsplit("/", 1)[-1] for k in s3_server.object_keys(ra.bucket)}
    assert listed <= in_bucket, sorted(listed - in_bucket)
    missing = {}
    for index, uid in enumerate(uids):
        for track in ("video", "audio"):
            name = filenames.individual_playlist(sid, room, uid, track)
            assert {name, "bak0_" + name} <= listed, (name, sorted(listed))
        video = read_taken_over_track(s3_server, ra.bucket, sid, room, uid, "video", tmp_path)
        audio = read_taken_over_track(s3_server, ra.bucket, sid, room, uid, "audio", tmp_path)
        for part in (video.first, video.second):
            frames = [f for p in part.parts for f in p.frames]
            assert shows_colour(frames, color_for(index)), f"{uid} missing in {part.playlist_key}"
        for part in (audio.first, audio.second):
            assert heard(part, tone_for(index)), f"{uid}'s tone missing in {part.playlist_key}"
        missing[f"{uid} video"] = video.missing_seconds(1 / FPS)
        missing[f"{uid} audio"] = audio.missing_seconds(AAC_FRAME_SECONDS)
    # the status shows the most any output misses (a stored video also waits for a keyframe)
    worst = max(missing.values())
    assert gap - GAP_TOLERANCE <= worst <= gap + GAP_TOLERANCE + KEYFRAME_WAIT, (gap, missing)


def paused(obj: dict[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") == "Paused" and ready(obj)


async def test_a_paused_recording_taken_over_after_its_replica_is_killed_stays_paused_until_resumed(
    recordings: RecordingEnv,
    operator_replicas: list[RecorderProcess],
    room: str,
    publish: PublishFactory,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    """``state: Paused``, then ``ra`` is killed: ``rb`` takes the recording over paused; the
    resource shows TakenOver and stays phase Paused (Ready True) with nothing recorded, until
    ``state: Recording`` resumes it on ``rb``, whose ``bak0_`` files then hold both
    publishers."""
    env = recordings
    ra, rb = operator_replicas
    service = ReadyService([ra.base_url, rb.base_url])
    try:
        await run(env.add_backend, "replicas", dataclasses.replace(ra, base_url=service.url))
        async with publish(room, ["1001", "1002"], width=160, height=120):
            await run(
                env.apply,
                "held",
                room,
                backendRef={"name": "replicas"},
                recordingConfig={
                    "maxIdleTime": 30,
                    "transcodingConfig": {"layout": "BestFit", "fps": FPS},
                },
            )
            first = await run(env.wait, "held", ready, 60.0, "Ready True")
            sid = first["status"]["recordingId"]
            await asyncio.sleep(4)
            await run(env.patch_spec, "held", {"state": "Paused"})
            await run(env.wait, "held", paused, 30.0, "phase Paused, Ready True")
            await asyncio.sleep(2)  # the pause's last segment is written, a beat tells it
            watch = Watch(env, "held")
            await kill(ra)
            degraded = await run(env.wait, "held", taken_over, 60.0, "Degraded TakenOver")
            after = await run(env.wait, "held", paused, 30.0, "still Paused, Ready True")
            await asyncio.sleep(3)
            seen = watch.stop()
            recorded_while_paused = [
                k for k in s3_server.object_keys(ra.bucket) if f"bak0_{sid}_" in k
            ]
            await run(env.patch_spec, "held", {"state": "Recording"})
            await run(env.wait, "held", ready, 30.0, "Ready True after the resume")
            resumed = await run(env.wait_phase, "held", "Recording", 30.0)
            await asyncio.sleep(5)
            await run(env.patch_spec, "held", {"state": "Stopped"})
            done = await run(env.wait_phase, "held", "Completed", 90.0)
    finally:
        service.close()
    assert resumed["status"]["recordingId"] == done["status"]["recordingId"] == sid
    assert {phase for phase, _ in seen} == {"Paused"}, sorted(set(seen))
    assert after["status"]["recordingId"] == sid
    assert reported_gap(degraded) <= 0.3
    reasons = await run(env.reasons, "held")
    assert reasons.count("TakenOver") == 1, reasons
    assert [r for r in reasons if r in ("Paused", "Resumed")] == ["Paused", "Resumed"], reasons
    assert not recorded_while_paused, sorted(recorded_while_paused)
    media = read_taken_over(s3_server, ra.bucket, sid, room, tmp_path)
    for colour in (color_for(0), color_for(1)):
        assert shows_colour(media.second.frames, colour), f"{colour} missing after the resume"
