"""Removing a recording's spool once delivered, and never before."""

from __future__ import annotations

from pathlib import Path

from cloudrec_recorder.storage.spool import (
    TAKING_FILE,
    is_delivered,
    is_uncommitted,
    remove_all_delivered,
    remove_all_uncommitted,
    remove_delivered,
)
from cloudrec_recorder.storage.uploader import DELIVERED_FILE


def spool(root: Path, name: str, *, delivered: bool) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / f"{name}_room_0.ts").write_bytes(b"\x47" * 188)
    if delivered:
        (directory / DELIVERED_FILE).write_bytes(b"")
    return directory


def test_a_delivered_spool_is_removed_with_everything_in_it(tmp_path: Path) -> None:
    directory = spool(tmp_path, "sid1", delivered=True)
    assert is_delivered(directory)
    assert remove_delivered(directory)
    assert not directory.exists()


def test_a_spool_not_marked_delivered_is_left_as_it_is(tmp_path: Path) -> None:
    directory = spool(tmp_path, "sid1", delivered=False)
    assert not remove_delivered(directory)
    assert (directory / "sid1_room_0.ts").read_bytes() == b"\x47" * 188


def test_start_up_clean_up_removes_only_the_delivered_spools(tmp_path: Path) -> None:
    spool(tmp_path, "done1", delivered=True)
    spool(tmp_path, "done2", delivered=True)
    spool(tmp_path, "pending", delivered=False)
    assert remove_all_delivered(tmp_path) == ["done1", "done2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pending"]


def test_clean_up_of_a_spool_root_that_does_not_exist_yet_does_nothing(tmp_path: Path) -> None:
    assert remove_all_delivered(tmp_path / "missing") == []


def test_start_up_clean_up_removes_a_takers_spool_whose_giver_never_finished(
    tmp_path: Path,
) -> None:
    """A hand-over's taker that died before the giver was done: its files carry the giver's
    names, so they are removed unsent; every other spool stays."""
    taken = spool(tmp_path, "taken", delivered=False)
    (taken / TAKING_FILE).write_bytes(b"")
    spool(tmp_path, "pending", delivered=False)
    assert is_uncommitted(taken)
    assert remove_all_uncommitted(tmp_path) == ["taken"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pending"]
