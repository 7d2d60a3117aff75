"""Spool file names: the protocol's names (protocol.md §8) and the temporary-file convention.

The names themselves come from `cloudrec_protocol.filenames`; every file being written
carries `TMP_PREFIX` in front of its final name, so a name without it is complete and final.
"""

from __future__ import annotations

from cloudrec_protocol import filenames
from cloudrec_protocol.filenames import Track

__all__ = [
    "TMP_PREFIX",
    "individual_merged_playlist_name",
    "individual_playlist_name",
    "individual_segment_name",
    "mix_mp4_name",
    "mix_playlist_name",
    "mix_segment_name",
    "safe_cname",
    "snapshot_name",
    "temporary_name",
    "utc_stamp",
]

TMP_PREFIX = ".tmp-"

safe_cname = filenames.file_cname
utc_stamp = filenames.utc_stamp


def mix_playlist_name(sid: str, cname: str) -> str:
    return filenames.mix_playlist(sid, cname)


def mix_segment_name(sid: str, cname: str, epoch_ms: int) -> str:
    return filenames.mix_slice(sid, cname, epoch_ms)


def mix_mp4_name(sid: str, cname: str, index: int = 0) -> str:
    return filenames.mix_mp4(sid, cname, index)


def individual_playlist_name(sid: str, cname: str, uid: str, track: Track) -> str:
    return filenames.individual_playlist(sid, cname, uid, track)


def individual_merged_playlist_name(sid: str, cname: str, uid: str) -> str:
    return filenames.individual_merged_playlist(sid, cname, uid)


def individual_segment_name(
    sid: str, cname: str, uid: str, track: Track, epoch_ms: int, extension: str = "ts"
) -> str:
    return filenames.individual_slice(sid, cname, uid, track, epoch_ms, extension)


def snapshot_name(sid: str, cname: str, uid: str, epoch_ms: int) -> str:
    """A snapshot of `uid`'s video taken at `epoch_ms`: the video slice stem, ``.jpg``."""
    return filenames.individual_snapshot(sid, cname, uid, epoch_ms)


def temporary_name(name: str) -> str:
    """The name a file has while it is being written."""
    return TMP_PREFIX + name
