"""After a restart: find recordings whose files never reached the bucket and deliver them.

A recording's spool directory (``<spool root>/<recording>``) and its backup
directory (``<backup root>/<recording>``) both survive a restart. Each holds
the recording's sealed storage target (``.cloudrec-target``); the spool also
holds the upload journal and, once everything is in the bucket,
``.cloudrec-delivered``. :func:`recover` starts one
:class:`~cloudrec_recorder.storage.uploader.Uploader` per undelivered recording,
feeds it every final file (segments first, then playlists and MP4s; files the
journal lists with the same MD5 are not sent again) and finishes it; with ``manifest_for``,
the manifest goes up last, as a running recording's does. The
uploaders keep re-uploading in the background if the bucket is still down; the
caller closes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from cloudrec_recorder.egress import EgressGuard
from cloudrec_recorder.storage.backup import TARGET_FILE, BackupStore
from cloudrec_recorder.storage.backup_bucket import BackupBucket
from cloudrec_recorder.storage.files import is_output_name, is_playlist
from cloudrec_recorder.storage.manifest import ManifestSource
from cloudrec_recorder.storage.target import SealedTargetError, open_target
from cloudrec_recorder.storage.uploader import (
    DELIVERED_FILE,
    EventSink,
    Uploader,
    UploadPolicy,
    UploadResult,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    """One recording :func:`recover` took up again."""

    recording: str
    uploader: Uploader
    result: UploadResult


def undelivered_recordings(spool_root: Path, backup: BackupStore) -> list[str]:
    """Recordings with files in the backup, or a spool not marked delivered."""
    found = {r for r in backup.recordings() if backup.names(r)}
    if spool_root.is_dir():
        for directory in spool_root.iterdir():
            hidden = directory.name.startswith(".")  # e.g. the hand-over redirects
            if directory.is_dir() and not hidden and not (directory / DELIVERED_FILE).exists():
                found.add(directory.name)
    return sorted(found)


def _delivery_order(names: set[str]) -> list[str]:
    """Segments first, then MP4s, playlists last (they list the segments)."""
    return sorted(names, key=lambda n: (is_playlist(n), n.endswith(".mp4"), n))


async def recover(
    spool_root: Path,
    backup: BackupStore,
    sealing_key: Fernet,
    events_for: Callable[[str], EventSink],
    *,
    policy: UploadPolicy | None = None,
    within: float = 60.0,
    backup_bucket: BackupBucket | None = None,
    egress: EgressGuard | None = None,
    manifest_for: Callable[[str], ManifestSource | None] | None = None,
) -> list[Recovered]:
    """Deliver what earlier runs left undelivered; one :class:`Recovered` per recording.

    ``events_for(recording)`` gives the event sink of a recording (its sid);
    ``manifest_for(recording)`` what its manifest needs (None: no manifest).
    Recordings whose sealed target is missing or does not open with this key
    are logged and left on disk untouched. With ``backup_bucket`` (started by
    the caller), copies found there and missing locally are fetched first.
    """
    if backup_bucket is not None:
        for recording in await backup_bucket.recordings():
            fetched = await backup_bucket.fetch_all(recording, backup.directory(recording))
            if fetched:
                log.info("Fetched %d backup copies of recording %s", len(fetched), recording)
    recovered: list[Recovered] = []
    for recording in undelivered_recordings(spool_root, backup):
        spool_dir = spool_root / recording
        sealed = [spool_dir / TARGET_FILE, backup.directory(recording) / TARGET_FILE]
        token = next((p.read_bytes() for p in sealed if p.is_file()), None)
        if token is None:
            log.warning("Recording %s left files but no storage target; skipped", recording)
            continue
        try:
            target = open_target(token, sealing_key)
        except SealedTargetError as error:
            log.warning("Recording %s cannot be recovered: %s", recording, error)
            continue
        names = set(backup.names(recording))
        if spool_dir.is_dir():
            names |= {p.name for p in spool_dir.iterdir() if is_output_name(p.name)}
        if not names:
            backup.discard_if_empty(recording)
            continue
        log.info("Recovering recording %s: %d file(s) to deliver", recording, len(names))
        uploader = Uploader(
            target,
            spool_dir,
            backup,
            events_for(recording),
            policy=policy,
            sealing_key=sealing_key,
            backup_bucket=backup_bucket,
            egress=egress,
            manifest=manifest_for(recording) if manifest_for is not None else None,
        )
        await uploader.start()
        await uploader.abort_unfinished_uploads()
        for name in _delivery_order(names):
            uploader.file_ready(name)
        result = await uploader.finish(within=within)
        recovered.append(Recovered(recording, uploader, result))
    return recovered


__all__ = ["Recovered", "recover", "undelivered_recordings"]
