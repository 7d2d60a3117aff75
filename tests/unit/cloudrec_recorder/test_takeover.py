"""The take-over's pure decisions (takeover.py): who is lost, who takes, who must give up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloudrec_recorder.handover import TrackClock
from cloudrec_recorder.settings import TakeoverSettings
from cloudrec_recorder.takeover import (
    Beat,
    Standby,
    backup_prefix,
    dead_replicas,
    fenced,
    gap_ms,
    media_until_ms,
    successor,
    taken_clocks,
)
from cloudrec_recorder.takingover import unvouched

SID = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize(
    ("takeovers", "prefix"), [(0, ""), (1, "bak0_"), (2, "bak1_"), (11, "bak10_")]
)
def test_files_after_the_nth_take_over_carry_the_services_bak_prefix(
    takeovers: int, prefix: str
) -> None:
    assert backup_prefix(takeovers) == prefix


@pytest.mark.parametrize(
    ("last_seen", "holding", "now", "lost"),
    [
        ({"ra": 10.0, "rb": 10.0}, ["ra", "rb"], 12.9, []),
        ({"ra": 10.0, "rb": 12.0}, ["ra", "rb"], 13.0, ["ra"]),
        ({"ra": 10.0, "rb": 8.0}, ["ra"], 13.0, ["ra"]),  # rb holds nothing: nothing to take
        ({"rb": 1.0, "ra": 1.0}, ["rb", "ra"], 20.0, ["ra", "rb"]),
    ],
)
def test_a_replica_with_recordings_is_lost_once_silent_for_dead_after_seconds(
    last_seen: dict[str, float], holding: list[str], now: float, lost: list[str]
) -> None:
    assert dead_replicas(last_seen, holding, now, 3.0) == lost


@pytest.mark.parametrize(
    ("lost", "ring", "alive", "taker"),
    [
        ("ra", ["ra", "rb", "rc"], ["rb", "rc"], "rb"),
        ("rb", ["ra", "rb", "rc"], ["ra", "rc"], "rc"),
        ("rc", ["ra", "rb", "rc"], ["ra", "rb"], "ra"),  # the ring wraps
        ("ra", ["ra", "rb", "rc"], ["rc"], "rc"),  # the next one is lost too
        ("ra", ["ra", "rb"], [], None),
        ("ra", ["ra", "rb"], ["ra"], None),  # a lost replica never takes its own
        ("ra", [], ["rb"], "rb"),  # not listed: the live one here
    ],
)
def test_the_first_live_replica_after_the_lost_one_in_ring_order_takes_its_recordings(
    lost: str, ring: list[str], alive: list[str], taker: str | None
) -> None:
    assert successor(lost, ring, alive, "rb") == taker


def test_every_observer_names_the_same_taker() -> None:
    ring = ["ra", "rb", "rc", "rd"]
    takers = {successor("rb", ring, ["ra", "rc", "rd"], here) for here in ("ra", "rc", "rd")}
    assert takers == {"rc"}


@pytest.mark.parametrize(
    ("mine", "theirs", "given_up"),
    [
        ({SID: 0}, {"rb": {SID: 1}}, {SID: "rb"}),  # taken over while this one stood still
        ({SID: 1}, {"ra": {SID: 0}}, {}),  # the lost one came back: this one keeps it
        ({SID: 0}, {"rb": {OTHER: 1}}, {}),
        ({SID: 1}, {"rb": {SID: 1}}, {}),  # a tie: the name sorting first keeps it ("ra")
        ({SID: 1}, {"r0": {SID: 1}}, {SID: "r0"}),
        ({SID: 1, OTHER: 0}, {"rb": {SID: 2}, "rc": {OTHER: 1}}, {SID: "rb", OTHER: "rc"}),
        ({}, {"rb": {SID: 1}}, {}),
    ],
)
def test_a_replica_gives_up_a_sid_a_peer_holds_after_more_take_overs(
    mine: dict[str, int], theirs: dict[str, dict[str, int]], given_up: dict[str, str]
) -> None:
    assert fenced("ra", mine, theirs) == given_up


PLAYLIST = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXTINF:2.000,
{sid}_room_20261203122206236.ts
#EXTINF:1.933,
{sid}_room_20261203122208236.ts
"""


def test_the_media_of_a_playlist_ends_with_its_last_segment() -> None:
    start = 1796300528236  # 2026-12-03 12:22:08.236 UTC
    assert media_until_ms(PLAYLIST.format(sid=SID)) == start + 1933
    assert media_until_ms("#EXTM3U\n#EXT-X-VERSION:3\n") is None
    assert media_until_ms("#EXTINF:x,\nname_20261203122208236.ts\n") is None


@pytest.mark.parametrize(
    ("until", "resumed", "gap"), [(1000, 6500, 5500), (None, 6500, None), (7000, 6500, 0)]
)
def test_the_gap_runs_from_the_lost_replicas_last_segment_to_the_takers_first_frame(
    until: int | None, resumed: int, gap: int | None
) -> None:
    assert gap_ms(until, resumed) == gap


@pytest.mark.parametrize(
    ("until", "paused", "resumed", "gap"),
    [
        (1000, 1000, 9000, 0),  # paused after its last segment was written: nothing missed
        (1000, 2500, 9000, 1500),  # lost between a segment's end and the pause
        (None, 2500, 9000, None),
    ],
)
def test_a_recording_lost_while_paused_misses_only_what_came_before_the_pause(
    until: int | None, paused: int, resumed: int, gap: int | None
) -> None:
    assert gap_ms(until, resumed, paused) == gap


def clock(playlist: str, *, copied: bool = False) -> TrackClock:
    return TrackClock(playlist=playlist, uid="1001", video=True, origin_epoch_ms=5, copied=copied)


def test_a_taker_goes_on_with_each_output_under_the_next_bak_name_on_its_own_clock() -> None:
    stem = f"{SID}_room__uid_s_1001__uid_e_video.m3u8"
    lost = [clock(stem), clock("bak0_" + stem.replace("video", "audio"))]
    taken = taken_clocks(lost, takeovers=2)
    assert [c.playlist for c in taken] == ["bak1_" + stem, "bak1_" + stem.replace("video", "audio")]
    assert [c.origin_epoch_ms for c in taken] == [5, 5]
    assert not any(c.idle for c in taken)


def test_a_track_stored_as_received_is_taken_over_on_the_wall_clock_as_an_idle_one() -> None:
    """No giver sends packet marks: the taker cannot match packets, it goes on as with a uid
    that came back after a silence (its shift from the wall clock)."""
    [taken] = taken_clocks([clock(f"{SID}_r__uid_s_1__uid_e_video.m3u8", copied=True)], 1)
    assert taken.copied and taken.idle


def test_a_mix_beat_from_before_individual_take_over_still_parses() -> None:
    record = Standby.model_validate(
        {
            "sid": SID,
            "resourceId": "r",
            "cname": "room",
            "uid": "1",
            "clientRequest": {},
            "expiredHour": 24,
            "originEpochMs": 1,
            "firstFrameMs": 1,
        }
    )
    assert (record.mode, record.tracks, record.paused_ms) == ("mix", [], None)
    # and is sent as before: a replica without these fields (a rolling update) accepts it
    assert not {"mode", "tracks", "pausedMs"} & set(record.to_wire())
    paused = record.model_copy(update={"mode": "individual", "paused_ms": 7})
    assert paused.to_wire()["mode"] == "individual" and paused.to_wire()["pausedMs"] == 7
    assert Standby.model_validate(paused.to_wire()) == paused


def test_a_beat_names_the_field_that_is_wrong() -> None:
    with pytest.raises(ValidationError, match="replica"):
        Beat.model_validate({"replica": "Not A Name", "boot": "0" * 16})
    with pytest.raises(ValidationError, match="boot"):
        Beat.model_validate({"replica": "ra", "boot": "short"})


def test_lost_replicas_are_found_after_at_least_two_missed_beats() -> None:
    with pytest.raises(ValidationError, match="twice heartbeatSeconds"):
        TakeoverSettings.model_validate({"heartbeatSeconds": 2, "deadAfterSeconds": 3})


def test_a_taken_over_parts_manifest_names_the_earlier_parts_it_does_not_list() -> None:
    sid = "0123456789abcdef0123456789abcdef"
    assert (
        unvouched(sid, "room", 1) == f"not listed here: {sid}_room.m3u8 and the objects they list"
    )
    assert unvouched(sid, "room", 2) == (
        f"not listed here: {sid}_room.m3u8, bak0_{sid}_room.m3u8 and the objects they list"
    )
