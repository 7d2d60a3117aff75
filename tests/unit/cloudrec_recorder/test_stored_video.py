"""Stored video read from a subscription's tap: frames taken in the receiver's thread still
tell the recording that media arrives (its timeline's gaps), at most every ``note_every``."""

from __future__ import annotations

import asyncio
import threading
from typing import cast

from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.media.group import RecordingGroup
from cloudrec_recorder.stored_video import read_encoded_video


class StoringPipeline:
    """What the reader calls on a :class:`RecordingGroup`: keeps the frames it is given."""

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.first = asyncio.Event()

    def push_video_packet(self, uid: str, codec: str, data: bytes, timestamp: int) -> None:
        self.frames.append(timestamp)
        self.first.set()

    def wants_keyframe(self, uid: str) -> bool:
        return False


async def _read(note_every: float, direct_frames: int) -> tuple[list[int], int]:
    tap = EncodedVideoTap(decode=False)
    pipeline = StoringPipeline()
    heard = 0

    def on_media() -> None:
        nonlocal heard
        heard += 1

    reader = asyncio.create_task(
        read_encoded_video(
            "1001",
            tap,
            cast(RecordingGroup, pipeline),
            lambda uid: True,
            on_media,
            note_every,
        )
    )
    tap.offer("VP8", b"first", 0)  # the first frame comes through the event loop
    await pipeline.first.wait()

    def receiver_thread() -> None:
        direct = tap.direct
        assert direct is not None
        for n in range(1, direct_frames + 1):
            assert direct("VP8", b"later", n * 6000)

    thread = threading.Thread(target=receiver_thread)
    thread.start()
    await asyncio.to_thread(thread.join)
    for _ in range(10):  # let the callbacks the thread scheduled run
        await asyncio.sleep(0)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    return pipeline.frames, heard


async def test_frames_taken_in_the_receivers_thread_still_tell_the_recording_of_media() -> None:
    frames, heard = await _read(note_every=0.0, direct_frames=3)
    assert frames == [0, 6000, 12000, 18000]
    assert heard == 4


async def test_the_recording_hears_of_direct_frames_at_most_every_note_interval() -> None:
    frames, heard = await _read(note_every=3600.0, direct_frames=3)
    assert frames == [0, 6000, 12000, 18000]
    assert heard == 1
