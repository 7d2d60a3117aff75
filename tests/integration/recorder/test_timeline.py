"""The manifest's timeline against what the recording shows: real Janus, an aiortc publisher
who leaves for a while and comes back, the HLS decoded from versitygw."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import RecorderProcess
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    manifest_timeline,
    mix_config,
    probe_point,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.publisher import color_for
from cloudrec_recorder.media.config import VideoLayout
from cloudrec_recorder.media.layout import compute_layout

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

SEGMENT = 2.0
"""The recorder fixture's ``hlsSegmentSeconds``: the gap threshold, and the tolerance."""
TRANSCODING = {"width": 320, "height": 240, "fps": 15, "bitrate": 300, "mixedVideoLayout": 1}


def absent_span(shown: list[bool], times: list[float]) -> tuple[float, float]:
    """From the first frame without the publisher after it showed, to the next with it."""
    first_shown = shown.index(True)
    gone = shown.index(False, first_shown)
    back = shown.index(True, gone)
    return times[gone], times[back]


async def test_a_publisher_away_for_a_while_is_a_gap_in_the_timeline_where_the_video_shows_nobody(
    recorder: RecorderProcess, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    config = mix_config(streamTypes=1, maxIdleTime=60, transcodingConfig=TRANSCODING)
    async with recorder.client() as client:
        rec = await start_recording(client, recorder, room, "900160", config)
        async with publish(room, "1001", color=color_for(0), width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await asyncio.sleep(3)
        await asyncio.sleep(8)  # nobody in the channel
        async with publish(room, "1001", color=color_for(0), width=160, height=120):
            await asyncio.sleep(4)
            stopped = await stop_recording(client, recorder, rec)
    timeline = await manifest_timeline(recorder.s3, recorder.bucket, rec.sid)
    assert [entry["kind"] for entry in timeline] == ["Started", "Gap", "Stopped"], timeline
    started, gap, _ = timeline
    gap_from = (gap["atMs"] - started["atMs"]) / 1000
    gap_to = (gap["untilMs"] - started["atMs"]) / 1000
    assert gap_to - gap_from > 6, gap  # about the 8 s away (plus leaving and coming back)

    [playlist] = download(recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    video = decode_video(playlist)
    times = [t - video.frames[0][0] for t, _ in video.frames]  # output time 0: Started
    alone = compute_layout(VideoLayout.BEST_FIT, ["1001"], 320, 240)
    point = probe_point(alone[0], alone)
    shown = [close_to(colour_at(frame, *point), color_for(0)) for _, frame in video.frames]
    gone, back = absent_span(shown, times)
    print(f"\nGap {gap_from:.2f}-{gap_to:.2f} s; no publisher decoded {gone:.2f}-{back:.2f} s")
    assert abs(gone - gap_from) <= SEGMENT, (gone, gap_from)
    assert abs(back - gap_to) <= SEGMENT, (back, gap_to)
