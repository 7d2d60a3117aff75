"""A recording's spool directory after delivery: removed, unless the settings keep it.

The spool holds what the media writer produced until it is in the customer's
bucket, plus the recording's sealed storage target. Once the uploader marks a
recording delivered (``.cloudrec-delivered``), nothing in it is needed any
more. Only a directory carrying that mark is ever removed, so a segment that
is not yet in the bucket is never lost to clean-up.

The one other kind removed is a hand-over taker's spool that never became its own
(``.cloudrec-taking``: the giver was not done when the taker stopped or died). Its files
carry the giver's names; delivering them would overwrite the giver's.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from cloudrec_recorder.storage.uploader import DELIVERED_FILE

log = logging.getLogger(__name__)

TAKING_FILE = ".cloudrec-taking"
"""In a hand-over taker's spool until the giver is done: its files are not its to deliver."""


def is_delivered(directory: Path) -> bool:
    """True when the uploader marked this recording's spool delivered."""
    return (directory / DELIVERED_FILE).is_file()


def remove_delivered(directory: Path) -> bool:
    """Remove a delivered recording's spool directory; False (and untouched) otherwise."""
    if not is_delivered(directory):
        return False
    shutil.rmtree(directory, ignore_errors=True)
    log.debug("Removed the delivered spool %s", directory.name)
    return not directory.exists()


def is_uncommitted(directory: Path) -> bool:
    """A hand-over taker's spool whose giver never finished (its files are not to go up)."""
    return (directory / TAKING_FILE).is_file()


def remove_spool(directory: Path) -> None:
    """Remove a spool directory whatever it holds (an abandoned taker's)."""
    shutil.rmtree(directory, ignore_errors=True)


def remove_all_uncommitted(spool_root: Path) -> list[str]:
    """Remove every abandoned taker's spool under ``spool_root`` (an earlier run's); their
    names."""
    if not spool_root.is_dir():
        return []
    found = sorted(d.name for d in spool_root.iterdir() if d.is_dir() and is_uncommitted(d))
    for name in found:
        remove_spool(spool_root / name)
    return found


def remove_all_delivered(spool_root: Path) -> list[str]:
    """Remove every delivered spool under ``spool_root`` (an earlier run's); their names."""
    if not spool_root.is_dir():
        return []
    return sorted(d.name for d in spool_root.iterdir() if d.is_dir() and remove_delivered(d))


__all__ = [
    "TAKING_FILE",
    "is_delivered",
    "is_uncommitted",
    "remove_all_delivered",
    "remove_all_uncommitted",
    "remove_delivered",
    "remove_spool",
]
