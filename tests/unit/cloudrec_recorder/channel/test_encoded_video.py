"""The video tap copies every whole frame aiortc's jitter buffer hands its decoder, and feeds the
decoder only while pictures are needed; the end-of-stream marker always reaches it (it ends the
track)."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from cloudrec_recorder.channel.encoded_video import (
    ENCODED_VIDEO_QUEUE_FRAMES,
    EncodedVideo,
    EncodedVideoTap,
    TappedDecoderQueue,
)

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)


@pytest.mark.parametrize("decode", [True, False])
def test_every_frame_is_copied_and_reaches_the_decoder_only_when_pictures_are_needed(
    decode: bool,
) -> None:
    tap = EncodedVideoTap(decode=decode)
    feed = TappedDecoderQueue(tap)
    feed.put((VP8, JitterFrame(b"\x10\x02\x00", 3000)))
    feed.put(None)
    assert tap.frames.get_nowait() == EncodedVideo("VP8", b"\x10\x02\x00", 3000)
    decoder_got = [feed.get_nowait() for _ in range(feed.qsize())]
    assert decoder_got[-1] is None
    assert len(decoder_got) == (2 if decode else 1)


def test_a_full_tap_drops_its_oldest_frame() -> None:
    async def fill() -> EncodedVideo:
        tap = EncodedVideoTap(decode=False)
        for n in range(ENCODED_VIDEO_QUEUE_FRAMES + 1):
            tap.offer("VP8", b"x", n)
        return tap.frames.get_nowait()

    assert asyncio.run(fill()).timestamp == 1
