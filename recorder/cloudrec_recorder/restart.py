"""After a crash or a kill: deliver what the previous run left in the spool and the backup.

Each recording writes ``.cloudrec-recording.json`` (app id, cname, uid, mode; no secrets)
into its spool directory at start. When the process starts again, :func:`recover_leftovers`
(a background job of the app) hands every undelivered recording to
:func:`cloudrec_recorder.storage.recovery.recover`, with that recording's callbacks: the
uploader's events (30-33) and, once its files are in the bucket, ``session_exit`` (11) with
``exitStatus`` 1, since the recording itself ended abnormally. Without
``storageEncryptionKey`` the storage targets were never written to disk and nothing can be
recovered (a warning says so).

A recording also keeps its manifest timeline in ``.cloudrec-timeline.json`` (written at its
first media and whenever the timeline grows: a pause, a resume, a gap, a hand-over). A
recovered recording's manifest goes up last, as a running one's does, with that timeline and a
``Restarted`` entry: when this replica restarted and took the recording's delivery up (its
``detail`` names the replica). Its media ended when the earlier process did, so there is no
``Stopped``. A recording this replica handed over gets none: its taker's manifest is the one.
A recording a peer took over while this replica was gone keeps the recording's manifest name
for the taker's (final) manifest: the recovered part's goes under its part name
(:class:`~cloudrec_recorder.storage.manifest.RecoveredPart`, docs/verification.md).
A recording this replica was taking over when it died, before its giver was done, is removed
unsent (``.cloudrec-taking``): its files carry the giver's names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from cloudrec_protocol.manifest import TimelineEntry, TimelineKind
from cloudrec_recorder.egress import EgressGuard
from cloudrec_recorder.events import RecordingEvents, UploaderEvents
from cloudrec_recorder.ports import RecorderState
from cloudrec_recorder.recordingkey import RecordingKey
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.storage.backup import BackupStore
from cloudrec_recorder.storage.manifest import ManifestSource, RecoveredPart
from cloudrec_recorder.storage.recovery import Recovered, recover
from cloudrec_recorder.storage.spool import (
    remove_all_delivered,
    remove_all_uncommitted,
    remove_delivered,
)
from cloudrec_recorder.storage.target import fernet_for
from cloudrec_recorder.storage.uploader import EventSink, UploadPolicy

log = logging.getLogger(__name__)

METADATA_FILE = ".cloudrec-recording.json"
TIMELINE_FILE = ".cloudrec-timeline.json"

_ENTRIES = TypeAdapter(list[TimelineEntry])


def write_metadata(spool_dir: Path, *, appid: str, cname: str, uid: str, mode: str) -> None:
    """The directory is named after the sid, or ``<sid>.bak<n>`` (a taken-over part's)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    data = {"appid": appid, "cname": cname, "uid": uid, "mode": mode}
    if "." in spool_dir.name:
        data["sid"] = spool_dir.name.split(".", 1)[0]
    (spool_dir / METADATA_FILE).write_text(json.dumps(data))


def part_prefix(recording: str) -> str:
    """The file prefix of the part a spool directory holds: ``bak<n>_`` for ``<sid>.bak<n>``,
    ``""`` for ``<sid>`` (see :func:`write_metadata`)."""
    return f"{recording.split('.', 1)[1]}_" if "." in recording else ""


def read_metadata(spool_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((spool_dir / METADATA_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def spool_apps(spool_root: Path, sid: str) -> set[str]:
    """The app ids of the spool directories of ``sid`` here (its own and its taken-over
    parts'), as their metadata says: a recording of another app id must not write there."""
    apps = set()
    for spool_dir in (spool_root / sid, *spool_root.glob(f"{sid}.*")):
        appid = read_metadata(spool_dir).get("appid")
        if appid is not None:
            apps.add(appid)
    return apps


def write_timeline(spool_dir: Path, entries: Sequence[TimelineEntry]) -> None:
    """Keep the recording's timeline so far in its spool (a restart's manifest reads it)."""
    data = _ENTRIES.dump_json(list(entries), by_alias=True, exclude_none=True)
    tmp = spool_dir / f"{TIMELINE_FILE}.tmp"
    try:
        tmp.write_bytes(data)
        tmp.replace(spool_dir / TIMELINE_FILE)
    except OSError as exc:  # the recording goes on; only a restart's manifest misses it
        log.warning("Could not keep the timeline in %s: %s", spool_dir.name, exc)


def read_timeline(spool_dir: Path) -> list[TimelineEntry]:
    """The timeline a recording kept in its spool (empty when there is none or it is bad)."""
    try:
        return _ENTRIES.validate_json((spool_dir / TIMELINE_FILE).read_bytes())
    except (OSError, ValidationError):
        return []


def restarted_timeline(
    spool_dir: Path, replica: str, now_ms: int | None = None
) -> list[TimelineEntry]:
    """A recovered recording's timeline: what it kept, then ``Restarted`` (now, here)."""
    at_ms = int(time.time() * 1000) if now_ms is None else now_ms
    restarted = TimelineEntry(
        kind=TimelineKind.RESTARTED, at_ms=at_ms, detail=f"recovered by replica {replica}"
    )
    return [*read_timeline(spool_dir), restarted]


async def recover_leftovers(state: RecorderState) -> None:
    """Background job: deliver earlier runs' undelivered recordings (see the module docstring)."""
    settings = state.settings
    abandoned = await asyncio.to_thread(remove_all_uncommitted, settings.spool_dir)
    if abandoned:  # a hand-over's taker whose giver was not done: the names are the giver's
        log.info("Removed %d spool(s) of hand-overs never completed here", len(abandoned))
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

    private_key = settings.manifest_private_key()
    handed_over = Redirects(settings.spool_dir)

    def manifest_for(recording: str) -> ManifestSource | None:
        spool_dir = settings.spool_dir / recording
        meta = read_metadata(spool_dir)
        if handed_over.where(RecordingKey(meta.get("appid", ""), recording)) is not None:
            return None  # its taker's manifest tells the whole recording
        secret = settings.callbacks_for(meta.get("appid", "")).secret
        timeline = restarted_timeline(spool_dir, settings.replica_id)
        sid, appid = meta.get("sid", recording), meta.get("appid", "")

        async def held_elsewhere() -> bool:
            ask = state.held_elsewhere
            return ask is not None and await ask(appid, sid) is not None

        return ManifestSource(
            sid=sid,
            cname=meta.get("cname") or "unknown",
            uid=meta.get("uid") or "0",
            secret=secret.get_secret_value() if secret else None,
            timeline=lambda: timeline,
            private_key=private_key,
            prefix=part_prefix(recording),
            recovered=RecoveredPart(held_elsewhere),
        )

    recovered = await recover(
        settings.spool_dir,
        BackupStore(settings.backup_dir),
        fernet_for(settings.storage_encryption_key),
        events_for,
        policy=UploadPolicy(progress_interval=settings.progress_interval_seconds),
        within=settings.drain_timeout_seconds,
        egress=EgressGuard.from_settings(settings.egress),
        manifest_for=manifest_for,
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
    held_elsewhere: Callable[[str, str], Awaitable[str | None]] | None,
) -> None:
    try:
        await item.uploader.wait_delivered(24 * 3600.0)
        sid = events.sid
        appid = read_metadata(spool_root / item.recording).get("appid", "")
        holder = await held_elsewhere(appid, sid) if held_elsewhere is not None else None
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
