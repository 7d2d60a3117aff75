"""Spool file names (protocol.md §8), in one place.

`cloudrec_operator.protocol.filenames` is meant to hold these as pure functions; until it does,
the media pipeline names its files here. Every temporary file starts with `TMP_PREFIX`: a name
without it is complete and final.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = [
    "TMP_PREFIX",
    "individual_playlist_name",
    "individual_segment_name",
    "mix_mp4_name",
    "mix_playlist_name",
    "mix_segment_name",
    "safe_cname",
    "temporary_name",
    "utc_stamp",
]

TMP_PREFIX = ".tmp-"
_SPECIAL = re.compile(r"[!@#$%^&*()+_.=\[\]{}~,;:?<>|]")


def safe_cname(cname: str) -> str:
    """The channel name with the protocol's special characters replaced by `-`."""
    return _SPECIAL.sub("-", cname)


def utc_stamp(epoch_ms: int) -> str:
    """`yyyyMMddHHmmssSSS` in UTC."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y%m%d%H%M%S") + f"{epoch_ms % 1000:03d}"


def mix_playlist_name(sid: str, cname: str) -> str:
    return f"{sid}_{safe_cname(cname)}.m3u8"


def mix_segment_name(sid: str, cname: str, epoch_ms: int) -> str:
    return f"{sid}_{safe_cname(cname)}_{utc_stamp(epoch_ms)}.ts"


def mix_mp4_name(sid: str, cname: str, index: int = 0) -> str:
    return f"{sid}_{safe_cname(cname)}_{index}.mp4"


def individual_playlist_name(sid: str, cname: str, uid: str, track: str) -> str:
    return f"{sid}_{safe_cname(cname)}__uid_s_{uid}__uid_e_{track}.m3u8"


def individual_segment_name(sid: str, cname: str, uid: str, track: str, epoch_ms: int) -> str:
    return f"{sid}_{safe_cname(cname)}__uid_s_{uid}__uid_e_{track}_{utc_stamp(epoch_ms)}.ts"


def temporary_name(name: str) -> str:
    """The name a file has while it is being written."""
    return TMP_PREFIX + name
