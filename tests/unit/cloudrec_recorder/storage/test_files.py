"""Spool file names and playlists: what the uploader learns from them."""

from __future__ import annotations

import pytest

from cloudrec_recorder.storage.files import (
    FileInfo,
    file_info,
    is_output_name,
    newest_ready,
    playlist_segments,
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


GROWING = [["s1"], ["s1", "s2"], ["s1", "s2", "s3"], ["s1", "s2", "s3", "s4"]]


@pytest.mark.parametrize(
    ("uploaded", "expected"),
    [
        (set(), None),
        ({"s1"}, 0),
        ({"s1", "s2", "s3"}, 2),
        ({"s1", "s2", "s3", "s4"}, 3),
        ({"s2", "s3", "s4"}, None),
        ({"s1", "s3", "s4"}, 0),
    ],
)
def test_the_newest_playlist_version_listing_only_uploaded_segments_goes_next(
    uploaded: set[str], expected: int | None
) -> None:
    assert newest_ready(GROWING, uploaded.__contains__) == expected


def test_no_waiting_playlist_version_means_nothing_to_upload() -> None:
    assert newest_ready([], lambda _name: True) is None
