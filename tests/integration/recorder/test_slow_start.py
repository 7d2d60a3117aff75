"""A start held up by a store that hangs: the recording must still record the room.

The recorder checks the bucket before it answers ``start``. When the store hangs (versitygw
frozen with SIGSTOP) that check waits, and the start answers only once the store is back.
The channel's idle clock must start from then, with the publishers already in the room
counted, not from when the recording object was built: otherwise a start held longer than
``maxIdleTime`` leaves a live channel right after "Started recording".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder
from tests.fixtures.storage import new_bucket
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    mix_config,
    query_status,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server

pytestmark = [pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

RECORDER_UID = "900077"
MAX_IDLE = 5
STORE_PAUSE = 9.0
"""Longer than ``maxIdleTime``: the start is held past the idle limit."""
PUBLISHERS = [str(1001 + i) for i in range(8)]
"""Enough that subscribing to them all takes the recorder longer than one idle check."""


@pytest.fixture
def own_recorder(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server_fn: S3Server
) -> Iterator[RecorderProcess]:
    """A recorder whose store (a versitygw of this test's own) the test may freeze."""
    recorder = start_recorder(
        tmp_path / "recorder", janus, callback_sink, s3_server_fn, new_bucket(s3_server_fn)
    )
    try:
        yield recorder
    finally:
        s3_server_fn.resume()
        recorder.process.stop()


async def test_a_start_held_by_a_hanging_store_keeps_recording_the_publishers_in_the_room(
    own_recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    recorder = own_recorder
    store = recorder.s3
    async with (
        publish(room, PUBLISHERS, width=160, height=120, fps=10),
        recorder.client() as client,
    ):
        store.pause()
        try:
            resume = asyncio.get_running_loop().call_later(STORE_PAUSE, store.resume)
            rec = await start_recording(
                client, recorder, room, RECORDER_UID, mix_config(maxIdleTime=MAX_IDLE)
            )
        finally:
            with contextlib.suppress(Exception):
                resume.cancel()
            store.resume()
        # Well past the moment a clock started at build time would have left the channel.
        await wait_status(client, recorder, rec, 5)
        await asyncio.sleep(MAX_IDLE + 2)
        assert await query_status(client, recorder, rec) == 5, "the recording left the channel"
        assert 41 not in recorder.sink.event_types(rec.sid), "a leave event for a live channel"
        stopped = await stop_recording(client, recorder, rec)
    leave = await asyncio.to_thread(recorder.sink.wait_for, rec.sid, 41, 10)
    assert leave.payload["details"]["leaveCode"] == 16, "left on stop, not as idle"
    [playlist] = download(recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    video = decode_video(playlist)
    assert len(video.frames) >= 15 * MAX_IDLE, f"only {len(video.frames)} frames"
    _, last = video.frames[-1]
    # Float layout: one publisher fills the canvas, the others are small windows over it.
    shown = colour_at(last, 20, 20)
    assert any(close_to(shown, color_for(i)) for i in range(len(PUBLISHERS))), shown
