"""Snapshots and individual files as a CloudRecording's status and Events tell them.

Two CloudRecordings of one room with two publishers (real operator, kube-apiserver, recorder,
Janus and versitygw): an Individual HLS recording that also takes snapshots, and a
snapshot-only task. ``status.files`` must list each snapshot JPG (learnt from event 45) with
the uid it shows, and each playlist with its uid and track; a ``SnapshotUploaded`` Event
names each publisher's first snapshot. Every JPG in the recording's bucket prefix must be
listed (the last events 45 may arrive just after Completed), and the last JPG listed for each
uid must show that publisher's colour.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections import Counter
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready
from tests.integration.recorder.checks import close_to, colour_at

from cloudrec_devenv.publisher import color_for

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.media, pytest.mark.timeout(300)]

PUBLISHERS = ["1001", "1002"]
INTERVAL = 2
RECORD_SECONDS = 8
LATE_EVENTS_SECONDS = 30

run = asyncio.to_thread


def decoded_jpg(data: bytes) -> npt.NDArray[np.uint8]:
    with av.open(io.BytesIO(data), format="jpeg_pipe") as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)


def snapshots_in_bucket(env: RecordingEnv, name: str) -> set[str]:
    prefix = f"op/{re.sub(r'[^a-z0-9]', '', name)}/"
    keys = env.recorder.s3.object_keys(env.recorder.bucket)
    return {key for key in keys if key.startswith(prefix) and key.endswith(".jpg")}


def listing_every_snapshot(env: RecordingEnv, name: str) -> list[dict[str, Any]]:
    """status.files once it lists every JPG of the finished recording's bucket prefix.

    Event 45 is sent when a JPG reaches the bucket and travels on its own, so the last ones
    may come a little after the stop answer that completed the recording."""
    in_bucket = snapshots_in_bucket(env, name)
    assert in_bucket, f"{name}: no snapshot in the bucket"
    deadline = time.monotonic() + LATE_EVENTS_SECONDS
    while True:
        files: list[dict[str, Any]] = env.status(name).get("files") or []
        listed = {f["fileName"] for f in files if f["fileName"].endswith(".jpg")}
        if listed >= in_bucket or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert listed == in_bucket, f"{name}: {sorted(in_bucket - listed)} not listed"
    return files


def check_snapshots(name: str, files: list[dict[str, Any]], env: RecordingEnv) -> None:
    jpgs = [f for f in files if f["fileName"].endswith(".jpg")]
    listed = [f["fileName"] for f in jpgs]
    assert len(listed) == len(set(listed)), f"{name}: listed twice"
    per_uid = Counter(f.get("uid") for f in jpgs)
    # one every INTERVAL seconds per publisher while both sent video (the first may wait
    # for a first frame): at least two each
    assert set(per_uid) == set(PUBLISHERS), f"{name}: {per_uid}"
    assert min(per_uid.values()) >= 2, f"{name}: {per_uid}"
    for f in jpgs:
        assert f["trackType"] == "Video" and f["isPlayable"] is False, f
        assert f["fileName"].split("__uid_s_")[1].startswith(f"{f['uid']}__"), f
        assert f["sliceStartTime"] > 0, f
    for index, uid in enumerate(PUBLISHERS):
        last = [f for f in jpgs if f["uid"] == uid][-1]
        picture = decoded_jpg(env.recorder.s3.get_object(env.recorder.bucket, last["fileName"]))
        corner = colour_at(picture, 20, 20)  # the publisher's colour (its label is mid-frame)
        assert close_to(corner, color_for(index)), f"{name} uid {uid}: {corner}"


def check_snapshot_events(env: RecordingEnv, name: str) -> None:
    events = env.events(name)
    snapshot_events = [
        (kind, text) for kind, reason, text in events if reason == "SnapshotUploaded"
    ]
    assert all(kind == "Normal" for kind, _ in snapshot_events), snapshot_events
    for uid in PUBLISHERS:
        assert any(f"Snapshot of uid {uid} uploaded: " in text for _, text in snapshot_events), (
            name,
            snapshot_events,
        )


async def test_snapshots_and_individual_playlists_are_listed_with_their_uid_and_announced(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    snapshots = {"captureInterval": INTERVAL}
    configs: dict[str, dict[str, Any]] = {
        "snaps-and-hls": {
            "mode": "Individual",
            "streamTypes": "AudioVideo",
            "outputFormats": ["HLS"],
            "snapshotConfig": snapshots,
            "maxIdleTime": 30,
        },
        "snaps-only": {
            "mode": "Individual",
            "streamTypes": "VideoOnly",
            "outputFormats": [],
            "snapshotConfig": snapshots,
            "maxIdleTime": 30,
        },
    }
    async with publish(room, PUBLISHERS, width=160, height=120, fps=15):
        for number, (name, config) in enumerate(configs.items()):
            await run(env.apply, name, room, uid=str(930001 + number), recordingConfig=config)
        for name in configs:
            await run(env.wait, name, ready, 90.0, "Ready True")
        await asyncio.sleep(RECORD_SECONDS)
        for name in configs:
            await run(env.patch_spec, name, {"state": "Stopped"})
        done = {name: await run(env.wait_phase, name, "Completed", 120.0) for name in configs}

    for name in done:
        files = await run(listing_every_snapshot, env, name)
        await run(check_snapshots, name, files, env)
        await run(check_snapshot_events, env, name)

    # The individual playlists say whose they are and what they hold.
    playlists = {
        (f.get("uid"), f.get("trackType"))
        for f in done["snaps-and-hls"]["status"]["files"]
        if f["fileName"].endswith(".m3u8")
    }
    expected = {(uid, track) for uid in PUBLISHERS for track in ("Audio", "Video")}
    assert playlists == expected, sorted(playlists, key=str)
    # A snapshot-only task records nothing playable.
    assert all(f["fileName"].endswith(".jpg") for f in done["snaps-only"]["status"]["files"])
