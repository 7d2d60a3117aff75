"""Spool directory conventions shared by the writers: temporary names, atomic publish."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cloudrec_recorder.media.naming import temporary_name

__all__ = ["FileReady", "publish", "write_text_atomically"]

FileReady = Callable[[str], None]


def publish(spool_dir: Path, name: str, on_file_ready: FileReady) -> None:
    """Rename `.tmp-<name>` to `<name>` and announce it."""
    os.replace(spool_dir / temporary_name(name), spool_dir / name)
    on_file_ready(name)


def write_text_atomically(spool_dir: Path, name: str, text: str, on_file_ready: FileReady) -> None:
    """Write `<name>` through a temporary file, then announce it."""
    (spool_dir / temporary_name(name)).write_text(text, encoding="utf-8")
    publish(spool_dir, name, on_file_ready)
