"""janus_id: room and participant ids as VideoRoom requests carry them (string or numeric ids)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloudrec_recorder.channel.room import JANUS_MAX_ID, RoomState, janus_id
from cloudrec_recorder.settings import load_settings


@pytest.mark.parametrize("value", ["demo", "1001", "007", "", "a b"])
def test_with_string_ids_every_id_is_sent_as_it_is(value: str) -> None:
    assert janus_id(value, string_ids=True) == value


@pytest.mark.parametrize(
    ("value", "number"), [("1", 1), ("1001", 1001), (str(JANUS_MAX_ID), JANUS_MAX_ID)]
)
def test_with_numeric_ids_an_integer_is_sent_as_a_json_number(value: str, number: int) -> None:
    sent = janus_id(value, string_ids=False)
    assert sent == number and isinstance(sent, int)


@pytest.mark.parametrize("value", ["demo", "", "0", "007", "-5", "+5", "1.5", " 12", "1e3", "١٢"])
def test_with_numeric_ids_anything_but_a_positive_integer_is_refused_naming_the_field(
    value: str,
) -> None:
    with pytest.raises(
        ValueError, match="^" + re.escape(f"cname {value!r} is not a positive integer")
    ):
        janus_id(value, string_ids=False, what="cname")


def test_with_numeric_ids_a_number_beyond_64_bits_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^uid '\d+' is larger than"):
        janus_id(str(JANUS_MAX_ID + 1), string_ids=False, what="uid")


def test_an_id_sent_as_a_number_matches_the_id_janus_sends_back() -> None:
    uid = "1001"
    sent = janus_id(uid, string_ids=False)
    state = RoomState(self_uid="900")
    state.apply_joined({"publishers": [{"id": sent, "streams": [{"type": "video", "mid": "0"}]}]})
    assert set(state.publishers) == {uid}
    state.apply_event({"leaving": sent})
    assert state.publishers == {} and state.participants == set()


def test_the_recorder_assumes_string_ids_unless_told_otherwise(tmp_path: Path) -> None:
    config = tmp_path / "recorder.yaml"
    config.write_text(
        "customerId: c\ncustomerSecret: s\n"
        "apps:\n  a: {janus: {wsUrl: 'ws://127.0.0.1:8188/'}}\n"
        "  b: {janus: {wsUrl: 'ws://127.0.0.1:8189/', stringIds: false}}\n"
    )
    settings = load_settings(config, environ={})
    assert settings.apps["a"].janus.string_ids is True
    assert settings.apps["b"].janus.string_ids is False
