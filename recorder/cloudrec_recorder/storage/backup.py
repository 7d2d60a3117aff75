"""The backup store: where files go when the customer's bucket refuses them.

A directory meant for a persistent volume: ``<root>/<recording id>/<file name>``
plus the recording's sealed storage target (``.cloudrec-target``, see
:mod:`cloudrec_recorder.storage.target`). Every write goes to a temp file that
is fsynced and renamed, so a crash leaves either the old or the new file and
never half of one. A file leaves the store once it is in the customer's bucket;
a recording's directory goes when nothing of it is left.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

TARGET_FILE = ".cloudrec-target"
"""The sealed (encrypted) storage target inside a spool or backup directory."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced temp file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".cloudrec-tmp-{secrets.token_hex(4)}-{path.name}")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def copy_atomically(source: Path, path: Path) -> None:
    """Copy ``source`` to ``path`` through a fsynced temp file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".cloudrec-tmp-{secrets.token_hex(4)}-{path.name}")
    with source.open("rb") as src, tmp.open("wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class BackupStore:
    """Backup copies of undelivered files, one directory per recording."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, recording: str) -> Path:
        return self.root / recording

    def path(self, recording: str, name: str) -> Path:
        return self.root / recording / name

    def put_bytes(self, recording: str, name: str, data: bytes) -> Path:
        path = self.path(recording, name)
        write_atomically(path, data)
        return path

    def put_file(self, recording: str, name: str, source: Path) -> Path:
        path = self.path(recording, name)
        if source.resolve() != path.resolve():
            copy_atomically(source, path)
        return path

    def remove(self, recording: str, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(recording, name).unlink()

    def names(self, recording: str) -> list[str]:
        """The backed-up output files of a recording (no bookkeeping files)."""
        directory = self.directory(recording)
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))

    def recordings(self) -> list[str]:
        """Recordings that have a directory in the store."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def discard_if_empty(self, recording: str) -> None:
        """Remove a recording's directory once no backed-up file is left in it."""
        directory = self.directory(recording)
        if directory.is_dir() and not self.names(recording):
            shutil.rmtree(directory, ignore_errors=True)


__all__ = ["TARGET_FILE", "BackupStore", "copy_atomically", "write_atomically"]
