"""`python -m benchmarks.handover [--handovers=10] [--between=6] [--mode=mix|individual|stored]`
(inside ``hack/netns-run``).

One Janus, one versitygw, two publisher processes (640x360 15 fps VP8 + Opus) and two recorder
replicas (``python -m cloudrec_recorder``, peers of each other, 4 s segments). One Mix 640x360
15 fps BestFit HLS recording starts on the first replica; then, ``--handovers`` times, the
replica holding it gets SIGTERM (a planned drain), the recording moves to the other one, and the
drained replica starts again (a rolling restart), ``--between`` seconds apart. At the end the
recording is stopped through the first replica and the bucket's playlist is decoded. With
``--mode=individual`` the recording is Individual (``streamMode`` standard: each uid's video
re-encoded at 15 fps, each on its own clock) and every uid's video playlist is decoded; with
``--mode=stored`` it is Individual with the video stored as sent (``streamMode`` default: each
uid's VP8 in WebM slices, matched packet for packet at the switch).

Per hand-over: **switch** = the giver's offer to its last call (the taker has a complete
segment, the giver has left and delivered its files; the giver's log, ``Handed over ...
seconds=``); **drain** = SIGTERM to the giver's exit; **step** = the gap between the last frame
before the discontinuity and the first after it (one frame interval, 66.7 ms, when nothing is
lost); **lost** = step minus one frame interval (0 is the target); **twice** = frames whose time
does not advance (overlap kept). Prints a markdown table; progress goes to stderr.
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
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.recorder import launch_recorder, local_recorder_settings
from cloudrec_devenv.s3 import S3Server

APP_ID = "benchapp"
FPS = 15
NAMES = ("ra", "rb")
_SECONDS = re.compile(r"Handed over sid=\S+ to=(\S+) status=\d+ seconds=([0-9.]+)")


def _option(argv: list[str], name: str, default: str) -> str:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _replicas(work: Path, janus: Janus, s3: S3Server) -> tuple[dict[str, ManagedProcess], str]:
    ports = {name: free_port() for name in NAMES}
    peers = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    secret = secrets.token_urlsafe(18)
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
        ) | {"callbacks": {"urls": []}, "hlsSegmentSeconds": 4, "replicaId": name, "peers": peers}
        processes[name] = launch_recorder(work / name, settings)
    return processes, secret


def _config(mode: str) -> dict[str, object]:
    if mode == "stored":
        return {"channelType": 0, "streamTypes": 2, "maxIdleTime": 60}
    if mode == "individual":
        return {"channelType": 0, "streamTypes": 2, "maxIdleTime": 60, "streamMode": "standard"}
    return {
        "channelType": 0,
        "streamTypes": 2,
        "maxIdleTime": 60,
        "transcodingConfig": {
            "width": 640,
            "height": 360,
            "fps": FPS,
            "bitrate": 500,
            "mixedVideoLayout": 1,
        },
    }


def _record(
    base: str, auth: httpx.BasicAuth, room: str, s3: S3Server, bucket: str, mode: str
) -> dict[str, str]:
    url = f"{base}/v1/apps/{APP_ID}/cloud_recording"
    with httpx.Client(auth=auth, timeout=60) as client:
        rid = client.post(f"{url}/acquire", json={"cname": room, "uid": "900001"}).json()[
            "resourceId"
        ]
        body = {
            "cname": room,
            "uid": "900001",
            "clientRequest": {
                "recordingConfig": _config(mode),
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
        started = client.post(f"{url}/resourceid/{rid}/mode/{_api_mode(mode)}/start", json=body)
        started.raise_for_status()
        return {"rid": rid, "sid": started.json()["sid"], "url": url, "room": room}


def _steps(
    s3: S3Server, bucket: str, sid: str, work: Path, mode: str
) -> tuple[list[float], int, float]:
    """Frame-time steps at each discontinuity, frames twice, and the seconds recorded, over
    the recording's video playlists (a mix's one, each uid's in individual mode)."""
    ending = ".m3u8" if mode == "mix" else "_video.m3u8"
    keys = sorted(k for k in s3.object_keys(bucket) if sid in k and k.endswith(ending))
    assert keys and (mode != "mix" or len(keys) == 1), keys
    steps: list[float] = []
    twice, seconds = 0, 0.0
    for key in keys:
        found = _playlist_steps(s3, bucket, key, work)
        steps += found[0]
        twice += found[1]
        seconds = max(seconds, found[2])
    return steps, twice, seconds


def _playlist_steps(
    s3: S3Server, bucket: str, key: str, work: Path
) -> tuple[list[float], int, float]:
    text = s3.get_object(bucket, key).decode()
    parts: list[list[float]] = [[]]
    for line in text.splitlines():
        if line.startswith("#EXT-X-DISCONTINUITY"):
            parts.append([])
        elif line and not line.startswith("#"):
            path = work / line
            path.write_bytes(s3.get_object(bucket, f"bench/{line}"))
            with av.open(str(path), format="mpegts") as container:  # as the playlist declares
                parts[-1] += [float(f.time) for f in container.decode(video=0) if f.time]
    times = [t for part in parts for t in part]
    twice = sum(1 for a, b in itertools.pairwise(times) if b <= a)
    steps = [b[0] - a[-1] for a, b in itertools.pairwise(parts) if a and b]
    return steps, twice, times[-1] - times[0]


def main(argv: list[str]) -> int:
    handovers = int(_option(argv, "handovers", "10"))
    between = float(_option(argv, "between", "6"))
    mode = _option(argv, "mode", "mix")
    if mode not in ("mix", "individual", "stored"):
        raise SystemExit("--mode: mix, individual or stored")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-handover-") as tmp:
        work = Path(tmp)
        with Janus(work / "janus", debug_level=3) as janus, S3Server(work / "s3") as s3:
            bucket = "handover-" + secrets.token_hex(4)
            s3.create_bucket(bucket)
            room = "handover" + secrets.token_hex(3)
            janus.create_room(room, publishers=8)
            publishers = start_publishers(work / "publishers", janus, room, 2)
            processes, secret = _replicas(work, janus, s3)
            urls = {name: _base_url(work / name) for name in NAMES}
            auth = httpx.BasicAuth("bench-customer", secret)
            try:
                rec = _record(urls["ra"], auth, room, s3, bucket, mode)
                holder, drains = "ra", []
                for turn in range(handovers):
                    time.sleep(between)
                    process = processes[holder]
                    assert process.pid is not None
                    sent = time.monotonic()
                    os.kill(process.pid, signal.SIGTERM)
                    _wait_exit(process)
                    drains.append(time.monotonic() - sent)
                    process.start()  # a rolling restart: the drained replica comes back
                    process.wait_http(f"{urls[holder]}/readyz", timeout=60)
                    holder = "rb" if holder == "ra" else "ra"
                    _note(f"hand-over {turn + 1}: drain {drains[-1]:.2f}s, now on {holder}")
                time.sleep(between)
                path = f"resourceid/{rec['rid']}/sid/{rec['sid']}/mode/{_api_mode(mode)}/stop"
                with httpx.Client(auth=auth, timeout=60) as client:  # through the first replica
                    client.post(
                        f"{urls['ra']}/v1/apps/{APP_ID}/cloud_recording/{path}",
                        json={"cname": room, "uid": "900001", "clientRequest": {}},
                    ).raise_for_status()
                switches = [
                    float(m.group(2))
                    for name in NAMES
                    for m in _SECONDS.finditer((work / name / "recorder.log").read_text())
                ]
                steps, twice, seconds = _steps(s3, bucket, rec["sid"], work, mode)
            finally:
                for process in processes.values():
                    process.stop()
                stop_all(publishers)
    load_after = os.getloadavg()
    lost = [max(0.0, step - 1 / FPS) for step in steps]
    print(
        f"Planned hand-over ({mode}), {handovers} times ({seconds:.1f} s recorded, {len(steps)} "
        f"discontinuities, {twice} frames twice); load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after\n"
    )
    print("| | median | max |\n|---|---|---|")
    for label, values, unit in (
        ("switch (offer to giver done), s", switches, 1),
        ("drain (SIGTERM to exit), s", drains, 1),
        ("step at the switch, ms", steps, 1000),
        ("media lost at the switch, ms", lost, 1000),
    ):
        if values:
            median, top = statistics.median(values) * unit, max(values) * unit
            print(f"| {label} | {median:.2f} | {top:.2f} |")
    return 0


def _api_mode(mode: str) -> str:
    return "mix" if mode == "mix" else "individual"


def _wait_exit(process: ManagedProcess, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while process.running():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} did not exit within {within}s")
        time.sleep(0.05)


def _base_url(workdir: Path) -> str:
    text = (workdir / "recorder.yaml").read_text()
    port = re.search(r"^port: (\d+)$", text, re.MULTILINE)
    assert port is not None
    return f"http://127.0.0.1:{port.group(1)}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
