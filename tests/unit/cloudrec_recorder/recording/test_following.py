"""Who a recording subscribes to and which frames reach its pipeline, through fakes of its ports."""

from __future__ import annotations

import asyncio
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

from cloudrec_protocol.models import LayoutSettings, StreamSubscribe
from cloudrec_recorder.channel.encoded import EncodedAudio
from cloudrec_recorder.channel.errors import ChannelError
from cloudrec_recorder.channel.room import SUBSTREAM_HIGH, SUBSTREAM_LOW
from cloudrec_recorder.errors import ApiError
from cloudrec_recorder.media.config import VideoLayout
from cloudrec_recorder.ports import RecordMode

pytestmark = pytest.mark.timeout(5)

WAIT = 1.0


async def subscribed(r: Rig, *uids: str) -> None:
    """``uids`` publish, and their tracks are read."""
    for uid in uids:
        r.channel.publish(uid)
    await r.events.wait_until(
        lambda: {state[1] for state in r.events.of("stream_state")} >= set(uids), WAIT
    )


async def feed_both(r: Rig, uid: str) -> None:
    """One audio and one video frame from ``uid``, read by the recording."""
    feed = r.channel.feeds[uid]
    assert feed.audio is not None and feed.video is not None
    feed.audio.send(audio_frame())
    feed.video.send(video_frame())
    await asyncio.sleep(IDLE_CHECK)


@pytest.mark.parametrize(
    ("config", "audio", "video", "substream"),
    [
        ({}, True, True, SUBSTREAM_HIGH),
        ({"videoStreamType": 1}, True, True, SUBSTREAM_LOW),
        ({"streamTypes": 0}, True, False, SUBSTREAM_HIGH),
        ({"streamTypes": 1}, False, True, SUBSTREAM_HIGH),
    ],
    ids=["audio and video, high", "videoStreamType Low", "audio only", "video only"],
)
async def test_a_publisher_is_subscribed_per_stream_types_and_video_stream_type(
    tmp_path: Path, config: dict[str, int], audio: bool, video: bool, substream: int
) -> None:
    r = rig(tmp_path, start_request(recording_config=config))
    await r.recording.start()
    r.channel.publish("7")
    async with asyncio.timeout(WAIT):
        await r.channel.subscribed_signal.wait()
    (asked,) = r.channel.subscribed
    assert (asked.uid, asked.audio, asked.video, asked.substream) == ("7", audio, video, substream)
    assert not asked.encoded_audio


async def test_an_update_that_blocks_a_uids_video_stops_its_frames_at_once(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await subscribed(r, "7", "8")
    await feed_both(r, "7")
    await feed_both(r, "8")
    assert sorted(r.pipeline.video) == ["7", "8"]
    assert sorted(r.pipeline.audio) == ["7", "8"]

    # Lists for video only: audio is no longer subscribed at all (§3.4).
    await r.recording.update(
        StreamSubscribe.model_validate({"videoUidList": {"unSubscribeVideoUids": ["8"]}})
    )
    assert r.pipeline.participants[-1] == ["7"]
    assert r.pipeline.removed == ["8"]  # neither its audio nor its video is mixed
    r.pipeline.video.clear()
    r.pipeline.audio.clear()
    await feed_both(r, "7")
    await feed_both(r, "8")
    assert r.pipeline.video == ["7"]
    assert r.pipeline.audio == []


async def test_a_publisher_who_leaves_is_unsubscribed_and_taken_out_of_the_mix(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await subscribed(r, "7", "8")
    assert r.pipeline.participants[-1] == ["7", "8"]

    r.channel.depart("7")
    await asyncio.sleep(IDLE_CHECK)
    assert r.channel.unsubscribed == ["7"]
    assert r.pipeline.removed == ["7"]
    assert r.pipeline.participants[-1] == ["8"]


async def test_a_slow_subscription_holds_up_no_other_publisher_and_the_mix_keeps_join_order(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.channel.gates["7"] = asyncio.Event()
    await r.recording.start()
    r.channel.publish("7")
    await subscribed(r, "8")  # while 7's subscription is still being made
    assert "7" not in r.channel.feeds
    await feed_both(r, "8")
    assert r.pipeline.video == ["8"]

    r.channel.gates["7"].set()
    await r.events.wait_until(lambda: ("video", "7", True) in r.events.of("stream_state"), WAIT)
    assert r.pipeline.participants[-1] == ["7", "8"]  # announced first, shown first


async def test_a_failing_subscription_leaves_the_other_publishers_recorded(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.channel.failing["7"] = ChannelError("Janus refused the forwarder")
    await r.recording.start()
    r.channel.publish("7")
    await subscribed(r, "8")
    await feed_both(r, "8")
    assert "7" not in r.channel.feeds
    assert r.pipeline.video == ["8"] and r.pipeline.participants[-1] == ["8"]

    del r.channel.failing["7"]  # it publishes again (an update): subscribed this time
    r.channel.publish("7")
    await r.events.wait_until(lambda: ("video", "7", True) in r.events.of("stream_state"), WAIT)


async def test_a_publisher_who_leaves_while_being_subscribed_is_unsubscribed_after_it(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.channel.gates["7"] = asyncio.Event()
    await r.recording.start()
    r.channel.publish("7")
    async with asyncio.timeout(WAIT):
        await r.channel.subscribed_signal.wait()
    r.channel.depart("7")
    await asyncio.sleep(IDLE_CHECK)
    assert r.channel.unsubscribed == []  # its subscription comes first

    r.channel.gates["7"].set()
    await r.events.wait_until(lambda: ("video", "7", True) in r.events.of("stream_state"), WAIT)
    await asyncio.sleep(IDLE_CHECK)
    assert r.channel.unsubscribed == ["7"]
    assert r.pipeline.removed == ["7"]


async def test_a_recording_stops_without_waiting_for_a_subscription_still_being_made(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.channel.gates["7"] = asyncio.Event()  # never set: Janus does not answer
    await r.recording.start()
    r.channel.publish("7")
    await subscribed(r, "8")
    async with asyncio.timeout(WAIT):
        await r.recording.stop(wait_upload=False, wait_seconds=WAIT)
    assert r.channel.left
    assert "7" not in r.channel.feeds


async def test_a_participant_id_outside_the_uid_grammar_is_reported_once_and_never_recorded(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    r.channel.publish("evil\nid")
    r.channel.depart("evil\nid")
    r.channel.publish("evil\nid")
    await subscribed(r, "7")
    assert [s.uid for s in r.channel.subscribed] == ["7"]
    assert r.events.of("participant_refused") == ["'evil?id'"]


async def test_a_track_that_ends_is_reported_as_no_longer_received(tmp_path: Path) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await subscribed(r, "7")
    video = r.channel.feeds["7"].video
    assert video is not None
    video.end()
    await asyncio.sleep(IDLE_CHECK)
    assert ("video", "7", False) in r.events.of("stream_state")


async def test_streammode_original_feeds_the_audio_packets_as_sent(tmp_path: Path) -> None:
    request = start_request(recording_config={"streamMode": "original", "streamTypes": 0})
    r = rig(tmp_path, request, mode=RecordMode.INDIVIDUAL, copies_audio=True)
    await r.recording.start()
    await subscribed(r, "7")
    (asked,) = r.channel.subscribed
    assert asked.encoded_audio
    packets = r.channel.feeds["7"].encoded_audio
    assert packets is not None
    packets.put_nowait(EncodedAudio(b"opus", 960))
    async with asyncio.timeout(WAIT):
        await r.pipeline.fed.wait()
    assert r.pipeline.packets == [("7", b"opus")]
    assert r.pipeline.participants == []  # individual recordings have no mix


async def test_a_snapshot_only_task_subscribes_to_video_only_and_lists_no_files(
    tmp_path: Path,
) -> None:
    request = start_request(files=False, snapshots={"captureInterval": 5, "fileType": ["jpg"]})
    r = rig(tmp_path, request, mode=RecordMode.INDIVIDUAL)
    await r.recording.start()
    await subscribed(r, "7")
    (asked,) = r.channel.subscribed
    assert (asked.audio, asked.video) == (False, True)
    video = r.channel.feeds["7"].video
    assert video is not None
    video.send(video_frame())
    async with asyncio.timeout(WAIT):
        await r.pipeline.fed.wait()
    assert r.pipeline.started == 1
    assert r.events.of("slice_start") == []  # snapshots have no slices
    assert r.recording.server_response().file_list is None


async def test_update_layout_gives_the_mix_the_new_layout_and_refuses_a_picture_it_may_not_fetch(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    await r.recording.start()
    await r.recording.update_layout(
        LayoutSettings.model_validate({"mixedVideoLayout": 2, "backgroundColor": "#FF0000"})
    )
    assert r.pipeline.layouts == [(VideoLayout.VERTICAL, "#FF0000")]
    assert len(r.pictures.shown) == 1

    with pytest.raises(ApiError) as raised:
        await r.recording.update_layout(
            LayoutSettings.model_validate({"backgroundImage": "https://img.example.com/a.jpg"})
        )
    assert (raised.value.status, raised.value.code) == (400, 2)
    assert raised.value.reason.startswith("clientRequest.backgroundImage: ")
    assert len(r.pipeline.layouts) == 1
