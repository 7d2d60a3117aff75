"""Planned hand-over (issue 14): a draining replica passes its running recording to a peer.

Real recorder processes (two replicas that know each other), real Janus, real versitygw. A
mix recording of two publishers runs on replica ``ra``; ``ra`` gets SIGTERM mid-recording. The
recording must go on under the same sid on ``rb``: one playlist in the bucket, one
discontinuity, no segment twice, decoded frame times continuous across the switch (no gap over
a frame interval, nothing twice), both publishers' colours before and after; event 12; then
query and stop through ``rb`` with the resource id that still names ``ra``. An individual
recording goes the same way per uid and track: one playlist each, continuous across its own
switch.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_replicas
from tests.integration.recorder.checks import (
    Started,
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
    check_stored_continuous,
    read_handed_over,
    read_playlist,
    shows_colour,
)
from tests.media_files import open_media

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol import filenames
from cloudrec_protocol.filenames import Track

pytestmark = [pytest.mark.media, pytest.mark.timeout(300)]

FPS = 15
TRANSCODING = {"width": 320, "height": 240, "fps": FPS, "bitrate": 400, "mixedVideoLayout": 1}


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


async def drain_holder(ra: RecorderProcess, sink: CallbackSink, sid: str) -> Any:
    """SIGTERM ``ra`` (a drain: it hands its recordings over), then wait for the hand-over's
    event 12 of ``sid`` and for ``ra`` to exit; the event."""
    assert ra.process.pid is not None
    os.kill(ra.process.pid, signal.SIGTERM)
    failover = await asyncio.to_thread(sink.wait_for, sid, 12, 60.0)
    await wait_exit(ra)
    return failover


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
        failover = await drain_holder(ra, callback_sink, rec.sid)
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


async def test_a_subscription_changed_before_a_hand_over_stays_in_force_after_it(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """``update`` on ``ra`` takes uid 1002's video out of the mix; after the hand-over
    ``rb``'s part of the playlist still has 1001 only: the offer carries the subscription in
    force, not just the start request."""
    ra, rb = replicas
    async with ra.client() as on_a, publish(room, ["1001", "1002"], width=160, height=120):
        rec = await start_recording(
            on_a, ra, room, "900151", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(2)
        subscribe = {
            "audioUidList": {"subscribeAudioUids": ["#allstream#"]},
            "videoUidList": {"unSubscribeVideoUids": ["1002"]},
        }
        body = {"cname": rec.cname, "uid": rec.uid, "clientRequest": {"streamSubscribe": subscribe}}
        updated = await on_a.post(ra.url(rec.path("update")), json=body)
        assert updated.status_code == 200, updated.text
        await asyncio.sleep(4)
        await drain_holder(ra, callback_sink, rec.sid)
        await asyncio.sleep(5)
        async with rb.client() as on_b:
            stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    media = read_handed_over(s3_server, ra.bucket, rec.sid, tmp_path)
    check_continuous(media, FPS, [color_for(0)])
    given, taken = media.parts
    assert shows_colour(given.frames[: 2 * FPS], color_for(1))  # before the update
    assert not any(shows_colour([frame], color_for(1)) for frame in taken.frames)


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
        await drain_holder(ra, callback_sink, rec.sid)
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
        await drain_holder(ra, callback_sink, rec.sid)
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
        with open_media(path) as container:
            times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
        spans.append(times[-1] - times[0] + 1 / FPS)
    media = read_handed_over(s3_server, ra.bucket, rec.sid, tmp_path)
    # The parts hold what the playlist's two sides hold: no media twice, none missing.
    for span, part in zip(spans, media.parts, strict=True):
        assert span == pytest.approx(part.times[-1] - part.times[0] + 1 / FPS, abs=0.15)


async def test_an_individual_recording_is_handed_over_with_each_uids_playlists_continuous(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """Re-encoded tracks (streamMode standard): each uid's audio and video run on their own
    clock; each is cut at its own boundary and goes on in one playlist per uid and track."""
    ra, rb = replicas
    uids = ["1001", "1002"]
    async with ra.client() as on_a, publish(room, uids, width=160, height=120):
        config = mix_config(streamMode="standard")
        rec = await start_recording(on_a, ra, room, "900144", config, mode="individual")
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(5)
        failover = await drain_holder(ra, callback_sink, rec.sid)
        assert ra.process.stop() == 0
        await asyncio.sleep(5)
        async with rb.client() as on_b:
            assert await query_status(on_b, rb, rec) == 5
            stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert failover.payload["details"]["toReplica"] == "rb"
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    for index, uid in enumerate(uids):
        video = read_playlist(s3_server, ra.bucket, playlist_key(keys, rec, uid, "video"), tmp_path)
        check_continuous(video, FPS, [color_for(index)])
        audio = read_playlist(
            s3_server, ra.bucket, playlist_key(keys, rec, uid, "audio"), tmp_path, kind="audio"
        )
        check_continuous_audio(audio, [tone_for(index)])
        merged = filenames.individual_merged_playlist(rec.sid, room, uid)
        assert sum(k.endswith(merged) for k in keys) == 1, sorted(keys)
    assert len([k for k in keys if k.endswith(".m3u8")]) == 3 * len(uids), sorted(keys)
    check_manifest(s3_server, ra.bucket, keys)


async def test_an_audio_only_individual_recording_is_handed_over_and_a_later_uid_recorded(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """AudioOnly: each uid's AAC goes on back to back; a uid that joins after the hand-over
    is recorded by the taker alone, in one playlist without a discontinuity."""
    ra, rb = replicas
    async with ra.client() as on_a, publish(room, ["1001", "1002"], video=False):
        rec = await start_recording(
            on_a, ra, room, "900145", mix_config(streamTypes=0), mode="individual"
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        await drain_holder(ra, callback_sink, rec.sid)
        async with publish(room, "1003", video=False, tone_hz=tone_for(2)):
            await asyncio.sleep(5)
            async with rb.client() as on_b:
                stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    for index, uid in enumerate(["1001", "1002"]):
        key = playlist_key(keys, rec, uid, "audio")
        media = read_playlist(s3_server, ra.bucket, key, tmp_path, kind="audio")
        check_continuous_audio(media, [tone_for(index)])
    later = read_playlist(
        s3_server, ra.bucket, playlist_key(keys, rec, "1003", "audio"), tmp_path, kind="audio"
    )
    assert later.discontinuities == 0 and later.times, later.text
    assert not any("_video" in k for k in keys), sorted(keys)
    check_manifest(s3_server, ra.bucket, keys)


async def test_an_individual_recording_with_snapshots_is_handed_over_and_snapshots_go_on(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """Snapshots are not cut: the taker takes them from its start (names carry the capture
    time, so none repeats); the playlists go on as without snapshots."""
    ra, rb = replicas
    async with ra.client() as on_a, publish(room, "1001", width=160, height=120):
        rec = await start_recording(
            on_a,
            ra,
            room,
            "900147",
            mix_config(streamMode="standard"),
            mode="individual",
            snapshot_config={"captureInterval": 5, "fileType": ["jpg"]},
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(7)
        assert ra.process.pid is not None
        os.kill(ra.process.pid, signal.SIGTERM)
        await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 60.0)
        switched = time.time()
        await wait_exit(ra)
        await asyncio.sleep(7)
        async with rb.client() as on_b:
            stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    video = read_playlist(s3_server, ra.bucket, playlist_key(keys, rec, "1001", "video"), tmp_path)
    check_continuous(video, FPS, [color_for(0)])
    taken = sorted(utc_of(k) for k in keys if k.endswith(".jpg"))
    assert taken and taken[0] < switched - 5 and taken[-1] > switched, (taken, switched)
    check_manifest(s3_server, ra.bucket, keys)


def utc_of(key: str) -> float:
    """A snapshot's capture time (Unix s) from its name's ``yyyyMMddHHmmssSSS``."""
    stamp = key.rsplit("_", 1)[1].split(".")[0]
    moment = datetime.strptime(stamp, "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
    return moment.timestamp()


async def test_an_individual_recording_with_video_stored_as_received_is_handed_over_frame_exact(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """streamMode default: each uid's VP8 kept as sent (WebM slices), its audio re-encoded.
    The taker finds the shift to the giver's packet times from the frames both received; the
    stored video changes hands at a keyframe both saw: no frame missing, none twice."""
    ra, rb = replicas
    uids = ["1001", "1002"]
    async with ra.client() as on_a, publish(room, uids, width=160, height=120, fps=FPS):
        rec = await start_recording(on_a, ra, room, "900146", mix_config(), mode="individual")
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(5)
        await drain_holder(ra, callback_sink, rec.sid)
        await asyncio.sleep(5)
        async with rb.client() as on_b:
            stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert "shift=" in rb.log_path.read_text()
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    for index, uid in enumerate(uids):
        key = playlist_key(keys, rec, uid, "video")
        video = read_playlist(s3_server, ra.bucket, key, tmp_path)
        assert all(name.endswith(".webm") for name in video.segments), video.segments
        check_stored_continuous(video, FPS, [color_for(index)])
        audio = read_playlist(
            s3_server, ra.bucket, playlist_key(keys, rec, uid, "audio"), tmp_path, kind="audio"
        )
        check_continuous_audio(audio, [tone_for(index)])
    check_manifest(s3_server, ra.bucket, keys)


async def test_a_stored_track_whose_uid_left_is_ended_by_the_giver_and_goes_on_when_it_is_back(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """uid 1002 leaves before the drain: its stored video has no packets to match, so the
    giver ends it after its last frame and the hand-over does not wait for it; when 1002
    comes back the taker goes on with the same playlist after one discontinuity."""
    ra, rb = replicas
    picture = {"width": 160, "height": 120, "fps": FPS}
    async with ra.client() as on_a, publish(room, "1001", **picture):
        async with publish(room, "1002", color=color_for(1), **picture):
            rec = await start_recording(on_a, ra, room, "900149", mix_config(), mode="individual")
            await wait_status(on_a, ra, rec, 5)
            await asyncio.sleep(5)
        await asyncio.sleep(3)
        await drain_holder(ra, callback_sink, rec.sid)
        async with publish(room, "1002", color=color_for(1), **picture):
            await asyncio.sleep(6)
            async with rb.client() as on_b:
                stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    stayed = read_playlist(s3_server, ra.bucket, playlist_key(keys, rec, "1001", "video"), tmp_path)
    check_stored_continuous(stayed, FPS, [color_for(0)])
    back = read_playlist(s3_server, ra.bucket, playlist_key(keys, rec, "1002", "video"), tmp_path)
    assert back.discontinuities == 1, back.text
    assert len(set(back.segments)) == len(back.segments), back.segments
    assert back.switch_steps()[0] > 3  # away for 3 s and more
    for part in back.parts:  # forward; a (re)joining sender's first frames may share a ms
        steps = [b - a for a, b in itertools.pairwise(part.times)]
        assert min(steps) >= 0 and all(step > 0 for step in steps[3:]), steps[:8]
    for index, part in enumerate(back.parts):
        assert shows_colour(part.frames, color_for(1)), f"1002 missing in part {index}"
    check_manifest(s3_server, ra.bucket, keys)


async def test_an_individual_recording_with_opus_stored_as_received_is_handed_over_packet_exact(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """streamMode original (AudioOnly): each uid's Opus kept as sent; 20 ms packets back to
    back across the switch."""
    ra, rb = replicas
    uids = ["1001", "1002"]
    async with ra.client() as on_a, publish(room, uids, video=False):
        config = mix_config(streamTypes=0, streamMode="original")
        rec = await start_recording(on_a, ra, room, "900148", config, mode="individual")
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        await drain_holder(ra, callback_sink, rec.sid)
        await asyncio.sleep(4)
        async with rb.client() as on_b:
            stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    for index, uid in enumerate(uids):
        key = playlist_key(keys, rec, uid, "audio")
        media = read_playlist(s3_server, ra.bucket, key, tmp_path, kind="audio")
        check_continuous_audio(media, [tone_for(index)], samples=960)
    check_manifest(s3_server, ra.bucket, keys)


def playlist_key(keys: set[str], rec: Started, uid: str, track: Track) -> str:
    """The bucket key of ``uid``'s ``track`` playlist (exactly one)."""
    name = filenames.individual_playlist(rec.sid, rec.cname, uid, track)
    [key] = [k for k in keys if k.endswith("/" + name) or k == name]
    return key


def check_manifest(s3: S3Server, bucket: str, keys: set[str]) -> None:
    """The taker's manifest lists every object of the recording, once, and says when it
    changed hands."""
    [manifest] = [k for k in keys if k.endswith(".manifest.json")]
    document = json.loads(s3.get_object(bucket, manifest))
    listed = [o["key"] for o in document["objects"]]
    assert sorted(listed) == sorted(keys - {manifest})
    kinds = [entry["kind"] for entry in document["timeline"]]
    assert kinds == ["Started", "HandedOver", "Stopped"], kinds
