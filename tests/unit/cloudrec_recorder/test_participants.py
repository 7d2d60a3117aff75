"""Which participant ids are recorded, and how a refused one is shown (pure)."""

from __future__ import annotations

import pytest

from cloudrec_recorder.participants import is_recordable, shown


@pytest.mark.parametrize(
    ("uid", "recordable"),
    [
        ("1", True),
        ("1001", True),
        ("4294967295", True),
        ("4294967296", False),
        ("0", False),
        ("007", False),
        ("", False),
        ("alice", False),
        ("12\n#EXT-X-ENDLIST", False),
        ("../../etc", False),
        ("1/2", False),
        ("9" * 300, False),
        ("١٢٣", False),  # non-ASCII digits
    ],
)
def test_only_ids_in_the_uid_grammar_are_recorded(uid: str, recordable: bool) -> None:
    assert is_recordable(uid) == recordable


@pytest.mark.parametrize(
    ("uid", "text"),
    [
        ("alice", "'alice'"),
        ("12\n#EXT-X-ENDLIST", "'12??EXT-X-ENDLIST'"),
        ("../a/b", "'..?a?b'"),
        ("\x1b[31mred", "'??31mred'"),
        ("x" * 300, "'" + "x" * 32 + "...' (300 characters)"),
    ],
)
def test_a_refused_id_is_shown_with_safe_characters_only_and_cut_short(uid: str, text: str) -> None:
    assert shown(uid) == text
