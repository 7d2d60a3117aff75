"""What a spool file is, from its name and (for playlists) its text (pure).

Names follow protocol.md §8: ``<sid>_<cname>.m3u8``, ``<sid>_<cname>_<utc>.ts``,
``<sid>_<cname>_<index>.mp4`` in mix mode and
``<sid>_<cname>__uid_s_<uid>__uid_e_<type>[_<utc>].<ext>`` in individual mode,
``<utc>`` being ``yyyyMMddHHmmssSSS`` in UTC. The writer's temporary files start
with ``.tmp-``; the uploader's own bookkeeping files start with ``.cloudrec-``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

TrackType = Literal["audio", "video", "audio_and_video"]

PLAYLIST_SUFFIXES = (".m3u8",)
PLAYABLE_SUFFIXES = (".m3u8", ".mp4")

_INDIVIDUAL = re.compile(r"__uid_s_(?P<uid>.+?)__uid_e_(?P<type>audio|video)")
_UTC = re.compile(r"_(?P<utc>\d{17})\.[A-Za-z0-9]+$")


@dataclass(frozen=True)
class FileInfo:
    """One item of the protocol's ``fileList`` (events 31/32, query and stop)."""

    file_name: str
    """Object key in the bucket (``fileNamePrefix`` parts joined by ``/`` + name)."""
    track_type: TrackType
    uid: str
    """The publisher's uid in individual mode, ``"0"`` in mix mode."""
    mixed_all_user: bool
    is_playable: bool
    slice_start_time: int
    """Milliseconds since the epoch of the first slice, 0 when unknown."""

    def to_payload(self) -> dict[str, object]:
        """The camelCase JSON object the protocol puts in ``fileList``."""
        return {
            "fileName": self.file_name,
            "trackType": self.track_type,
            "uid": self.uid,
            "mixedAllUser": self.mixed_all_user,
            "isPlayable": self.is_playable,
            "sliceStartTime": self.slice_start_time,
        }


def is_output_name(name: str) -> bool:
    """A final output file (not a writer temp file, not our bookkeeping, no path)."""
    return bool(name) and not name.startswith(".") and "/" not in name and name not in ("..",)


def is_playlist(name: str) -> bool:
    return name.endswith(PLAYLIST_SUFFIXES)


def slice_time_ms(name: str) -> int | None:
    """The ``<utc>`` of a slice name as epoch milliseconds, if it has one."""
    match = _UTC.search(name)
    if match is None:
        return None
    try:
        stamp = datetime.strptime(match["utc"], "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(stamp.timestamp() * 1000)


def playlist_segments(text: str) -> list[str]:
    """The URIs an M3U8 playlist lists (media segments and ``EXT-X-MAP``), in order."""
    uris: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXT-X-MAP:"):
            found = re.search(r'URI="([^"]+)"', line)
            if found:
                uris.append(found[1])
        elif not line.startswith("#"):
            uris.append(line)
    return uris


def newest_ready(versions: Sequence[Sequence[str]], present: Callable[[str], bool]) -> int | None:
    """Index of the newest playlist version whose listed files are all ``present``.

    ``versions`` are the names each waiting version lists, oldest first. A
    recording's playlist only grows, so readiness only falls with the version
    and a binary search finds the answer in O(n log k) even with a long backlog;
    whatever it returns is fully checked, so a playlist that does not grow is
    never published early (at worst a ready version is found later).
    """
    low, high, best = 0, len(versions) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if all(present(name) for name in versions[middle]):
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def file_info(key: str, name: str, slice_start_ms: int = 0) -> FileInfo:
    """The fileList item of ``name`` uploaded as ``key``."""
    individual = _INDIVIDUAL.search(name)
    playable = name.endswith(PLAYABLE_SUFFIXES)
    if individual is not None:
        track: TrackType = "audio" if individual["type"] == "audio" else "video"
        return FileInfo(key, track, individual["uid"], False, playable, slice_start_ms)
    return FileInfo(key, "audio_and_video", "0", True, playable, slice_start_ms)


def object_key(prefix: tuple[str, ...], name: str) -> str:
    """``fileNamePrefix`` parts joined with ``/`` in front of ``name``."""
    return "/".join((*prefix, name))


__all__ = [
    "FileInfo",
    "TrackType",
    "file_info",
    "is_output_name",
    "is_playlist",
    "newest_ready",
    "object_key",
    "playlist_segments",
    "slice_time_ms",
]
