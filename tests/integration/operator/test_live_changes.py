"""Mutable fields applied live: a layout change in the manifest shows in the recording."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import RecordingEnv, ready
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    probe_point,
)
from tests.media_files import decode_video

from cloudrec_devenv.publisher import color_for
from cloudrec_recorder.media.config import VideoLayout
from cloudrec_recorder.media.layout import Region, compute_layout

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(180)]

run = asyncio.to_thread
USERS = ["1001", "1002"]
WIDTH, HEIGHT = 320, 240


def shown_at(regions: list[Region], x: int, y: int) -> str:
    """The uid painted on top at (x, y)."""
    covering = [r for r in regions if r.contains(x, y)]
    return max(covering, key=lambda r: r.z).uid


async def test_a_layout_change_mid_recording_is_applied_live_and_visible_in_the_output(
    recordings: RecordingEnv, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    env = recordings
    floating = compute_layout(VideoLayout.FLOAT, USERS, WIDTH, HEIGHT)
    best_fit = compute_layout(VideoLayout.BEST_FIT, USERS, WIDTH, HEIGHT)
    # A point one user owns with Float and the other with BestFit, away from the uid label
    # each publisher draws in its centre. (Which user comes first is the recorder's join
    # order; the point changes owner in either order.)
    x, y = probe_point(best_fit[1], best_fit)
    assert shown_at(floating, x, y) == USERS[0] and shown_at(best_fit, x, y) == USERS[1]
    transcoding = {"width": WIDTH, "height": HEIGHT, "fps": 15, "bitrate": 500, "layout": "Float"}
    async with publish(room, USERS, width=160, height=120):
        await run(env.apply, "relayout", room, recordingConfig={"transcodingConfig": transcoding})
        await run(env.wait, "relayout", ready, 60.0, "Ready True")
        await asyncio.sleep(5)
        await run(
            env.patch_spec,
            "relayout",
            {"recordingConfig": {"transcodingConfig": {**transcoding, "layout": "BestFit"}}},
        )
        changed = await run(
            env.wait,
            "relayout",
            lambda o: o["status"].get("observedGeneration") == o["metadata"]["generation"] == 2,
            30.0,
            "generation 2 observed",
        )
        assert changed["status"]["phase"] == "Recording"
        await asyncio.sleep(6)
        await run(env.patch_spec, "relayout", {"state": "Stopped"})
        done = await run(env.wait_phase, "relayout", "Completed", 60.0)
    playlists = [f["fileName"] for f in done["status"]["files"] if f["fileName"].endswith(".m3u8")]
    [playlist] = await run(download, env.recorder, playlists, tmp_path)
    video = await run(decode_video, playlist)
    owners = [
        "1" if close_to(colour_at(frame, x, y), color_for(1)) else "0"
        for _, frame in video.frames
        if close_to(colour_at(frame, x, y), color_for(1))
        or close_to(colour_at(frame, x, y), color_for(0))
    ]
    assert owners, "neither publisher is visible at the probe point"
    switch = owners.index(owners[-1])
    assert owners[0] != owners[-1], "the layout never changed at the probe point"
    assert set(owners[:switch]) == {owners[0]} and set(owners[switch:]) == {owners[-1]}, (
        "the layout changed more than once"
    )
    assert 0.2 < switch / len(owners) < 0.8, "the change is not mid-recording"
