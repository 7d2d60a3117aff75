"""The files a status lists and the count of the others, merged from the service's reports."""

from __future__ import annotations

import pytest

from cloudrec_operator.api.v1alpha1.cloudrecording import MAX_STATUS_FILES
from cloudrec_operator.reconcile.files import merge_files

FULL = tuple(f"f{i}.ts" for i in range(MAX_STATUS_FILES))
"""A status list with no room left."""
LONG = "x" * 2000 + ".ts"

CASES = [
    # (listed before, omitted before, report) -> (listed after, omitted after)
    pytest.param((), 0, ("a.m3u8", "a0.ts"), ("a.m3u8", "a0.ts"), 0, id="first-report-listed"),
    pytest.param(
        ("a.m3u8",), 0, ("a0.ts", "a.m3u8", "a0.ts"), ("a.m3u8", "a0.ts"), 0, id="deduplicated"
    ),
    pytest.param((), 0, ("", LONG, "a.m3u8"), ("a.m3u8",), 2, id="unlistable-names-counted"),
    pytest.param(FULL, 0, ("x.ts", "y.ts"), FULL, 2, id="no-room-counted"),
    pytest.param(FULL, 5, (*FULL, "x.ts", "y.ts"), FULL, 5, id="full-list-again-not-recounted"),
    pytest.param(FULL, 5, ("p.m3u8",), FULL, 5, id="one-playlist-keeps-the-count"),
    pytest.param(
        FULL, 2, tuple(f"n{i}.ts" for i in range(7)), FULL, 7, id="longer-full-list-raises"
    ),
    pytest.param(FULL[:-1], 0, (*FULL, "z.ts"), FULL, 1, id="fills-the-room-then-counts"),
]


@pytest.mark.parametrize(("listed", "omitted", "report", "want_listed", "want_omitted"), CASES)
def test_a_report_lists_new_names_while_there_is_room_and_counts_the_rest(
    listed: tuple[str, ...],
    omitted: int,
    report: tuple[str, ...],
    want_listed: tuple[str, ...],
    want_omitted: int,
) -> None:
    assert merge_files(listed, omitted, report) == (want_listed, want_omitted)


def test_the_operator_holds_at_most_the_listed_names_whatever_the_service_reports() -> None:
    listed, omitted = merge_files((), 0, tuple(f"s{i}.ts" for i in range(100_000)))
    assert len(listed) == MAX_STATUS_FILES and omitted == 100_000 - MAX_STATUS_FILES
