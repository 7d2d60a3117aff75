"""Where this replica's handed-over recordings went: sid -> replica id, kept in the spool.

A recording keeps its resource id when another replica takes it over, and that id names the
replica that first ran it. Requests for the sid still reach that replica (directly or
forwarded) and must follow the recording; the table survives a restart of this replica
because it is one small file per sid under ``<spoolDir>/.handovers/`` (the StatefulSet's
volume). A later hand-over by the taker is the taker's own entry: requests follow the chain.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["REDIRECTS_DIR", "Redirects"]

REDIRECTS_DIR = ".handovers"
_SID = re.compile(r"^[0-9a-f]{32}$")
_REPLICA = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

log = logging.getLogger(__name__)


class Redirects(Mapping[str, str]):
    """The table, read from ``directory`` at start and written through on every change."""

    def __init__(self, spool_dir: Path) -> None:
        self.directory = spool_dir / REDIRECTS_DIR
        self._table: dict[str, str] = {}
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                replica = path.read_text(encoding="utf-8").strip()
                if _SID.match(path.name) and _REPLICA.match(replica):
                    self._table[path.name] = replica

    def record(self, sid: str, replica: str) -> None:
        """``sid`` is now held by ``replica``."""
        if not _SID.match(sid) or not _REPLICA.match(replica):
            raise ValueError("sid or replica id malformed")
        self._table[sid] = replica
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / sid).write_text(replica + "\n", encoding="utf-8")
        except OSError as exc:  # the redirect still works until this process ends
            log.warning("Redirect not saved sid=%s error=%s", sid, type(exc).__name__)

    def forget(self, sid: str) -> None:
        """``sid`` is held here again (taken back in a later hand-over)."""
        self._table.pop(sid, None)
        (self.directory / sid).unlink(missing_ok=True)

    def __getitem__(self, sid: str) -> str:
        return self._table[sid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)
