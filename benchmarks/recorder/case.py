"""One end-to-end case: N publisher processes, a fresh recorder process, one Mix recording.

Timeline (all times ``time.monotonic()`` in this harness process):

1. start ``python -m cloudrec_recorder`` (its own process) and N publishers (one process each,
   ``python -m cloudrec_devenv.publisher --moving``: the moving test pattern), wait until
   Janus lists all N publishing;
2. ``acquire`` + ``start`` through :class:`RecordingClient`: Mix 640x360 15 fps 500 kbps,
   BestFit, HLS, storage = the versitygw bucket; ``t_start`` is just before the start request;
3. watch ``<spoolDir>/<sid>/`` for the first complete ``.ts`` (the recorder writes
   ``.tmp-<name>`` and renames when complete) and the bucket for the first uploaded ``.ts``
   and, after the stop, for its playlist with ``#EXT-X-ENDLIST`` (every file delivered);
4. CPU of the recorder process (``/proc/<pid>/stat``, all threads) is sampled ``warmup``
   seconds after start and again at ``t_start + seconds`` (the steady part);
5. synchronous ``stop`` at ``t_start + seconds``: time to the stop response, time until the
   spool's playlist carries ``#EXT-X-ENDLIST`` (every file finished) and until the bucket's
   does (every file delivered);
6. peak RSS = ``VmHWM`` of the recorder process, read before it is stopped;
7. what was recorded is read from the bucket (the spool is deleted once delivered): the HLS
   seconds (the playlist's ``#EXTINF`` sum) and the segments it lists that are missing from the
   bucket (:func:`bucket_hls`);
8. where the start and the stop spent their time: the recorder's phase lines
   (:mod:`cloudrec_recorder.phases`, on the same monotonic clock) from its log, printed to
   stderr as seconds after the start request and after the stop request (:func:`phases`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.recorder.floor import HEIGHT, WIDTH, publisher_uid
from benchmarks.recorder.procstat import cpu_seconds, memory_mib, status_value
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_devenv.recorder import launch_recorder, local_recorder_settings
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_protocol.models import AcquireClientRequest, StartClientRequest, StartRequest

APP_ID = "benchapp"
RECORDER_UID = "900001"
POLL_SECONDS = 0.05


@dataclass
class Watch:
    """First times (monotonic) things appeared; filled by :func:`_watch_spool` / bucket."""

    first_spool_segment: float | None = None
    first_bucket_segment: float | None = None
    playlist_ended: float | None = None
    bucket_playlist_ended: float | None = None


def start_recorder(
    workdir: Path, janus: Janus, s3: S3Server, **janus_settings: object
) -> tuple[ManagedProcess, str, str, str]:
    """A recorder process for the benchmark; returns (process, base URL, customer id, secret).

    ``janus_settings`` go into the app's ``janus`` settings (``forwardSrtp="Always"``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    customer_id, customer_secret = "bench-customer", secrets.token_urlsafe(18)
    settings = local_recorder_settings(
        workdir,
        port=port,
        janus_url=janus.ws_url,
        app_id=APP_ID,
        customer_id=customer_id,
        customer_secret=customer_secret,
        storage_endpoints=[s3.endpoint],
    ) | {
        "callbacks": {"urls": []},
        "hlsSegmentSeconds": 4,
        "syncStopTimeoutSeconds": 20,
    }
    settings["apps"][APP_ID]["janus"].update(janus_settings)
    process = launch_recorder(workdir, settings)
    return process, f"http://127.0.0.1:{port}", customer_id, customer_secret


def start_publishers(workdir: Path, janus: Janus, room: str, count: int) -> list[ManagedProcess]:
    """N publisher processes in ``room``; returns once Janus lists all N as publishing."""
    processes = []
    try:
        for index in range(count):
            red, green, blue = color_for(index)
            processes.append(
                ManagedProcess(
                    f"publisher-{index}",
                    [
                        sys.executable,
                        *("-m", "cloudrec_devenv.publisher"),
                        *("--janus", janus.ws_url, "--room", room),
                        *("--uid", publisher_uid(index), "--color", f"{red},{green},{blue}"),
                        *("--tone", f"{tone_for(index):g}"),
                        *("--width", str(WIDTH), "--height", str(HEIGHT), "--fps", "15"),
                        "--moving",
                    ],
                    workdir / f"publisher-{index}.log",
                ).start()
            )

        def all_publishing() -> bool:
            for process in processes:
                if not process.running():
                    raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
            return sum(p.publisher for p in janus.list_participants(room)) == count

        processes[0].wait_until(
            all_publishing, timeout=60 + 10 * count, what=f"{count} publishers publishing"
        )
    except BaseException:
        stop_all(processes)
        raise
    return processes


def stop_all(processes: list[ManagedProcess]) -> None:
    for process in processes:
        with contextlib.suppress(Exception):
            process.stop()


def _look_at_spool(spool: Path, watch: Watch, now: float) -> None:
    """Note the first complete segment and the finished playlist (a few stat calls)."""
    if not spool.is_dir():
        return
    if watch.first_spool_segment is None:
        if any(not p.name.startswith(".tmp-") for p in spool.glob("*.ts")):
            watch.first_spool_segment = now
    if watch.playlist_ended is None:
        for playlist in spool.glob("*.m3u8"):
            if not playlist.name.startswith(".tmp-"):
                with contextlib.suppress(OSError):
                    if "#EXT-X-ENDLIST" in playlist.read_text():
                        watch.playlist_ended = now


async def _watch_spool(
    spool: Path, watch: Watch, ended: asyncio.Event, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        _look_at_spool(spool, watch, time.monotonic())
        if watch.playlist_ended is not None:
            ended.set()
        await asyncio.sleep(POLL_SECONDS)


_PHASE = re.compile(r"Phase sid=(\S+) phase=(\S+) at=([0-9.]+)(.*)$")


def phases(log: Path, sid: str, origin: float) -> list[tuple[float, str]]:
    """The recorder's phase lines of ``sid`` in ``log``: (seconds after ``origin``, phase and
    detail), in order."""
    found = []
    with contextlib.suppress(OSError):
        for line in log.read_text(errors="replace").splitlines():
            match = _PHASE.search(line)
            if match and match[1] == sid:
                found.append((float(match[3]) - origin, (match[2] + match[4]).strip()))
    return sorted(found)


def _print_phases(count: int, what: str, found: list[tuple[float, str]]) -> None:
    text = ", ".join(f"{phase} {at:.2f}" for at, phase in found)
    print(f"  {count} publishers: {what}: {text}", file=sys.stderr, flush=True)


def _last(found: list[tuple[float, str]], phase: str) -> float:
    times = [at for at, text in found if text.split()[0] == phase]
    return max(times) if times else float("nan")


@dataclass(frozen=True)
class BucketHls:
    """The HLS of one recording as the bucket holds it."""

    playlist: str
    """The text of its playlist (empty when there is none)."""
    segments: frozenset[str]
    """The keys of its ``.ts`` segments."""

    @property
    def recorded_seconds(self) -> float:
        return sum(
            float(line.split(":", 1)[1].split(",", 1)[0])
            for line in self.playlist.splitlines()
            if line.startswith("#EXTINF:")
        )

    @property
    def ended(self) -> bool:
        return "#EXT-X-ENDLIST" in self.playlist

    def missing(self, prefix: str) -> list[str]:
        """Segments the playlist lists that are not in the bucket (dropped on the way)."""
        listed = [line for line in self.playlist.splitlines() if line and not line.startswith("#")]
        return [name for name in listed if prefix + name not in self.segments]


def bucket_hls(client: Any, bucket: str, prefix: str) -> BucketHls:
    """Read one recording's playlist and segment keys under ``prefix`` (a botocore client)."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [str(item["Key"]) for item in page.get("Contents", [])]
    playlists = sorted(k for k in keys if k.endswith(".m3u8"))
    text = ""
    if playlists:
        text = client.get_object(Bucket=bucket, Key=playlists[0])["Body"].read().decode()
    return BucketHls(text, frozenset(k for k in keys if k.endswith(".ts")))


async def _watch_bucket(
    s3: S3Server,
    bucket: str,
    prefix: str,
    watch: Watch,
    stop: asyncio.Event,
    delivered: asyncio.Event,
) -> None:
    """The first segment in the bucket; then, once stopped, the delivered playlist's end."""
    client = s3._client()  # one botocore client for the whole watch
    while not stop.is_set() and watch.first_bucket_segment is None:
        listed = await asyncio.to_thread(client.list_objects_v2, Bucket=bucket, Prefix=prefix)
        if any(str(item["Key"]).endswith(".ts") for item in listed.get("Contents", [])):
            watch.first_bucket_segment = time.monotonic()
        await asyncio.sleep(0.2)
    while not stop.is_set() and watch.bucket_playlist_ended is None:
        if watch.playlist_ended is not None:  # finished in the spool: now watch the bucket
            hls = await asyncio.to_thread(bucket_hls, client, bucket, prefix)
            if hls.ended:
                watch.bucket_playlist_ended = time.monotonic()
                delivered.set()
        await asyncio.sleep(POLL_SECONDS)


def storage_config(s3: S3Server, bucket: str, prefix: str) -> dict[str, object]:
    """The start request's storageConfig for the benchmark's local S3 server (vendor 11, the
    S3-compatible one, at its endpoint)."""
    return {
        "vendor": 11,
        "region": 0,
        "bucket": bucket,
        "accessKey": s3.access_key,
        "secretKey": s3.secret_key,
        "fileNamePrefix": [prefix],
        "extensionParams": {"endpoint": s3.endpoint},
    }


def start_request(
    room: str, s3: S3Server, bucket: str, prefix: str, uid: str = RECORDER_UID
) -> StartRequest:
    """Mix 640x360 15 fps 500 kbps BestFit, HLS, into ``bucket`` under ``prefix``."""
    client_request = StartClientRequest.model_validate(
        {
            "recordingConfig": {
                "channelType": 0,
                "streamTypes": 2,
                "maxIdleTime": 30,
                "transcodingConfig": {
                    "width": WIDTH,
                    "height": HEIGHT,
                    "fps": 15,
                    "bitrate": 500,
                    "mixedVideoLayout": 1,
                },
            },
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": storage_config(s3, bucket, prefix),
        }
    )
    return StartRequest(cname=room, uid=uid, client_request=client_request)


async def record(
    *,
    pid: int,
    base_url: str,
    customer_id: str,
    customer_secret: str,
    spool_dir: Path,
    room: str,
    s3: S3Server,
    bucket: str,
    seconds: float,
    warmup: float,
    publisher_pids: list[int],
) -> dict[str, float]:
    """Acquire, start, record ``seconds``, stop; the measurements of the recorder process."""
    watch, done, ended, delivered = Watch(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    async with RecordingClient(base_url, customer_id, customer_secret, timeout=30.0) as client:
        acquired = await client.acquire(APP_ID, room, RECORDER_UID, AcquireClientRequest())
        cpu_before = cpu_seconds(pid)
        t_start = time.monotonic()
        prefix = f"n{room}"  # this case's keys only (the bucket is shared by the cases)
        started = await client.start(
            APP_ID, acquired.resource_id, "mix", start_request(room, s3, bucket, prefix)
        )
        t_started = time.monotonic()
        spool = spool_dir / started.sid
        tasks = [
            asyncio.create_task(_watch_spool(spool, watch, ended, done)),
            asyncio.create_task(_watch_bucket(s3, bucket, prefix + "/", watch, done, delivered)),
        ]
        await asyncio.sleep(max(0.0, t_start + warmup - time.monotonic()))
        t1, cpu1, loop1 = time.monotonic(), cpu_seconds(pid), cpu_seconds(pid, pid)
        pubs1 = sum(cpu_seconds(p) for p in publisher_pids)
        await asyncio.sleep(max(0.0, t_start + seconds - time.monotonic()))
        t2, cpu2, loop2 = time.monotonic(), cpu_seconds(pid), cpu_seconds(pid, pid)
        threads = status_value(pid, "Threads")
        pubs2 = sum(cpu_seconds(p) for p in publisher_pids)
        stopped = await client.stop(
            APP_ID, acquired.resource_id, started.sid, "mix", room, RECORDER_UID
        )
        t_stopped = time.monotonic()
        cpu_after = cpu_seconds(pid)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), 20)
            await asyncio.wait_for(delivered.wait(), 20)
        done.set()
        await asyncio.gather(*tasks)
    files = stopped.server_response.file_list
    hls = await asyncio.to_thread(bucket_hls, s3._client(), bucket, prefix + "/")
    log = spool_dir.parent / "recorder.log"
    count = len(publisher_pids)
    started_phases = [p for p in phases(log, started.sid, t_start) if p[0] < t2 - t_start]
    stop_phases = [p for p in phases(log, started.sid, t2) if p[0] >= 0]
    _print_phases(count, "after the start request (s)", started_phases)
    _print_phases(count, "after the stop request (s)", stop_phases)

    def since(t: float | None, origin: float) -> float:
        return float("nan") if t is None else t - origin

    return {
        "core_per_second": (cpu2 - cpu1) / (t2 - t1),
        "loop_core_per_second": (loop2 - loop1) / (t2 - t1),
        "threads": float(threads),
        "core_per_second_whole": (cpu_after - cpu_before) / seconds,
        "publishers_core_per_second": (pubs2 - pubs1) / (t2 - t1),
        "peak_rss_mib": memory_mib(pid, "VmHWM"),
        "start_response_s": t_started - t_start,
        "first_spool_segment_s": since(watch.first_spool_segment, t_start),
        "first_bucket_segment_s": since(watch.first_bucket_segment, t_start),
        "stop_response_s": t_stopped - t2,
        "stop_to_files_s": since(watch.playlist_ended, t2),
        "stop_to_bucket_s": since(watch.bucket_playlist_ended, t2),
        "segments": float(len(hls.segments)),
        "missing_segments": float(len(hls.missing(prefix + "/"))),
        "recorded_s": hls.recorded_seconds,
        "wall_s": t2 - t_started,
        "files_listed": float(len(files) if isinstance(files, list) else bool(files)),
        "all_subscribed_s": _last(started_phases, "subscribed"),
        "all_first_frames_s": _last(started_phases, "first-frame"),
        "media_start_s": _last(started_phases, "media-start"),
        "stop_channel_left_s": _last(stop_phases, "channel-left"),
        "stop_files_finished_s": _last(stop_phases, "files-finished"),
        "stop_uploaded_s": _last(stop_phases, "uploaded"),
    }
