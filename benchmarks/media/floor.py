"""The ffmpeg floor: the same composition and encoding done by one ffmpeg command.

N raw yuv420p 640x360 15 fps inputs (2 s of `testsrc2` rendered once to a file and looped,
read in real time with `-re`, so ffmpeg, like the pipeline, gets pre-decoded frames) scaled into
the BestFit grid with `xstack`, N sine tones mixed with `amix`, libx264 veryfast/zerolatency
500 kbps (one thread, keyframe every 4 s) and AAC mono 48 kbps into HLS with 4 s segments.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

from benchmarks.media.sources import FPS, HEIGHT, WIDTH, tone_source, video_source


def _grid(count: int) -> tuple[int, int]:
    if count == 2:
        return 2, 1
    side = math.ceil(math.sqrt(count))
    return side, side


def render_source(path: Path) -> None:
    """2 s of testsrc2 as raw yuv420p frames."""
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            video_source(),
            "-frames:v",
            str(2 * FPS),
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
            str(path),
        ],
        check=True,
    )


def ffmpeg_command(count: int, seconds: float, out: Path, source: Path) -> list[str]:
    """The exact ffmpeg command line of the floor (also printed into BENCHMARKS.md)."""
    columns, rows = _grid(count)
    tile_w, tile_h = WIDTH // columns // 2 * 2, HEIGHT // rows // 2 * 2
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS)]
    for _ in range(count):
        argv += ["-re", "-stream_loop", "-1", *raw, "-i", str(source)]
    for index in range(count):
        argv += ["-re", "-f", "lavfi", "-i", tone_source(index)]
    scaled = [f"[{i}:v]scale={tile_w}:{tile_h}[v{i}]" for i in range(count)]
    if count == 1:
        video = f"[0:v]scale={WIDTH}:{HEIGHT}[vout]"
    else:
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
    tones = "".join(f"[{count + i}:a]" for i in range(count))
    audio = f"{tones}amix=inputs={count}:normalize=0,aformat=channel_layouts=mono[aout]"
    argv += [
        "-filter_complex",
        f"{video};{audio}",
        "-map",
        "[vout]",
        "-map",
        "[aout]",
        "-t",
        f"{seconds:g}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-threads",
        "1",
        "-b:v",
        "500k",
        "-g",
        str(4 * FPS),
        "-keyint_min",
        str(4 * FPS),
        "-sc_threshold",
        "0",
        "-r",
        str(FPS),
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "48k",
        "-ar",
        "48000",
        "-f",
        "hls",
        "-hls_time",
        "4",
        "-hls_playlist_type",
        "event",
        str(out / "floor.m3u8"),
    ]
    return argv


def ffmpeg_floor(count: int, seconds: float, out: Path) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed (Debian package ffmpeg)")
    source = out / "source.yuv"
    render_source(source)
    process = subprocess.Popen(ffmpeg_command(count, seconds, out, source))
    _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU time and peak RSS
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg failed with exit code {process.returncode}")
    return {
        "core_per_second": (usage.ru_utime + usage.ru_stime) / seconds,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }
