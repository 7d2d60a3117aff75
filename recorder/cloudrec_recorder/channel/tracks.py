"""A received track as the recording reads it: decoded frames, in order, until it ends.

The receiver threads decode; :class:`ReceivedTrack` is the hand-over on the event loop: a
bounded queue (the oldest frame is dropped when a reader falls behind) whose ``recv()`` raises
:class:`TrackEndedError` once the subscription closes.
"""

from __future__ import annotations

import asyncio
import contextlib

import av

__all__ = ["TRACK_QUEUE_FRAMES", "ReceivedTrack", "TrackEndedError"]

TRACK_QUEUE_FRAMES = 300
"""Frames held per track (6 s of 20 ms audio, 10 s of 30 fps video)."""


class TrackEndedError(Exception):
    """The track's subscription closed: no more frames."""


_END = None


class ReceivedTrack:
    """Decoded frames of one kind (``audio`` / ``video``) from one publisher."""

    def __init__(self, kind: str, *, maxsize: int = TRACK_QUEUE_FRAMES) -> None:
        self.kind = kind
        self._queue: asyncio.Queue[av.VideoFrame | av.AudioFrame | None] = asyncio.Queue(maxsize)
        self.ended = False

    async def recv(self) -> av.VideoFrame | av.AudioFrame:
        """The next frame; :class:`TrackEndedError` once the track ended."""
        if self.ended and self._queue.empty():
            raise TrackEndedError(self.kind)
        item = await self._queue.get()
        if item is _END:
            raise TrackEndedError(self.kind)
        return item

    def put(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        """Add a frame (event loop only); drops the oldest when full."""
        if self.ended:
            return
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(frame)

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(_END)
