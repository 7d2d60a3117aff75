"""Reading back a taken-over recording: the lost replica's playlist and the taker's
``bak<n>_`` playlist, each decoded (used by the recorder's and the operator's take-over tests);
an individual recording's per uid and track.

Both replicas run on one output clock (the taker continues the lost one's; in an individual
recording each output's), so the step between the last frame time of the first part and the
first of the second is the media time missing plus one frame's length.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tests.integration.recorder.handover_checks import HandedOverMedia, Part, read_playlist
from tests.media_files import open_media

from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol import filenames
from cloudrec_protocol.filenames import Track
from cloudrec_protocol.manifest import (
    FoundObject,
    Manifest,
    ManifestTrust,
    compare,
    describe,
    signature_problem,
)
from cloudrec_recorder.media.naming import safe_cname

AAC_FRAME_SECONDS = 1024 / 48_000


def verified_manifest(s3: S3Server, bucket: str, name: str, secret: str) -> Manifest:
    """The manifest named ``name`` in ``bucket``, checked as ``cloudrec_operator verify
    --hash`` checks it: its signature holds and every object it lists is in the bucket with its
    size and SHA-256."""
    keys = [k for k in s3.object_keys(bucket) if k.rsplit("/", 1)[-1] == name]
    assert len(keys) == 1, f"{name}: {keys}"
    manifest = Manifest.model_validate_json(s3.get_object(bucket, keys[0]))
    assert signature_problem(manifest, ManifestTrust(secret=secret)) is None, name
    found: dict[str, FoundObject | None] = {}
    for item in manifest.objects:
        data = s3.get_object(bucket, item.key)
        found[item.key] = FoundObject(len(data), hashlib.sha256(data).hexdigest())
    problems = compare(manifest, found)
    assert not problems, f"{name}: {describe(problems)}"
    return manifest


@dataclass
class TakenOverMedia:
    first: Part
    second: Part
    first_segments: list[str]
    second_segments: list[str]

    def missing_seconds(self, fps: int) -> float:
        """Media time missing between the parts (the step less one frame interval)."""
        return self.second.times[0] - self.first.times[-1] - 1 / fps


def _decode(s3: S3Server, bucket: str, key: str, into: Path) -> tuple[Part, list[str]]:
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    text = s3.get_object(bucket, key).decode()
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    part = Part([], [])
    for name in segments:
        path = into / name
        path.write_bytes(s3.get_object(bucket, folder + name))
        with open_media(path) as container:
            for frame in container.decode(video=0):
                assert frame.time is not None
                part.times.append(float(frame.time))
                part.frames.append(frame.to_ndarray(format="rgb24"))
    return part, segments


def read_taken_over(s3: S3Server, bucket: str, sid: str, cname: str, into: Path) -> TakenOverMedia:
    """The sid's two playlists (``<sid>_<cname>.m3u8`` and ``bak0_<sid>_<cname>.m3u8``,
    under whatever prefix) and their segments, decoded."""
    name = f"{sid}_{safe_cname(cname)}.m3u8"
    keys = s3.object_keys(bucket)
    [own] = [k for k in keys if k.rsplit("/", 1)[-1] == name]
    [bak] = [k for k in keys if k.rsplit("/", 1)[-1] == "bak0_" + name]
    first, first_segments = _decode(s3, bucket, own, into)
    second, second_segments = _decode(s3, bucket, bak, into)
    return TakenOverMedia(first, second, first_segments, second_segments)


@dataclass
class TakenOverTrack:
    """One uid's track of an individual recording: the lost replica's playlist and the
    taker's ``bak0_`` one, decoded."""

    first: HandedOverMedia
    second: HandedOverMedia

    def missing_seconds(self, frame_seconds: float) -> float:
        """Media time missing between the parts (the step less one frame's length)."""
        return self.second.times[0] - self.first.times[-1] - frame_seconds


def read_taken_over_track(
    s3: S3Server, bucket: str, sid: str, cname: str, uid: str, track: Track, into: Path
) -> TakenOverTrack:
    """``uid``'s ``track`` playlists (``<name>`` and ``bak0_<name>``) and segments, decoded
    (video frames, or audio frames for the audio track)."""
    name = filenames.individual_playlist(sid, cname, uid, track)
    keys = s3.object_keys(bucket)
    [own] = [k for k in keys if k.rsplit("/", 1)[-1] == name]
    [bak] = [k for k in keys if k.rsplit("/", 1)[-1] == "bak0_" + name]
    kind = "audio" if track == "audio" else "video"
    return TakenOverTrack(
        read_playlist(s3, bucket, own, into, kind), read_playlist(s3, bucket, bak, into, kind)
    )
