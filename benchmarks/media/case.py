"""One benchmark case in its own process: N publishers into a Mix 640x360 15 fps 500 kbps HLS.

`python -m benchmarks.media.case N SECONDS SPOOL` prints one JSON line: CPU core-seconds per
recorded second (user + system of the whole process, during the recording and its stop), peak
RSS, the RSS before the case (interpreter and libraries), the memory of the pre-decoded frames,
seconds from start() to the first complete segment in the spool and from stop() to the
finished files.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from benchmarks.media.sources import FPS, HEIGHT, WIDTH, decoded_frames, tone_frames
from cloudrec_recorder.media.config import MixConfig, VideoLayout
from cloudrec_recorder.media.pipeline import MixRecording, RecordingNames


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(publishers: int, seconds: float, spool: Path) -> dict[str, float]:
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # interpreter + libraries
    frames = decoded_frames()
    tones = [tone_frames(i) for i in range(publishers)]
    frames_mib = sum(p.buffer_size for f in frames for p in f.planes) / 2**20
    first_segment: list[float] = []
    config = MixConfig(
        width=WIDTH, height=HEIGHT, fps=FPS, bitrate_kbps=500, layout=VideoLayout.BEST_FIT
    )

    def ready(name: str) -> None:
        if name.endswith(".ts") and not first_segment:
            first_segment.append(time.monotonic())

    recording = MixRecording(spool, RecordingNames("bench", "room"), config, ready)
    uids = [str(100 + i) for i in range(publishers)]
    cpu0 = _cpu()
    recording.start()
    start = time.monotonic()
    tick = 0
    while time.monotonic() - start < seconds:
        # 50 ticks a second: audio every tick, video every 10/3 ticks (15 fps)
        for i, uid in enumerate(uids):
            recording.push_audio(uid, tones[i][tick % len(tones[i])])
            if tick * FPS // 50 != (tick - 1) * FPS // 50 or tick == 0:
                recording.push_video(uid, frames[(tick * FPS // 50 + 7 * i) % len(frames)])
        tick += 1
        await asyncio.sleep(max(0.0, start + tick / 50 - time.monotonic()))
    recorded = time.monotonic() - start
    stop_begin = time.monotonic()
    await recording.stop()
    stop_to_files = time.monotonic() - stop_begin
    cpu = _cpu() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "publishers": publishers,
        "recorded_s": recorded,
        "core_per_second": cpu / recorded,
        "peak_rss_mib": peak,
        "baseline_rss_mib": baseline,
        "frames_mib": frames_mib,
        "first_segment_s": first_segment[0] - start if first_segment else float("nan"),
        "stop_to_files_s": stop_to_files,
    }


def main() -> None:
    publishers, seconds, spool = int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(asyncio.run(run(publishers, seconds, spool))))


if __name__ == "__main__":
    main()
