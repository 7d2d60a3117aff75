"""Recording a stock Janus: VideoRoom with numeric room and participant ids.

A stock Janus runs VideoRoom with ``string_ids = false``. These tests have a Janus
of their own (the shared ``janus`` fixture uses string ids), started by the
launcher with ``string_ids=False``: rooms and participants are integers on the
wire. Run inside the test network namespace:
``hack/netns-run .venv/bin/python -m pytest tests/integration/media -q``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.fixtures.media import close_rgb, median_rgb, settled_participants, wait_for_event
from tests.fixtures.recorder import APP_ID, CallbackSink, start_recorder
from tests.integration.recorder.checks import (
    close_to as close_in_hls,
)
from tests.integration.recorder.checks import (
    colour_at,
    download,
    mix_config,
    mix_request,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.janus import Janus, JanusNotInNetnsError
from cloudrec_devenv.publisher import Publisher
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.channel import (
    JanusApiError,
    JanusChannel,
    PublisherJoined,
    PublisherLeft,
)

pytestmark = [pytest.mark.media, pytest.mark.timeout(120)]

RECORDER_UID = "900"
_rooms = itertools.count(4101)


@pytest.fixture(scope="module")
def numeric_janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Janus]:
    try:
        server = Janus(tmp_path_factory.mktemp("janus-numeric"), string_ids=False).start()
    except JanusNotInNetnsError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def numeric_room(numeric_janus: Janus) -> Iterator[str]:
    room = str(next(_rooms))
    assert numeric_janus.create_room(room) == room
    try:
        yield room
    finally:
        with contextlib.suppress(Exception):
            numeric_janus.destroy_room(room)


@contextlib.asynccontextmanager
async def publishing(
    janus: Janus, room: str, uid: str, color: tuple[int, int, int]
) -> AsyncIterator[Publisher]:
    publisher = Publisher(
        janus.ws_url, room, uid, color=color, width=160, height=120, string_ids=False
    )
    try:
        yield await publisher.start()
    finally:
        await publisher.leave()


async def test_string_ids_are_refused_by_a_janus_with_numeric_ids(
    numeric_janus: Janus, numeric_room: str
) -> None:
    channel = JanusChannel(numeric_janus.ws_url, numeric_room, RECORDER_UID, token=None)
    with pytest.raises(JanusApiError):
        await channel.join()
    await channel.leave()


async def test_a_numeric_id_channel_receives_the_publishers_colour(
    numeric_janus: Janus, numeric_room: str
) -> None:
    async with (
        JanusChannel(
            numeric_janus.ws_url, numeric_room, RECORDER_UID, token=None, string_ids=False
        ) as channel,
        publishing(numeric_janus, numeric_room, "1001", (0, 0, 255)) as pub,
    ):
        joined = await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
        assert isinstance(joined, PublisherJoined) and joined.uid == "1001"
        listed = {p.id: p.publisher for p in numeric_janus.list_participants(numeric_room)}
        assert listed == {RECORDER_UID: False, "1001": True}
        feed = await channel.subscribe("1001", audio=False, video=True)
        assert feed.video is not None
        frame = None
        for _ in range(10):
            frame = await asyncio.wait_for(feed.video.recv(), 5)
        assert close_rgb(median_rgb(frame), pub.color), median_rgb(frame)
    # Our PublisherLeft came from Janus' numeric "leaving"/"unpublished" id.
    assert await settled_participants(numeric_janus, numeric_room, set()) == set()


async def test_the_channel_sees_a_numeric_id_publisher_leave(
    numeric_janus: Janus, numeric_room: str
) -> None:
    async with JanusChannel(
        numeric_janus.ws_url, numeric_room, RECORDER_UID, token=None, string_ids=False
    ) as channel:
        async with publishing(numeric_janus, numeric_room, "1002", (255, 0, 0)):
            await wait_for_event(channel, lambda e: isinstance(e, PublisherJoined))
            assert set(channel.publishers) == {"1002"}
        left = await wait_for_event(channel, lambda e: isinstance(e, PublisherLeft))
        assert left == PublisherLeft("1002")
        assert channel.publishers == {}


async def test_a_non_integer_room_or_uid_is_refused_before_janus_is_asked(
    numeric_janus: Janus,
) -> None:
    with pytest.raises(ValueError, match="room 'demo'"):
        JanusChannel(numeric_janus.ws_url, "demo", RECORDER_UID, token=None, string_ids=False)
    with pytest.raises(ValueError, match="uid 'rec-1'"):
        JanusChannel(numeric_janus.ws_url, "4100", "rec-1", token=None, string_ids=False)


async def test_the_recorder_records_a_janus_with_numeric_ids(
    tmp_path: Path,
    numeric_janus: Janus,
    numeric_room: str,
    callback_sink: CallbackSink,
    s3_server: S3Server,
) -> None:
    bucket = "num-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    apps = {APP_ID: {"janus": {"wsUrl": numeric_janus.ws_url, "stringIds": False}}}
    own = start_recorder(
        tmp_path / "recorder", numeric_janus, callback_sink, s3_server, bucket, apps=apps
    )
    colour = (0, 200, 0)
    try:
        async with own.client() as client:
            acquired = await client.post(
                own.url("acquire"), json={"cname": "lobby", "uid": RECORDER_UID}
            )
            rid = acquired.json()["resourceId"]
            refused = await client.post(
                own.url(f"resourceid/{rid}/mode/mix/start"),
                json={
                    "cname": "lobby",
                    "uid": RECORDER_UID,
                    "clientRequest": mix_request(own),
                },
            )
            assert (refused.status_code, refused.json()["code"]) == (400, 2), refused.text
            assert "cname 'lobby'" in refused.json()["reason"]

            config = mix_config(
                transcodingConfig={"width": 320, "height": 240, "fps": 15, "bitrate": 300}
            )
            rec = await start_recording(client, own, numeric_room, RECORDER_UID, config)
            async with publishing(numeric_janus, numeric_room, "1001", colour):
                await wait_status(client, own, rec, 5)
                await asyncio.sleep(4)
                stopped = await stop_recording(client, own, rec)
    finally:
        own.process.stop()
    response = stopped["serverResponse"]
    assert response["fileListMode"] == "string"
    (playlist,) = download(own, [response["fileList"]], tmp_path)
    frame = decode_video(playlist).frames[-1][1]
    assert close_in_hls(colour_at(frame, 40, 40), colour), colour_at(frame, 40, 40)
