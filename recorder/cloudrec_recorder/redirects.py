"""Where this replica's handed-over recordings went: (app id, sid) -> replica id, in the spool.

A recording keeps its resource id when another replica takes it over, and that id names the
replica that first ran it. Requests for the sid still reach that replica (directly or
forwarded) and must follow the recording; the table survives a restart of this replica
because it is one small file per recording under ``<spoolDir>/.handovers/`` (the
StatefulSet's volume), named ``<sid>.<app id in hex>``. A later hand-over by the taker is the
taker's own entry: requests follow the chain.

Entries are per app id (:class:`~cloudrec_recorder.recordingkey.RecordingKey`): a request
under one app id never follows another app's redirect, and an offer under one app id never
removes another app's. A file named by the sid alone was written before entries had an app
id (a real hand-over of this replica's): it still counts for every app id (a sid held here
is handled here whatever the table says), and only a hand-over of this replica's replaces it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from cloudrec_recorder.recordingkey import RecordingKey

__all__ = ["REDIRECTS_DIR", "Redirects"]

REDIRECTS_DIR = ".handovers"
_SID = re.compile(r"^[0-9a-f]{32}$")
_FILE = re.compile(r"^(?P<sid>[0-9a-f]{32})(\.(?P<app>(?:[0-9a-f]{2}){1,100}))?$")
_REPLICA = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_ANY_APP = ""
"""The app id of an entry written before entries had one."""

log = logging.getLogger(__name__)


def _file_name(key: RecordingKey) -> str:
    return key.sid if key.appid == _ANY_APP else f"{key.sid}.{key.appid.encode().hex()}"


class Redirects(Mapping[RecordingKey, str]):
    """The table, read from ``directory`` at start and written through on every change."""

    def __init__(self, spool_dir: Path) -> None:
        self.directory = spool_dir / REDIRECTS_DIR
        self._table: dict[RecordingKey, str] = {}
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                found = _FILE.match(path.name)
                replica = path.read_text(encoding="utf-8").strip()
                if found is None or not _REPLICA.match(replica):
                    continue
                app = found["app"]
                appid = _ANY_APP if app is None else bytes.fromhex(app).decode(errors="replace")
                self._table[RecordingKey(appid, found["sid"])] = replica

    def record(self, key: RecordingKey, replica: str) -> None:
        """``key`` is now held by ``replica``."""
        if not _SID.match(key.sid) or not key.appid or not _REPLICA.match(replica):
            raise ValueError("sid, app id or replica id malformed")
        self._table[key] = replica
        self._table.pop(RecordingKey(_ANY_APP, key.sid), None)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / _file_name(key)).write_text(replica + "\n", encoding="utf-8")
            (self.directory / key.sid).unlink(missing_ok=True)
        except OSError as exc:  # the redirect still works until this process ends
            log.warning("Redirect not saved sid=%s error=%s", key.sid, type(exc).__name__)

    def forget(self, key: RecordingKey) -> None:
        """``key`` is held here again (taken back in a later hand-over)."""
        self._table.pop(key, None)
        (self.directory / _file_name(key)).unlink(missing_ok=True)

    def where(self, key: RecordingKey) -> str | None:
        """Where ``key`` went from here, if it did."""
        return self._table.get(key) or self._table.get(RecordingKey(_ANY_APP, key.sid))

    def of_app(self, appid: str) -> dict[str, str]:
        """sid -> replica, for the requests of ``appid``."""
        return {
            key.sid: replica
            for key, replica in sorted(self._table.items())
            if key.appid in (appid, _ANY_APP)
        }

    def __getitem__(self, key: RecordingKey) -> str:
        return self._table[key]

    def __iter__(self) -> Iterator[RecordingKey]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)
