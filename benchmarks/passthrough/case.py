"""One case: N publishers, a fresh recorder process, one individual mode recording (video only).

``as-sent`` is an individual start without ``streamMode`` (each uid's VP8 stored as received in
WebM slices, aiortc's decoder not fed); ``re-encoded`` is the same start with ``streamMode``
``standard``, which re-encodes each uid's video to H.264 (the transcoding path). CPU of the
recorder process (``/proc/<pid>/stat``, every thread) is sampled ``warmup`` seconds after the
start request and ``seconds`` after it, then the recording stops; the event-loop thread
(receiving: ICE/DTLS/SRTP, RTP depacketising, jitter buffers; signalling; uploads) is given
apart from the other threads (the media worker, aiortc's decoders when fed). "Recorded" is
read back from the bucket: the ``#EXTINF`` sum of every video playlist in the bucket once they
are final (the stop response is not needed: under heavy load it can time out).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

from benchmarks.recorder.case import APP_ID, RECORDER_UID, storage_config
from benchmarks.recorder.procstat import cpu_seconds, memory_mib
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_protocol.errors import ProtocolError
from cloudrec_protocol.models import AcquireClientRequest, StartClientRequest, StartRequest

MODES: dict[str, dict[str, str]] = {"as-sent": {}, "re-encoded": {"streamMode": "standard"}}


@dataclass(frozen=True)
class Measured:
    """One mode's figures (core/s over the steady part)."""

    core_per_second: float
    loop_core_per_second: float
    peak_rss_mib: float
    playlists: int
    recorded_s: float
    """``#EXTINF`` sum over every stored playlist."""
    slice_types: list[str]
    janus_core_per_second: float | None = None
    """Janus' process over the same seconds (it receives the publishers and feeds the
    forwarders: with SRTP it encrypts them too), when its pid was given."""


async def _final_playlists(s3: S3Server, bucket: str, prefix: str, count: int) -> list[str]:
    """The video playlists in the bucket once all ``count`` carry ``#EXT-X-ENDLIST`` (60 s)."""
    deadline = time.monotonic() + 60
    while True:
        keys = [
            k
            for k in await asyncio.to_thread(s3.object_keys, bucket)
            if k.startswith(prefix + "/") and k.endswith("_video.m3u8")
        ]
        texts = [(await asyncio.to_thread(s3.get_object, bucket, k)).decode() for k in keys]
        ended = sum("#EXT-X-ENDLIST" in text for text in texts)
        if ended >= count or time.monotonic() > deadline:
            return keys
        await asyncio.sleep(1)


def _start_request(
    room: str, mode: str, s3: S3Server, bucket: str, prefix: str, count: int
) -> StartRequest:
    client_request = StartClientRequest.model_validate(
        {
            "recordingConfig": {
                "channelType": 0,
                "streamTypes": 1,
                "maxIdleTime": 30,
                "subscribeUidGroup": 0 if count <= 2 else 1 if count <= 7 else 2,
                **MODES[mode],
            },
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": storage_config(s3, bucket, prefix),
        }
    )
    return StartRequest(cname=room, uid=RECORDER_UID, client_request=client_request)


async def record(
    *,
    pid: int,
    base_url: str,
    customer_id: str,
    customer_secret: str,
    room: str,
    mode: str,
    count: int,
    s3: S3Server,
    bucket: str,
    seconds: float,
    warmup: float,
    janus_pid: int | None = None,
) -> Measured:
    """Acquire, start, record ``seconds``, stop; the recorder process's CPU and what it stored
    (and Janus' CPU over the same seconds, given ``janus_pid``)."""
    async with RecordingClient(base_url, customer_id, customer_secret, timeout=30.0) as client:
        acquired = await client.acquire(APP_ID, room, RECORDER_UID, AcquireClientRequest())
        t_start = time.monotonic()
        prefix = f"p{room}"
        request = _start_request(room, mode, s3, bucket, prefix, count)
        started = await client.start(APP_ID, acquired.resource_id, "individual", request)
        await asyncio.sleep(max(0.0, t_start + warmup - time.monotonic()))
        t1, cpu1, loop1 = time.monotonic(), cpu_seconds(pid), cpu_seconds(pid, pid)
        janus1 = cpu_seconds(janus_pid) if janus_pid is not None else 0.0
        await asyncio.sleep(max(0.0, t_start + seconds - time.monotonic()))
        t2, cpu2, loop2 = time.monotonic(), cpu_seconds(pid), cpu_seconds(pid, pid)
        janus2 = cpu_seconds(janus_pid) if janus_pid is not None else 0.0
        rss = memory_mib(pid, "VmHWM")
        try:  # under heavy load a synchronous stop can outlast the client's timeout
            await client.stop(
                APP_ID, acquired.resource_id, started.sid, "individual", room, RECORDER_UID
            )
        except ProtocolError as exc:
            print(f"  stop: {exc}", file=sys.stderr, flush=True)
        keys = await _final_playlists(s3, bucket, prefix, count)
    recorded, slices = 0.0, list[str]()
    for key in keys:
        text = (await asyncio.to_thread(s3.get_object, bucket, key)).decode()
        recorded += sum(
            float(line.split(":", 1)[1].split(",", 1)[0])
            for line in text.splitlines()
            if line.startswith("#EXTINF:")
        )
        slices += [line.rsplit(".", 1)[-1] for line in text.splitlines() if line[:1] not in "#"]
    wall = t2 - t1
    return Measured(
        core_per_second=(cpu2 - cpu1) / wall,
        loop_core_per_second=(loop2 - loop1) / wall,
        peak_rss_mib=rss,
        playlists=len(keys),
        recorded_s=recorded,
        slice_types=sorted(set(slices)),
        janus_core_per_second=(janus2 - janus1) / wall if janus_pid is not None else None,
    )
