"""The files of a recording as ``status.files`` lists them (pure).

Two kinds of report name files (protocol.md §3.3, §3.6, §7.6):

* the playlists and MP4s come in whole lists: every query and stop answer, and events 4,
  31 and 32, name every one of them again, with the ``fileList`` fields (``trackType``,
  ``uid``, ``mixedAllUser``, ``isPlayable``, ``sliceStartTime``);
* snapshots come one at a time: event 45 names each JPG once (a task that also records
  lists them with the rest only where a service does so).

The list is bounded (``MAX_STATUS_FILES`` names of at most ``MAX_STATUS_FILE_NAME``
characters). Snapshots take at most ``SNAPSHOT_PLACES`` of its places, so a long snapshot
task never crowds out its playlists. ``filesOmitted`` counts what is not listed: each file
reported one by one once (event 45 names each snapshot once), and of the whole lists the
largest number any one of them left out (the same playlist named by every query is counted
once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from cloudrec_operator.api.enums import TrackType
from cloudrec_operator.api.v1alpha1.cloudrecording import (
    MAX_STATUS_FILE_NAME,
    MAX_STATUS_FILES,
    RecordedFile,
)
from cloudrec_protocol.events import SnapshotFileDetails
from cloudrec_protocol.filenames import is_snapshot, parse_individual, parse_utc_stamp
from cloudrec_protocol.models import FileInfo

SNAPSHOT_PLACES = MAX_STATUS_FILES - 64
"""Places of ``status.files`` snapshots may take; the rest are kept for playable files
(an individual recording has at most 17 uids x 3 playlists)."""

_UID = re.compile(r"^[0-9]{1,10}$")


@dataclass(frozen=True)
class FileRecord:
    """One file of the recording, with what the service said about it."""

    name: str
    track_type: TrackType | None = None
    uid: str | None = None
    """The uid the file records; "0" for a mix of every user."""
    mixed_all_user: bool | None = None
    is_playable: bool | None = None
    slice_start_time: int | None = None
    """ms since the epoch."""

    @property
    def snapshot(self) -> bool:
        return is_snapshot(self.name)

    def completed_by(self, other: FileRecord) -> FileRecord:
        """This record with the fields ``other`` knows and this one does not."""
        missing = {
            field: getattr(other, field)
            for field in ("track_type", "uid", "mixed_all_user", "is_playable", "slice_start_time")
            if getattr(self, field) is None and getattr(other, field) is not None
        }
        return replace(self, **missing) if missing else self

    def to_status(self) -> RecordedFile:
        return RecordedFile(
            file_name=self.name,
            track_type=self.track_type,
            uid=self.uid,
            mixed_all_user=self.mixed_all_user,
            is_playable=self.is_playable,
            slice_start_time=self.slice_start_time,
        )


def _uid(value: str | None) -> str | None:
    return value if value is not None and _UID.match(value) else None


def _time(value: int | None) -> int | None:
    return value if value is not None and value >= 0 else None


def from_file_info(item: FileInfo) -> FileRecord:
    """A ``fileList`` item (JSON file list mode), kept only as far as the status allows."""
    return FileRecord(
        name=item.file_name,
        track_type=TrackType.from_wire(item.track_type) if item.track_type else None,
        uid=_uid(item.uid),
        mixed_all_user=item.mixed_all_user,
        is_playable=item.is_playable,
        slice_start_time=_time(item.slice_start_time),
    )


def from_file_list(file_list: str | list[FileInfo] | None) -> tuple[FileRecord, ...]:
    """``fileList`` in either mode: a playlist name (string mode) or the JSON items."""
    if isinstance(file_list, str):
        return (FileRecord(file_list),) if file_list else ()
    return tuple(from_file_info(item) for item in file_list or ())


def from_snapshot(details: SnapshotFileDetails) -> FileRecord:
    """Event 45's JPG: its uid and capture time as the snapshot's name spells them."""
    parsed = parse_individual(details.file_name)
    return FileRecord(
        name=details.file_name,
        track_type=TrackType.VIDEO,
        uid=_uid(parsed[0]) if parsed else None,
        mixed_all_user=False,
        is_playable=False,
        slice_start_time=parse_utc_stamp(details.file_name),
    )


def from_status(file: RecordedFile) -> FileRecord:
    return FileRecord(
        name=file.file_name,
        track_type=file.track_type,
        uid=file.uid,
        mixed_all_user=file.mixed_all_user,
        is_playable=file.is_playable,
        slice_start_time=file.slice_start_time,
    )


@dataclass(frozen=True)
class Listed:
    """What ``status.files`` holds: the listed files and how many more there are."""

    files: tuple[FileRecord, ...] = ()
    omitted: int = 0
    """Files not listed (``filesOmitted``)."""
    snapshots_omitted: int = 0
    """Of those, snapshots (each counted once, as it was reported)."""

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)

    def merge(self, new: Iterable[FileRecord], *, one_by_one: bool = False) -> Listed:
        """Add the files of one report, first-seen order: a whole list (query, stop,
        events 4/31/32), or (``one_by_one``) files reported once each (event 45)."""
        listed = {f.name: f for f in self.files}
        snapshots = sum(f.snapshot for f in self.files)
        snapshots_omitted = self.snapshots_omitted
        left_out = 0
        for file in new:
            known = listed.get(file.name)
            if known is not None:
                listed[file.name] = known.completed_by(file)
                continue
            room = len(listed) < MAX_STATUS_FILES and 0 < len(file.name) <= MAX_STATUS_FILE_NAME
            if file.snapshot:
                room = room and snapshots < SNAPSHOT_PLACES
                snapshots += room
            if room:
                listed[file.name] = file
            elif one_by_one:
                snapshots_omitted += 1
            else:
                left_out += 1
        # a whole list names its files again each time: what it leaves out is counted once
        list_omitted = max(self.omitted - self.snapshots_omitted, left_out)
        return Listed(tuple(listed.values()), list_omitted + snapshots_omitted, snapshots_omitted)


__all__ = [
    "SNAPSHOT_PLACES",
    "FileRecord",
    "Listed",
    "from_file_info",
    "from_file_list",
    "from_snapshot",
    "from_status",
]
