"""The ffmpeg floor for the end-to-end benchmark: decode N VP8/Opus inputs, compose, encode.

Inputs are what the publishers send, encoded once before the run: publisher i's exact frames
(:func:`~cloudrec_devenv.frames.moving_frame`: the moving test pattern in its colour with its
uid drawn in the middle, 640x360, 15 fps, one period looped) as VP8 (libvpx, realtime, 500
kbps target like aiortc's encoder) and its sine tone as Opus (48 kHz mono), in one WebM per
publisher. The floor command reads N
of them in real time (``-re``), decodes them, scales them into the BestFit grid with
``xstack``, mixes the tones with ``amix`` and encodes libx264 veryfast/zerolatency 500 kbps
(one thread, keyframe every 4 s) and AAC mono 48 kbps into HLS with 4 s segments: the same
output the recorder writes. Nothing goes over a network: no RTP, SRTP, jitter buffer or upload.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

from cloudrec_devenv.frames import MOVING_PERIOD, MovingPattern
from cloudrec_devenv.publisher import color_for, tone_for

WIDTH, HEIGHT, FPS = 640, 360, 15


def _ffmpeg() -> str:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed (Debian package ffmpeg)")
    return ffmpeg


def publisher_uid(index: int) -> str:
    """The uid of the index-th benchmark publisher (also drawn in its frame)."""
    return str(1001 + index)


def encode_inputs(count: int, seconds: float, out: Path) -> list[Path]:
    """One WebM (VP8 + Opus) per publisher, ``seconds`` long; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        frame = out / f"frames-{index}.rgb"
        pattern = MovingPattern(WIDTH, HEIGHT, color_for(index), publisher_uid(index))
        with frame.open("wb") as raw:
            for n in range(MOVING_PERIOD):
                raw.write(pattern.frame(n).tobytes())
        path = out / f"publisher-{index}.webm"
        subprocess.run(
            [
                _ffmpeg(),
                *("-hide_banner", "-loglevel", "error", "-y"),
                *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}"),
                *("-r", str(FPS), "-stream_loop", "-1", "-i", str(frame)),
                *("-f", "lavfi", "-i", f"sine=frequency={tone_for(index):g}:sample_rate=48000"),
                *("-t", f"{seconds:g}", "-pix_fmt", "yuv420p"),
                *("-c:v", "libvpx", "-b:v", "500k", "-deadline", "realtime", "-cpu-used", "4"),
                *("-c:a", "libopus", "-ac", "1", "-ar", "48000"),
                str(path),
            ],
            check=True,
        )
        frame.unlink()
        paths.append(path)
    return paths


def _grid(count: int) -> tuple[int, int]:
    if count == 2:
        return 2, 1
    side = math.ceil(math.sqrt(count))
    return side, side


def ffmpeg_command(inputs: list[Path], seconds: float, out: Path) -> list[str]:
    """The exact floor command line (printed into BENCHMARKS.md)."""
    count = len(inputs)
    columns, rows = _grid(count)
    tile_w, tile_h = WIDTH // columns // 2 * 2, HEIGHT // rows // 2 * 2
    argv = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]
    for path in inputs:
        argv += ["-re", "-i", str(path)]
    if count == 1:
        video = f"[0:v]scale={WIDTH}:{HEIGHT}[vout]"
    else:
        scaled = [f"[{i}:v]scale={tile_w}:{tile_h}[v{i}]" for i in range(count)]
        layout = "|".join(
            f"{(i % columns) * tile_w}_{(i // columns) * tile_h}" for i in range(count)
        )
        stacked = "".join(f"[v{i}]" for i in range(count))
        video = ";".join(
            [
                *scaled,
                f"{stacked}xstack=inputs={count}:layout={layout}:fill=black,"
                f"pad={WIDTH}:{HEIGHT}[vout]",
            ]
        )
    tones = "".join(f"[{i}:a]" for i in range(count))
    audio = f"{tones}amix=inputs={count}:normalize=0,aformat=channel_layouts=mono[aout]"
    return [
        *argv,
        *("-filter_complex", f"{video};{audio}", "-map", "[vout]", "-map", "[aout]"),
        *("-t", f"{seconds:g}"),
        *("-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-threads", "1"),
        *("-b:v", "500k", "-g", str(4 * FPS), "-keyint_min", str(4 * FPS), "-sc_threshold", "0"),
        *("-r", str(FPS), "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", "-b:a", "48k", "-ar", "48000"),
        *("-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", str(out / "floor.m3u8")),
    ]


def ffmpeg_floor(inputs: list[Path], seconds: float, out: Path) -> dict[str, float]:
    """Run the floor; its CPU core-seconds per recorded second and peak RSS (MiB)."""
    out.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(ffmpeg_command(inputs, seconds, out))
    _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU time and peak RSS
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg failed with exit code {process.returncode}")
    return {
        "core_per_second": (usage.ru_utime + usage.ru_stime) / seconds,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }
