"""After a crash or a kill: deliver what the previous run left in the spool and the backup.

Each recording writes ``.cloudrec-recording.json`` (app id, cname, uid, mode; no secrets)
into its spool directory at start. When the process starts again, :func:`recover_leftovers`
(a background job of the app) hands every undelivered recording to
:func:`cloudrec_recorder.storage.recovery.recover`, with that recording's callbacks: the
uploader's events (30-33) and, once its files are in the bucket, ``session_exit`` (11) with
``exitStatus`` 1, since the recording itself ended abnormally. Without
``storageEncryptionKey`` the storage targets were never written to disk and nothing can be
recovered (a warning says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from cloudrec_recorder.egress import EgressGuard
from cloudrec_recorder.events import RecordingEvents, UploaderEvents
from cloudrec_recorder.ports import RecorderState
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.recovery import Recovered, recover
from cloudrec_recorder.storage.spool import remove_all_delivered, remove_delivered
from cloudrec_recorder.storage.target import fernet_for
from cloudrec_recorder.storage.uploader import EventSink, UploadPolicy

log = logging.getLogger(__name__)

METADATA_FILE = ".cloudrec-recording.json"


def write_metadata(
    spool_dir: Path, *, appid: str, cname: str, uid: str, mode: str, sid: str | None = None
) -> None:
    """``sid``: when the directory is not named after it (a take-over's ``<sid>.bak<n>``)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    data = {"appid": appid, "cname": cname, "uid": uid, "mode": mode}
    if sid is not None and sid != spool_dir.name:
        data["sid"] = sid
    (spool_dir / METADATA_FILE).write_text(json.dumps(data))


def read_metadata(spool_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((spool_dir / METADATA_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


async def recover_leftovers(state: RecorderState) -> None:
    """Background job: deliver earlier runs' undelivered recordings (see the module docstring)."""
    settings = state.settings
    if not settings.keep_delivered_spool:
        removed = await asyncio.to_thread(remove_all_delivered, settings.spool_dir)
        if removed:
            log.info("Removed %d delivered spool(s) an earlier run left", len(removed))
    if settings.storage_encryption_key is None:
        if settings.spool_dir.is_dir() and any(settings.spool_dir.iterdir()):
            log.warning("Spool has earlier recordings but no storageEncryptionKey: not recovered")
        return
    events: dict[str, RecordingEvents] = {}

    def events_for(recording: str) -> EventSink:
        meta = read_metadata(settings.spool_dir / recording)
        appid = meta.get("appid", "")
        events[recording] = RecordingEvents(
            state.sender,
            settings.callbacks_for(appid),
            meta.get("cname", ""),
            meta.get("uid", ""),
            meta.get("sid", recording),
        )
        return UploaderEvents(events[recording])

    recovered = await recover(
        settings.spool_dir,
        BackupStore(settings.backup_dir),
        fernet_for(settings.storage_encryption_key),
        events_for,
        policy=UploadPolicy(progress_interval=settings.progress_interval_seconds),
        within=settings.drain_timeout_seconds,
        egress=EgressGuard.from_settings(settings.egress),
    )
    await asyncio.gather(
        *(
            _settle(
                item,
                events[item.recording],
                settings.spool_dir,
                settings.keep_delivered_spool,
                state.held_elsewhere,
            )
            for item in recovered
        )
    )


async def _settle(
    item: Recovered,
    events: RecordingEvents,
    spool_root: Path,
    keep: bool,
    held_elsewhere: Callable[[str], Awaitable[str | None]] | None,
) -> None:
    try:
        await item.uploader.wait_delivered(24 * 3600.0)
        sid = events.sid
        holder = await held_elsewhere(sid) if held_elsewhere is not None else None
        if holder is not None:  # taken over: it goes on there, it did not end
            log.info("Recovered recording delivered sid=%s; held by %s", sid, holder)
            return
        log.info("Recovered recording delivered sid=%s", sid)
        events.session_exit(abnormal=True)
    finally:
        with contextlib.suppress(Exception):
            await item.uploader.aclose()
    if not keep:
        await asyncio.to_thread(remove_delivered, spool_root / item.recording)
