"""The uploader's bookkeeping: what is in the bucket, what the bucket's playlist may list."""

from __future__ import annotations

import hashlib

from cloudrec_recorder.storage.files import FileInfo, file_info
from cloudrec_recorder.storage.ledger import Media, Playlist, PlaylistUpload, UploadLedger


def playlist_text(*segments: str, ended: bool = False) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2"]
    for name in segments:
        lines += ["#EXTINF:2.000,", name]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return ("\n".join(lines) + "\n").encode()


def ledger_with(*segments: str, uploaded: tuple[str, ...] = ()) -> tuple[UploadLedger, Playlist]:
    ledger = UploadLedger()
    for i, name in enumerate(segments):
        ledger.media[name] = Media(name, 100, ready_at=float(i), start_ms=1000 * i)
        if name in uploaded:
            ledger.media[name].state = "uploaded"
    playlist = ledger.playlists["sid_room.m3u8"] = Playlist("sid_room.m3u8")
    ledger.record_version(
        playlist, playlist_text(*segments), in_bucket_digest=None, from_backup=False
    )
    return ledger, playlist


def info(name: str, start_ms: int) -> FileInfo:
    return file_info(f"prefix/{name}", name, start_ms)


def test_a_playlist_goes_up_whole_once_every_segment_it_lists_is_in_the_bucket() -> None:
    ledger, playlist = ledger_with("a_1.ts", "a_2.ts", uploaded=("a_1.ts", "a_2.ts"))
    assert ledger.next_upload(playlist) == PlaylistUpload(1, playlist.data, 2)


def test_while_uploads_lag_the_bucket_gets_the_playlist_cut_after_its_last_uploaded_segment() -> (
    None
):
    ledger, playlist = ledger_with("a_1.ts", "a_2.ts", "a_3.ts", uploaded=("a_1.ts",))
    upload = ledger.next_upload(playlist)
    assert upload is not None and upload.version is None and upload.listed == 1
    assert b"a_1.ts" in upload.data and b"a_2.ts" not in upload.data


def test_nothing_goes_up_while_the_bucket_copy_already_lists_every_uploaded_segment() -> None:
    ledger, playlist = ledger_with("a_1.ts", "a_2.ts", uploaded=("a_1.ts",))
    first = ledger.next_upload(playlist)
    assert first is not None
    ledger.playlist_uploaded(playlist, first)
    assert ledger.next_upload(playlist) is None


def test_a_version_equal_to_the_journalled_copy_counts_as_in_the_bucket_after_a_restart() -> None:
    ledger = UploadLedger()
    playlist = ledger.playlists["p.m3u8"] = Playlist("p.m3u8")
    data = playlist_text("a_1.ts", ended=True)
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert ledger.record_version(playlist, data, in_bucket_digest=digest, from_backup=False)
    assert playlist.uploaded_version == playlist.version == 1
    assert (playlist.ready, playlist.published) == (1, 1)
    assert ledger.all_in_bucket()


def test_the_same_playlist_text_again_is_not_a_new_version() -> None:
    ledger, playlist = ledger_with("a_1.ts")
    assert not ledger.record_version(
        playlist, playlist.data, in_bucket_digest=None, from_backup=False
    )
    assert playlist.version == 1


def test_progress_never_goes_down_and_stays_below_complete_until_final() -> None:
    ledger, playlist = ledger_with("a_1.ts", "a_2.ts", uploaded=("a_1.ts", "a_2.ts"))
    upload = ledger.next_upload(playlist)
    assert upload is not None
    ledger.playlist_uploaded(playlist, upload)
    assert ledger.progress(final=False) == 9999
    assert ledger.progress(final=True) == 10000
    ledger.media["a_3.ts"] = Media("a_3.ts", 10_000, ready_at=3.0, start_ms=3000)
    assert ledger.progress(final=False) == 10000  # never down, even with more pending bytes


def test_settled_waits_for_pending_media_and_busy_playlists() -> None:
    ledger, playlist = ledger_with("a_1.ts", uploaded=())
    assert not ledger.settled()
    ledger.media["a_1.ts"].state = "backuped"
    playlist.backuped_version = playlist.version
    assert ledger.settled()
    assert not ledger.all_in_bucket()
    playlist.busy = True
    assert not ledger.settled()


def test_a_whole_upload_of_the_newest_version_releases_its_backup_copy() -> None:
    ledger, playlist = ledger_with("a_1.ts", uploaded=("a_1.ts",))
    playlist.in_backup = True
    upload = ledger.next_upload(playlist)
    assert upload is not None
    assert ledger.playlist_uploaded(playlist, upload) is True
    assert (playlist.in_backup, playlist.backuped_version) == (False, 0)
    assert ledger.all_in_bucket()


def test_the_file_list_gives_each_playlist_its_earliest_segment_and_each_mp4_its_own_start() -> (
    None
):
    ledger, _ = ledger_with("a_1.ts", "a_2.ts")
    ledger.media["sid_room_0.mp4"] = Media("sid_room_0.mp4", 5, ready_at=0.0, start_ms=None)
    ledger.media["sid_room_1.mp4"] = Media("sid_room_1.mp4", 5, ready_at=0.0, start_ms=7000)
    files = ledger.playable_files(info)
    assert [(f.file_name, f.slice_start_time) for f in files] == [
        ("prefix/sid_room.m3u8", 0),
        ("prefix/sid_room_0.mp4", 0),
        ("prefix/sid_room_1.mp4", 7000),
    ]


def test_upload_latency_counts_only_segments_in_the_bucket() -> None:
    ledger, _ = ledger_with("a_1.ts", "a_2.ts")
    ledger.media["a_1.ts"].uploaded_at = 2.5
    assert ledger.latencies() == [2.5]
