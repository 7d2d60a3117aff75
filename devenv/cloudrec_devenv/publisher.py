"""Synthetic WebRTC publishers for Janus VideoRoom (aiortc), for the demo and the tests.

A :class:`Publisher` joins a room as participant ``uid`` and publishes

* video: a solid colour with the uid drawn in the middle (5x7 pixel font,
  black or white for contrast), ``width`` x ``height`` at ``fps``; the frame is
  rendered once and only re-wrapped per frame, so publishing costs little more
  than the VP8 encoder. With ``moving=True`` (``--moving``) it is the moving test pattern of
  :mod:`cloudrec_devenv.frames` instead (stripes scrolling in that colour, a circling white
  square, the uid), which makes encoders and decoders work as on camera pictures;
* audio: a sine tone of ``tone_hz`` at 48 kHz mono, 20 ms frames.

::

    async with Publisher(janus_url, "room", "1001", color=(255, 0, 0), tone_hz=440.0) as pub:
        ...  # Janus lists "1001" as a publisher until the block ends

:data:`PALETTE` and :data:`TONES` give distinct colours and tones by index;
:func:`color_for` / :func:`tone_for` pick them for the n-th publisher.

Command line (the demo uses it; runs until SIGTERM/SIGINT or ``--seconds``)::

    python -m cloudrec_devenv.publisher --janus ws://127.0.0.1:8188/ \\
        --room demo --uid 1001 --color red --tone 440 [--seconds 30]

Against a Janus with numeric ids (VideoRoom ``string_ids = false``, a stock
Janus) pass ``string_ids=False`` (``--numeric-ids``): room and uid must be
integers and are sent as JSON numbers.

WebRTC media needs a non-loopback interface: run it inside ``hack/netns-run``
like Janus (see :mod:`cloudrec_devenv.janus`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from cloudrec_devenv.frames import MOVING_PERIOD, RGB, MovingPattern, render_frame
from cloudrec_recorder.channel.errors import ChannelError, MediaConnectError
from cloudrec_recorder.channel.room import janus_id, publisher_join_request
from cloudrec_recorder.channel.session import JanusHandle, JanusSession, Message

__all__ = [
    "PALETTE",
    "TONES",
    "MovingPatternTrack",
    "Publisher",
    "SineTrack",
    "SolidColorTrack",
    "color_for",
    "main",
    "parse_color",
    "render_frame",
    "tone_for",
]

logger = logging.getLogger(__name__)

PALETTE: dict[str, RGB] = {
    "red": (255, 0, 0),
    "green": (0, 200, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
    "orange": (255, 128, 0),
    "purple": (128, 0, 255),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
}
"""Named colours, in the order :func:`color_for` hands them out (all far from black)."""

TONES: tuple[float, ...] = (310.0, 440.0, 570.0, 700.0, 830.0, 960.0, 1090.0, 1220.0, 1350.0)
"""Tones 130 Hz apart, none a low harmonic of another, in the order :func:`tone_for` uses."""

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
VIDEO_CLOCK = 90000


def color_for(index: int) -> RGB:
    """The ``index``-th distinct colour of :data:`PALETTE` (cycling)."""
    colors = list(PALETTE.values())
    return colors[index % len(colors)]


def tone_for(index: int) -> float:
    """The ``index``-th distinct tone of :data:`TONES` (cycling)."""
    return TONES[index % len(TONES)]


def parse_color(text: str) -> RGB:
    """``red`` (a :data:`PALETTE` name), ``#ff0000`` or ``255,0,0``."""
    value = text.strip().lower()
    if value in PALETTE:
        return PALETTE[value]
    try:
        if value.startswith("#") and len(value) == 7:
            return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))
        parts = [int(p) for p in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 3 and all(0 <= p <= 255 for p in parts):
        return (parts[0], parts[1], parts[2])
    raise ValueError(
        f"not a colour: {text!r} (use a name from {', '.join(PALETTE)}, #rrggbb or r,g,b)"
    )


class SolidColorTrack(MediaStreamTrack):
    """Video: the same pre-rendered frame, re-stamped at ``fps``."""

    kind = "video"

    def __init__(
        self, color: RGB, text: str, *, width: int = 640, height: int = 360, fps: int = 15
    ):
        super().__init__()
        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even, not {width}x{height}")
        rgb = render_frame(width, height, color, text)
        yuv = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        self._yuv = yuv.to_ndarray()
        self.fps = fps
        self._time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._start: float | None = None
        self._count = 0

    def _picture(self) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            from aiortc.mediastreams import MediaStreamError

            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            due = self._start + self._count / self.fps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = self._picture()
        frame.pts = self._count * VIDEO_CLOCK // self.fps
        frame.time_base = self._time_base
        self._count += 1
        return frame


class MovingPatternTrack(SolidColorTrack):
    """Video: the moving test pattern (:func:`~cloudrec_devenv.frames.moving_frame`) at
    ``fps``; frame n of the stream is the pattern's frame n. Its one period is rendered and
    converted to YUV once (about 20 MiB at 640x360), so sending costs what the still does."""

    def __init__(
        self, color: RGB, text: str, *, width: int = 640, height: int = 360, fps: int = 15
    ):
        super().__init__(color, text, width=width, height=height, fps=fps)
        pattern = MovingPattern(width, height, color, text)
        self._period = [
            av.VideoFrame.from_ndarray(pattern.frame(i), format="rgb24")
            .reformat(format="yuv420p")
            .to_ndarray()
            for i in range(MOVING_PERIOD)
        ]

    def _picture(self) -> av.VideoFrame:
        yuv = self._period[self._count % MOVING_PERIOD]
        return av.VideoFrame.from_ndarray(yuv, format="yuv420p")


class SineTrack(MediaStreamTrack):
    """Audio: a continuous sine of ``tone_hz`` (48 kHz mono s16, 20 ms frames)."""

    kind = "audio"

    def __init__(self, tone_hz: float, *, amplitude: float = 0.3):
        super().__init__()
        self.tone_hz = tone_hz
        self._amplitude = int(amplitude * 32767)
        self._time_base = fractions.Fraction(1, AUDIO_RATE)
        self._start: float | None = None
        self._sample = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            from aiortc.mediastreams import MediaStreamError

            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            due = self._start + self._sample / AUDIO_RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        n = np.arange(self._sample, self._sample + AUDIO_SAMPLES)
        wave = (self._amplitude * np.sin(2 * math.pi * self.tone_hz * n / AUDIO_RATE)).astype(
            np.int16
        )
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._sample
        frame.time_base = self._time_base
        self._sample += AUDIO_SAMPLES
        return frame


# --------------------------------------------------------------- publisher


class Publisher:
    """An aiortc peer publishing synthetic media into a Janus VideoRoom room as ``uid``."""

    def __init__(
        self,
        janus_url: str,
        room: str,
        uid: str,
        *,
        color: RGB = (255, 0, 0),
        tone_hz: float = 440.0,
        video: bool = True,
        audio: bool = True,
        width: int = 640,
        height: int = 360,
        fps: int = 15,
        display: str | None = None,
        token: str | None = None,
        api_secret: str | None = None,
        connect_timeout: float = 15.0,
        string_ids: bool = True,
        moving: bool = False,
    ) -> None:
        if not (video or audio):
            raise ValueError("a publisher needs audio, video or both")
        self.string_ids = string_ids
        self._room_id = janus_id(room, string_ids=string_ids, what="room")
        self._uid_id = janus_id(uid, string_ids=string_ids, what="uid")
        self.janus_url = janus_url
        self.room = room
        self.uid = uid
        self.color = color
        self.tone_hz = tone_hz
        self.video = video
        self.audio = audio
        self.width = width
        self.height = height
        self.fps = fps
        self.moving = moving
        """Send the moving test pattern instead of the still frame."""
        self.display = display if display is not None else f"publisher {uid}"
        self.connect_timeout = connect_timeout
        self._token = token
        self._session = JanusSession(janus_url, token=token, api_secret=api_secret)
        self._handle: JanusHandle | None = None
        self._pc: RTCPeerConnection | None = None
        self._webrtcup = asyncio.Event()
        self._hangup = asyncio.Event()
        self._left = False
        self.answer_sdp: str | None = None
        """Janus' SDP answer (its ICE candidates), once started."""
        self.keyframe_requests = 0
        """Keyframe requests (RTCP PLI or FIR) that reached the video encoder: the receivers'
        requests, which Janus relays (its own, e.g. when a subscription starts, too)."""

    def __repr__(self) -> str:
        return f"Publisher(room={self.room!r}, uid={self.uid!r}, color={self.color})"

    def mid(self, kind: str) -> str | None:
        """The mid of the published ``audio`` or ``video`` (what ``rtp_forward`` names)."""
        transceivers = self._pc.getTransceivers() if self._pc is not None else []
        return next((t.mid for t in transceivers if t.kind == kind), None)

    def _on_event(self, message: Message) -> None:
        kind = message.get("janus")
        if kind == "webrtcup":
            self._webrtcup.set()
        elif kind in ("hangup", "detached"):
            self._hangup.set()

    async def start(self) -> Publisher:
        """Join the room, publish, and wait until Janus reports the PeerConnection up."""
        try:
            handle = self._handle = await self._session.open_videoroom(self._on_event)
            await handle.message(
                publisher_join_request(self._room_id, self._uid_id, self.display, self._token)
            )
            pc = self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            if self.video:
                track = MovingPatternTrack if self.moving else SolidColorTrack
                sender = pc.addTrack(
                    track(self.color, self.uid, width=self.width, height=self.height, fps=self.fps)
                )
                self._count_keyframe_requests(sender)
            if self.audio:
                pc.addTrack(SineTrack(self.tone_hz))
            await pc.setLocalDescription(await pc.createOffer())
            offer = pc.localDescription
            _, jsep = await handle.message(
                {"request": "publish", "display": self.display},
                jsep={"type": offer.type, "sdp": offer.sdp, "trickle": False},
            )
            if jsep is None:
                raise ChannelError("Janus answered publish without an SDP answer")
            self.answer_sdp = str(jsep["sdp"])
            await pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type=jsep["type"]))
            try:
                await asyncio.wait_for(self._webrtcup.wait(), self.connect_timeout)
            except TimeoutError as exc:
                raise MediaConnectError(
                    f"publisher {self.uid}: no WebRTC connection with Janus within "
                    f"{self.connect_timeout:.0f}s (ICE state {pc.iceConnectionState}); "
                    "is this running inside hack/netns-run?"
                ) from exc
        except BaseException:
            await self.leave()
            raise
        logger.info("Publisher joined room=%s uid=%s", self.room, self.uid)
        return self

    def _count_keyframe_requests(self, sender: RTCRtpSender) -> None:
        """Count the PLIs/FIRs the sender acts on (aiortc forces a keyframe for each)."""
        force = sender._send_keyframe

        def counted() -> None:
            self.keyframe_requests += 1
            force()

        sender._send_keyframe = counted  # type: ignore[method-assign]

    async def leave(self) -> None:
        """Leave the room (Janus tells the others) and close the PeerConnection."""
        if self._left:
            return
        self._left = True
        with contextlib.suppress(Exception):
            await self._session.destroy()
        if self._pc is not None:
            with contextlib.suppress(Exception):
                await self._pc.close()

    async def __aenter__(self) -> Publisher:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.leave()


# --------------------------------------------------------------------- CLI


def _color_argument(text: str) -> RGB:
    try:
        return parse_color(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloudrec_devenv.publisher",
        description="Publish a solid colour (or a moving pattern) and a sine tone into a Janus "
        "VideoRoom room.",
    )
    parser.add_argument(
        "--janus", required=True, help="Janus WebSockets API URL, e.g. ws://127.0.0.1:8188/"
    )
    parser.add_argument("--room", required=True, help="VideoRoom room id")
    parser.add_argument("--uid", required=True, help="participant id")
    parser.add_argument(
        "--numeric-ids",
        action="store_true",
        help="the VideoRoom plugin uses numeric ids (string_ids = false, a stock Janus): "
        "room and uid must be integers",
    )
    parser.add_argument("--display", help="display name (default: 'publisher <uid>')")
    parser.add_argument(
        "--color", default="red", type=_color_argument, help="name, #rrggbb or r,g,b"
    )
    parser.add_argument("--tone", default=440.0, type=float, help="sine frequency in Hz")
    parser.add_argument("--width", default=640, type=int)
    parser.add_argument("--height", default=360, type=int)
    parser.add_argument("--fps", default=15, type=int)
    parser.add_argument(
        "--moving",
        action="store_true",
        help="send a moving test pattern (scrolling stripes, a circling square, the uid) "
        "instead of a still frame",
    )
    parser.add_argument("--no-audio", action="store_true", help="publish video only")
    parser.add_argument("--no-video", action="store_true", help="publish audio only")
    parser.add_argument(
        "--seconds", type=float, help="leave after this long (default: run until signalled)"
    )
    parser.add_argument(
        "--token-env",
        default="JANUS_TOKEN",
        help="environment variable holding the Janus token, if any (default JANUS_TOKEN)",
    )
    parser.add_argument(
        "--api-secret-env",
        default="JANUS_API_SECRET",
        help="environment variable holding the Janus API secret, if any",
    )
    return parser


async def _run(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    publisher = Publisher(
        args.janus,
        args.room,
        args.uid,
        color=args.color,
        tone_hz=args.tone,
        video=not args.no_video,
        audio=not args.no_audio,
        width=args.width,
        height=args.height,
        fps=args.fps,
        display=args.display,
        token=os.environ.get(args.token_env) or None,
        api_secret=os.environ.get(args.api_secret_env) or None,
        string_ids=not args.numeric_ids,
        moving=args.moving,
    )
    async with publisher:
        print(f"publishing uid={args.uid} room={args.room} color={args.color}", flush=True)
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        waiters.append(asyncio.ensure_future(publisher._hangup.wait()))
        if args.seconds is not None:
            waiters.append(asyncio.ensure_future(asyncio.sleep(args.seconds)))
        _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per long poll otherwise
    try:
        asyncio.run(_run(args))
    except ValueError as exc:  # e.g. a room or uid that is not an integer with --numeric-ids
        print(f"publisher: {exc}", file=sys.stderr)
        return 2
    except ChannelError as exc:
        print(f"publisher failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
