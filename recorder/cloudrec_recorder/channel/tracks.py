"""A received track as the recording reads it: decoded frames, in order, until it ends.

The receiver threads decode; :class:`ReceivedTrack` is the hand-over on the event loop: a
bounded queue (the oldest frame is dropped when a reader falls behind) whose ``recv()`` raises
:class:`TrackEndedError` once the subscription closes.

A reader whose consumer takes frames from any thread sets :attr:`ReceivedTrack.direct`: from
then on the receiver's thread hands each frame to it (:meth:`ReceivedTrack.offer`), and the
event loop sees none of them (issue 13: at 4 publishers the loop spent 0.02 core on 260 frames
a second). Nothing is reordered at the switch: the receiver's thread sends one
:meth:`~ReceivedTrack.hand_over` marker through the loop behind the frames already on their
way, holds what comes meanwhile, and goes direct once ``recv()`` met the marker (the reader has
taken every frame before it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import av

__all__ = ["TRACK_QUEUE_FRAMES", "DirectFrames", "ReceivedTrack", "TrackEndedError"]

TRACK_QUEUE_FRAMES = 300
"""Frames held per track (6 s of 20 ms audio, 10 s of 30 fps video)."""


class TrackEndedError(Exception):
    """The track's subscription closed: no more frames."""


_END = None
_HAND_OVER = object()
"""Queued behind the last frame that came through the loop (see the module doc)."""

Frame = av.VideoFrame | av.AudioFrame
DirectFrames = Callable[[Frame], None]
"""Takes one frame in a receiver's thread (must be thread-safe)."""


class ReceivedTrack:
    """Decoded frames of one kind (``audio`` / ``video``) from one publisher."""

    def __init__(self, kind: str, *, maxsize: int = TRACK_QUEUE_FRAMES) -> None:
        self.kind = kind
        self._queue: asyncio.Queue[Frame | object | None] = asyncio.Queue(maxsize)
        self.ended = False
        self.direct: DirectFrames | None = None
        """Set by the reader: takes the frames in the receiver's thread (see the module doc)."""
        self._live = False
        """The reader met the hand-over marker: frames go to :attr:`direct` (set on the loop)."""
        self._marked = False
        """The marker was sent (the receiver's thread only)."""
        self._held: list[Frame] = []
        """Frames that came between the marker and going live (the receiver's thread only)."""

    async def recv(self) -> Frame:
        """The next frame; :class:`TrackEndedError` once the track ended."""
        while True:
            if self.ended and self._queue.empty():
                raise TrackEndedError(self.kind)
            item = await self._queue.get()
            if item is _END:
                raise TrackEndedError(self.kind)
            if item is _HAND_OVER:
                self._live = True
                continue
            assert isinstance(item, av.VideoFrame | av.AudioFrame)
            return item

    def offer(self, frame: Frame) -> bool | None:
        """The receiver's thread: hand ``frame`` to :attr:`direct` (True: taken, or held until
        the switch); False: send it through the loop (:meth:`put`); None: send it through the
        loop and :meth:`hand_over` right behind it."""
        direct = self.direct
        if direct is None or self.ended:
            return False
        if self._live:
            if self._held:
                held, self._held = self._held, []
                for earlier in held:
                    direct(earlier)
            direct(frame)
            return True
        if self._marked:
            if len(self._held) >= self._queue.maxsize:  # a reader that fell far behind
                del self._held[0]
            self._held.append(frame)
            return True
        self._marked = True
        return None

    def hand_over(self) -> None:
        """Queue the marker (event loop only; see :meth:`offer`)."""
        if not self.ended:
            self._put(_HAND_OVER)

    def put(self, frame: Frame) -> None:
        """Add a frame (event loop only); drops the oldest when full."""
        if not self.ended:
            self._put(frame)

    def _put(self, item: Frame | object) -> None:
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                if self._queue.get_nowait() is _HAND_OVER:
                    self._live = True  # (far behind and dropping frames anyway)
        self._queue.put_nowait(item)

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(_END)
