"""Spool file names and playlists: what the uploader learns from them."""

from __future__ import annotations

import pytest

from cloudrec_recorder.media.hls import render_playlist
from cloudrec_recorder.storage.files import (
    FileInfo,
    file_info,
    grown_playlist,
    is_output_name,
    playlist_prefix,
    playlist_segments,
    ready_count,
    slice_time_ms,
)


def test_playlist_segments_lists_media_uris_and_the_init_map_in_order() -> None:
    text = (
        '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MAP:URI="init.mp4"\n'
        "#EXTINF:4.000,\na_1.ts\n\n#EXTINF:4.000,\na_2.ts\n#EXT-X-ENDLIST\n"
    )
    assert playlist_segments(text) == ["init.mp4", "a_1.ts", "a_2.ts"]


def test_slice_time_is_the_utc_stamp_of_the_name_in_milliseconds() -> None:
    assert slice_time_ms("sid_room_20190710024411626.ts") == 1562726651626
    assert slice_time_ms("sid_room.m3u8") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sid_room_20190710024411626.ts", True),
        ("sid_room.m3u8", True),
        (".tmp-sid_room.m3u8", False),
        (".cloudrec-uploaded", False),
        ("sub/dir.ts", False),
        ("", False),
    ],
)
def test_only_final_output_files_count(name: str, expected: bool) -> None:
    assert is_output_name(name) is expected


def test_a_mix_playlist_is_a_playable_mixed_file_of_uid_0() -> None:
    assert file_info("p/sid_room.m3u8", "sid_room.m3u8", 5) == FileInfo(
        "p/sid_room.m3u8", "audio_and_video", "0", True, True, 5
    )


def test_an_individual_audio_slice_names_its_uid_and_is_not_playable_alone() -> None:
    info = file_info("k", "sid_room__uid_s_42__uid_e_audio_20190710024411626.ts")
    assert (info.uid, info.track_type, info.mixed_all_user, info.is_playable) == (
        "42",
        "audio",
        False,
        False,
    )


def test_file_info_payload_uses_the_protocols_camel_case_keys() -> None:
    payload = FileInfo("k.m3u8", "video", "7", False, True, 12).to_payload()
    assert payload == {
        "fileName": "k.m3u8",
        "trackType": "video",
        "uid": "7",
        "mixedAllUser": False,
        "isPlayable": True,
        "sliceStartTime": 12,
    }


SEGMENTS = [(f"sid_room_2019071002441{i}000.ts", 2.0) for i in range(4)]
NAMES = [name for name, _ in SEGMENTS]


def version(count: int, *, ended: bool = False) -> bytes:
    """The playlist our HLS writer writes once ``count`` segments are complete."""
    return render_playlist(SEGMENTS[:count], 2, ended=ended).encode()


@pytest.mark.parametrize(
    ("uploaded", "start", "expected"),
    [
        (set(), 0, 0),
        ({NAMES[0]}, 0, 1),
        (set(NAMES[:3]), 0, 3),
        (set(NAMES), 0, 4),
        (set(NAMES[1:]), 0, 0),
        ({NAMES[0], NAMES[2], NAMES[3]}, 0, 1),
        ({NAMES[2]}, 2, 3),
    ],
)
def test_ready_count_is_how_many_leading_segments_are_in_the_bucket(
    uploaded: set[str], start: int, expected: int
) -> None:
    assert ready_count(NAMES, start, uploaded.__contains__) == expected


def test_ready_count_looks_only_past_the_cursor() -> None:
    looked: list[str] = []

    def present(name: str) -> bool:
        looked.append(name)
        return name != NAMES[3]

    assert ready_count(NAMES, 2, present) == 3
    assert looked == NAMES[2:]


def test_a_playlist_that_grew_is_parsed_from_where_the_previous_version_ended() -> None:
    old_refs = ["parsed-before.ts"]  # not what version(1) lists: proves it was not re-read
    refs, grown = grown_playlist(version(1), old_refs, version(3))
    assert (refs, grown) == (["parsed-before.ts", NAMES[1], NAMES[2]], True)


def test_the_final_playlist_with_endlist_still_grows_the_previous_one() -> None:
    assert grown_playlist(version(3), NAMES[:3], version(4, ended=True)) == (NAMES, True)


def test_a_rewritten_header_is_parsed_whole_and_still_extends_the_listed_segments() -> None:
    longer = render_playlist([*SEGMENTS[:2], (NAMES[2], 5.5)], 2, ended=False).encode()
    assert b"TARGETDURATION:6" in longer and not longer.startswith(version(2))
    assert grown_playlist(version(2), NAMES[:2], longer) == (NAMES[:3], True)


def test_a_playlist_that_lists_other_segments_does_not_extend_the_old_one() -> None:
    other = render_playlist([("x.ts", 2.0)], 2, ended=False).encode()
    assert grown_playlist(version(2), NAMES[:2], other) == (["x.ts"], False)


def test_the_first_version_extends_nothing() -> None:
    assert grown_playlist(b"", [], version(2)) == (NAMES[:2], True)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_playlist_prefix_is_the_version_written_when_that_segment_was_the_last(
    count: int,
) -> None:
    assert playlist_prefix(version(4, ended=True), count) == version(count)


def test_a_playlist_prefix_of_every_segment_drops_only_the_endlist() -> None:
    assert playlist_prefix(version(4, ended=True), 4) == version(4)


def test_a_playlist_prefix_keeps_the_init_map_and_adds_the_last_newline() -> None:
    head = b'#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.000,\na_1.ts\n'
    data = head + b"#EXTINF:4.000,\na_2.ts"
    assert playlist_prefix(data, 2) == head
    assert playlist_prefix(data, 3) == data + b"\n"


@pytest.mark.parametrize("count", [0, 5])
def test_a_playlist_prefix_needs_between_one_and_all_listed_uris(count: int) -> None:
    with pytest.raises(ValueError, match="URI"):
        playlist_prefix(version(4), count)
