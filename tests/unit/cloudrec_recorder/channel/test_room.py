"""RoomState: who is in a VideoRoom room, from Janus' messages."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_recorder.channel.errors import (
    JanusApiError,
    RoomNotFoundError,
    TokenRejectedError,
    UidConflictError,
    error_for,
)
from cloudrec_recorder.channel.room import (
    ChannelClosed,
    ParticipantsChanged,
    PublisherInfo,
    PublisherJoined,
    PublisherLeft,
    PublisherUpdated,
    RoomState,
    StreamInfo,
    is_recorder,
    parse_publisher,
    publisher_join_request,
    recorder_display,
)

ME = "900"


def publisher(uid: str, *kinds: str, simulcast: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "display": f"user {uid}",
        "streams": [
            {"type": kind, "mid": str(i), "codec": "vp8" if kind == "video" else "opus"}
            | ({"simulcast": True} if simulcast and kind == "video" else {})
            for i, kind in enumerate(kinds)
        ],
    }


def test_parse_publisher_reads_uid_display_and_streams() -> None:
    info = parse_publisher(publisher("7", "audio", "video"))
    assert info == PublisherInfo(
        "7",
        "user 7",
        (StreamInfo("audio", "0", "opus"), StreamInfo("video", "1", "vp8")),
    )
    assert (info.has_audio, info.has_video, info.simulcast) == (True, True, False)


def test_numeric_ids_become_strings() -> None:
    assert parse_publisher({"id": 42, "streams": []}).uid == "42"


def test_a_disabled_stream_does_not_count() -> None:
    entry = publisher("7", "audio", "video")
    entry["streams"][1]["disabled"] = True
    info = parse_publisher(entry)
    assert (info.has_audio, info.has_video) == (True, False)
    assert info.mids(audio=True, video=True) == ["0"]


@pytest.mark.parametrize(
    ("audio", "video", "mids"),
    [(True, True, ["0", "1"]), (True, False, ["0"]), (False, True, ["1"]), (False, False, [])],
    ids=["both", "audio-only", "video-only", "nothing"],
)
def test_mids_select_the_wanted_kinds(audio: bool, video: bool, mids: list[str]) -> None:
    assert parse_publisher(publisher("7", "audio", "video")).mids(audio=audio, video=video) == mids


def test_joining_reports_publishers_already_there_but_not_ourselves() -> None:
    state = RoomState(ME)
    events = state.apply_joined(
        {
            "publishers": [publisher("1", "audio"), publisher(ME, "video")],
            "attendees": [{"id": "2"}, {"id": ME}],
        }
    )
    assert events == [
        PublisherJoined(parse_publisher(publisher("1", "audio"))),
        ParticipantsChanged(frozenset({"1", "2"}), frozenset({"1"})),
    ]


def test_an_empty_room_reports_no_change_on_join() -> None:
    assert RoomState(ME).apply_joined({"publishers": []}) == []


def test_a_new_publisher_joins_and_is_counted_as_participant() -> None:
    state = RoomState(ME)
    events = state.apply_event({"videoroom": "event", "publishers": [publisher("1", "video")]})
    assert isinstance(events[0], PublisherJoined)
    assert (events[0].uid, events[0].has_audio, events[0].has_video) == ("1", False, True)
    assert events[1] == ParticipantsChanged(frozenset({"1"}), frozenset({"1"}))


def test_a_publisher_announced_again_with_new_streams_is_an_update() -> None:
    state = RoomState(ME)
    state.apply_event({"publishers": [publisher("1", "audio")]})
    events = state.apply_event({"publishers": [publisher("1", "audio", "video")]})
    assert events == [PublisherUpdated(parse_publisher(publisher("1", "audio", "video")))]
    assert state.apply_event({"publishers": [publisher("1", "audio", "video")]}) == []


def test_unpublishing_keeps_the_participant_but_not_the_publisher() -> None:
    state = RoomState(ME)
    state.apply_event({"publishers": [publisher("1", "audio")]})
    events = state.apply_event({"videoroom": "event", "unpublished": "1"})
    assert events == [PublisherLeft("1"), ParticipantsChanged(frozenset({"1"}), frozenset())]


def test_leaving_removes_publisher_and_participant() -> None:
    state = RoomState(ME)
    state.apply_event({"publishers": [publisher("1", "audio")]})
    events = state.apply_event({"videoroom": "event", "leaving": "1"})
    assert events == [PublisherLeft("1"), ParticipantsChanged(frozenset(), frozenset())]


def test_a_participant_that_never_publishes_joins_and_leaves() -> None:
    state = RoomState(ME)
    assert state.apply_event({"joining": {"id": "viewer"}}) == [
        ParticipantsChanged(frozenset({"viewer"}), frozenset())
    ]
    assert state.apply_event({"leaving": "viewer"}) == [
        ParticipantsChanged(frozenset(), frozenset())
    ]


def test_our_own_confirmations_change_nothing() -> None:
    state = RoomState(ME)
    state.apply_event({"publishers": [publisher("1", "audio")]})
    assert state.apply_event({"unpublished": "ok"}) == []
    assert state.apply_event({"leaving": "ok"}) == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"videoroom": "destroyed", "room": "r"}, "the room was destroyed"),
        ({"videoroom": "event", "kicked": ME}, "we were kicked out of the room"),
    ],
    ids=["destroyed", "kicked"],
)
def test_losing_the_room_ends_every_publisher_and_closes(
    message: dict[str, Any], reason: str
) -> None:
    state = RoomState(ME)
    state.apply_event({"publishers": [publisher("1", "audio"), publisher("2", "video")]})
    events = state.apply_event(message)
    assert events == [
        PublisherLeft("1"),
        PublisherLeft("2"),
        ParticipantsChanged(frozenset(), frozenset()),
        ChannelClosed(reason),
    ]
    assert state.apply_event({"publishers": [publisher("3", "audio")]}) == []


def test_a_listing_adds_silent_participants_and_drops_vanished_ones() -> None:
    state = RoomState(ME)
    state.apply_event({"publishers": [publisher("1", "audio")]})
    epoch = state.epoch
    events = state.apply_listing(
        [{"id": ME, "publisher": False}, {"id": "viewer", "publisher": False}],
        requested_at=epoch,
    )
    assert events == [PublisherLeft("1"), ParticipantsChanged(frozenset({"viewer"}), frozenset())]


def test_a_listing_does_not_undo_events_that_came_after_it_was_asked_for() -> None:
    state = RoomState(ME)
    asked_at = state.epoch
    state.apply_event({"publishers": [publisher("1", "audio")]})
    state.apply_event({"joining": {"id": "viewer"}})
    assert state.apply_listing([], requested_at=asked_at) == []
    assert state.participants == {"1", "viewer"}
    assert set(state.publishers) == {"1"}


def test_a_listing_never_invents_a_publisher_without_streams() -> None:
    state = RoomState(ME)
    events = state.apply_listing([{"id": "1", "publisher": True}], requested_at=state.epoch)
    assert events == [ParticipantsChanged(frozenset({"1"}), frozenset())]
    assert state.publishers == {}


def test_joining_as_publisher_sends_the_token_only_when_the_room_has_one() -> None:
    assert publisher_join_request(1234, 1001, "publisher 1001", None) == {
        "request": "join",
        "ptype": "publisher",
        "room": 1234,
        "id": 1001,
        "display": "publisher 1001",
    }
    with_token = publisher_join_request("demo", "999", "recorder 999", "t0ken")
    assert (with_token["room"], with_token["id"], with_token["token"]) == ("demo", "999", "t0ken")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (426, RoomNotFoundError),
        (436, UidConflictError),
        (433, TokenRejectedError),
        (403, TokenRejectedError),
        (405, TokenRejectedError),
        (470, TokenRejectedError),
        (499, JanusApiError),
    ],
    ids=[
        "no-such-room",
        "id-exists",
        "room-unauthorized",
        "core-unauthorized",
        "plugin-unauthorized",
        "token-not-found",
        "other",
    ],
)
def test_janus_error_codes_map_to_typed_errors(code: int, kind: type[JanusApiError]) -> None:
    error = error_for(code, "reason")
    assert type(error) is kind
    assert (error.code, error.reason) == (code, "reason")


def test_other_recorders_in_the_channel_are_not_counted_as_participants() -> None:
    other = recorder_display("900002")
    state = RoomState(ME)
    assert (
        state.apply_joined({"publishers": [], "attendees": [{"id": "900002", "display": other}]})
        == []
    )
    assert (
        state.apply_event({"joining": {"id": "900003", "display": recorder_display("900003")}})
        == []
    )
    assert state.apply_event({"joining": {"id": "viewer", "display": "recorder fan"}}) == [
        ParticipantsChanged(frozenset({"viewer"}), frozenset())
    ]
    listing = [{"id": "900002", "display": other}, {"id": "viewer", "display": "recorder fan"}]
    assert state.apply_listing(listing, requested_at=state.epoch) == []
    assert state.participants == {"viewer"}


def test_a_recorder_joins_under_a_display_name_that_marks_it_as_one() -> None:
    assert is_recorder(recorder_display("900001"))
    assert not is_recorder("recorder 900001") and not is_recorder(None)
