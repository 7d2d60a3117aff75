"""The recording's files as the operator keeps them: the names ``status.files`` lists and
the count of the others (``status.filesOmitted``).

Both live in the status, so an operator restart rebuilds exactly what it wrote, and the
operator holds at most ``MAX_STATUS_FILES`` names per recording however many files the
service reports (no list of every name in memory that a restart would lose).

The service's lists are cumulative (the query, the stop answer and the ``uploaded`` /
``backuped`` callbacks name every file so far, protocol.md §5, §7) or name one playlist
(callbacks 3 and 4). So the files not listed are at least the names of one report that are
not listed, and at least as many as known before: a count loaded from the status is not
counted again when the next full list names the same files.
"""

from __future__ import annotations

import itertools

from cloudrec_operator.api.v1alpha1.cloudrecording import MAX_STATUS_FILE_NAME, MAX_STATUS_FILES


def listable(name: str) -> bool:
    """Whether ``name`` may be listed in the status (not empty, not too long)."""
    return 0 < len(name) <= MAX_STATUS_FILE_NAME


def merge_files(
    listed: tuple[str, ...], omitted: int, report: tuple[str, ...]
) -> tuple[tuple[str, ...], int]:
    """(listed, omitted) after a report: new names are listed in first-seen order while
    there is room and they fit; the rest of the report counts as omitted files."""
    known = set(listed)
    fresh = [name for name in dict.fromkeys(report) if name not in known]
    room = max(MAX_STATUS_FILES - len(listed), 0)
    added = tuple(itertools.islice((name for name in fresh if listable(name)), room))
    unlisted = len(fresh) - len(added)
    return listed + added, max(omitted, unlisted)


__all__ = ["listable", "merge_files"]
