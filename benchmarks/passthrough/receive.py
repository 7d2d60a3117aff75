"""`python -m benchmarks.passthrough.receive JANUS_URL ROOM UIDS WARMUP SECONDS`: the floor.

Receiving alone, as the recorder's stored-video path does it but with nothing behind it: one
process joins ``ROOM``, subscribes to each uid's video through :class:`JanusChannel` with the
encoded-video tap (the receiver threads depacketise, nothing decodes), drains the frames, and
after ``WARMUP`` seconds measures its own CPU (``/proc/self/stat``, every thread) for
``SECONDS``. Prints one JSON line: ``core_per_second``, ``frames_per_second``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from benchmarks.recorder.procstat import cpu_seconds
from cloudrec_recorder.channel.encoded_video import EncodedVideoTap
from cloudrec_recorder.channel.janus import JanusChannel


async def receive(
    janus_url: str, room: str, uids: list[str], warmup: float, seconds: float
) -> None:
    channel = JanusChannel(janus_url, room=room, uid="900009", token=None)
    await channel.join()
    frames = [0]

    async def drain(tap: EncodedVideoTap) -> None:
        while True:
            await tap.frames.get()
            frames[0] += 1

    tasks = []
    for uid in uids:
        tap = EncodedVideoTap(decode=False)
        await channel.subscribe(uid, audio=False, encoded_video=tap)
        tasks.append(asyncio.create_task(drain(tap)))
    await asyncio.sleep(warmup)
    pid = os.getpid()
    t1, cpu1, n1 = time.monotonic(), cpu_seconds(pid), frames[0]
    await asyncio.sleep(seconds)
    t2, cpu2, n2 = time.monotonic(), cpu_seconds(pid), frames[0]
    for task in tasks:
        task.cancel()
    await channel.leave()
    result = {
        "core_per_second": (cpu2 - cpu1) / (t2 - t1),
        "frames_per_second": (n2 - n1) / (t2 - t1),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    url, room, uids, warmup, seconds = sys.argv[1:6]
    asyncio.run(receive(url, room, uids.split(","), float(warmup), float(seconds)))
