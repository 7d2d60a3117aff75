"""A received track hands its frames to the reader in order, through the event loop until the
reader asks for them directly, then in the receiver's thread, with none lost or reordered at
the switch."""

from __future__ import annotations

import asyncio
import contextlib

import av
import numpy as np

from cloudrec_recorder.channel.tracks import TRACK_QUEUE_FRAMES, ReceivedTrack


def _frame(n: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.float32), format="fltp", layout="mono")
    frame.pts = n
    return frame


def _send(track: ReceivedTrack, frame: av.AudioFrame) -> None:
    """What the subscription does with a frame in the receiver's thread (feed.py)."""
    taken = track.offer(frame)
    if taken:
        return
    track.put(frame)
    if taken is None:
        track.hand_over()


async def _nothing_more(track: ReceivedTrack) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(track.recv(), 0.05)
        raise AssertionError("a frame came through the loop after the switch")


async def test_frames_keep_their_order_when_the_reader_takes_them_directly() -> None:
    track = ReceivedTrack("audio")
    read: list[int] = []
    _send(track, _frame(0))
    _send(track, _frame(1))
    read.append((await track.recv()).pts or 0)
    track.direct = lambda frame: read.append(frame.pts or 0)  # the reader asks
    _send(track, _frame(2))  # the last one through the loop, the marker behind it
    _send(track, _frame(3))  # held until the reader met the marker
    read.append((await track.recv()).pts or 0)
    read.append((await track.recv()).pts or 0)
    await _nothing_more(track)  # meets the marker
    _send(track, _frame(4))
    _send(track, _frame(5))
    assert read == [0, 1, 2, 3, 4, 5]


async def test_a_reader_that_fell_far_behind_still_gets_the_frames_directly() -> None:
    track = ReceivedTrack("audio")
    read: list[int] = []
    track.direct = lambda frame: read.append(frame.pts or 0)
    _send(track, _frame(0))  # the marker behind it
    for n in range(1, TRACK_QUEUE_FRAMES + 1):
        track.put(_frame(n))  # frames late on the loop push the marker out
    _send(track, _frame(TRACK_QUEUE_FRAMES + 1))
    assert read == [TRACK_QUEUE_FRAMES + 1]


async def test_an_ended_track_takes_no_frame_directly() -> None:
    track = ReceivedTrack("audio")
    read: list[int] = []
    track.direct = lambda frame: read.append(frame.pts or 0)
    track.end()
    assert track.offer(_frame(0)) is False
    assert read == []
