"""Snapshots (protocol.md §3.2.4): real Janus, aiortc publishers, JPGs decoded from the bucket.

A snapshot task is an individual start with ``snapshotConfig``: every ``captureInterval``
seconds one JPG per publisher that sends video, named
``<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg``, uploaded like every other file, one
event 45 per file; alone it records nothing else, and its query and stop answers carry no
file list (§3.3, §3.6).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any

import httpx
import numpy as np
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import RecorderProcess
from tests.integration.recorder.checks import (
    Started,
    close_to,
    colour_at,
    download,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_jpg, decode_video

from cloudrec_devenv.publisher import color_for
from cloudrec_protocol.manifest import is_manifest_name
from cloudrec_recorder.media.naming import safe_cname
from cloudrec_recorder.storage.files import slice_time_ms

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "900011"
INTERVAL = 2


def snapshot_name(rec: Started, uid: str) -> re.Pattern[str]:
    stem = f"{rec.sid}_{safe_cname(rec.cname)}__uid_s_{uid}__uid_e_video_"
    return re.compile(re.escape(stem) + r"[0-9]{17}\.jpg")


async def start_snapshots(
    client: httpx.AsyncClient,
    recorder: RecorderProcess,
    room: str,
    *,
    prefix: tuple[str, ...],
    recording_files: bool = False,
    storage: dict[str, Any] | None = None,
) -> Started:
    acquired = await client.post(recorder.url("acquire"), json={"cname": room, "uid": RECORDER_UID})
    assert acquired.status_code == 200, acquired.text
    rid = acquired.json()["resourceId"]
    request: dict[str, Any] = {
        "recordingConfig": {"channelType": 0, "streamTypes": 2, "subscribeUidGroup": 0},
        "snapshotConfig": {"captureInterval": INTERVAL, "fileType": ["jpg"]},
        "storageConfig": storage or recorder.storage_config(prefix),
    }
    if recording_files:
        request["recordingFileConfig"] = {"avFileType": ["hls"]}
    started = await client.post(
        recorder.url(f"resourceid/{rid}/mode/individual/start"),
        json={"cname": room, "uid": RECORDER_UID, "clientRequest": request},
    )
    assert started.status_code == 200, started.text
    return Started(rid, started.json()["sid"], room, RECORDER_UID, "individual")


def keys_of(recorder: RecorderProcess, rec: Started, bucket: str | None = None) -> list[str]:
    """The recording's media objects (not its manifest, docs/verification.md)."""
    return sorted(
        k
        for k in recorder.s3.object_keys(bucket or recorder.bucket)
        if f"/{rec.sid}_" in k and not is_manifest_name(k)
    )


async def snapshot_events(recorder: RecorderProcess, rec: Started, count: int) -> list[str]:
    """The ``fileName`` of every event 45 of ``rec``, once ``count`` arrived (or 20 s passed)."""
    deadline = time.monotonic() + 20
    while True:
        names = [
            n.payload["details"]["fileName"]
            for n in recorder.sink.for_sid(rec.sid)
            if n.event_type == 45
        ]
        if len(names) >= count or time.monotonic() > deadline:
            return names
        await asyncio.sleep(0.2)


async def test_a_snapshot_task_uploads_a_jpg_of_each_publisher_every_interval_and_nothing_else(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    users = ["2001", "2002"]
    prefix = ("snap", secrets.token_hex(3))
    async with recorder.client() as client:
        rec = await start_snapshots(client, recorder, room, prefix=prefix)
        async with publish(room, users, width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            began = time.time()
            query = await client.get(recorder.url(rec.path("query")))
            await asyncio.sleep(4 * INTERVAL + 1)
            stopped = await stop_recording(client, recorder, rec)
            ended = time.time()
    # §3.3 / §3.6: no file list for a snapshot task
    assert query.status_code == 200, query.text
    assert set(query.json()["serverResponse"]) == {"status", "sliceStartTime"}
    assert query.json()["serverResponse"]["status"] == 5
    assert stopped["serverResponse"] == {"uploadingStatus": "uploaded"}

    keys = await asyncio.to_thread(keys_of, recorder, rec)
    assert keys and all(k.endswith(".jpg") for k in keys), keys  # no HLS at all
    for index, uid in enumerate(users):
        mine = [k for k in keys if snapshot_name(rec, uid).fullmatch(k.rsplit("/", 1)[-1])]
        stamps = [slice_time_ms(k) or 0 for k in mine]
        covered = ended - began
        assert covered // INTERVAL - 1 <= len(mine) <= covered // INTERVAL + 2, (uid, mine)
        gaps = np.diff(stamps) / 1000
        assert np.all(np.abs(gaps - INTERVAL) < 0.6), (uid, gaps)
        for key in mine:
            assert key.startswith("/".join(prefix) + "/")
            image = await asyncio.to_thread(recorder.s3.get_object, recorder.bucket, key)
            picture = decode_jpg(image)
            assert picture.shape == (120, 160, 3)
            assert close_to(colour_at(picture, 20, 20), color_for(index)), key
    assert sorted(await snapshot_events(recorder, rec, len(keys))) == keys
    received = recorder.sink.for_sid(rec.sid)
    assert all(n.signature_ok for n in received)
    streams = {
        (n.event_type, n.payload["details"]["streamUid"])
        for n in received
        if n.event_type in (43, 44)
    }
    assert streams == {(44, uid) for uid in users}  # video only: audio is not even received
    snapshot_events_seen = [n for n in received if n.event_type == 45]
    assert all(n.payload["serviceType"] == 1 for n in snapshot_events_seen)
    assert all(
        n.payload["details"]["msgName"] == "recorder_snapshot_file" for n in snapshot_events_seen
    )


async def test_recording_and_snapshots_in_one_task_give_the_hls_files_and_the_jpgs(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Any
) -> None:
    prefix = ("snaprec", secrets.token_hex(3))
    async with recorder.client() as client:
        rec = await start_snapshots(client, recorder, room, prefix=prefix, recording_files=True)
        async with publish(room, "2101", width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(2 * INTERVAL + 1)
            query = await client.get(recorder.url(rec.path("query")))
            stopped = await stop_recording(client, recorder, rec)
    listed = [f["fileName"] for f in query.json()["serverResponse"]["fileList"]]
    assert listed and not any(name.endswith(".jpg") for name in listed)
    response = stopped["serverResponse"]
    assert response["uploadingStatus"] == "uploaded"
    files = {f["trackType"]: f["fileName"] for f in response["fileList"]}
    assert set(files) == {"audio", "video"}
    [video] = download(recorder, [files["video"]], tmp_path)
    assert close_to(colour_at(decode_video(video).frames[-1][1], 20, 20), color_for(0))
    keys = await asyncio.to_thread(keys_of, recorder, rec)
    jpgs = [k for k in keys if k.endswith(".jpg")]
    assert len(jpgs) >= 2
    image = await asyncio.to_thread(recorder.s3.get_object, recorder.bucket, jpgs[-1])
    assert close_to(colour_at(decode_jpg(image), 20, 20), color_for(0))
    assert sorted(await snapshot_events(recorder, rec, len(jpgs))) == jpgs


async def test_snapshots_a_bucket_refused_reach_it_from_the_backup_with_their_events(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    bucket = "later-" + secrets.token_hex(4)
    storage = recorder.storage_config(("late",)) | {"bucket": bucket}
    async with recorder.client() as client:
        rec = await start_snapshots(client, recorder, room, prefix=("late",), storage=storage)
        async with publish(room, "2201", width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(2 * INTERVAL + 1)
            stopped = await stop_recording(client, recorder, rec)
    assert stopped["serverResponse"] == {"uploadingStatus": "backuped"}
    assert await snapshot_events(recorder, rec, 1) == []  # not in a bucket yet
    backed_up = sorted(p.name for p in (recorder.backup_dir / rec.sid).glob("*.jpg"))
    assert len(backed_up) >= 2

    await asyncio.to_thread(recorder.s3.create_bucket, bucket)
    events = await snapshot_events(recorder, rec, len(backed_up))
    assert sorted(events) == [f"late/{name}" for name in backed_up]
    keys = await asyncio.to_thread(keys_of, recorder, rec, bucket)
    assert keys == sorted(events)
    image = await asyncio.to_thread(recorder.s3.get_object, bucket, keys[0])
    assert close_to(colour_at(decode_jpg(image), 20, 20), color_for(0))
