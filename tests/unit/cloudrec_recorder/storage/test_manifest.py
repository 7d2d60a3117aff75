"""What the recorder's manifest lists: every object in the bucket, with size and SHA-256."""

from __future__ import annotations

import hashlib
import json

import pytest
from tests.unit.cloudrec_protocol.test_manifest import pem_pair

from cloudrec_protocol.manifest import (
    ED25519,
    Manifest,
    ManifestTrust,
    TimelineEntry,
    TimelineKind,
    load_private_key,
    load_public_key,
    signature_problem,
    signature_valid,
)
from cloudrec_recorder.storage.ledger import Media, Playlist, UploadLedger
from cloudrec_recorder.storage.manifest import ManifestSource, manifest_document

PLAYLIST = b"#EXTM3U\n#EXTINF:2.0,\nsid_room_20260101000000000.ts\n"


def ledger() -> UploadLedger:
    book = UploadLedger()
    book.media["sid_room_20260101000000000.ts"] = Media(
        "sid_room_20260101000000000.ts", 100, 0.0, 0, state="uploaded", sha256="a" * 64
    )
    book.media["sid_room_0.mp4"] = Media("sid_room_0.mp4", 900, 0.0, 0, state="uploaded")
    book.media["sid_room_0.mp4"].sha256 = "c" * 64
    book.media["sid_room_20260101000002000.ts"] = Media(
        "sid_room_20260101000002000.ts", 50, 0.0, 0, state="backuped", sha256="d" * 64
    )
    book.playlists["sid_room.m3u8"] = Playlist(
        "sid_room.m3u8", data=PLAYLIST, version=2, uploaded_version=2
    )
    return book


def test_the_manifest_lists_what_is_in_the_bucket_with_sizes_and_hashes_sorted_by_key() -> None:
    objects = ledger().manifest_objects(lambda name: f"team/{name}")
    assert [(o.key, o.size, o.sha256) for o in objects] == [
        ("team/sid_room.m3u8", len(PLAYLIST), hashlib.sha256(PLAYLIST).hexdigest()),
        ("team/sid_room_0.mp4", 900, "c" * 64),
        ("team/sid_room_20260101000000000.ts", 100, "a" * 64),
    ]  # the segment still in the backup is not in the bucket


@pytest.mark.parametrize(("secret", "signed"), [("s3cret", True), (None, False)])
def test_the_document_is_signed_with_the_callback_secret_when_there_is_one(
    secret: str | None, signed: bool
) -> None:
    source = ManifestSource(
        sid="sid",
        cname="room",
        uid="7",
        secret=secret,
        timeline=lambda: [TimelineEntry(kind=TimelineKind.STARTED, at_ms=5)],
    )
    data = manifest_document(source, ledger().manifest_objects(lambda name: name))
    parsed = Manifest.model_validate(json.loads(data))
    assert source.name == "sid_room.manifest.json"
    assert parsed.timeline[0].kind is TimelineKind.STARTED
    assert (parsed.signature is not None) is signed
    assert signature_valid(parsed, "s3cret") is signed


def test_with_a_signing_key_the_document_is_signed_with_ed25519_not_the_secret() -> None:
    private_pem, public_pem = pem_pair()
    source = ManifestSource(
        sid="sid",
        cname="room",
        uid="7",
        secret="s3cret",
        timeline=list,
        private_key=load_private_key(private_pem),
    )
    parsed = Manifest.model_validate(json.loads(manifest_document(source, ())))
    assert parsed.signature is not None and parsed.signature.algorithm == ED25519
    assert signature_problem(parsed, ManifestTrust(public_key=load_public_key(public_pem))) is None
    assert not signature_valid(parsed, "s3cret")
