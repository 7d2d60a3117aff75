"""Reading back what the recorder wrote: the bucket's HLS, decoded with PyAV."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from tests.fixtures.recorder import RecorderProcess

from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.manifest import is_manifest_name
from cloudrec_recorder.media.layout import Region

RGB = tuple[int, int, int]


@dataclass
class Started:
    rid: str
    sid: str
    cname: str
    uid: str
    mode: str

    def path(self, action: str) -> str:
        mode = "mix" if action == "updateLayout" else self.mode
        return f"resourceid/{self.rid}/sid/{self.sid}/mode/{mode}/{action}"


def mix_request(recorder: RecorderProcess, **config: Any) -> dict[str, Any]:
    return {
        "recordingConfig": {
            "channelType": 0,
            "streamTypes": 2,
            "maxIdleTime": 30,
            "transcodingConfig": {"width": 320, "height": 240, "fps": 15, "bitrate": 300},
            **config,
        },
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": recorder.storage_config(),
    }


def mix_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30}
    config.update(overrides)
    return config


async def start_recording(
    client: httpx.AsyncClient,
    recorder: RecorderProcess,
    cname: str,
    uid: str,
    recording_config: dict[str, Any],
    *,
    mode: str = "mix",
    av_file_type: Sequence[str] = ("hls",),
    prefix: tuple[str, ...] = ("rec",),
    snapshot_config: dict[str, Any] | None = None,
) -> Started:
    acquired = await client.post(recorder.url("acquire"), json={"cname": cname, "uid": uid})
    assert acquired.status_code == 200, acquired.text
    rid = acquired.json()["resourceId"]
    request: dict[str, Any] = {
        "recordingConfig": recording_config,
        "recordingFileConfig": {"avFileType": list(av_file_type)},
        "storageConfig": recorder.storage_config(prefix),
    }
    if snapshot_config is not None:
        request["snapshotConfig"] = snapshot_config
    body = {"cname": cname, "uid": uid, "clientRequest": request}
    started = await client.post(recorder.url(f"resourceid/{rid}/mode/{mode}/start"), json=body)
    assert started.status_code == 200, started.text
    return Started(rid, started.json()["sid"], cname, uid, mode)


async def query_status(client: httpx.AsyncClient, recorder: RecorderProcess, rec: Started) -> int:
    response = await client.get(recorder.url(rec.path("query")))
    assert response.status_code == 200, response.text
    return int(response.json()["serverResponse"]["status"])


async def wait_status(
    client: httpx.AsyncClient,
    recorder: RecorderProcess,
    rec: Started,
    status: int,
    wait_seconds: float = 20,
) -> None:
    deadline = time.monotonic() + wait_seconds
    seen = None
    while time.monotonic() < deadline:
        seen = await query_status(client, recorder, rec)
        if seen == status:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"status {status} not reached within {wait_seconds}s (last {seen})")


async def stop_recording(
    client: httpx.AsyncClient, recorder: RecorderProcess, rec: Started
) -> dict[str, Any]:
    response = await client.post(
        recorder.url(rec.path("stop")),
        json={"cname": rec.cname, "uid": rec.uid, "clientRequest": {}},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["sid"] == rec.sid and body["resourceId"] == rec.rid
    return body


async def hold_recording(
    client: httpx.AsyncClient, recorder: RecorderProcess, rec: Started, onhold: bool
) -> None:
    """Pause (``onhold`` True) or resume through ``update`` (docs/backends.md)."""
    response = await client.post(
        recorder.url(rec.path("update")),
        json={"cname": rec.cname, "uid": rec.uid, "clientRequest": {"onhold": onhold}},
    )
    assert response.status_code == 200, response.text


def spool_left(spool_dir: Path) -> list[str] | None:
    """What is still in a recording's spool directory; None once it is gone."""
    return sorted(p.name for p in spool_dir.iterdir()) if spool_dir.is_dir() else None


async def wait_spool_removed(spool_dir: Path, within: float = 10.0) -> None:
    """Wait until a delivered recording's spool directory is gone (the disk is freed)."""
    deadline = asyncio.get_running_loop().time() + within
    while (left := await asyncio.to_thread(spool_left, spool_dir)) is not None:
        assert asyncio.get_running_loop().time() < deadline, (
            f"{spool_dir.name}'s spool is still there after {within}s: {left}"
        )
        await asyncio.sleep(0.2)


def download(recorder: RecorderProcess, keys: Sequence[str], into: Path) -> list[Path]:
    """Fetch playlists and every segment they list from the bucket into ``into``."""
    paths = []
    for key in keys:
        text = recorder.s3.get_object(recorder.bucket, key).decode()
        folder = key.rsplit("/", 1)[0] if "/" in key else ""
        playlist = into / key.rsplit("/", 1)[-1]
        for line in text.splitlines():
            if line and not line.startswith("#"):
                segment = f"{folder}/{line}" if folder else line
                (into / line).write_bytes(recorder.s3.get_object(recorder.bucket, segment))
        playlist.write_text(text)
        paths.append(playlist)
    return paths


def tone_strength(samples: npt.NDArray[np.float32], rate: int, hz: float) -> float:
    """Spectral magnitude near ``hz`` relative to the strongest peak (0..1)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = (freqs > hz - 8) & (freqs < hz + 8)
    return float(spectrum[band].max() / spectrum.max())


def probe_point(region: Region, others: Sequence[Region]) -> tuple[int, int]:
    """A point inside ``region`` covered by nothing painted above it, away from its centre."""
    above = [o for o in others if o.z > region.z and o is not region]
    for fx, fy in ((0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8), (0.5, 0.15), (0.15, 0.5)):
        x = region.x + int(region.width * fx)
        y = region.y + int(region.height * fy)
        if not any(o.contains(x, y) for o in above):
            return x, y
    raise AssertionError(f"no visible point in {region}")


def colour_at(frame: npt.NDArray[np.uint8], x: int, y: int) -> RGB:
    patch = frame[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3].reshape(-1, 3)
    median = np.median(patch, axis=0)
    return (int(median[0]), int(median[1]), int(median[2]))


def close_to(actual: RGB, expected: RGB, tolerance: int = 45) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


async def manifest_timeline(
    s3: S3Server, bucket: str, sid: str, within: float = 30.0
) -> list[dict[str, Any]]:
    """The timeline of ``sid``'s manifest in ``bucket`` (it goes up last: waits for it)."""
    deadline = time.monotonic() + within
    while True:
        keys = await asyncio.to_thread(s3.object_keys, bucket)
        found = [k for k in keys if sid in k and is_manifest_name(k)]
        if found:
            document = json.loads(await asyncio.to_thread(s3.get_object, bucket, found[0]))
            timeline: list[dict[str, Any]] = document["timeline"]
            return timeline
        assert time.monotonic() < deadline, f"no manifest of {sid} within {within}s: {keys}"
        await asyncio.sleep(0.3)
