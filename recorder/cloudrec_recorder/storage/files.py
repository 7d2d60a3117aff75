"""What a spool file is, from its name and (for playlists) its text (pure).

Names follow protocol.md §8: ``<sid>_<cname>.m3u8``, ``<sid>_<cname>_<utc>.ts``,
``<sid>_<cname>_<index>.mp4`` in mix mode and
``<sid>_<cname>__uid_s_<uid>__uid_e_<type>[_<utc>].<ext>`` in individual mode (snapshots:
``<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg``),
``<utc>`` being ``yyyyMMddHHmmssSSS`` in UTC. The writer's temporary files start
with ``.tmp-``; the uploader's own bookkeeping files start with ``.cloudrec-``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cloudrec_protocol import filenames

TrackType = Literal["audio", "video", "audio_and_video"]

PLAYLIST_SUFFIXES = (".m3u8",)
PLAYABLE_SUFFIXES = (".m3u8", ".mp4")

_INDIVIDUAL = re.compile(r"__uid_s_(?P<uid>.+?)__uid_e_(?P<type>audio|video|av)")


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

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FileInfo:
        """The item :meth:`to_payload` gave (a hand-over's giver sends its list)."""
        track = payload["trackType"]
        if track not in ("audio", "video", "audio_and_video"):
            raise ValueError("trackType: unknown")
        return cls(
            file_name=str(payload["fileName"]),
            track_type=track,
            uid=str(payload["uid"]),
            mixed_all_user=bool(payload["mixedAllUser"]),
            is_playable=bool(payload["isPlayable"]),
            slice_start_time=int(payload["sliceStartTime"]),
        )

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


def merged_file_list(given: Sequence[FileInfo], own: Sequence[FileInfo]) -> tuple[FileInfo, ...]:
    """A taken-over recording's ``fileList``: the giver's files first (its MP4 parts), then
    this replica's; a playlist both list is this replica's (it goes on from the giver's), with
    the giver's earlier first slice time."""
    mine = {f.file_name: f for f in own}
    earlier = [f for f in given if f.file_name not in mine]
    merged = []
    for f in own:
        theirs = next((g for g in given if g.file_name == f.file_name), None)
        if theirs is not None and 0 < theirs.slice_start_time < (f.slice_start_time or 2**63):
            f = dataclasses.replace(f, slice_start_time=theirs.slice_start_time)
        merged.append(f)
    return (*earlier, *merged)


def is_output_name(name: str) -> bool:
    """A final output file (not a writer temp file, not our bookkeeping, no path)."""
    return bool(name) and not name.startswith(".") and "/" not in name and name not in ("..",)


def is_playlist(name: str) -> bool:
    return name.endswith(PLAYLIST_SUFFIXES)


is_snapshot = filenames.is_snapshot
"""A snapshot (``<sid>_<cname>__uid_s_<uid>__uid_e_video_<utc>.jpg``), not playable media."""

slice_time_ms = filenames.parse_utc_stamp
"""The ``<utc>`` of a slice name as epoch milliseconds, if it has one."""


def _listed(text: str) -> Iterator[tuple[str, int]]:
    """Each URI the playlist ``text`` lists, with the offset just past its line."""
    offset = 0
    for raw in text.splitlines(keepends=True):
        offset += len(raw)
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("#EXT-X-MAP:", "#EXT-X-MEDIA:")):
            found = re.search(r'URI="([^"]+)"', line)
            if found:
                yield found[1], offset
        elif not line.startswith("#"):
            yield line, offset


def playlist_segments(text: str) -> list[str]:
    """The URIs an M3U8 playlist lists (media segments and ``EXT-X-MAP``; in a master
    playlist the variant and ``EXT-X-MEDIA`` rendition playlists), in order."""
    return [uri for uri, _ in _listed(text)]


def grown_playlist(old: bytes, old_refs: Sequence[str], new: bytes) -> tuple[list[str], bool]:
    """The URIs playlist ``new`` lists, and whether they start with ``old_refs``.

    ``old_refs`` are the URIs of the previous version ``old``. A recording's playlist grows by
    lines appended at its end: then only the appended part is parsed, so a long recording's
    playlist is not parsed whole at every new segment. Otherwise (a header changed) ``new`` is
    parsed whole; the flag says whether it still lists ``old_refs`` first.
    """
    if old.endswith(b"\n") and new.startswith(old):
        appended = new[len(old) :].decode(errors="replace")
        return [*old_refs, *playlist_segments(appended)], True
    refs = playlist_segments(new.decode(errors="replace"))
    return refs, refs[: len(old_refs)] == list(old_refs)


def ready_count(refs: Sequence[str], start: int, present: Callable[[str], bool]) -> int:
    """How many of the first ``refs`` are ``present``, knowing the first ``start`` are.

    The uploader keeps this as a cursor per playlist: each segment is looked at once while it
    is the first one missing, however long the recording and however far uploads lag behind.
    """
    count = start
    while count < len(refs) and present(refs[count]):
        count += 1
    return count


def playlist_prefix(data: bytes, count: int) -> bytes:
    """Playlist ``data`` cut after the line of the ``count``-th URI it lists (``count`` >= 1).

    For a playlist that only grows this is the version the writer wrote when that URI was its
    last (modulo ``#EXT-X-TARGETDURATION``, which only grows and so still covers every listed
    segment); it has no ``#EXT-X-ENDLIST``. The bytes of ``data`` are kept as they are.
    """
    if count < 1:
        raise ValueError(f"a playlist prefix lists at least one URI, not {count}")
    text = data.decode("utf-8", errors="surrogateescape")
    for index, (_, end) in enumerate(_listed(text), start=1):
        if index == count:
            cut = text[:end].encode("utf-8", errors="surrogateescape")
            return cut if cut.endswith(b"\n") else cut + b"\n"
    raise ValueError(f"the playlist lists fewer than {count} URIs")


def file_info(key: str, name: str, slice_start_ms: int = 0) -> FileInfo:
    """The fileList item of ``name`` uploaded as ``key``."""
    individual = _INDIVIDUAL.search(name)
    playable = name.endswith(PLAYABLE_SUFFIXES)
    if individual is not None:
        tracks: dict[str, TrackType] = {"audio": "audio", "video": "video"}
        track = tracks.get(individual["type"], "audio_and_video")
        return FileInfo(key, track, individual["uid"], False, playable, slice_start_ms)
    return FileInfo(key, "audio_and_video", "0", True, playable, slice_start_ms)


def object_key(prefix: tuple[str, ...], name: str) -> str:
    """``fileNamePrefix`` parts joined with ``/`` in front of ``name``."""
    return "/".join((*prefix, name))


__all__ = [
    "FileInfo",
    "TrackType",
    "file_info",
    "grown_playlist",
    "is_output_name",
    "is_playlist",
    "is_snapshot",
    "object_key",
    "playlist_prefix",
    "playlist_segments",
    "ready_count",
    "slice_time_ms",
]
