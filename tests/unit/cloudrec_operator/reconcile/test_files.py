"""What status.files lists of the files the service reports, and how many it leaves out."""

from __future__ import annotations

import pytest

from cloudrec_operator.api.enums import TrackType
from cloudrec_operator.api.v1alpha1.cloudrecording import MAX_STATUS_FILES
from cloudrec_operator.reconcile.files import (
    SNAPSHOT_PLACES,
    FileRecord,
    Listed,
    from_file_list,
    from_snapshot,
)
from cloudrec_protocol.events import SnapshotFileDetails
from cloudrec_protocol.models import ServerResponse

VIDEO_1001 = "s1_room__uid_s_1001__uid_e_video.m3u8"


def records(*names: str) -> tuple[FileRecord, ...]:
    return tuple(FileRecord(name) for name in names)


def snapshots(count: int, uid: str = "7", start: int = 0) -> tuple[FileRecord, ...]:
    return records(
        *(
            f"s_c__uid_s_{uid}__uid_e_video_2026112512{i:05d}.jpg"
            for i in range(start, start + count)
        )
    )


@pytest.mark.parametrize(
    ("file_list", "expected"),
    [
        ("s1_room.m3u8", (FileRecord("s1_room.m3u8"),)),
        ("", ()),
        (None, ()),
        (
            [
                {
                    "fileName": VIDEO_1001,
                    "trackType": "video",
                    "uid": "1001",
                    "mixedAllUser": False,
                    "isPlayable": True,
                    "sliceStartTime": 1764072000000,
                }
            ],
            (FileRecord(VIDEO_1001, TrackType.VIDEO, "1001", False, True, 1764072000000),),
        ),
        (
            [
                {
                    "filename": "a.m3u8",
                    "trackType": "audio_and_video",
                    "uid": "0",
                    "mixedAllUser": "true",
                }
            ],
            (FileRecord("a.m3u8", TrackType.AUDIO_AND_VIDEO, "0", True),),
        ),
        # what the status cannot hold is left out of the record, not the file
        (
            [{"fileName": "b.m3u8", "uid": "not-a-uid", "sliceStartTime": -5}],
            (FileRecord("b.m3u8"),),
        ),
    ],
    ids=["mix-string", "mix-empty", "absent", "individual-json", "lenient-types", "bad-fields"],
)
def test_a_file_list_keeps_each_files_uid_track_and_times(
    file_list: object, expected: tuple[FileRecord, ...]
) -> None:
    response = ServerResponse.model_validate({"fileListMode": "json", "fileList": file_list})
    assert from_file_list(response.file_list) == expected


def test_a_snapshot_event_gives_the_uid_and_capture_time_its_name_spells() -> None:
    details = SnapshotFileDetails.model_validate(
        {"fileName": "p/s1_c__uid_s_42__uid_e_video_20190710021611626.jpg"}
    )
    record = from_snapshot(details)
    assert record == FileRecord(
        "p/s1_c__uid_s_42__uid_e_video_20190710021611626.jpg",
        TrackType.VIDEO,
        "42",
        False,
        False,
        1562724971626,
    )
    assert record.snapshot


def one_by_one(files: tuple[FileRecord, ...]) -> list[tuple[tuple[FileRecord, ...], bool]]:
    """Each file reported on its own, once (event 45)."""
    return [((f,), True) for f in files]


def whole(*lists: tuple[FileRecord, ...]) -> list[tuple[tuple[FileRecord, ...], bool]]:
    """Whole lists (query, stop, events 4/31/32): every file named again each time."""
    return [(files, False) for files in lists]


@pytest.mark.parametrize(
    ("before", "reports", "listed", "omitted"),
    [
        # every query names the same playlists again: listed once, nothing omitted
        (Listed(), whole(records("a.m3u8"), records("a.m3u8", "b.m3u8")), 2, 0),
        # a later report with more detail completes the record, keeps its place
        (Listed(records("a.m3u8")), whole((FileRecord("a.m3u8", uid="0"),)), 1, 0),
        # snapshots one by one (event 45), each omitted one counted once past their places
        (Listed(), one_by_one(snapshots(SNAPSHOT_PLACES + 5)), SNAPSHOT_PLACES, 5),
        # a service that lists snapshots in whole lists: what they leave out counted once
        (Listed(), whole(*[snapshots(SNAPSHOT_PLACES + 5)] * 3), SNAPSHOT_PLACES, 5),
        # snapshots never crowd out the playlists of a long task
        (Listed(snapshots(SNAPSHOT_PLACES)), whole(records("late.m3u8")), SNAPSHOT_PLACES + 1, 0),
        # a whole list too long: the rest counted once, however often it is repeated
        (
            Listed(),
            whole(*[records(*(f"p{i}.m3u8" for i in range(MAX_STATUS_FILES + 3)))] * 3),
            MAX_STATUS_FILES,
            3,
        ),
        # omitted snapshots and omitted playlists add up, and survive a reload
        (
            Listed(snapshots(SNAPSHOT_PLACES), omitted=2, snapshots_omitted=2),
            one_by_one(snapshots(1, start=9000))
            + whole(records(*(f"p{i}.m3u8" for i in range(70)))),
            MAX_STATUS_FILES,
            3 + 70 - (MAX_STATUS_FILES - SNAPSHOT_PLACES),
        ),
        # empty names and names longer than the status allows are counted, not listed
        (Listed(), whole(records("", "x" * 1025 + ".m3u8", "ok.m3u8")), 1, 2),
    ],
    ids=[
        "repeated-lists",
        "completed-record",
        "snapshots-past-their-places",
        "snapshots-in-repeated-lists",
        "playlist-after-many-snapshots",
        "list-too-long-repeated",
        "counts-add-up",
        "unfit-names",
    ],
)
def test_status_files_are_bounded_and_count_the_rest_once(
    before: Listed,
    reports: list[tuple[tuple[FileRecord, ...], bool]],
    listed: int,
    omitted: int,
) -> None:
    state = before
    for report, single in reports:
        state = state.merge(report, one_by_one=single)
    assert len(state.files) == listed
    assert state.omitted == omitted
    assert len({f.name for f in state.files}) == len(state.files)


def test_files_keep_the_order_they_were_first_reported_in() -> None:
    state = Listed().merge(records("b.m3u8", "a.m3u8")).merge(records("a.m3u8", "c.mp4"))
    assert state.names() == ("b.m3u8", "a.m3u8", "c.mp4")
