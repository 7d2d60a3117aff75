"""File names a recording writes (protocol.md §8), as pure functions.

- mix: playlist `<sid>_<cname>.m3u8`, slices `<sid>_<cname>_<utc>.ts`, MP4
  `<sid>_<cname>_<index>.mp4` (index from 0);
- individual: playlist `<sid>_<cname>__uid_s_<uid>__uid_e_<type>.m3u8`, slices the same stem
  followed by `_<utc>.ts`; with `streamMode` `standard` also the merged audio+video playlist
  `<sid>_<cname>__uid_s_<uid>__uid_e_av.m3u8` (a master playlist over the uid's audio and video
  playlists; the service's own name for it, derived: protocol.md §8 names no merged file);
- snapshots (individual mode): `<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg`, `<utc>`
  the capture time (the service's snapshot documentation; not in protocol.md §8).

`<utc>` is `yyyyMMddHHmmssSSS` in UTC and `<type>` is `audio` or `video`. Special characters
in `cname` become `-`: the documented set (``! @ # $ % ^ & * ( ) + _ . = [ ] { } ~ , ; : ? < >``
and the vertical bar) and, derived, every other character outside `a-z A-Z 0-9 -` (space
included, since playlist lines are URIs).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "Track",
    "file_cname",
    "individual_merged_playlist",
    "individual_playlist",
    "individual_slice",
    "individual_snapshot",
    "is_snapshot",
    "mix_mp4",
    "mix_playlist",
    "mix_slice",
    "parse_individual",
    "parse_utc_stamp",
    "utc_stamp",
]

Track = Literal["audio", "video"]

_SPECIAL = re.compile(r"[^A-Za-z0-9-]")
_STAMP = re.compile(r"_(?P<utc>[0-9]{17})\.[A-Za-z0-9]+$")
SNAPSHOT_EXTENSION = "jpg"
_INDIVIDUAL = re.compile(r"__uid_s_(?P<uid>[0-9]+)__uid_e_(?P<track>audio|video)(?:_[0-9]{17})?\.")


def file_cname(cname: str) -> str:
    """`cname` as it appears in file names: special characters replaced by `-`."""
    return _SPECIAL.sub("-", cname)


def utc_stamp(utc_ms: int) -> str:
    """`yyyyMMddHHmmssSSS` (UTC) of a time in ms since the epoch."""
    moment = datetime.fromtimestamp(utc_ms // 1000, tz=UTC)
    return f"{moment:%Y%m%d%H%M%S}{utc_ms % 1000:03d}"


def parse_utc_stamp(file_name: str) -> int | None:
    """The `<utc>` a slice or snapshot name ends with, in ms since the epoch; None without one."""
    match = _STAMP.search(file_name)
    if match is None:
        return None
    try:
        moment = datetime.strptime(match["utc"], "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def mix_playlist(sid: str, cname: str) -> str:
    """The mix (and web) mode M3U8 playlist."""
    return f"{sid}_{file_cname(cname)}.m3u8"


def mix_slice(sid: str, cname: str, utc_ms: int, extension: str = "ts") -> str:
    """A mix mode slice starting at `utc_ms`."""
    return f"{sid}_{file_cname(cname)}_{utc_stamp(utc_ms)}.{extension}"


def mix_mp4(sid: str, cname: str, index: int) -> str:
    """The `index`-th (from 0) mix mode MP4 file."""
    if index < 0:
        raise ValueError("MP4 index starts at 0")
    return f"{sid}_{file_cname(cname)}_{index}.mp4"


def _individual_stem(sid: str, cname: str, uid: str, track: Track) -> str:
    return f"{sid}_{file_cname(cname)}__uid_s_{uid}__uid_e_{track}"


def individual_playlist(sid: str, cname: str, uid: str, track: Track) -> str:
    """The individual mode M3U8 playlist of one uid's audio or video."""
    return f"{_individual_stem(sid, cname, uid, track)}.m3u8"


def individual_merged_playlist(sid: str, cname: str, uid: str) -> str:
    """The individual mode merged audio+video playlist of one uid (`streamMode` standard)."""
    return f"{sid}_{file_cname(cname)}__uid_s_{uid}__uid_e_av.m3u8"


def individual_slice(
    sid: str, cname: str, uid: str, track: Track, utc_ms: int, extension: str = "ts"
) -> str:
    """An individual mode slice of one uid's audio or video starting at `utc_ms`."""
    return f"{_individual_stem(sid, cname, uid, track)}_{utc_stamp(utc_ms)}.{extension}"


def individual_snapshot(sid: str, cname: str, uid: str, utc_ms: int) -> str:
    """A JPG snapshot of one uid's video captured at `utc_ms`."""
    return individual_slice(sid, cname, uid, "video", utc_ms, extension=SNAPSHOT_EXTENSION)


def is_snapshot(file_name: str) -> bool:
    """A snapshot JPG (`individual_snapshot`), not playable media."""
    return file_name.endswith(f".{SNAPSHOT_EXTENSION}")


def parse_individual(file_name: str) -> tuple[str, Track] | None:
    """`(uid, track)` of an individual mode playlist or slice name, None for other names."""
    match = _INDIVIDUAL.search(file_name)
    if match is None:
        return None
    track: Track = "audio" if match["track"] == "audio" else "video"
    return match["uid"], track
