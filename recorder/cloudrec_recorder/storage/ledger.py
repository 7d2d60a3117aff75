"""Pure bookkeeping of one recording's uploads: what is where, and what the bucket may list.

No I/O here: the uploader tells the ledger what happened (a file became final, a copy reached
the bucket or the backup) and asks it what follows (which playlist version the bucket can get
now, the progress, whether everything is delivered, the ``fileList``).

A playlist is held in its newest version only, whatever the upload backlog: a playlist only
grows, so the version the bucket may get next is the newest one cut after its last listed
segment that is in the bucket already (``Playlist.ready``; see
:func:`~cloudrec_recorder.storage.files.playlist_prefix`). The bucket's playlist never lists a
missing segment, keeps advancing while uploads lag, and the work per new version does not grow
with the backlog (each segment is checked once, only appended lines are parsed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cloudrec_protocol.manifest import ManifestObject
from cloudrec_recorder.storage.files import (
    FileInfo,
    grown_playlist,
    is_playlist,
    playlist_prefix,
    ready_count,
)

__all__ = ["Media", "MediaState", "Playlist", "PlaylistUpload", "UploadLedger"]

MediaState = Literal["pending", "uploaded", "backuped"]


@dataclass(slots=True)
class Media:
    """A segment or MP4 file of the recording."""

    name: str
    size: int
    ready_at: float
    start_ms: int | None
    """The slice time in the name (parsed once), or the one the writer gave."""
    state: MediaState = "pending"
    queued: bool = False
    reported_backup: bool = False
    in_backup: bool = False
    uploaded_at: float | None = None
    sha256: str | None = None
    """Lowercase hex SHA-256 of the bytes uploaded (for the manifest), once read."""


@dataclass(slots=True)
class Playlist:
    """A playlist: only its newest version is held (see the module docstring)."""

    name: str
    data: bytes = b""
    refs: list[str] = field(default_factory=list)
    version: int = 0
    uploaded_version: int = 0
    backuped_version: int = 0
    busy: bool = False
    ready: int = 0
    """How many of the first ``refs`` are in the bucket (a cursor that only moves forward)."""
    published: int = 0
    """How many ``refs`` the copy in the bucket lists (0: none or unknown)."""
    in_backup: bool = False
    """A copy (maybe older) is in the backup store."""
    reported_backup: bool = False

    @property
    def delivered(self) -> bool:
        """The newest version is in the bucket or the backup."""
        return self.version in (self.uploaded_version, self.backuped_version)


@dataclass(frozen=True, slots=True)
class PlaylistUpload:
    """What the bucket can get of a playlist now."""

    version: int | None
    """The version uploaded whole, or None for the newest version cut short."""
    data: bytes
    listed: int
    """How many segments ``data`` lists."""


class UploadLedger:
    """What one recording's uploader knows of its files."""

    def __init__(self) -> None:
        self.media: dict[str, Media] = {}
        self.playlists: dict[str, Playlist] = {}
        self.elsewhere: set[str] = set()
        """Files put in the bucket by another replica (the giver of a hand-over)."""
        self.given: dict[str, ManifestObject] = {}
        """The giver's manifest objects by key: this manifest vouches for them too."""
        self._progress = 0

    # ------------------------------------------------------------------ input

    def record_version(
        self, playlist: Playlist, data: bytes, *, in_bucket_digest: str | None, from_backup: bool
    ) -> bool:
        """A new version ``data`` of ``playlist``; False when it is the version held already.

        ``in_bucket_digest`` is the journal's MD5 (hex) of the bucket's copy: equal to the new
        version's, that version is in the bucket already (a restart); ``from_backup`` says the
        version was read from the backup store.
        """
        if data == playlist.data:
            return False
        refs, grown = grown_playlist(playlist.data, playlist.refs, data)
        if not grown:  # rewritten rather than appended to: look at every segment again
            playlist.ready = playlist.published = 0
        playlist.data = data
        playlist.refs = refs
        playlist.version += 1
        if in_bucket_digest == hashlib.md5(data, usedforsecurity=False).hexdigest():
            playlist.uploaded_version = playlist.version
            playlist.ready = playlist.published = len(refs)
        elif from_backup:
            playlist.backuped_version = playlist.version
        return True

    def playlist_uploaded(self, playlist: Playlist, upload: PlaylistUpload) -> bool:
        """``upload`` reached the bucket; True when that was the newest version whole and a
        copy in the backup can go."""
        playlist.published = upload.listed
        if upload.version is not None:
            playlist.uploaded_version = upload.version
        playlist.busy = False
        if playlist.in_backup and upload.version == playlist.version:
            playlist.in_backup = False
            playlist.backuped_version = 0
            return True
        return False

    # ------------------------------------------------------------------ questions

    def in_bucket(self, name: str) -> bool:
        if is_playlist(name):  # listed by a master playlist: some version of it is up
            playlist = self.playlists.get(name)
            return playlist is not None and playlist.published > 0
        media = self.media.get(name)
        if media is None:
            return name in self.elsewhere
        return media.state == "uploaded"

    def next_upload(self, playlist: Playlist) -> PlaylistUpload | None:
        """What the bucket can get of ``playlist`` now, if anything.

        The whole newest version once every segment it lists is in the bucket; before that, the
        newest version cut after its last segment in the bucket, when that lists more than the
        bucket's copy does (the bucket's playlist keeps advancing while uploads lag behind).
        """
        playlist.ready = ready_count(playlist.refs, playlist.ready, self.in_bucket)
        if playlist.ready == len(playlist.refs):
            return PlaylistUpload(playlist.version, playlist.data, playlist.ready)
        master = any(is_playlist(ref) for ref in playlist.refs)  # goes up whole or not at all
        if playlist.ready > playlist.published and not master:
            return PlaylistUpload(
                None, playlist_prefix(playlist.data, playlist.ready), playlist.ready
            )
        return None

    def progress(self, *, final: bool) -> int:
        """Delivered share (bucket or backup) of the recorded bytes, 0-10000.

        It never goes down, and stays below 10000 until the recording is ``final`` (finished
        with a known upload status).
        """
        total = done = 0
        for media in self.media.values():
            total += media.size
            if media.state != "pending":
                done += media.size
        for playlist in self.playlists.values():
            total += len(playlist.data)
            if playlist.delivered:
                done += len(playlist.data)
        value = 10000 * done // total if total else 0
        if not final:
            value = min(value, 9999)
        self._progress = max(self._progress, value)
        return self._progress

    def latencies(self) -> list[float]:
        """Seconds from a segment being final to its object being in the bucket."""
        return [
            m.uploaded_at - m.ready_at for m in self.media.values() if m.uploaded_at is not None
        ]

    def held_playlist_bytes(self) -> int:
        """Bytes of playlist text held in memory: one version (the newest) per playlist."""
        return sum(len(playlist.data) for playlist in self.playlists.values())

    def settled(self) -> bool:
        """Every file is in the bucket or the backup, and no playlist upload is under way."""
        if any(m.state == "pending" for m in self.media.values()):
            return False
        return all(not p.busy and p.delivered for p in self.playlists.values())

    def all_in_bucket(self) -> bool:
        """Every file, and every playlist's newest version, is in the bucket."""
        return all(m.state == "uploaded" for m in self.media.values()) and all(
            not p.busy and p.uploaded_version == p.version for p in self.playlists.values()
        )

    def manifest_objects(self, key: Callable[[str], str]) -> tuple[ManifestObject, ...]:
        """What the manifest lists: every file in the bucket, with ``key(name)`` its object key,
        its size and SHA-256 (a playlist's newest version, the one the bucket holds once
        everything is delivered), sorted by key."""
        objects = [
            ManifestObject(key=key(m.name), size=m.size, sha256=m.sha256)
            for m in self.media.values()
            if m.state == "uploaded" and m.sha256 is not None
        ]
        objects += [
            ManifestObject(
                key=key(p.name), size=len(p.data), sha256=hashlib.sha256(p.data).hexdigest()
            )
            for p in self.playlists.values()
            if p.uploaded_version == p.version and p.version > 0
        ]
        own = {o.key for o in objects}  # a playlist both wrote: this replica's is the bucket's
        objects += [o for k, o in self.given.items() if k not in own]
        return tuple(sorted(objects, key=lambda o: o.key))

    def playable_files(self, info: Callable[[str, int], FileInfo]) -> tuple[FileInfo, ...]:
        """The ``fileList``: playlists and MP4s, each with its first slice time."""
        infos: list[FileInfo] = []
        for name in sorted(self.playlists):
            refs = list(self.playlists[name].refs)
            for ref in [r for r in refs if r in self.playlists]:  # a master: its playlists' refs
                refs += self.playlists[ref].refs
            listed = (self.media.get(r) for r in refs)
            stamps = [m.start_ms for m in listed if m is not None and m.start_ms is not None]
            infos.append(info(name, min(stamps, default=0)))
        every = [m.start_ms for m in self.media.values() if m.start_ms is not None]
        for name in sorted(self.media):
            if name.endswith(".mp4"):
                own = self.media[name].start_ms
                infos.append(info(name, own if own is not None else min(every, default=0)))
        return tuple(infos)
