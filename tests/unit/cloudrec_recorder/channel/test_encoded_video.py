"""The video tap holds the whole frames its receiver copies out, dropping the oldest when full,
and passes keyframe requests to the subscription."""

from __future__ import annotations

import asyncio

from cloudrec_recorder.channel.encoded_video import (
    ENCODED_VIDEO_QUEUE_FRAMES,
    EncodedVideo,
    EncodedVideoTap,
)


def test_a_full_tap_drops_its_oldest_frame() -> None:
    async def fill() -> EncodedVideo:
        tap = EncodedVideoTap(decode=False)
        for n in range(ENCODED_VIDEO_QUEUE_FRAMES + 1):
            tap.offer("VP8", b"x", n)
        return tap.frames.get_nowait()

    assert asyncio.run(fill()).timestamp == 1


def test_a_keyframe_request_reaches_the_subscription_once_it_is_connected() -> None:
    tap = EncodedVideoTap(decode=False)
    tap.request_keyframe()  # not connected yet: nothing to ask
    asked: list[bool] = []
    tap.keyframe_requester = lambda: asked.append(True)
    tap.request_keyframe()
    assert asked == [True]
