"""Channel participants choose their own ids (issue 12, item 6): hostile ones are not recorded.

A real Janus (string ids) holds a normal publisher and publishers whose ids would inject
playlist lines (newline + ``#EXT-X-``), climb out of the prefix (``/``) or overflow a file
name (300 characters). The individual recording records the normal publisher with no gap,
writes nothing for the others and reports each once, by a sanitised form of its id.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import RecorderProcess
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.publisher import color_for
from cloudrec_protocol.manifest import is_manifest_name

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "900002"
NORMAL = "1001"
HOSTILE = {
    "77\n#EXT-X-ENDLIST\n#EXT-X-DISCONTINUITY": (
        "'77??EXT-X-ENDLIST??EXT-X-DISCONT...' (38 characters)"
    ),
    "../../etc/1002": "'..?..?etc?1002'",
    "9" * 300: "'" + "9" * 32 + "...' (300 characters)",
}


async def test_hostile_participant_ids_are_not_recorded_and_a_normal_publisher_has_no_gap(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    config = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30, "subscribeUidGroup": 0}
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, RECORDER_UID, config, mode="individual")
        async with publish(room, NORMAL, width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            async with publish(room, list(HOSTILE), width=160, height=120):
                await asyncio.sleep(5)
            await asyncio.sleep(2)
            stopped = await stop_recording(client, recorder, rec)
    files = stopped["serverResponse"]["fileList"]
    assert {f["uid"] for f in files} == {NORMAL}
    keys = recorder.s3.object_keys(recorder.bucket)
    mine = [k for k in keys if rec.sid in k and not is_manifest_name(k)]
    assert mine and all("__uid_s_1001__" in k for k in mine), mine
    video_key = next(f["fileName"] for f in files if f["trackType"] == "video")
    [playlist] = download(recorder, [video_key], tmp_path)
    text = playlist.read_text()
    assert text.count("#EXT-X-ENDLIST") == 1 and "#EXT-X-DISCONTINUITY" not in text
    frames = decode_video(playlist).frames
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(frames)]
    assert max(gaps) < 0.5, f"largest gap between frames: {max(gaps):.2f} s"
    assert close_to(colour_at(frames[-1][1], 20, 20), color_for(0))
    reports = [
        n.payload["details"]["errorMsg"]
        for n in recorder.sink.for_sid(rec.sid)
        if n.event_type == 1 and n.payload["details"]["errorLevel"] < 5
    ]
    assert sorted(reports) == sorted(
        f"participant {shown} is not a uid (1..4294967295): not recorded"
        for shown in HOSTILE.values()
    )
    assert all(
        n.event_type != 1 or n.payload["details"]["errorLevel"] < 5
        for n in recorder.sink.for_sid(rec.sid)
    ), "a hostile participant made the recording fail"
