"""Planned hand-over (issue 14): a draining replica passes its running recording to a peer.

Real recorder processes (two replicas that know each other), real Janus, real versitygw. A
mix recording of two publishers runs on replica ``ra``; ``ra`` gets SIGTERM mid-recording. The
recording must go on under the same sid on ``rb``: one playlist in the bucket, one
discontinuity, no segment twice, decoded frame times continuous across the switch (no gap over
a frame interval, nothing twice), both publishers' colours before and after; event 12; then
query and stop through ``rb`` with the resource id that still names ``ra``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder
from tests.integration.recorder.checks import (
    manifest_timeline,
    mix_config,
    query_status,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.integration.recorder.handover_checks import (
    check_continuous,
    check_continuous_audio,
    read_handed_over,
)

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_devenv.s3 import S3Server

pytestmark = [pytest.mark.media, pytest.mark.timeout(300)]

FPS = 15
TRANSCODING = {"width": 320, "height": 240, "fps": FPS, "bitrate": 400, "mixedVideoLayout": 1}


def start_replicas(
    workdir: Path,
    janus: Janus,
    sink: CallbackSink,
    s3: S3Server,
    bucket: str,
    names: tuple[str, ...] = ("ra", "rb"),
    **overrides: object,
) -> list[RecorderProcess]:
    """Recorder replicas that forward to and hand over to each other."""
    ports = {name: free_port() for name in names}
    peers = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    secret = secrets.token_urlsafe(18)
    started: list[RecorderProcess] = []
    try:
        for name in names:
            started.append(
                start_recorder(
                    workdir / name,
                    janus,
                    sink,
                    s3,
                    bucket,
                    port=ports[name],
                    customer_secret=secret,
                    replicaId=name,
                    peers=peers,
                    **overrides,
                )
            )
    except BaseException:
        for process in started:
            process.process.stop()
        raise
    return started


@pytest.fixture
def replicas(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[list[RecorderProcess]]:
    bucket = "hand-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    running = start_replicas(tmp_path, janus, callback_sink, s3_server, bucket)
    try:
        yield running
    finally:
        for replica in running:
            replica.process.stop()


async def wait_exit(replica: RecorderProcess, within: float = 60.0) -> None:
    for _ in range(int(within / 0.2)):
        if not replica.process.running():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{replica.base_url} did not exit within {within}s")


async def test_sigterm_hands_a_running_mix_recording_to_the_other_replica_without_a_gap(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    ra, rb = replicas
    async with (
        ra.client() as on_a,
        rb.client() as on_b,
        publish(room, ["1001", "1002"], width=160, height=120),
    ):
        rec = await start_recording(
            on_a, ra, room, "900140", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(5)
        assert ra.process.pid is not None
        os.kill(ra.process.pid, signal.SIGTERM)
        failover = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 60.0)
        await wait_exit(ra)
        assert ra.process.stop() == 0
        await asyncio.sleep(5)
        assert await query_status(on_b, rb, rec) == 5
        stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    details = failover.payload["details"]
    assert (details["fromReplica"], details["toReplica"]) == ("ra", "rb")
    assert str(details["newUid"]) != rec.uid
    events = callback_sink.event_types(rec.sid)
    assert events.count(11) == 1 and events.count(41) == 1, events  # the taker's, at the stop
    assert f"Took over sid={rec.sid} from=ra" in rb.log_path.read_text()
    media = read_handed_over(s3_server, ra.bucket, rec.sid, tmp_path)
    check_continuous(media, FPS, [color_for(0), color_for(1)])
    # The taker's manifest vouches for the whole recording, the giver's objects too.
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    [manifest] = [k for k in keys if k.endswith(".manifest.json")]
    document = json.loads(s3_server.get_object(ra.bucket, manifest))
    listed = document["objects"]
    # its timeline says when the recording changed hands, between its start and its stop
    kinds = [entry["kind"] for entry in document["timeline"]]
    assert kinds == ["Started", "HandedOver", "Stopped"], kinds
    assert {o["key"] for o in listed} == keys - {manifest}


async def test_a_recording_survives_five_successive_hand_overs_across_three_replicas(
    tmp_path: Path,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    """A rolling restart of the whole set, twice (less one): each time the replica holding
    the recording drains and comes back; requests keep following it through the redirects
    of every replica it left (stop goes to the first replica, with the first resource id)."""
    bucket = "hand5-" + secrets.token_hex(4)
    s3_server.create_bucket(bucket)
    replicas = start_replicas(
        tmp_path, janus, callback_sink, s3_server, bucket, names=("ra", "rb", "rc")
    )
    by_name = dict(zip(("ra", "rb", "rc"), replicas, strict=True))
    holders = ["ra"]
    try:
        ra = by_name["ra"]
        async with ra.client() as on_a, publish(room, ["1001", "1002"], width=160, height=120):
            rec = await start_recording(
                on_a, ra, room, "900141", mix_config(transcodingConfig=TRANSCODING)
            )
            await wait_status(on_a, ra, rec, 5)
            for turn in range(5):
                await asyncio.sleep(3)
                holder = by_name[holders[-1]]
                assert holder.process.pid is not None
                os.kill(holder.process.pid, signal.SIGTERM)
                await wait_exit(holder)
                await asyncio.to_thread(holder.process.start)  # back, as in a rolling restart
                await asyncio.to_thread(
                    holder.process.wait_http, f"{holder.base_url}/readyz", timeout=60
                )
                failovers = await asyncio.to_thread(
                    wait_failovers, callback_sink, rec.sid, turn + 1
                )
                holders.append(failovers[-1].payload["details"]["toReplica"])
                assert await query_status(on_a, ra, rec) == 5  # through ra, whoever holds it
            await asyncio.sleep(3)
            stopped = await stop_recording(on_a, ra, rec)
    finally:
        for replica in replicas:
            replica.process.stop()
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert all(a != b for a, b in itertools.pairwise(holders)), holders
    assert len(set(holders)) == 3, holders
    media = read_handed_over(s3_server, bucket, rec.sid, tmp_path)
    check_continuous(media, FPS, [color_for(0), color_for(1)], switches=5)
    # The last taker's manifest tells every hand-over, in order, naming each giver.
    timeline = await manifest_timeline(s3_server, bucket, rec.sid)
    kinds = [entry["kind"] for entry in timeline]
    assert kinds == ["Started", *["HandedOver"] * 5, "Stopped"], timeline
    handed = timeline[1:-1]
    assert [entry["detail"] for entry in handed] == [f"from replica {h}" for h in holders[:-1]]
    at = [entry["atMs"] for entry in timeline]
    assert at == sorted(at) and len(set(at)) == len(at), at


def wait_failovers(sink: CallbackSink, sid: str, count: int, within: float = 60.0) -> list[Any]:
    """The first ``count`` events 12 of ``sid`` (waits until there are that many)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [n for n in sink.for_sid(sid) if n.event_type == 12]
        if len(found) >= count:
            return found[:count]
        time.sleep(0.2)
    raise AssertionError(f"{count} hand-overs of {sid} not seen within {within}s")


async def test_an_audio_only_mix_recording_is_handed_over_with_its_audio_back_to_back(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    ra, rb = replicas
    async with ra.client() as on_a, publish(room, ["1001", "1002"], video=False):
        rec = await start_recording(on_a, ra, room, "900142", mix_config(streamTypes=0))
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        assert ra.process.pid is not None
        os.kill(ra.process.pid, signal.SIGTERM)
        await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 60.0)
        await wait_exit(ra)
        await asyncio.sleep(4)
        async with rb.client() as on_b:
            stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    media = read_handed_over(s3_server, ra.bucket, rec.sid, tmp_path, kind="audio")
    check_continuous_audio(media, [tone_for(0), tone_for(1)])


async def test_a_handed_over_mp4_recording_continues_as_the_next_numbered_part(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    ra, rb = replicas
    async with ra.client() as on_a, publish(room, ["1001", "1002"], width=160, height=120):
        rec = await start_recording(
            on_a,
            ra,
            room,
            "900143",
            mix_config(transcodingConfig=TRANSCODING),
            av_file_type=("hls", "mp4"),
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        assert ra.process.pid is not None
        os.kill(ra.process.pid, signal.SIGTERM)
        await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 60.0)
        await wait_exit(ra)
        await asyncio.sleep(4)
        async with rb.client() as on_b:
            stopped = await stop_recording(on_b, rb, rec)
    parts = sorted(k for k in s3_server.object_keys(ra.bucket) if rec.sid in k and ".mp4" in k)
    assert [k.rsplit("_", 1)[1] for k in parts] == ["0.mp4", "1.mp4"], parts
    # The taker's answer lists the whole recording: both parts, the playlist from its start.
    listed = {f["fileName"]: f for f in stopped["serverResponse"]["fileList"]}
    assert set(parts) <= set(listed), sorted(listed)
    [playlist] = [f for name, f in listed.items() if name.endswith(".m3u8")]
    assert 0 < int(playlist["sliceStartTime"]) <= int(listed[parts[0]]["sliceStartTime"])
    assert int(listed[parts[0]]["sliceStartTime"]) < int(listed[parts[1]]["sliceStartTime"])
    spans = []
    for key in parts:
        path = tmp_path / key.rsplit("/", 1)[1]
        path.write_bytes(s3_server.get_object(ra.bucket, key))
        with av.open(str(path)) as container:
            times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
        spans.append(times[-1] - times[0] + 1 / FPS)
    media = read_handed_over(s3_server, ra.bucket, rec.sid, tmp_path)
    # The parts hold what the playlist's two sides hold: no media twice, none missing.
    for span, part in zip(spans, media.parts, strict=True):
        assert span == pytest.approx(part.times[-1] - part.times[0] + 1 / FPS, abs=0.15)


async def test_an_individual_recording_is_not_handed_over_but_stopped_with_its_files(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    """Individual mode has one clock per uid (from each uid's first packet), which a taker
    cannot share: a draining replica stops such a recording as before (docs/operations.md)."""
    ra, rb = replicas
    async with ra.client() as on_a, publish(room, "1001", width=160, height=120):
        rec = await start_recording(on_a, ra, room, "900144", mix_config(), mode="individual")
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(3)
        assert ra.process.pid is not None
        os.kill(ra.process.pid, signal.SIGTERM)
        await wait_exit(ra)
    assert ra.process.stop() == 0
    assert callback_sink.wait_for(rec.sid, 11).payload["details"]["exitStatus"] == 0
    assert 12 not in callback_sink.event_types(rec.sid)
    assert "Not handed over sid=" in ra.log_path.read_text()
    assert "Taking over" not in rb.log_path.read_text()
    keys = [k for k in s3_server.object_keys(ra.bucket) if rec.sid in k]
    assert any(k.endswith(".m3u8") for k in keys), keys
