"""File names of §8."""

from __future__ import annotations

import pytest

from cloudrec_protocol.filenames import (
    file_cname,
    individual_playlist,
    individual_slice,
    individual_snapshot,
    mix_mp4,
    mix_playlist,
    mix_slice,
    parse_individual,
    utc_stamp,
)

T = 1562724971626  # 2019-07-10 02:16:11.626 UTC


def test_utc_stamps_are_yyyymmddhhmmsssss_in_utc() -> None:
    assert utc_stamp(T) == "20190710021611626"
    assert utc_stamp(0) == "19700101000000000"
    assert utc_stamp(T - 626 + 7) == "20190710021611007"


@pytest.mark.parametrize(
    ("cname", "expected"),
    [
        ("room-1", "room-1"),
        ("a_b.c", "a-b-c"),
        ("x!@#$%^&*()+=[]{}~,;:?<>|y", "x" + "-" * 24 + "y"),
        ("with space", "with-space"),
        ("Abc123", "Abc123"),
    ],
)
def test_special_characters_in_cname_become_dashes(cname: str, expected: str) -> None:
    assert file_cname(cname) == expected


def test_mix_files_are_named_after_sid_and_cname() -> None:
    assert mix_playlist("sid1", "room_1") == "sid1_room-1.m3u8"
    assert mix_slice("sid1", "room_1", T) == "sid1_room-1_20190710021611626.ts"
    assert mix_mp4("sid1", "room_1", 0) == "sid1_room-1_0.mp4"
    with pytest.raises(ValueError):
        mix_mp4("sid1", "room", -1)


def test_individual_files_name_the_uid_and_the_track() -> None:
    assert individual_playlist("sid1", "room", "42", "audio") == (
        "sid1_room__uid_s_42__uid_e_audio.m3u8"
    )
    assert individual_slice("sid1", "room", "42", "video", T) == (
        "sid1_room__uid_s_42__uid_e_video_20190710021611626.ts"
    )


def test_a_snapshot_is_named_like_a_video_slice_with_jpg() -> None:
    assert individual_snapshot("sid1", "my room", "42", T) == (
        "sid1_my-room__uid_s_42__uid_e_video_20190710021611626.jpg"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sid1_room__uid_s_42__uid_e_audio.m3u8", ("42", "audio")),
        ("sid1_room__uid_s_7__uid_e_video_20190710021611626.ts", ("7", "video")),
        ("sid1_room__uid_s_7__uid_e_video_20190710021611626.jpg", ("7", "video")),
        ("sid1_room.m3u8", None),
        ("sid1_room_20190710021611626.ts", None),
    ],
)
def test_individual_names_parse_back_to_uid_and_track(
    name: str, expected: tuple[str, str] | None
) -> None:
    assert parse_individual(name) == expected
