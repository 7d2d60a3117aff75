"""A hand-over that does not complete (issue 14): the giver keeps the recording, the taker
it gave up on delivers nothing.

Real recorder processes (``ra``, ``rb``), real Janus, real versitygw. ``rb`` is told by a
test-only setting (``handover.testFaultTakerStalls``) never to report a complete segment, as
a taker too slow for its giver; it still records from the cut on, under the giver's names.
``ra`` is drained (``POST /drain``) and, while it waits for ``rb``, the recording is stopped
through ``ra``: the giver gives up on the taker and finishes its own files. ``rb`` must then
throw its files away: the bucket holds one playlist for the sid, the giver's, every segment
in the bucket is listed in it and decodes, with no media time missing (the giver held back
what it recorded past the cut until it gave up), and the manifest is the giver's.

A taker that gives the recording up after the cut (``handover.testFaultTakerForgets``: it
answers the giver's done ``404``) leaves a recording that exists nowhere: the giver, which
has left, must not keep a redirect to it, and the protocol's exit event (11, abnormal) must
go out, so whoever started the recording sees it end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, running_replicas
from tests.integration.recorder.checks import (
    mix_config,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.integration.recorder.handover_checks import (
    check_continuous,
    read_handed_over,
    read_playlist,
)
from tests.integration.recorder.test_handover import FPS, TRANSCODING

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server

pytestmark = [pytest.mark.media, pytest.mark.timeout(300)]


@pytest.fixture
def stalling_replicas(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[list[RecorderProcess]]:
    with running_replicas(
        tmp_path,
        janus,
        callback_sink,
        s3_server,
        "fault",
        handover={"timeoutSeconds": 60, "testFaultTakerStalls": True},
    ) as running:
        yield running


@pytest.fixture
def forgetting_replicas(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[list[RecorderProcess]]:
    with running_replicas(
        tmp_path, janus, callback_sink, s3_server, "fault", handover={"testFaultTakerForgets": True}
    ) as running:
        yield running


async def wait_held_segment(taker: RecorderProcess, sid: str, within: float = 40.0) -> list[str]:
    """The complete segments the taker holds in its spool for ``sid`` (at least one)."""
    deadline = time.monotonic() + within
    spool = taker.spool_dir / sid
    while time.monotonic() < deadline:
        found = (
            sorted(p.name for p in spool.glob("*.ts") if not p.name.startswith("."))
            if spool.is_dir()
            else []
        )
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"the taker recorded no segment of {sid} within {within}s")


async def wait_log(replica: RecorderProcess, text: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if text in replica.log_path.read_text():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} not in {replica.log_path} within {within}s")


async def test_a_taker_the_giver_gave_up_on_delivers_nothing_and_the_givers_playlist_stays_whole(
    stalling_replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    ra, rb = stalling_replicas
    async with ra.client() as on_a, publish(room, ["1001", "1002"], width=160, height=120):
        rec = await start_recording(
            on_a, ra, room, "900150", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        drained = await on_a.post("/drain")
        assert drained.status_code == 202, drained.text
        held = await wait_held_segment(rb, rec.sid)  # the taker recorded past the cut
        await asyncio.sleep(2)
        stopped = await stop_recording(on_a, ra, rec)
        await wait_log(rb, f"Discarded sid={rec.sid}")
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert not (rb.spool_dir / rec.sid).exists()
    assert 12 not in callback_sink.event_types(rec.sid)  # it never changed hands
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    media = read_handed_over(s3_server, ra.bucket, rec.sid, tmp_path)
    listed = {media.playlist_key.rsplit("/", 1)[0] + "/" + name for name in media.segments}
    segments = {k for k in keys if k.endswith(".ts")}
    assert segments == listed, sorted(segments ^ listed)  # nothing of the taker's up there
    # Every listed segment decodes, and nothing is missing: what the giver recorded past the
    # cut while the hand-over was undecided was held back, and is its own again.
    check_continuous(media, FPS, [color_for(0), color_for(1)], switches=0)
    # The manifest is the giver's: its objects, no hand-over in its timeline.
    [manifest] = [k for k in keys if k.endswith(".manifest.json")]
    document = json.loads(s3_server.get_object(ra.bucket, manifest))
    assert {o["key"] for o in document["objects"]} == keys - {manifest}
    kinds = [entry["kind"] for entry in document["timeline"]]
    assert "HandedOver" not in kinds, kinds
    print(f"taker held {len(held)}+ segment(s); giver's playlist {len(media.segments)} segments")


async def test_an_individual_recordings_abandoned_taker_delivers_nothing_of_any_uid(
    stalling_replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """Re-encoded tracks: the taker records each uid's outputs past their cuts, then is given
    up on; every playlist in the bucket is the giver's, listing every segment there, each
    decodable. (An Individual giver's outputs end at their cuts while the hand-over is
    undecided, so the media from the cut to the stop is not asserted: docs/operations.md.)"""
    ra, rb = stalling_replicas
    uids = ["1001", "1002"]
    async with ra.client() as on_a, publish(room, uids, width=160, height=120):
        config = mix_config(streamMode="standard")
        rec = await start_recording(on_a, ra, room, "900152", config, mode="individual")
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        drained = await on_a.post("/drain")
        assert drained.status_code == 202, drained.text
        await wait_held_segment(rb, rec.sid)
        await asyncio.sleep(2)
        stopped = await stop_recording(on_a, ra, rec)
        await wait_log(rb, f"Discarded sid={rec.sid}")
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert not (rb.spool_dir / rec.sid).exists()
    assert 12 not in callback_sink.event_types(rec.sid)
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    listed: set[str] = set()
    for key in sorted(k for k in keys if k.endswith(".m3u8") and "__uid_e_av" not in k):
        media = read_playlist(s3_server, ra.bucket, key, tmp_path, kind=kind_of(key))
        assert media.segments and media.discontinuities == 0, media.text
        assert all(part.times for part in media.parts), key
        folder = key.rsplit("/", 1)[0] + "/"
        listed |= {folder + name for name in media.segments}
    segments = {k for k in keys if k.endswith(".ts")}
    assert segments == listed, sorted(segments ^ listed)  # nothing of the taker's up there
    [manifest] = [k for k in keys if k.endswith(".manifest.json")]
    document = json.loads(s3_server.get_object(ra.bucket, manifest))
    assert {o["key"] for o in document["objects"]} == keys - {manifest}


def kind_of(key: str) -> str:
    return "audio" if key.endswith("_audio.m3u8") else "video"


async def test_a_hand_over_whose_taker_forgot_it_after_the_cut_ends_the_recording_with_event_11(
    forgetting_replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    ra, rb = forgetting_replicas
    async with ra.client() as on_a, publish(room, ["1001"], width=160, height=120):
        rec = await start_recording(
            on_a, ra, room, "900153", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        drained = await on_a.post("/drain")
        assert drained.status_code == 202, drained.text
        await wait_log(rb, f"Discarded sid={rec.sid}", within=60)
        exit_event = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 11, 30.0)
        queried = await on_a.get(ra.url(rec.path("query")))  # answered where it ended
    assert exit_event.payload["details"]["exitStatus"] == 1
    assert 12 not in callback_sink.event_types(rec.sid)  # it never changed hands
    assert callback_sink.event_types(rec.sid).count(11) == 1
    assert queried.status_code == 200, queried.text
    assert not any((ra.spool_dir / ".handovers").glob(f"{rec.sid}*"))  # no redirect to rb
    assert "Hand-over lost sid=" + rec.sid in ra.log_path.read_text()
    keys = [k for k in s3_server.object_keys(ra.bucket) if rec.sid in k]
    assert any(k.endswith(".m3u8") for k in keys), keys  # the giver's part was delivered
