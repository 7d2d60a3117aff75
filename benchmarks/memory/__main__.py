"""`python -m benchmarks.memory [--recordings=8] [--minutes=5] [--publishers=1] [--callbacks=down]`.

The recorder's memory over a long recording, inside ``hack/netns-run`` (Janus needs its veth):
one Janus, one versitygw, one room with ``--publishers`` audio-only publisher processes (a 48 kHz
tone each; 0 = an empty room), one fresh ``python -m cloudrec_recorder`` and ``--recordings``
Mix AudioOnly HLS recordings of that room (``maxIdleTime`` one day, 2 s segments, upload
progress every 5 s, all uploaded to the bucket). ``--callbacks=down`` points the notifications
at a port where nothing listens (an operator that died), ``--callbacks=up`` at a sink that
answers 200. Every ``--sample`` seconds the recorder's RSS (``VmRSS``) and CPU share since the
previous sample go to stderr; at the end a markdown row per sample is printed.

``--s3-cpu-quota=PERCENT`` holds the S3 server (versitygw) to that share of one core, so that
uploads fall behind the recording the way they do when the recorder's own core is saturated
(50 recordings on one core: its Python work is bound to one core by the GIL) or the store is
slow; ``--cpu-quota=PERCENT`` does the same to the recorder itself (its media threads too).
Both use a cgroup (v1 ``cpu`` controller; root, as inside ``hack/netns-run``).

``--tracemalloc`` runs the recorder under :mod:`benchmarks.memory.traced` and dumps its top
allocation sites at each sample into ``<workdir>/tracemalloc.txt`` (kept: the work directory
is printed and kept, as with ``--keep``); RSS is then not comparable with an untraced run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.recorder.procstat import cpu_seconds, memory_mib
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.publisher import tone_for
from cloudrec_devenv.recorder import launch_recorder, local_recorder_settings
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.client.recording import RecordingClient
from cloudrec_protocol.models import AcquireClientRequest, StartClientRequest, StartRequest

APP_ID = "memapp"
ROOM = "memroom"
FIRST_RECORDER_UID = 910000


def _option(argv: list[str], name: str, default: str) -> str:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


class _Accept(BaseHTTPRequestHandler):
    """Answers every notification with 200 (an operator that is up)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_publishers(work: Path, janus: Janus, count: int) -> list[ManagedProcess]:
    processes = []
    for index in range(count):
        processes.append(
            ManagedProcess(
                f"publisher-{index}",
                [
                    sys.executable,
                    *("-m", "cloudrec_devenv.publisher"),
                    *("--janus", janus.ws_url, "--room", ROOM, "--uid", str(1001 + index)),
                    *("--tone", f"{tone_for(index):g}", "--no-video"),
                ],
                work / f"publisher-{index}.log",
            ).start()
        )
    if processes:
        processes[0].wait_until(
            lambda: sum(p.publisher for p in janus.list_participants(ROOM)) == count,
            timeout=60 + 10 * count,
            what=f"{count} publishers publishing",
        )
    return processes


def start_recorder(
    work: Path, janus: Janus, s3: S3Server, callback_url: str, count: int, traced: bool
) -> tuple[ManagedProcess, str, str, str]:
    port = free_port()
    customer_id, customer_secret = "mem-customer", secrets.token_urlsafe(18)
    settings = local_recorder_settings(
        work,
        port=port,
        janus_url=janus.ws_url,
        app_id=APP_ID,
        customer_id=customer_id,
        customer_secret=customer_secret,
        storage_endpoints=[s3.endpoint],
    ) | {
        "callbacks": {"urls": [callback_url], "secret": "mem-callbacks"},
        "maxConcurrentRecordings": count + 10,
        "hlsSegmentSeconds": 2,
        "progressIntervalSeconds": 5,
        "syncStopTimeoutSeconds": 20,
        "drainTimeoutSeconds": 20,
    }
    process = launch_recorder(
        work,
        settings,
        module="benchmarks.memory.traced" if traced else "cloudrec_recorder",
        env={**os.environ, "CLOUDREC_TRACEMALLOC_OUT": str(work / "tracemalloc.txt")},
        stop_timeout=90.0,
    )
    return process, f"http://127.0.0.1:{port}", customer_id, customer_secret


class CpuLimits:
    """cgroups (v1 ``cpu`` controller, needs root) that hold processes to a share of one core.

    The hierarchy is mounted at ``mountpoint``: ``hack/netns-run`` gives this process a mount
    namespace of its own without ``/sys/fs/cgroup``.
    """

    def __init__(self, mountpoint: Path) -> None:
        self.mountpoint = mountpoint
        self.groups: list[Path] = []

    def limit(self, name: str, pid: int, percent: float) -> None:
        """Move ``pid`` (all its threads) into a new cgroup limited to ``percent`` of a core."""
        if not self.groups and not (self.mountpoint / "cgroup.procs").exists():
            self.mountpoint.mkdir(parents=True, exist_ok=True)
            mount = ["mount", "-t", "cgroup", "-o", "cpu", "cgroup", str(self.mountpoint)]
            subprocess.run(mount, check=True)
        group = self.mountpoint / f"cloudrec-memory-{name}-{pid}"
        group.mkdir()
        self.groups.append(group)
        (group / "cpu.cfs_period_us").write_text("1000000")  # 1 s: quotas down to 0.1 %
        (group / "cpu.cfs_quota_us").write_text(str(int(percent * 10000)))
        (group / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        for group in self.groups:
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self.mountpoint / "cgroup.procs").write_text(pid)
            with contextlib.suppress(OSError):
                group.rmdir()
        if self.groups:
            subprocess.run(["umount", str(self.mountpoint)], check=False)
        self.groups = []


def start_request(uid: str, s3: S3Server, bucket: str) -> StartRequest:
    client_request = StartClientRequest.model_validate(
        {
            "recordingConfig": {"channelType": 0, "streamTypes": 0, "maxIdleTime": 86400},
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": {
                "vendor": 11,
                "region": 0,
                "bucket": bucket,
                "accessKey": s3.access_key,
                "secretKey": s3.secret_key,
                "fileNamePrefix": [f"mem{uid}"],
                "extensionParams": {"endpoint": s3.endpoint},
            },
        }
    )
    return StartRequest(cname=ROOM, uid=uid, client_request=client_request)


async def start_recordings(
    base_url: str, customer_id: str, customer_secret: str, count: int, s3: S3Server, bucket: str
) -> None:
    async with RecordingClient(base_url, customer_id, customer_secret, timeout=60.0) as client:
        for index in range(count):
            uid = str(FIRST_RECORDER_UID + index)
            acquired = await client.acquire(APP_ID, ROOM, uid, AcquireClientRequest())
            await client.start(APP_ID, acquired.resource_id, "mix", start_request(uid, s3, bucket))


def segment_counts(spool: Path) -> tuple[int, int]:
    """Segments written into the spool and segments in the bucket (the uploaders' journals)."""
    written = uploaded = 0
    for directory in spool.iterdir() if spool.is_dir() else ():
        written += sum(1 for p in directory.glob("*.ts"))
        journal = directory / ".cloudrec-uploaded"
        with contextlib.suppress(OSError):
            uploaded += sum(1 for line in journal.read_text().splitlines() if ".ts\t" in line)
    return written, uploaded


Row = tuple[float, float, float, int, int]


def sample(pid: int, spool: Path, minutes: float, every: float, traced: bool) -> list[Row]:
    """(minutes since the recordings started, RSS MiB, CPU % since the previous sample,
    segments written, segments in the bucket)."""
    rows: list[Row] = []
    t0 = last_t = time.monotonic()
    last_cpu = cpu_seconds(pid)
    rows.append((0.0, memory_mib(pid, "VmRSS"), 0.0, *segment_counts(spool)))
    while time.monotonic() - t0 < minutes * 60:
        time.sleep(every)
        now, cpu = time.monotonic(), cpu_seconds(pid)
        rss, share = memory_mib(pid, "VmRSS"), 100 * (cpu - last_cpu) / (now - last_t)
        row = ((now - t0) / 60, rss, share, *segment_counts(spool))
        rows.append(row)
        print(
            f"  {row[0]:5.1f} min  RSS {rss:7.1f} MiB  CPU {share:5.1f} %  "
            f"segments {row[3]} written, {row[4]} in the bucket",
            file=sys.stderr,
            flush=True,
        )
        if traced:
            os.kill(pid, signal.SIGUSR1)
        last_t, last_cpu = now, cpu
    return rows


def main(argv: list[str]) -> int:
    count = int(_option(argv, "recordings", "8"))
    minutes = float(_option(argv, "minutes", "5"))
    publishers = int(_option(argv, "publishers", "1"))
    callbacks = _option(argv, "callbacks", "down")
    every = float(_option(argv, "sample", "30"))
    traced = "--tracemalloc" in argv
    quota = float(_option(argv, "cpu-quota", "0"))
    s3_quota = float(_option(argv, "s3-cpu-quota", "0"))
    if callbacks not in ("down", "up"):
        raise SystemExit("--callbacks is down or up")
    if not os.environ.get("CLOUDREC_NETNS"):
        raise SystemExit(
            "run this inside the network namespace (Janus needs its veth): "
            "hack/netns-run .venv/bin/python -m benchmarks memory"
        )
    tmp = tempfile.mkdtemp(prefix="bench-memory-")
    work = Path(tmp)
    print(f"work directory {work}", file=sys.stderr)
    sink_server = None
    if callbacks == "up":
        sink_server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
        threading.Thread(target=sink_server.serve_forever, daemon=True).start()
        callback_url = f"http://127.0.0.1:{sink_server.server_address[1]}/callbacks"
    else:
        callback_url = f"http://127.0.0.1:{free_port()}/callbacks"  # nothing listens there
    try:
        with Janus(work / "janus", debug_level=3) as janus, S3Server(work / "s3") as s3:
            janus.create_room(ROOM, publishers=count + publishers + 4)
            bucket = "mem-" + secrets.token_hex(4)
            s3.create_bucket(bucket)
            pubs = start_publishers(work, janus, publishers)
            try:
                process, base_url, cid, secret = start_recorder(
                    work, janus, s3, callback_url, count, traced
                )
                limits = CpuLimits(work / "cgroup-cpu")
                try:
                    assert process.pid is not None and s3.pid is not None
                    asyncio.run(start_recordings(base_url, cid, secret, count, s3, bucket))
                    if quota:
                        limits.limit("recorder", process.pid, quota)
                    if s3_quota:
                        limits.limit("s3", s3.pid, s3_quota)
                    rows = sample(process.pid, work / "spool", minutes, every, traced)
                finally:
                    limits.close()
                    process.stop()
            finally:
                for pub in pubs:
                    pub.stop()
    finally:
        if sink_server is not None:
            sink_server.shutdown()
            sink_server.server_close()
    limit = f", recorder CPU limited to {quota:g} % of a core" if quota else ""
    limit += f", S3 server CPU limited to {s3_quota:g} % of a core" if s3_quota else ""
    print(
        f"{count} AudioOnly Mix recordings, {publishers} audio publisher(s), "
        f"callbacks {callbacks}{limit}"
    )
    print(
        "\n| minutes | RSS MiB | CPU % (since previous) | segments written / in the bucket |\n"
        "|---|---|---|---|"
    )
    for at, rss, cpu, written, uploaded in rows:
        print(f"| {at:.1f} | {rss:.0f} | {cpu:.0f} | {written} / {uploaded} |")
    if not traced and "--keep" not in argv:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
