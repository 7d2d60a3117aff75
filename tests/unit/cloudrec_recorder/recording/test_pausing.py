"""Pause and resume (``update`` with ``onhold``, our extension) through the recording's fakes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from tests.unit.cloudrec_recorder.recording.fakes import (
    APP,
    CNAME,
    IDLE_CHECK,
    RECORDER_UID,
    Rig,
    audio_frame,
    rig,
    start_request,
    video_frame,
)
from tests.unit.cloudrec_recorder.recording.test_lifecycle import WAIT, record_publisher

from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.events import LeaveCode
from cloudrec_protocol.manifest import TimelineKind
from cloudrec_recorder.giving import Giver
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.sessions import Resource, Session
from cloudrec_recorder.settings import HandoverSettings

pytestmark = pytest.mark.timeout(5)


async def idle_checks(count: int = 10) -> None:
    await asyncio.sleep(IDLE_CHECK * count)


def send(r: Rig, uid: str) -> None:
    feed = r.channel.feeds[uid]
    assert feed.video is not None and feed.audio is not None
    feed.video.send(video_frame())
    feed.audio.send(audio_frame())


async def test_a_paused_recording_feeds_nothing_to_the_pipeline_and_resumes_into_it(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r, "7")
    fed = len(r.pipeline.video)

    await r.recording.hold(True)
    assert r.pipeline.holds == ["pause"]
    send(r, "7")
    await idle_checks(3)
    assert len(r.pipeline.video) == fed and r.pipeline.audio == []
    assert r.recording.status() == RecordingStatus.IN_PROGRESS  # a paused recording runs

    await r.recording.hold(False)
    assert r.pipeline.holds == ["pause", "resume"]
    r.pipeline.fed.clear()
    send(r, "7")
    async with asyncio.timeout(WAIT):
        await r.pipeline.fed.wait()
    await idle_checks(3)
    assert len(r.pipeline.video) == fed + 1 and r.pipeline.audio == ["7"]
    assert r.pipeline.started == 1  # the same pipeline, the same files


async def test_pause_and_resume_are_in_the_manifest_timeline_between_start_and_stop(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r, "7")
    await r.recording.hold(True)
    await r.recording.hold(True)  # asked again: nothing more
    await r.recording.hold(False)
    await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    kinds = [entry.kind for entry in r.uploader.timeline()]
    assert kinds == [
        TimelineKind.STARTED,
        TimelineKind.PAUSED,
        TimelineKind.RESUMED,
        TimelineKind.STOPPED,
    ]
    at = [entry.at_ms for entry in r.uploader.timeline()]
    assert at == sorted(at)


async def test_a_paused_empty_channel_is_not_left_and_the_pause_does_not_count_as_idle(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path, start_request(max_idle_time=10))
    await r.recording.start()
    r.clock.advance(6)  # 6 s idle before the pause
    await r.recording.hold(True)
    r.clock.advance(600)
    await idle_checks()
    assert r.recording.status() == RecordingStatus.READY  # still there

    await r.recording.hold(False)
    r.clock.advance(3.9)  # 6 + 3.9 < 10
    await idle_checks()
    assert r.recording.status() == RecordingStatus.READY
    r.clock.advance(0.1)
    await r.exited(WAIT)
    assert r.events.of("recorder_leave") == [LeaveCode.NO_USERS]


async def test_a_recording_paused_before_its_first_media_starts_nothing_until_resumed(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await r.recording.hold(True)
    r.channel.publish("7")
    await r.events.wait("stream_state", WAIT)
    send(r, "7")
    await idle_checks(3)
    assert r.pipeline.started == 0 and "slice_start" not in r.events.names()
    assert r.pipeline.holds == []  # nothing runs that could be paused

    await r.recording.hold(False)
    send(r, "7")
    async with asyncio.timeout(WAIT):
        await r.pipeline.fed.wait()
    assert r.pipeline.started == 1
    assert r.recording.status() == RecordingStatus.IN_PROGRESS


async def test_a_paused_recording_stops_with_its_files(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r, "7")
    await r.recording.hold(True)
    outcome = await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert outcome.had_media and r.pipeline.stopped
    assert r.events.of("recorder_leave") == [LeaveCode.CLIENT_LEAVE]
    await r.recording.hold(False)  # too late: changes nothing
    assert r.pipeline.holds == ["pause"]


async def test_a_draining_replica_does_not_hand_a_paused_recording_over(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r, "7")
    await r.recording.hold(True)
    session = Session(
        Resource("rid", APP, CNAME, RECORDER_UID, 0.0, 72), "sid1", "mix", 0.0, r.recording
    )
    settings = r.recording.settings.model_copy(
        update={
            "handover": HandoverSettings(enabled=True, replicas=["r1"]),
            "peers": {"r1": "http://r1.invalid:8080"},
        }
    )
    r.pipeline.origin_epoch_ms = 1_700_000_000_000  # a mix with media: it could move
    r.recording.request = start_request()
    asked: list[str] = []

    def peer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(peer)) as client:
        giver = Giver(settings, client, Redirects(tmp_path / "redirects"))
        assert not await giver.hand_over(session)
    assert asked == []  # no peer was even asked
    await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
