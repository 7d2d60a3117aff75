"""A recording's life through in-process fakes of its ports: join, record, leave, deliver.

The same lifecycle runs against Janus, the encoders and versitygw in
``tests/integration/recorder``; here each step answers in milliseconds, so a change to the
recording's bookkeeping (statuses, notifications, the idle clock, the stop and the upload's
finish) gets its feedback at once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tests.unit.cloudrec_recorder.recording.fakes import (
    IDLE_CHECK,
    Rig,
    audio_frame,
    rig,
    start_request,
    video_frame,
)

from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.events import LeaveCode
from cloudrec_protocol.manifest import TimelineKind
from cloudrec_recorder.channel.errors import (
    ChannelError,
    JanusUnreachableError,
    RoomNotFoundError,
    TokenRejectedError,
    UidConflictError,
)
from cloudrec_recorder.errors import ApiError

pytestmark = pytest.mark.timeout(5)

WAIT = 1.0
"""The longest any step may take here (each takes milliseconds)."""


async def record_publisher(r: Rig, uid: str = "7") -> None:
    """``uid`` publishes and its first video frame reaches the pipeline."""
    r.channel.publish(uid)
    await r.events.wait("stream_state", WAIT)
    video = r.channel.feeds[uid].video
    assert video is not None
    video.send(video_frame())
    async with asyncio.timeout(WAIT):
        await r.pipeline.fed.wait()


async def idle_checks(count: int = 10) -> None:
    """Let the recording look at its idle clock ``count`` times."""
    await asyncio.sleep(IDLE_CHECK * count)


# ------------------------------------------------------------------ start and record


async def test_a_recording_joins_records_its_first_publisher_and_stops_with_the_files_delivered(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    recording = r.recording
    assert recording.status() == RecordingStatus.INITIALIZED

    await recording.start()
    assert r.channel.joined
    assert recording.status() == RecordingStatus.READY
    assert r.egress.checked == [("http://127.0.0.1:9000", "storageConfig.extensionParams.endpoint")]
    assert r.events.names() == ["recorder_started"]
    assert r.pipeline.started == 0  # nothing is encoded before the first media

    await record_publisher(r, "7")
    assert recording.status() == RecordingStatus.IN_PROGRESS
    assert r.pipeline.started == 1
    assert r.pipeline.video == ["7"]
    assert r.pipeline.participants[-1] == ["7"]
    (slice_start,) = r.events.of("slice_start")
    assert recording.server_response().slice_start_time == slice_start

    r.pipeline.write("sid1_room1.m3u8")  # the encoder finished a playlist
    await asyncio.sleep(0)  # handed over on the event loop
    assert r.uploader.ready == [("sid1_room1.m3u8", None)]

    outcome = await recording.stop(wait_upload=True, wait_seconds=WAIT)
    response = outcome.server_response
    assert response.uploading_status == "uploaded"
    assert (response.file_list_mode, response.file_list) == ("string", "rec/day1/sid1_room1.m3u8")
    assert outcome.had_media and not outcome.upload_timed_out
    assert recording.status() == RecordingStatus.EXITED
    assert r.events.of("recorder_leave") == [LeaveCode.CLIENT_LEAVE]
    assert r.events.of("session_exit") == [False]
    assert r.events.names()[-1] == "session_exit"
    assert r.exits == ["exit"]
    assert r.pipeline.stopped and r.channel.left and r.pictures.closed
    assert r.uploader.closed.is_set()
    started, stopped = r.uploader.timeline()  # what the manifest says of the course
    assert (started.kind, started.at_ms) == (TimelineKind.STARTED, slice_start)
    assert stopped.kind == TimelineKind.STOPPED and stopped.at_ms >= slice_start


async def test_the_files_end_at_the_stop_request_not_once_the_channel_is_left(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r, "7")
    asked = time.monotonic()
    await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    # Leaving Janus takes its time (a request per forwarder): media after the stop request
    # must not reach the files, or they hold more seconds than the manifest's Started..Stopped.
    assert r.pipeline.ended_at is not None and r.channel.left_at is not None
    assert asked <= r.pipeline.ended_at <= r.channel.left_at
    assert r.pipeline.stopped


async def test_an_mp4_part_is_handed_to_the_uploader_with_its_first_media_time(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path, start_request(mp4=True))
    await r.recording.start()
    r.pipeline.write("sid1_room1_0.mp4")
    await asyncio.sleep(0)
    assert r.uploader.ready == [("sid1_room1_0.mp4", 1_700_000_000_000)]
    outcome = await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert outcome.server_response.file_list_mode == "json"


async def test_a_channel_where_nobody_sends_media_records_nothing(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    r.channel.watch("5")  # in the room, publishing nothing
    outcome = await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert not outcome.had_media
    assert r.pipeline.started == 0
    assert "slice_start" not in r.events.names()
    assert r.recording.status() == RecordingStatus.EXITED


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        (RoomNotFoundError(426, "no such room"), 400, 401),
        (UidConflictError(436, "user ID already exists"), 400, 53),
        (TokenRejectedError(433, "unauthorized"), 400, 110),
        (JanusUnreachableError("connection refused"), 504, 62),
    ],
    ids=["no room", "uid taken", "token refused", "Janus unreachable"],
)
async def test_a_channel_that_refuses_the_join_answers_the_protocol_error(
    tmp_path: Path, refusal: ChannelError, status: int, code: int
) -> None:
    r = rig(tmp_path)
    r.channel.join_error = refusal
    with pytest.raises(ApiError) as raised:
        await r.recording.start()
    assert (raised.value.status, raised.value.code) == (status, code)
    assert r.events.names() == []  # no "started" for a recording that never joined
    assert not r.channel.subscribed


async def test_a_bucket_address_the_recorder_may_not_reach_is_refused_before_the_join(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.egress.refuse = True
    with pytest.raises(ApiError) as raised:
        await r.recording.start()
    assert (raised.value.status, raised.value.code) == (400, 2)
    assert raised.value.reason.startswith("storageConfig.extensionParams.endpoint: ")
    assert not r.channel.joined


async def test_a_store_that_cannot_start_leaves_the_recording_running_without_uploads(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.uploader.start_error = OSError("connection refused")
    await r.recording.start()
    assert r.events.names() == ["uploader_could_not_start", "recorder_started"]
    assert r.recording.status() == RecordingStatus.READY

    await record_publisher(r)
    r.pipeline.write("sid1_room1.m3u8")
    await asyncio.sleep(0)
    assert r.uploader.ready == []  # nothing is handed to an uploader that is not running
    # the query lists the spool's playlist under its object key
    assert r.recording.server_response().file_list == "rec/day1/sid1_room1.m3u8"

    outcome = await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert outcome.server_response.uploading_status == "unknown"
    assert r.uploader.finished_within is None
    assert r.recording.status() == RecordingStatus.EXITED


# ------------------------------------------------------------------ the idle clock


async def test_an_empty_channel_is_left_after_max_idle_time_with_leave_code_no_users(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path, start_request(max_idle_time=10))
    await r.recording.start()
    r.clock.advance(9.9)
    await idle_checks()
    assert r.recording.status() == RecordingStatus.READY

    r.clock.advance(0.1)
    await r.exited(WAIT)
    assert r.events.of("recorder_leave") == [LeaveCode.NO_USERS]
    assert r.events.of("session_exit") == [False]
    assert r.recording.status() == RecordingStatus.EXITED
    assert r.channel.left and r.exits == ["exit"]


async def test_the_idle_clock_stops_while_somebody_is_in_the_channel_and_starts_again(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path, start_request(max_idle_time=10))
    await r.recording.start()
    r.clock.advance(8)
    await record_publisher(r, "7")
    r.clock.advance(60)
    await idle_checks()
    assert r.recording.status() == RecordingStatus.IN_PROGRESS

    r.channel.depart("7")
    await idle_checks()
    r.clock.advance(9)
    await idle_checks()
    assert r.recording.status() == RecordingStatus.IN_PROGRESS  # 9 s alone: not yet
    r.clock.advance(1)
    await r.exited(WAIT)
    assert r.events.of("recorder_leave") == [LeaveCode.NO_USERS]


async def test_the_idle_clock_does_not_run_before_the_channel_is_joined_and_the_uploader_runs(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path, start_request(max_idle_time=10))
    r.uploader.start_gate = asyncio.Event()  # a store that hangs holds the start
    starting = asyncio.create_task(r.recording.start())
    await idle_checks()
    r.clock.advance(60)  # held for longer than maxIdleTime
    r.uploader.start_gate.set()
    await starting

    await idle_checks()
    assert r.recording.status() == RecordingStatus.READY  # the wait is not idle time
    r.clock.advance(10)
    await r.exited(WAIT)
    assert r.events.of("recorder_leave") == [LeaveCode.NO_USERS]


async def test_a_start_held_by_a_hanging_store_keeps_recording_the_publishers_in_the_room(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path, start_request(max_idle_time=10))
    r.channel.publish("7")  # in the room before the recorder joins
    r.uploader.start_gate = asyncio.Event()
    starting = asyncio.create_task(r.recording.start())
    await idle_checks()
    r.clock.advance(60)
    r.uploader.start_gate.set()
    r.channel.subscribe_gate = asyncio.Event()  # subscribing outlasts several idle checks
    await starting

    await idle_checks()
    assert "recorder_leave" not in r.events.names()
    r.channel.subscribe_gate.set()
    await r.events.wait("stream_state", WAIT)
    r.clock.advance(60)
    await idle_checks()
    assert "recorder_leave" not in r.events.names()
    assert [s.uid for s in r.channel.subscribed] == ["7"]


@pytest.mark.parametrize(
    ("channel_type", "leaves"),
    [(0, False), (1, True)],
    ids=["Communication: a participant counts", "Live: only publishers count"],
)
async def test_an_audience_member_keeps_a_communication_channel_but_not_a_live_one(
    tmp_path: Path, channel_type: int, leaves: bool
) -> None:
    r = rig(tmp_path, start_request(channel_type=channel_type, max_idle_time=10))
    await r.recording.start()
    r.channel.watch("5")
    await idle_checks()
    r.clock.advance(30)
    await idle_checks()
    assert ("recorder_leave" in r.events.names()) is leaves


# ------------------------------------------------------------------ failures


async def test_a_channel_that_closes_mid_recording_ends_it_abnormally_with_its_files_delivered(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r)
    r.pipeline.write("sid1_room1.m3u8")

    r.channel.close("the room was destroyed")
    await r.exited(WAIT)
    assert r.events.of("recorder_leave") == [LeaveCode.INIT]
    assert r.events.of("session_exit") == [True]
    assert r.recording.status() == RecordingStatus.EXITED_ABNORMALLY
    assert r.pipeline.stopped and r.uploader.finished_within == 30
    assert r.uploader.ready == [("sid1_room1.m3u8", None)]
    assert r.exits == ["exit"]
    # a stop after that answers the final state without leaving twice
    outcome = await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert outcome.server_response.uploading_status == "uploaded"
    assert r.events.of("recorder_leave") == [LeaveCode.INIT]


async def test_a_media_pipeline_that_fails_ends_the_recording_abnormally(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r)
    r.pipeline.stop_error = RuntimeError("encoder crashed")
    await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert r.events.of("recorder_failed") == ["media pipeline failed"]
    assert r.events.of("session_exit") == [True]
    assert r.recording.status() == RecordingStatus.EXITED_ABNORMALLY


async def test_a_subscription_that_fails_leaves_the_recording_running(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    r.channel.subscribe_error = ChannelError("no WebRTC connection")
    r.channel.publish("7")
    async with asyncio.timeout(WAIT):
        await r.channel.subscribed_signal.wait()
    await idle_checks()
    assert r.recording.status() == RecordingStatus.READY
    assert "stream_state" not in r.events.names()


# ------------------------------------------------------------------ stop and upload


async def test_a_sync_stop_whose_upload_outlasts_its_wait_says_so_and_the_upload_goes_on(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r)
    r.uploader.finish_gate = asyncio.Event()  # a slow store
    outcome = await r.recording.stop(wait_upload=True, wait_seconds=0.05)
    assert outcome.upload_timed_out
    assert outcome.server_response.uploading_status == "unknown"
    assert r.recording.status() == RecordingStatus.STOPPED
    assert "session_exit" not in r.events.names()

    r.uploader.finish_gate.set()
    await r.exited(WAIT)
    assert r.recording.status() == RecordingStatus.EXITED


async def test_an_async_stop_answers_at_once_and_the_exit_follows_the_upload(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r)
    r.uploader.finish_gate = asyncio.Event()
    outcome = await r.recording.stop(wait_upload=False, wait_seconds=WAIT)
    assert outcome.server_response.uploading_status == "unknown"
    assert r.events.of("recorder_leave") == [LeaveCode.CLIENT_LEAVE]
    assert r.exits == []

    r.uploader.finish_gate.set()
    await r.exited(WAIT)
    assert r.exits == ["exit"]


async def test_files_kept_in_the_backup_keep_the_uploader_open_until_they_are_delivered(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await record_publisher(r)
    r.uploader.finish_status = "backuped"
    outcome = await r.recording.stop(wait_upload=True, wait_seconds=WAIT)
    assert outcome.server_response.uploading_status == "backuped"
    assert r.recording.status() == RecordingStatus.EXITED
    await asyncio.sleep(IDLE_CHECK)
    assert not r.uploader.closed.is_set()  # re-uploading from the backup goes on

    r.uploader.delivered.set()
    async with asyncio.timeout(WAIT):
        await r.uploader.closed.wait()


async def test_two_stops_at_once_leave_the_channel_once(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    first, second = await asyncio.gather(
        r.recording.stop(wait_upload=True, wait_seconds=WAIT),
        r.recording.stop(wait_upload=True, wait_seconds=WAIT),
    )
    assert first.server_response == second.server_response
    assert r.events.of("recorder_leave") == [LeaveCode.CLIENT_LEAVE]
    assert r.events.of("session_exit") == [False]
    assert r.exits == ["exit"]


async def test_audio_reaches_the_pipeline_like_video(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    r.channel.publish("7")
    await r.events.wait("stream_state", WAIT)
    audio = r.channel.feeds["7"].audio
    assert audio is not None
    audio.send(audio_frame())
    async with asyncio.timeout(WAIT):
        await r.pipeline.fed.wait()
    assert r.pipeline.audio == ["7"]
    assert r.recording.status() == RecordingStatus.IN_PROGRESS
