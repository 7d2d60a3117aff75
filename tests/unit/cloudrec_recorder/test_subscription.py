"""Subscription rules of protocol.md §3.2.1."""

from __future__ import annotations

from cloudrec_protocol.enums import StreamTypes
from cloudrec_recorder.subscription import subscription


def test_without_lists_everyone_is_recorded_with_audio_and_video() -> None:
    assert subscription(StreamTypes.AUDIO_AND_VIDEO).wants("7") == (True, True)


def test_audio_only_never_subscribes_video() -> None:
    assert subscription(StreamTypes.AUDIO_ONLY).wants("7") == (True, False)


def test_an_allow_list_admits_only_its_uids() -> None:
    rule = subscription(StreamTypes.AUDIO_AND_VIDEO, audio_allow=["1"], video_allow=["1", "2"])
    assert rule.wants("1") == (True, True)
    assert rule.wants("2") == (False, True)
    assert rule.wants("3") == (False, False)


def test_allstream_admits_everyone() -> None:
    rule = subscription(
        StreamTypes.AUDIO_AND_VIDEO, audio_allow=["#allstream#"], video_allow=["#allstream#"]
    )
    assert rule.wants("99") == (True, True)


def test_a_block_list_admits_everyone_else() -> None:
    rule = subscription(StreamTypes.AUDIO_AND_VIDEO, audio_block=["2"], video_block=[])
    assert rule.wants("2") == (False, True)
    assert rule.wants("3") == (True, True)


def test_lists_for_only_audio_leave_video_unsubscribed() -> None:
    rule = subscription(StreamTypes.AUDIO_AND_VIDEO, audio_allow=["1"])
    assert rule.wants("1") == (True, False)
