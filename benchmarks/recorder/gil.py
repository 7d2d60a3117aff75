"""`python -m benchmarks.recorder.gil [--streams=9] [--seconds=15] [--rounds=2]`.

What the receiver threads cost the thread that composes and encodes (issue 13's 9-publisher
question), in one process, without Janus: a sender process plays ``--streams`` publishers' worth
of RTP to localhost (each 640x360 15 fps VP8 of the moving test pattern, packets of at most
1200 bytes, plus 50 Opus packets a second), ``2 x streams`` :class:`StreamReceiver` threads
receive and decode them as a Mix recording's do, and a worker thread composes and encodes as
fast as it can (per tick: nine 640x360 pictures scaled to 213x120 and pasted into a canvas,
one libx264 veryfast frame). Reported per variant: the worker's ticks per wall second and per
CPU second of its thread (fewer per wall second at the same per CPU second: it waited, for a
core or for the GIL), and the receivers' frames per second:

- ``alone``: the worker without receivers (its ceiling on this machine now);
- ``receivers``: with the receivers as they are (reads block without a timeout);
- ``pyav-timeout``: with receivers that open and read with PyAV's ``timeout=(2, 0.25)``, as
  before issue 13's fix (its interrupt callback takes the GIL on every libavformat poll).

Variants alternate ``--rounds`` times in the same run, so they share the machine's load.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import socket
import statistics
import struct
import sys
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np

from benchmarks.harness import option
from cloudrec_devenv.frames import MOVING_PERIOD, MovingPattern, moving_frame
from cloudrec_recorder.channel.forward import ForwardedStream
from cloudrec_recorder.channel.receiver import _OPTIONS, StreamReceiver, port_held

WIDTH, HEIGHT, FPS = 640, 360, 15
PAYLOAD = 1200
BASE_PORT = 47000


def _vp8_frames() -> list[bytes]:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = Fraction(1, FPS)
    codec.bit_rate = 500_000
    codec.options = {"deadline": "realtime", "cpu-used": "8"}
    out = []
    pattern = MovingPattern(WIDTH, HEIGHT, (40, 120, 200), "1001")
    for n in range(MOVING_PERIOD):
        picture = pattern.frame(n)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        out.append(b"".join(bytes(p) for p in codec.encode(frame)))
    return out


def _opus_packets() -> list[bytes]:
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48000, "stereo", "s16"
    out = []
    for n in range(50):
        t = (np.arange(960) + n * 960) / 48000
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = 48000, n * 960
        out.extend(bytes(p) for p in codec.encode(frame))
    return out


def _send(streams: int, ready: Any, stop: Any) -> None:
    """The sender process: every stream's video and audio in real time until ``stop``."""
    video, audio = _vp8_frames(), _opus_packets()
    ready.set()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq = [0] * (2 * streams)
    started, tick = time.monotonic(), 0
    while not stop.is_set():  # 20 ms ticks: audio every tick, video every 66.7 ms
        tick += 1
        time.sleep(max(0.0, started + tick * 0.02 - time.monotonic()))
        for s in range(streams):
            port = BASE_PORT + 4 * s + 2
            header = struct.pack("!BBHII", 0x80, 0x80 | 111, seq[2 * s + 1], tick * 960, 2 + s)
            seq[2 * s + 1] = (seq[2 * s + 1] + 1) & 0xFFFF
            sock.sendto(header + audio[tick % len(audio)], ("127.0.0.1", port))
        if tick % 10 not in (0, 3, 7):  # 15 of every 50 ticks
            continue
        n = tick * 3 // 10
        data = video[n % len(video)]
        chunks = [data[i : i + PAYLOAD] for i in range(0, len(data), PAYLOAD)]
        for s in range(streams):
            for k, chunk in enumerate(chunks):
                marker = 0x80 if k == len(chunks) - 1 else 0
                header = struct.pack("!BBHII", 0x80, marker | 96, seq[2 * s], n * 6000, 1 + s)
                seq[2 * s] = (seq[2 * s] + 1) & 0xFFFF
                descriptor = bytes([0x90 if k == 0 else 0x80, 0x80]) + struct.pack(
                    "!H", 0x8000 | (n & 0x7FFF)
                )
                sock.sendto(header + descriptor + chunk, ("127.0.0.1", BASE_PORT + 4 * s))


class _Sink:
    def __init__(self) -> None:
        self.frames = 0

    def wants_frames(self, kind: str) -> bool:
        return True

    def wants_packets(self, kind: str) -> bool:
        return False

    def on_packet(self, receiver: int, kind: str, codec: str, data: bytes, pts: int) -> None:
        pass

    def on_frame(self, receiver: int, frame: av.VideoFrame | av.AudioFrame) -> None:
        self.frames += 1


class _TimeoutReceiver(StreamReceiver):
    """The receiver before the fix: PyAV's open and read timeouts (an interrupt callback)."""

    def _open(self) -> av.container.InputContainer | None:
        try:
            container = av.open(
                io.BytesIO(self._sdp), format="sdp", options=_OPTIONS, timeout=(2.0, 0.25)
            )
        except av.error.ExitError:
            return None
        assert isinstance(container, av.container.InputContainer)
        return container

    def _read(self, container: av.container.InputContainer) -> None:
        stream = container.streams[0]
        kind, codec_name = self.stream.kind, self.stream.codec.upper()
        if kind == "video":
            stream.codec_context.thread_count = 1
        while not self.stopping:
            try:
                for packet in container.demux(stream):
                    if self.stopping:
                        return
                    if packet.size and packet.pts is not None:
                        self._handle(packet, kind, codec_name)
            except av.error.ExitError:
                pass  # the read timeout: nothing for 0.25 s
            except av.error.EOFError:
                return


def _worker(seconds: float) -> tuple[float, float]:
    """Compose-and-encode ticks per wall second and per CPU second of the worker's thread,
    flat out, for ``seconds``. Fewer per wall second with the same per CPU second: the worker
    waited (for a core, or for the GIL)."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base = Fraction(1, FPS)
    encoder.options = {"preset": "veryfast", "tune": "zerolatency", "threads": "1"}
    picture = av.VideoFrame.from_ndarray(
        moving_frame(WIDTH, HEIGHT, (200, 40, 40), "1002", 0), format="rgb24"
    ).reformat(format="yuv420p")
    canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    ticks, end = 0, time.monotonic() + seconds
    cpu = time.thread_time()
    while time.monotonic() < end:
        for k in range(9):
            tile = picture.reformat(width=212, height=120, format="rgb24").to_ndarray()
            y, x = (k // 3) * 120, (k % 3) * 212
            canvas[y : y + 120, x : x + 212] = tile
        frame = av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p")
        frame.pts = ticks
        encoder.encode(frame)
        ticks += 1
    return ticks / seconds, ticks / max(1e-6, time.thread_time() - cpu)


def _variant(name: str, streams: int, seconds: float) -> tuple[float, float, float]:
    receivers: list[StreamReceiver] = []
    sink = _Sink()
    kind_class = {"receivers": StreamReceiver, "pyav-timeout": _TimeoutReceiver}.get(name)
    if kind_class is not None:
        for s in range(streams):
            for kind, codec, port in (
                ("video", "vp8", BASE_PORT + 4 * s),
                ("audio", "opus", BASE_PORT + 4 * s + 2),
            ):
                stream = ForwardedStream(mid=str(s), kind=kind, codec=codec, port=port)
                receiver = kind_class(stream, "127.0.0.1", sink, index=s)
                receiver.start()
                receivers.append(receiver)
        for receiver in receivers:
            while not port_held("127.0.0.1", receiver.stream.port) and receiver.failed is None:
                time.sleep(0.01)
        time.sleep(3.0)  # every video stream opened at a keyframe
    before = sink.frames
    ticks, per_cpu = _worker(seconds)
    frames = (sink.frames - before) / seconds
    for receiver in receivers:
        receiver.stop()
    for receiver in receivers:
        receiver.join(2.0)
    return ticks, per_cpu, frames


def main(argv: list[str]) -> int:
    streams = int(option(argv, "streams", "9"))
    seconds = float(option(argv, "seconds", "15"))
    rounds = int(option(argv, "rounds", "2"))
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    sender = context.Process(target=_send, args=(streams, ready, stop))
    sender.start()
    results: dict[str, list[tuple[float, float, float]]] = {}
    try:
        if not ready.wait(300):  # the sender encodes its frames first
            raise RuntimeError("the sender did not start")
        for _ in range(rounds):
            for name in ("alone", "receivers", "pyav-timeout"):
                load = os.getloadavg()[0]
                ticks, per_cpu, frames = _variant(name, streams, seconds)
                print(
                    f"  {name}: worker {ticks:.1f} ticks/s ({per_cpu:.1f} per CPU s),"
                    f" receivers {frames:.0f} frames/s, load {load:.1f}",
                    file=sys.stderr,
                )
                results.setdefault(name, []).append((ticks, per_cpu, frames))
    finally:
        stop.set()
        sender.join(10)
    print(f"{streams} streams (video + audio each), {seconds:g} s per variant, {rounds} rounds\n")
    print(
        "| variant | worker ticks per wall s (median) | per CPU s of its thread (median) |"
        " receivers' frames/s (median) |"
    )
    print("|---|---|---|---|")
    for name, values in results.items():
        ticks = statistics.median(v[0] for v in values)
        per_cpu = statistics.median(v[1] for v in values)
        frames = statistics.median(v[2] for v in values)
        print(f"| {name} | {ticks:.1f} | {per_cpu:.1f} | {frames:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
