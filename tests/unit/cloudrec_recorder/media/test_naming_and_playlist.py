"""File names (protocol.md §8), the segment schedule and the playlist text."""

from __future__ import annotations

import pytest

from cloudrec_recorder.media.config import MixConfig, effective_fps, parse_color
from cloudrec_recorder.media.hls import SegmentSchedule, render_playlist
from cloudrec_recorder.media.naming import (
    individual_playlist_name,
    individual_segment_name,
    mix_mp4_name,
    mix_playlist_name,
    mix_segment_name,
    temporary_name,
    utc_stamp,
)

MS = 1_562_724_971_626  # 2019-07-10 02:16:11.626 UTC


def test_utc_stamp_is_year_to_milliseconds_in_utc() -> None:
    assert utc_stamp(MS) == "20190710021611626"


def test_mix_names_follow_the_protocol() -> None:
    assert mix_playlist_name("sid", "room") == "sid_room.m3u8"
    assert mix_segment_name("sid", "room", MS) == "sid_room_20190710021611626.ts"
    assert mix_mp4_name("sid", "room") == "sid_room_0.mp4"


def test_individual_names_carry_the_uid_and_the_track_type() -> None:
    assert individual_playlist_name("s", "c", "42", "audio") == "s_c__uid_s_42__uid_e_audio.m3u8"
    assert (
        individual_segment_name("s", "c", "42", "video", MS)
        == "s_c__uid_s_42__uid_e_video_20190710021611626.ts"
    )


def test_special_characters_of_the_channel_name_become_dashes() -> None:
    assert mix_playlist_name("sid", "a.b_c#d|e") == "sid_a-b-c-d-e.m3u8"


def test_temporary_names_start_with_the_tmp_prefix() -> None:
    assert temporary_name("x.ts") == ".tmp-x.ts"


def test_segment_schedule_with_a_short_first_segment() -> None:
    schedule = SegmentSchedule(4.0, 2.0)
    assert [schedule.boundary(i) for i in range(4)] == [0.0, 2.0, 6.0, 10.0]
    assert [schedule.index_at(t) for t in (-0.02, 0.0, 1.99, 2.0, 5.99, 6.0)] == [0, 0, 0, 1, 1, 2]
    assert schedule.target_duration == 4


def test_segment_schedule_with_equal_segments() -> None:
    schedule = SegmentSchedule(3.0)
    assert [schedule.boundary(i) for i in range(3)] == [0.0, 3.0, 6.0]
    assert [schedule.index_at(t) for t in (0.0, 2.99, 3.0)] == [0, 0, 1]


def test_a_growing_playlist_lists_the_segments_without_endlist() -> None:
    text = render_playlist([("a.ts", 2.0), ("b.ts", 4.0)], 4, ended=False)
    assert text.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:4",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXTINF:2.000,",
        "a.ts",
        "#EXTINF:4.000,",
        "b.ts",
    ]


def test_the_final_playlist_ends_with_endlist_and_covers_a_long_segment() -> None:
    text = render_playlist([("a.ts", 4.2)], 4, ended=True)
    assert "#EXT-X-TARGETDURATION:5" in text
    assert text.endswith("#EXT-X-ENDLIST\n")


def test_a_background_colour_must_be_hash_rrggbb() -> None:
    assert parse_color("#FF8000") == (255, 128, 0)
    with pytest.raises(ValueError, match="#RRGGBB"):
        parse_color("red")


@pytest.mark.parametrize(
    ("field", "value"),
    [("width", 641), ("height", 0), ("fps", 61), ("bitrate_kbps", 7000), ("width", 2000)],
)
def test_a_bad_mix_configuration_is_refused_with_a_message(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field.split("_")[0].replace("kbps", "")):
        MixConfig(**{field: value})  # type: ignore[arg-type]


def test_unsupported_frame_rates_fall_back_to_fifteen() -> None:
    assert [effective_fps(f) for f in (1, 7, 10, 15, 24, 30, 60)] == [1, 7, 10, 15, 24, 30, 60]
    assert [effective_fps(f) for f in (0, 12, 25, 120)] == [15, 15, 15, 15]


def test_a_first_segment_longer_than_the_segments_is_accepted() -> None:
    assert MixConfig(segment_seconds=0.5).first_segment_seconds == 1.0
    with pytest.raises(ValueError, match="first_segment_seconds"):
        MixConfig(first_segment_seconds=0.1)
