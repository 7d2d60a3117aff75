"""The upload journal: which objects of a recording are in the bucket, kept in its spool.

Append-only ``<name>\\t<md5 hex>`` lines in ``.cloudrec-uploaded``, one per object uploaded, so a
restarted recorder (or a resumed recording) does not upload an unchanged file again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

__all__ = ["JOURNAL_FILE", "UploadJournal"]

JOURNAL_FILE = ".cloudrec-uploaded"
"""Append-only ``<name>\\t<md5 hex>`` lines, one per object now in the bucket."""


class UploadJournal:
    """The journal of one spool directory: read once at start, appended to per upload."""

    def __init__(self, spool_dir: Path) -> None:
        self.path = spool_dir / JOURNAL_FILE
        self._digests: dict[str, str] = {}

    def load(self) -> None:
        """Read what an earlier run recorded (nothing when there is no journal)."""
        if not self.path.exists():
            return
        for line in self.path.read_text().splitlines():
            name, _, digest = line.partition("\t")
            if name and digest:
                self._digests[name] = digest

    def digest(self, name: str) -> str | None:
        """The MD5 (hex) of the version of ``name`` in the bucket, if one is known."""
        return self._digests.get(name)

    async def add(self, name: str, digest: str) -> None:
        """``name`` with MD5 ``digest`` (hex) is in the bucket now."""
        self._digests[name] = digest
        await asyncio.to_thread(_append_line, self.path, f"{name}\t{digest}\n")


def _append_line(path: Path, line: str) -> None:
    with path.open("a") as out:
        out.write(line)
