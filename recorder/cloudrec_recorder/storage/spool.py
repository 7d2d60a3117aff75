"""A recording's spool directory after delivery: removed, unless the settings keep it.

The spool holds what the media writer produced until it is in the customer's
bucket, plus the recording's sealed storage target. Once the uploader marks a
recording delivered (``.cloudrec-delivered``), nothing in it is needed any
more. Only a directory carrying that mark is ever removed, so a segment that
is not yet in the bucket is never lost to clean-up.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from cloudrec_recorder.storage.uploader import DELIVERED_FILE

log = logging.getLogger(__name__)


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


def remove_all_delivered(spool_root: Path) -> list[str]:
    """Remove every delivered spool under ``spool_root`` (an earlier run's); their names."""
    if not spool_root.is_dir():
        return []
    return sorted(d.name for d in spool_root.iterdir() if d.is_dir() and remove_delivered(d))


__all__ = ["is_delivered", "remove_all_delivered", "remove_delivered"]
