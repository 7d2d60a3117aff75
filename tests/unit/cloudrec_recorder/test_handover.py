"""The hand-over's pure decisions (handover.py) and the redirect table (redirects.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudrec_protocol.manifest import ManifestObject
from cloudrec_recorder.handover import (
    TAKER_UID_LOW,
    PeerState,
    choose_cut,
    choose_taker,
    listed_segments,
    playlist_entries,
    route,
    taker_uid,
)
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.recordingkey import RecordingKey
from cloudrec_recorder.redirects import REDIRECTS_DIR, Redirects
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.storage.files import merged_file_list
from cloudrec_recorder.storage.ledger import Media, Playlist, UploadLedger

SID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("schedule", "output_time", "margin", "cut"),
    [
        (SegmentSchedule(2.0), 6.3, 1.5, 8.0),
        (SegmentSchedule(2.0), 6.6, 1.5, 10.0),  # 8.1 is past 8: the boundary after it
        (SegmentSchedule(2.0), 0.0, 0.0, 2.0),
        (SegmentSchedule(10.0, first_seconds=4.0), 1.0, 1.5, 4.0),
        (SegmentSchedule(10.0, first_seconds=4.0), 3.0, 1.5, 14.0),
    ],
)
def test_the_cut_is_the_first_segment_boundary_a_margin_after_the_takers_first_media(
    schedule: SegmentSchedule, output_time: float, margin: float, cut: float
) -> None:
    assert choose_cut(schedule, output_time, margin) == cut


GIVER = (
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.000,\na_1.ts\n#EXTINF:2.000,\na_2.ts\n"
    "#EXT-X-ENDLIST\n"
)


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        (GIVER, "#EXTINF:2.000,\na_1.ts\n#EXTINF:2.000,\na_2.ts\n#EXT-X-DISCONTINUITY\n"),
        (
            GIVER.replace("#EXTINF:2.000,\na_2.ts", "#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nb.ts"),
            "#EXTINF:2.000,\na_1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nb.ts\n"
            "#EXT-X-DISCONTINUITY\n",
        ),
        ("#EXTM3U\n#EXT-X-ENDLIST\n", ""),
        ("", ""),
    ],
)
def test_the_takers_playlist_goes_on_from_the_givers_entries_after_one_discontinuity(
    text: str, entries: str
) -> None:
    assert playlist_entries(text) == entries


def test_the_givers_listed_segments_are_the_names_of_its_playlist() -> None:
    assert listed_segments(GIVER) == ["a_1.ts", "a_2.ts"]


@pytest.mark.parametrize(
    ("peers", "chosen"),
    [
        ([PeerState("rb", True, 2), PeerState("rc", True, 5)], "rc"),
        ([PeerState("rb", True, 2), PeerState("rc", True, 2)], "rb"),
        ([PeerState("rb", False, 9), PeerState("rc", True, 0)], None),
        ([], None),
    ],
)
def test_the_taker_is_the_ready_peer_with_the_most_room(
    peers: list[PeerState], chosen: str | None
) -> None:
    assert choose_taker(peers) == chosen


def test_a_taker_joins_as_a_uid_in_the_upper_half_of_the_32_bit_range() -> None:
    assert taker_uid(lambda n: 0) == str(TAKER_UID_LOW)
    assert taker_uid(lambda n: n - 1) == str(2**32 - 2)


@pytest.mark.parametrize(
    ("owner", "held", "redirects", "forwarded_by", "target"),
    [
        ("ra", False, {}, None, None),  # ours
        ("rb", False, {}, None, "rb"),  # the owner's
        ("rb", True, {}, None, None),  # taken over: held here
        ("ra", False, {SID: "rb"}, None, "rb"),  # handed over: follow it
        ("ra", False, {SID: "rb"}, "rc", "rb"),  # also when forwarded here
        ("ra", False, {SID: "rb"}, "rb", None),  # never back where it came from
        ("rc", False, {}, "rb", None),  # forwarded once: never again
        (None, False, {}, None, None),  # not one of ours
    ],
)
def test_requests_for_a_sid_follow_its_hand_overs(
    owner: str | None,
    held: bool,
    redirects: dict[str, str],
    forwarded_by: str | None,
    target: str | None,
) -> None:
    assert (
        route(
            here="ra",
            owner=owner,
            sid=SID,
            held=held,
            redirects=redirects,
            forwarded_by=forwarded_by,
        )
        == target
    )


def test_the_redirect_table_survives_a_restart_and_forgets_a_recording_taken_back(
    tmp_path: Path,
) -> None:
    table = Redirects(tmp_path)
    table.record(RecordingKey("app", SID), "rb")
    assert dict(Redirects(tmp_path)) == {RecordingKey("app", SID): "rb"}
    table.forget(RecordingKey("app", SID))
    assert dict(Redirects(tmp_path)) == {}


def test_a_redirect_counts_for_its_own_app_id_only_and_another_apps_offer_keeps_it(
    tmp_path: Path,
) -> None:
    table = Redirects(tmp_path)
    table.record(RecordingKey("victim", SID), "rb")
    table.forget(RecordingKey("tenant", SID))  # a tenant's offer of the victim's sid
    again = Redirects(tmp_path)
    assert again.where(RecordingKey("victim", SID)) == "rb"
    assert again.where(RecordingKey("tenant", SID)) is None
    assert again.of_app("victim") == {SID: "rb"}
    assert again.of_app("tenant") == {}


def test_a_redirect_written_before_entries_had_an_app_id_counts_for_every_app_id(
    tmp_path: Path,
) -> None:
    (tmp_path / REDIRECTS_DIR).mkdir()
    (tmp_path / REDIRECTS_DIR / SID).write_text("rb\n")
    table = Redirects(tmp_path)
    assert table.where(RecordingKey("any", SID)) == "rb"
    assert table.of_app("any") == {SID: "rb"}
    table.record(RecordingKey("app", SID), "rc")  # a later hand-over of this replica's
    assert dict(Redirects(tmp_path)) == {RecordingKey("app", SID): "rc"}


@pytest.mark.parametrize(
    "key",
    [RecordingKey("app", "../etc"), RecordingKey("", SID)],
    ids=["malformed sid", "no app id"],
)
def test_the_redirect_table_refuses_a_malformed_sid(key: RecordingKey) -> None:
    with pytest.raises(ValueError, match="malformed"):
        Redirects(Path("/nonexistent")).record(key, "rb")


@pytest.mark.parametrize(
    ("here", "order"),
    [("ra", ["rb", "rc"]), ("rb", ["rc", "ra"]), ("rc", ["ra", "rb"]), ("rx", ["ra", "rb", "rc"])],
)
def test_a_draining_replica_offers_to_the_next_replicas_in_ring_order(
    here: str, order: list[str]
) -> None:
    settings = RecorderSettings.model_validate(
        {
            "customerId": "c",
            "customerSecret": "s",
            "apps": {"a": {"janus": {"wsUrl": "ws://janus:8188/"}}},
            "replicaId": here,
            "handover": {"replicas": ["ra", "rb", "rc"]},
        }
    )
    assert settings.handover_replicas() == order


def test_a_takers_playlist_waits_for_nothing_the_giver_delivered_and_its_manifest_lists_both() -> (
    None
):
    ledger = UploadLedger()
    playlist = Playlist("p.m3u8")
    ledger.playlists["p.m3u8"] = playlist
    ledger.media["b_3.ts"] = Media("b_3.ts", 10, 0.0, None, state="uploaded", sha256="b" * 64)
    text = b"#EXTM3U\n#EXTINF:2.000,\na_1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nb_3.ts\n"
    ledger.record_version(playlist, text, in_bucket_digest=None, from_backup=False)
    assert ledger.next_upload(playlist) is None  # a_1.ts: whose?
    ledger.elsewhere.update(["a_1.ts"])
    ledger.given.update(
        {
            "r/a_1.ts": ManifestObject(key="r/a_1.ts", size=5, sha256="a" * 64),
            "r/p.m3u8": ManifestObject(key="r/p.m3u8", size=1, sha256="c" * 64),
        }
    )
    upload = ledger.next_upload(playlist)
    assert upload is not None and upload.data == text
    ledger.playlist_uploaded(playlist, upload)
    listed = {o.key: o.sha256[0] for o in ledger.manifest_objects(lambda name: f"r/{name}")}
    assert set(listed) == {"r/a_1.ts", "r/b_3.ts", "r/p.m3u8"}
    assert (listed["r/a_1.ts"], listed["r/b_3.ts"]) == ("a", "b")
    assert listed["r/p.m3u8"] != "c"  # the taker's playlist, not the giver's


def test_a_taken_over_file_list_has_the_givers_parts_and_its_playlists_first_slice_time() -> None:
    def mix(name: str, start: int) -> StoredFile:
        return StoredFile(name, "audio_and_video", "0", True, True, start)

    given = [mix("r/p.m3u8", 1000), mix("r/p_0.mp4", 1000)]
    own = [mix("r/p.m3u8", 9000), mix("r/p_1.mp4", 9000)]
    assert merged_file_list(given, own) == (
        mix("r/p_0.mp4", 1000),
        mix("r/p.m3u8", 1000),
        mix("r/p_1.mp4", 9000),
    )
    assert StoredFile.from_payload(given[0].to_payload()) == given[0]
