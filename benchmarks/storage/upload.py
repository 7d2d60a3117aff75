"""Benchmark: the recorder's uploader against versitygw on loopback.

Three phases, in one run, against one versitygw (posix backend, temp dir):

1. **uploader, flat out**: a 1-hour 1080p recording's worth of segments
   (default 900 x 4 s at ~4 Mbit/s = 2,000,000 bytes each, synthetic bytes) is
   already in the spool; the writer's announcements (segment, then the
   rewritten playlist) are replayed as fast as possible and we time
   ``file_ready`` of the first to ``finish`` (every object in the bucket,
   playlist last). CPU = this process's user+system time (the uploader's
   threads included) and versitygw's, from ``/proc``.
2. **floor**: the same bytes, one plain ``put_object`` per segment through the
   same library (aiobotocore) at the same concurrency: no MD5, no journal, no
   playlist ordering.
3. **uploader, paced**: segments announced at a steady rate (default every
   0.2 s, 20x real time) to measure the time from a segment's completion
   (``file_ready``) to its presence in the bucket: p50 / p95 / max.

Run: ``.venv/bin/python -m benchmarks.storage [--segments 900]`` (see ``--help``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from cryptography.fernet import Fernet
from pydantic import SecretStr

from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.files import FileInfo
from cloudrec_recorder.storage.target import StorageTarget
from cloudrec_recorder.storage.uploader import JOURNAL_FILE, Uploader, UploadPolicy

KEY = Fernet(Fernet.generate_key())


class QuietEvents:
    """An event sink that only counts."""

    def __init__(self) -> None:
        self.count = 0

    async def uploader_started(self) -> None:
        self.count += 1

    async def uploaded(self, files: Sequence[FileInfo]) -> None:
        self.count += 1

    async def backuped(self, files: Sequence[FileInfo]) -> None:
        raise AssertionError(f"benchmark files went to the backup: {len(files)}")

    async def progress(self, value: int) -> None:
        self.count += 1

    async def uploader_warning(self, code: int, message: str) -> None:
        raise AssertionError(f"uploader warning {code}: {message}")

    async def snapshot_uploaded(self, file_name: str) -> None:
        self.count += 1

    async def uploader_error(self, code: int, message: str) -> None:
        raise AssertionError(f"uploader error {code}: {message}")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """User+system seconds of another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    name: str
    seconds: float
    cpu_self: float
    cpu_server: float
    nbytes: int
    playlist_puts: int | None = None

    def row(self) -> str:
        mb = self.nbytes / 1e6
        return (
            f"| {self.name} | {mb:,.0f} MB | {self.seconds:.1f} s | {mb / self.seconds:,.0f} MB/s "
            f"| {self.cpu_self:.1f} s ({self.cpu_self / (mb / 1000):.1f} s/GB) "
            f"| {self.cpu_server:.1f} s |"
        )


def write_segments(spool: Path, count: int, size: int) -> list[str]:
    spool.mkdir(parents=True, exist_ok=True)
    block = bytearray(os.urandom(size))
    names = []
    for index in range(count):
        block[:8] = index.to_bytes(8, "big")
        name = f"sid_room_{20261125120000000 + index * 4000}.ts"
        (spool / name).write_bytes(block)
        names.append(name)
    return names


def write_playlist(spool: Path, names: Sequence[str], *, ended: bool) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4"]
    for name in names:
        lines += ["#EXTINF:4.000,", name]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    tmp = spool / ".tmp-sid_room.m3u8"
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, spool / "sid_room.m3u8")
    return "sid_room.m3u8"


def target(server: S3Server, bucket: str) -> StorageTarget:
    return StorageTarget(
        endpoint=server.endpoint,
        region=server.region,
        bucket=bucket,
        access_key=SecretStr(server.access_key),
        secret_key=SecretStr(server.secret_key),
    )


def measure_start(server: S3Server) -> tuple[float, float, float]:
    assert server.pid is not None
    return time.perf_counter(), own_cpu(), process_cpu(server.pid)


def measure_end(
    name: str, server: S3Server, start: tuple[float, float, float], nbytes: int
) -> Phase:
    assert server.pid is not None
    return Phase(
        name,
        time.perf_counter() - start[0],
        own_cpu() - start[1],
        process_cpu(server.pid) - start[2],
        nbytes,
    )


async def uploader_flat_out(
    server: S3Server, work: Path, names: list[str], size: int, policy: UploadPolicy
) -> Phase:
    server.create_bucket("flat")
    spool = work / "spool" / "sid"
    uploader = Uploader(
        target(server, "flat"),
        spool,
        BackupStore(work / "backup"),
        QuietEvents(),
        policy=policy,
        sealing_key=KEY,
    )
    await uploader.start()
    start = measure_start(server)
    for index, name in enumerate(names):
        uploader.file_ready(name)
        uploader.file_ready(write_playlist(spool, names[: index + 1], ended=False))
        if index % 16 == 0:
            await asyncio.sleep(0)
    uploader.file_ready(write_playlist(spool, names, ended=True))
    result = await uploader.finish(within=3600)
    phase = measure_end("uploader, flat out", server, start, len(names) * size)
    await uploader.aclose()
    assert result.status == "uploaded", result.status
    journal = (spool / JOURNAL_FILE).read_text().splitlines()
    phase.playlist_puts = sum(1 for line in journal if ".m3u8\t" in line)
    return phase


async def plain_floor(
    server: S3Server, spool: Path, names: list[str], size: int, concurrency: int
) -> Phase:
    server.create_bucket("floor")
    config = AioConfig(
        max_pool_connections=concurrency + 2,
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=config,
    ) as client:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for name in names:
            queue.put_nowait(name)

        async def worker() -> None:
            while not queue.empty():
                name = queue.get_nowait()
                data = await asyncio.to_thread((spool / name).read_bytes)
                await client.put_object(Bucket="floor", Key=name, Body=data)

        start = measure_start(server)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return measure_end("plain put_object (floor)", server, start, len(names) * size)


async def uploader_paced(
    server: S3Server, work: Path, count: int, size: int, interval: float, policy: UploadPolicy
) -> tuple[Phase, list[float]]:
    server.create_bucket("paced")
    spool = work / "paced" / "sid"
    names = write_segments(spool, count, size)
    uploader = Uploader(
        target(server, "paced"),
        spool,
        BackupStore(work / "backup"),
        QuietEvents(),
        policy=policy,
        sealing_key=KEY,
    )
    await uploader.start()
    start = measure_start(server)
    next_at = time.perf_counter()
    for index, name in enumerate(names):
        uploader.file_ready(name)
        uploader.file_ready(write_playlist(spool, names[: index + 1], ended=False))
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    uploader.file_ready(write_playlist(spool, names, ended=True))
    result = await uploader.finish(within=600)
    phase = measure_end(f"uploader, paced (1 segment / {interval} s)", server, start, count * size)
    latencies = uploader.latencies()
    await uploader.aclose()
    assert result.status == "uploaded", result.status
    return phase, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> None:
    policy = UploadPolicy(concurrency=args.concurrency, progress_interval=10.0)
    with tempfile.TemporaryDirectory(prefix="cloudrec-bench-", dir=args.work_dir) as tmp:
        work = Path(tmp)
        with S3Server(work / "s3") as server:
            names = write_segments(work / "spool" / "sid", args.segments, args.segment_bytes)
            flat = await uploader_flat_out(server, work, names, args.segment_bytes, policy)
            shutil.rmtree(server.data_dir / "flat", ignore_errors=True)
            floor = await plain_floor(
                server, work / "spool" / "sid", names, args.segment_bytes, args.concurrency
            )
            shutil.rmtree(server.data_dir / "floor", ignore_errors=True)
            shutil.rmtree(work / "spool", ignore_errors=True)
            paced, latencies = await uploader_paced(
                server, work, args.paced_segments, args.segment_bytes, args.interval, policy
            )
    print(
        f"segments: {args.segments} x {args.segment_bytes:,} bytes, "
        f"concurrency {args.concurrency}, cpus {os.cpu_count()}"
    )
    print("| phase | bytes | wall | throughput | CPU of this process | CPU of versitygw |")
    print("| --- | --- | --- | --- | --- | --- |")
    for phase in (flat, floor, paced):
        print(phase.row())
    print(f"playlist versions uploaded during the flat-out run: {flat.playlist_puts}")
    print(
        f"segment completion -> in bucket ({len(latencies)} segments): "
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.storage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--segments", type=int, default=900, help="segments of the flat-out run")
    parser.add_argument("--segment-bytes", type=int, default=2_000_000)
    parser.add_argument("--paced-segments", type=int, default=150)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between segments")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--work-dir", default=None, help="where the temp dir goes")
    asyncio.run(run(parser.parse_args(argv)))
