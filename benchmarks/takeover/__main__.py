"""`python -m benchmarks.takeover [--takeovers=10] [--between=8] [--mode=individual]`
(inside ``hack/netns-run``).

The set-up of ``benchmarks.handover`` (one Janus, one versitygw, two publishers 640x360 15 fps,
two recorder replicas that are peers, 4 s segments, a Mix 640x360 15 fps BestFit HLS
recording), with a storage encryption key so that a restarted replica delivers what it left.
``--takeovers`` times, ``--between`` seconds apart, the replica holding the recording gets
SIGKILL (no drain): the other one takes the recording over, and the killed one starts again on
its volume (it delivers its part and becomes the next taker). At the end the recording is
stopped through the first replica and every part (``<sid>_<cname>.m3u8``, then ``bak0_``,
``bak1_``, ...) is decoded. ``--mode=individual`` records each publisher apart instead (its
VP8 stored as sent, its audio re-encoded to AAC): every uid's audio and video playlist and
their ``bak<n>_`` ones are decoded, and a take-over's decoded gap is the largest among them
(the reported one runs from the earliest end among the lost replica's outputs).

Per take-over: **take-over** = SIGKILL to the taker's first frame (its log, ``Took over
sid=... gap=``); **reported gap** = the media time missing that event 12 / the CloudRecording
status report (the lost replica's last complete segment to the taker's first frame);
**decoded gap** = first frame time of the part minus last frame time of the one before, minus
one frame interval; **error** = |reported - decoded|. Prints a markdown table; progress goes
to stderr.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import httpx

from benchmarks.recorder.case import start_publishers, stop_all
from benchmarks.recorder.floor import publisher_uid
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.recorder import launch_recorder, local_recorder_settings
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.filenames import Track, file_cname, individual_playlist

APP_ID = "benchapp"
FPS = 15
AAC_FRAME = 1024 / 48_000
NAMES = ("ra", "rb")
_TOOK = re.compile(r"Took over sid=\S+ from=(\S+) gap=([0-9.]+)")


def _option(argv: list[str], name: str, default: str) -> str:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _replicas(
    work: Path, janus: Janus, s3: S3Server
) -> tuple[dict[str, ManagedProcess], dict[str, str], str]:
    ports = {name: free_port() for name in NAMES}
    peers = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    secret = secrets.token_urlsafe(18)
    key = secrets.token_urlsafe(24)
    processes = {}
    for name in NAMES:
        settings = local_recorder_settings(
            work / name,
            port=ports[name],
            janus_url=janus.ws_url,
            app_id=APP_ID,
            customer_id="bench-customer",
            customer_secret=secret,
            storage_endpoints=[s3.endpoint],
        ) | {
            "callbacks": {"urls": []},
            "hlsSegmentSeconds": 4,
            "replicaId": name,
            "peers": peers,
            "storageEncryptionKey": key,
        }
        processes[name] = launch_recorder(work / name, settings)
    return processes, peers, secret


def _record(
    base: str, auth: httpx.BasicAuth, room: str, s3: S3Server, bucket: str, mode: str
) -> str:
    url = f"{base}/v1/apps/{APP_ID}/cloud_recording"
    with httpx.Client(auth=auth, timeout=60) as client:
        acquired = client.post(f"{url}/acquire", json={"cname": room, "uid": "900001"})
        rid = acquired.json()["resourceId"]
        config: dict[str, object] = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 60}
        if mode == "mix":
            transcoding = {"width": 640, "height": 360, "fps": FPS, "bitrate": 500}
            config["transcodingConfig"] = transcoding | {"mixedVideoLayout": 1}
        body = {
            "cname": room,
            "uid": "900001",
            "clientRequest": {
                "recordingConfig": config,
                "recordingFileConfig": {"avFileType": ["hls"]},
                "storageConfig": {
                    "vendor": 11,
                    "region": 0,
                    "bucket": bucket,
                    "accessKey": s3.access_key,
                    "secretKey": s3.secret_key,
                    "fileNamePrefix": ["bench"],
                    "extensionParams": {"endpoint": s3.endpoint},
                },
            },
        }
        started = client.post(f"{url}/resourceid/{rid}/mode/{mode}/start", json=body)
        started.raise_for_status()
        return f"resourceid/{rid}/sid/{started.json()['sid']}/mode/{mode}"


def _took_over(log: Path, count: int, within: float = 60.0) -> tuple[float, float]:
    """Waits for the ``count``-th take-over line of ``log``: (when seen, reported gap s)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = _TOOK.findall(log.read_text()) if log.exists() else []
        if len(found) >= count:
            return time.monotonic(), float(found[count - 1][1])
        time.sleep(0.05)
    raise RuntimeError(f"no take-over {count} in {log} within {within}s")


def _parts(
    s3: S3Server, bucket: str, name: str, count: int, work: Path, track: Track = "video"
) -> list[list[float]]:
    """Frame times (``track``'s) of the original part and of ``bak0_`` ... ``bak<count-1>_``."""
    parts = []
    for prefix in ["", *(f"bak{n}_" for n in range(count))]:
        text = s3.get_object(bucket, f"bench/{prefix}{name}").decode()
        times: list[float] = []
        for line in text.splitlines():
            if line and not line.startswith("#"):
                path = work / line
                path.write_bytes(s3.get_object(bucket, f"bench/{line}"))
                try:
                    times += _times(path, track)
                except av.error.InvalidDataError as exc:  # counted, kept to look at
                    kept = Path(tempfile.gettempdir()) / "bench-takeover-undecodable"
                    kept.mkdir(exist_ok=True)
                    (kept / line).write_bytes(path.read_bytes())
                    _note(f"undecodable {prefix or 'first'} part segment {line}: {exc}")
        parts.append(times)
    return parts


def _times(path: Path, track: Track) -> list[float]:
    """Frame times of the segment at ``path`` (up to a frame it cannot decode: raised)."""
    times: list[float] = []
    declared = "mpegts" if path.suffix == ".ts" else None  # as the playlist declares
    with av.open(str(path), format=declared) as container:
        frames = container.decode(audio=0) if track == "audio" else container.decode(video=0)
        times += [float(f.time) for f in frames if f.time]
    return times


def _decoded(
    s3: S3Server, bucket: str, sid: str, room: str, count: int, work: Path, mode: str
) -> tuple[list[float], float]:
    """Each take-over's decoded gap (the largest among the outputs in individual mode) and
    the seconds recorded (the first output's)."""
    tracks: list[tuple[Track, float]] = [("video", 1 / FPS), ("audio", AAC_FRAME)]
    outputs: list[tuple[str, Track, float]] = [(f"{sid}_{file_cname(room)}.m3u8", "video", 1 / FPS)]
    if mode == "individual":
        outputs = [
            (individual_playlist(sid, room, publisher_uid(i), track), track, step)
            for i in range(2)
            for track, step in tracks
        ]
    gaps: list[list[float]] = []
    seconds = 0.0
    for name, track, step in outputs:
        parts = _parts(s3, bucket, name, count, work, track)
        gaps.append([b[0] - a[-1] - step for a, b in itertools.pairwise(parts)])
        seconds = seconds or sum(p[-1] - p[0] for p in parts if p)
    return [max(each) for each in zip(*gaps, strict=True)], seconds


def main(argv: list[str]) -> int:
    takeovers = int(_option(argv, "takeovers", "10"))
    between = float(_option(argv, "between", "8"))
    mode = _option(argv, "mode", "mix")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-takeover-") as tmp:
        work = Path(tmp)
        with Janus(work / "janus", debug_level=3) as janus, S3Server(work / "s3") as s3:
            bucket = "takeover-" + secrets.token_hex(4)
            s3.create_bucket(bucket)
            room = "takeover" + secrets.token_hex(3)
            janus.create_room(room, publishers=8)
            publishers = start_publishers(work / "publishers", janus, room, 2)
            processes, urls, secret = _replicas(work, janus, s3)
            auth = httpx.BasicAuth("bench-customer", secret)
            counts = dict.fromkeys(NAMES, 0)
            took: list[float] = []
            reported: list[float] = []
            try:
                path = _record(urls["ra"], auth, room, s3, bucket, mode)
                sid = path.split("/sid/", 1)[1].split("/", 1)[0]
                holder = "ra"
                for turn in range(takeovers):
                    time.sleep(between)
                    process = processes[holder]
                    assert process.pid is not None
                    killed = time.monotonic()
                    os.killpg(process.pid, signal.SIGKILL)
                    taker = "rb" if holder == "ra" else "ra"
                    counts[taker] += 1
                    seen, gap = _took_over(work / taker / "recorder.log", counts[taker])
                    took.append(seen - killed)
                    reported.append(gap)
                    process.stop()
                    process.start()  # its volume comes back: it delivers its part
                    process.wait_http(f"{urls[holder]}/readyz", timeout=60)
                    _note(f"take-over {turn + 1}: {took[-1]:.2f}s, gap {gap:.3f}s, now {taker}")
                    holder = taker
                time.sleep(between)
                with httpx.Client(auth=auth, timeout=60) as client:  # through the first replica
                    client.post(
                        f"{urls['ra']}/v1/apps/{APP_ID}/cloud_recording/{path}/stop",
                        json={"cname": room, "uid": "900001", "clientRequest": {}},
                    ).raise_for_status()
                time.sleep(5)  # the last restarted replica's part
                decoded, seconds = _decoded(s3, bucket, sid, room, takeovers, work, mode)
            finally:
                for process in processes.values():
                    process.stop()
                stop_all(publishers)
    load_after = os.getloadavg()
    errors = [abs(r - d) for r, d in zip(reported, decoded, strict=True)]
    print(
        f"Unplanned take-over (SIGKILL) of one {mode} recording, {takeovers} times "
        f"({seconds:.1f} s recorded in {takeovers + 1} parts); load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after\n"
    )
    print("| | median | max |\n|---|---|---|")
    for label, values in (
        ("take-over (SIGKILL to the taker's first frame), s", took),
        ("gap reported (event 12, status), s", reported),
        ("gap decoded from the bucket, s", decoded),
        ("reported - decoded, s", errors),
    ):
        print(f"| {label} | {statistics.median(values):.2f} | {max(values):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
