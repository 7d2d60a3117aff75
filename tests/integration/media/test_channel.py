"""The recorder's Janus VideoRoom client against a real Janus and real aiortc publishers.

Run inside the test network namespace:
``hack/netns-run .venv/bin/python -m pytest tests/integration/media -q``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from typing import Any

import numpy as np
import pytest
from tests.fixtures.media import (
    PublishFactory,
    close_rgb,
    dominant_frequency,
    median_rgb,
    settled_participants,
    wait_for_event,
)

from cloudrec_devenv.janus import Janus
from cloudrec_recorder.channel import (
    SUBSTREAM_HIGH,
    ChannelClosed,
    JanusChannel,
    ParticipantsChanged,
    PublisherJoined,
    PublisherLeft,
    RoomNotFoundError,
    TokenRejectedError,
    UidConflictError,
)
from cloudrec_recorder.channel.tracks import TrackEndedError

pytestmark = pytest.mark.media

RECORDER_UID = "900"


async def audio_seconds(track: Any, seconds: float) -> tuple[np.ndarray[Any, Any], int]:
    """``seconds`` of decoded audio from ``track``, as mono samples and their rate."""
    chunks: list[np.ndarray[Any, Any]] = []
    rate, total = 48000, 0
    while total < seconds * rate:
        frame = await asyncio.wait_for(track.recv(), 5)
        rate = frame.sample_rate
        data = frame.to_ndarray()  # planar (channels, samples) or packed (1, samples*channels)
        if frame.format.is_planar:
            samples = data[0]
        else:
            samples = data.reshape(-1, len(frame.layout.channels))[:, 0]
        chunks.append(samples)
        total += len(samples)
    return np.concatenate(chunks), rate


async def last_video_frame(track: Any, frames: int = 10) -> Any:
    frame = None
    for _ in range(frames):
        frame = await asyncio.wait_for(track.recv(), 5)
    return frame


async def test_janus_offers_a_host_candidate_on_the_namespace_interface(
    room: str, publish: PublishFactory
) -> None:
    async with publish(room, "1001") as pub:
        candidates = re.findall(r"a=candidate:.* (\d+\.\d+\.\d+\.\d+) \d+ typ host", pub.answer_sdp)
    assert candidates, pub.answer_sdp
    assert set(candidates) == {"10.231.0.1"}


async def test_a_publisher_is_listed_as_a_participant_that_publishes(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with publish(room, "1001"):
        listed = {p.id: p.publisher for p in janus.list_participants(room)}
        assert listed == {"1001": True}
    assert await settled_participants(janus, room, set()) == set()


async def test_the_recorder_appears_in_the_room_as_its_uid_without_publishing(
    janus: Janus, room: str
) -> None:
    async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None):
        listed = {p.id: p.publisher for p in janus.list_participants(room)}
        assert listed == {RECORDER_UID: False}
    assert await settled_participants(janus, room, set()) == set()


async def test_the_channel_sees_a_publisher_join_and_leave(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
        assert channel.participants == frozenset()
        async with publish(room, "1001", video=False):
            joined = await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            assert isinstance(joined, PublisherJoined)
            assert (joined.uid, joined.has_audio, joined.has_video) == ("1001", True, False)
            assert channel.participants == {"1001"}
            assert set(channel.publishers) == {"1001"}
        left = await wait_for_event(channel, lambda e: isinstance(e, PublisherLeft))
        assert left == PublisherLeft("1001")
        await wait_for_event(
            channel, lambda e: isinstance(e, ParticipantsChanged) and not e.participants
        )
        assert channel.publishers == {}


async def test_the_channel_reports_publishers_already_in_the_room_when_it_joins(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with publish(room, ["1001", "1002"]):
        async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
            first = await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            second = await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            assert {first.uid, second.uid} == {"1001", "1002"}  # type: ignore[union-attr]
            assert channel.participants == {"1001", "1002"}


async def test_a_participant_that_does_not_publish_counts_as_present(
    janus: Janus, room: str
) -> None:
    async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
        # A viewer joins as a participant but not as a recorder (recorders ignore each other).
        async with JanusChannel(janus.http_url, room, "viewer", token=None, display="viewer"):
            changed = await wait_for_event(channel, lambda e: isinstance(e, ParticipantsChanged))
            assert changed == ParticipantsChanged(frozenset({"viewer"}), frozenset())
        gone = await wait_for_event(channel, lambda e: isinstance(e, ParticipantsChanged))
        assert gone == ParticipantsChanged(frozenset(), frozenset())


async def test_a_subscription_receives_the_publishers_colour_and_tone(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with (
        JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel,
        publish(room, "1001", color=(0, 0, 255), tone_hz=440.0) as pub,
    ):
        await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
        feed = await channel.subscribe("1001", audio=True, video=True, substream=SUBSTREAM_HIGH)
        assert feed.audio is not None and feed.video is not None
        assert feed.substream is None  # aiortc does not send simulcast: nothing to choose
        frame = await last_video_frame(feed.video)
        assert (frame.width, frame.height) == (640, 360)
        assert close_rgb(median_rgb(frame), pub.color), median_rgb(frame)
        samples, rate = await audio_seconds(feed.audio, 1.0)
        assert abs(dominant_frequency(samples, rate) - 440.0) <= 3.0


async def test_two_publishers_are_received_apart_with_their_own_colour_and_tone(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with (
        JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel,
        publish(room, ["1001", "1002"], width=320, height=180) as pubs,
    ):
        for pub in pubs:
            await wait_for_event(channel, lambda e, uid=pub.uid: getattr(e, "uid", None) == uid)
        for pub in pubs:
            feed = await channel.subscribe(pub.uid)
            frame = await last_video_frame(feed.video, 5)
            assert close_rgb(median_rgb(frame), pub.color), (pub.uid, median_rgb(frame))
            samples, rate = await audio_seconds(feed.audio, 0.5)
            assert abs(dominant_frequency(samples, rate) - pub.tone_hz) <= 5.0


async def test_an_audio_only_subscription_has_no_video_track(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with (
        JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel,
        publish(room, "1001", tone_hz=570.0),
    ):
        await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
        feed = await channel.subscribe("1001", audio=True, video=False)
        assert feed.video is None and feed.audio is not None
        samples, rate = await audio_seconds(feed.audio, 0.5)
        assert abs(dominant_frequency(samples, rate) - 570.0) <= 5.0


async def test_unsubscribing_ends_the_tracks(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with (
        JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel,
        publish(room, "1001", audio=False),
    ):
        await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
        feed = await channel.subscribe("1001")
        assert feed.audio is None and feed.video is not None
        await last_video_frame(feed.video, 2)
        await channel.unsubscribe("1001")
        with pytest.raises(TrackEndedError):
            for _ in range(100):  # frames already decoded may still come out first
                await asyncio.wait_for(feed.video.recv(), 5)
        assert channel.subscriptions == {}


async def test_a_publisher_leaving_ends_its_subscription(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
        async with publish(room, "1001", audio=False):
            await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            feed = await channel.subscribe("1001")
            await last_video_frame(feed.video, 2)
        await wait_for_event(channel, lambda e: isinstance(e, PublisherLeft))
        await asyncio.wait_for(feed.closed.wait(), 5)
        assert "1001" not in channel.subscriptions


async def test_a_taken_uid_raises_uid_conflict(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with publish(room, "1001", audio=False):
        with pytest.raises(UidConflictError):
            await JanusChannel(janus.http_url, room, "1001", token=None).join()


async def test_a_missing_room_raises_room_not_found(janus: Janus) -> None:
    with pytest.raises(RoomNotFoundError):
        await JanusChannel(janus.http_url, "no-such-room", RECORDER_UID, token=None).join()


async def test_a_token_outside_the_rooms_allowed_list_raises_token_rejected(
    janus: Janus, publish: PublishFactory
) -> None:
    janus.create_room("invited", extra={"allowed": ["invitation-1"]})
    try:
        with pytest.raises(TokenRejectedError) as raised:
            await JanusChannel(janus.http_url, "invited", RECORDER_UID, token="gatecrasher").join()
        assert raised.value.code == 433
        assert "gatecrasher" not in str(raised.value)
        async with (
            JanusChannel(janus.http_url, "invited", RECORDER_UID, token="invitation-1") as channel,
            publish("invited", "1001", audio=False, token="invitation-1"),
        ):
            await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
    finally:
        janus.destroy_room("invited")


async def test_destroying_the_room_closes_the_channel(janus: Janus) -> None:
    janus.create_room("doomed")
    async with JanusChannel(janus.http_url, "doomed", RECORDER_UID, token=None) as channel:
        janus.destroy_room("doomed")
        closed = await wait_for_event(channel, lambda e: isinstance(e, ChannelClosed))
        assert closed == ChannelClosed("the room was destroyed")
        assert channel.closed.is_set()


async def test_a_wrong_token_raises_token_rejected(janus_with_tokens: Janus) -> None:
    janus_with_tokens.create_room("guarded")
    try:
        wrong = "9999999999,janus,janus.plugin.videoroom:bm90IGEgc2lnbmF0dXJl"
        with pytest.raises(TokenRejectedError) as raised:
            await JanusChannel(
                janus_with_tokens.http_url, "guarded", RECORDER_UID, token=wrong
            ).join()
        assert "bm90IGEgc2lnbmF0dXJl" not in str(raised.value)
        with pytest.raises(TokenRejectedError):
            await JanusChannel(
                janus_with_tokens.http_url, "guarded", RECORDER_UID, token=None
            ).join()
        good = janus_with_tokens.token()
        async with JanusChannel(janus_with_tokens.http_url, "guarded", RECORDER_UID, token=good):
            assert [p.id for p in janus_with_tokens.list_participants("guarded")] == [RECORDER_UID]
    finally:
        janus_with_tokens.destroy_room("guarded")


async def test_a_publisher_that_comes_back_can_be_subscribed_again(
    janus: Janus, room: str, publish: PublishFactory
) -> None:
    async with JanusChannel(janus.http_url, room, RECORDER_UID, token=None) as channel:
        async with publish(room, "1001", audio=False, color=(255, 0, 0)):
            await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            first = await channel.subscribe("1001")
            await last_video_frame(first.video, 2)
        await wait_for_event(channel, lambda e: isinstance(e, PublisherLeft))
        async with publish(room, "1001", audio=False, color=(0, 255, 255)) as back:
            await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            again = await channel.subscribe("1001")
            frame = await last_video_frame(again.video, 5)
            assert close_rgb(median_rgb(frame), back.color), median_rgb(frame)
            assert channel.subscriptions == {"1001": again}
        assert first.closed.is_set()


async def test_the_token_never_appears_in_the_logs(
    janus_with_tokens: Janus, caplog: pytest.LogCaptureFixture
) -> None:
    janus_with_tokens.create_room("logged")
    token = janus_with_tokens.token()
    assert token is not None
    signature = token.rsplit(":", 1)[1]
    try:
        with caplog.at_level(logging.DEBUG):
            async with JanusChannel(
                janus_with_tokens.http_url, "logged", RECORDER_UID, token=token
            ):
                await asyncio.sleep(0.3)  # the long poll is under way
        polls = [r.getMessage() for r in caplog.records if "maxev" in r.getMessage()]
        assert polls, "the long poll was not logged at all"
        assert all("token=<redacted>" in poll for poll in polls), polls[0]
        for form in (signature, urllib.parse.quote(signature, safe="")):
            assert all(form not in r.getMessage() for r in caplog.records)
    finally:
        janus_with_tokens.destroy_room("logged")
