"""Where a recovered part's manifest goes: the recording's name stays the final manifest's (a
taker's, after a take-over); the recovered part's goes under its part name."""

from __future__ import annotations

import pytest

from cloudrec_protocol.manifest import (
    Manifest,
    ManifestObject,
    TimelineEntry,
    TimelineKind,
    part_manifest_name,
    unlisted_parts,
)
from cloudrec_recorder.restart import part_prefix
from cloudrec_recorder.storage.manifest import (
    ManifestSource,
    RecoveredPart,
    earlier_part_prefix,
    recovered_manifest_name,
    upload_name,
)

SID = "38f8e3cfdc474cd56fc1ceba380d7e1a"
OURS = (ManifestObject(key=f"p/{SID}_room-1_20261202160512345.ts", size=10, sha256="a" * 64),)
TAKERS = (ManifestObject(key=f"p/bak0_{SID}_room-1_20261202160532345.ts", size=9, sha256="b" * 64),)


async def _never() -> bool:
    return False


def source(prefix: str = "") -> ManifestSource:
    return ManifestSource(
        sid=SID,
        cname="room 1",
        uid="900",
        secret=None,
        timeline=list,
        prefix=prefix,
        recovered=RecoveredPart(_never),
    )


def document(objects: tuple[ManifestObject, ...], sid: str = SID) -> bytes:
    return Manifest(sid=sid, cname="room 1", uid="901", objects=objects).model_dump_json().encode()


def test_a_part_manifest_is_named_after_the_parts_file_prefix_next_to_the_recordings() -> None:
    assert part_manifest_name(SID, "room 1", "") == f"{SID}_room-1.first.manifest.json"
    assert part_manifest_name(SID, "room 1", "bak0_") == f"{SID}_room-1.bak0.manifest.json"
    assert source().name == f"{SID}_room-1.manifest.json"


def test_a_spool_directory_names_its_parts_file_prefix() -> None:
    assert part_prefix(SID) == ""
    assert part_prefix(f"{SID}.bak1") == "bak1_"


def test_a_recovered_part_whose_sid_a_peer_holds_writes_its_part_name() -> None:
    name = recovered_manifest_name(source(), OURS, held_elsewhere=True, in_bucket=None)
    assert name == f"{SID}_room-1.first.manifest.json"


def test_a_recovered_part_never_replaces_a_stopped_takers_manifest() -> None:
    name = recovered_manifest_name(source(), OURS, held_elsewhere=False, in_bucket=document(TAKERS))
    assert name == f"{SID}_room-1.first.manifest.json"


def test_a_recovered_part_not_taken_over_writes_the_recordings_name() -> None:
    assert recovered_manifest_name(source(), OURS, held_elsewhere=False, in_bucket=None) == (
        f"{SID}_room-1.manifest.json"
    )
    again = recovered_manifest_name(source(), OURS, held_elsewhere=False, in_bucket=document(OURS))
    assert again == f"{SID}_room-1.manifest.json"  # its own earlier run's: replaced


@pytest.mark.parametrize("there", [b"not json", document(OURS, sid="another")])
def test_what_is_not_this_recordings_manifest_is_left_alone(there: bytes) -> None:
    name = recovered_manifest_name(source(), OURS, held_elsewhere=False, in_bucket=there)
    assert name == f"{SID}_room-1.first.manifest.json"


class Bucket:
    """The bucket as the manifest's name needs it: one object under the recording's name."""

    def __init__(self, there: bytes | None = None, *, down: bool = False) -> None:
        self.there, self.down = there, down
        self.read: list[str] = []
        self.put: dict[str, bytes] = {}

    async def get_bytes(self, name: str) -> bytes | None:
        if self.down:
            raise OSError("down")
        self.read.append(name)
        return self.there

    async def put_bytes(self, name: str, data: bytes, digest: bytes) -> None:
        self.put[name] = data


def running(prefix: str = "") -> ManifestSource:
    return ManifestSource(
        sid=SID, cname="room 1", uid="900", secret=None, timeline=list, prefix=prefix
    )


async def test_a_running_recording_writes_the_recordings_name_without_reading_the_bucket() -> None:
    bucket = Bucket(down=True)
    assert await upload_name(running(), OURS, bucket) == f"{SID}_room-1.manifest.json"


async def test_when_the_bucket_cannot_be_read_the_part_name_replaces_nothing() -> None:
    bucket = Bucket(down=True)
    assert await upload_name(source("bak0_"), OURS, bucket) == f"{SID}_room-1.bak0.manifest.json"


async def test_the_bucket_is_read_under_the_recordings_name() -> None:
    bucket = Bucket(document(TAKERS))
    assert await upload_name(source(), OURS, bucket) == f"{SID}_room-1.first.manifest.json"
    assert bucket.read == [f"{SID}_room-1.manifest.json"] and not bucket.put


async def test_a_taker_keeps_a_recovered_parts_earlier_manifest_under_its_part_name() -> None:
    earlier = document(OURS)
    bucket = Bucket(earlier)
    assert await upload_name(running("bak0_"), TAKERS, bucket) == f"{SID}_room-1.manifest.json"
    assert bucket.put == {f"{SID}_room-1.first.manifest.json": earlier}


async def test_a_taker_replacing_its_own_or_nothing_copies_nothing() -> None:
    for there in (None, document(TAKERS), document(OURS, sid="another"), b"junk"):
        bucket = Bucket(there)
        assert await upload_name(running("bak0_"), TAKERS, bucket) == (
            f"{SID}_room-1.manifest.json"
        )
        assert not bucket.put


def test_an_earlier_parts_prefix_comes_from_its_objects_names() -> None:
    assert earlier_part_prefix(running("bak1_"), document(TAKERS)) == "bak0_"
    assert earlier_part_prefix(running("bak1_"), document(OURS)) == ""
    assert earlier_part_prefix(running("bak0_"), document(TAKERS)) is None


def test_a_takers_manifest_says_which_parts_it_does_not_list() -> None:
    handed = TimelineEntry(
        kind=TimelineKind.HANDED_OVER,
        at_ms=2,
        detail=f"taken over from replica ra (lost); not listed here: {SID}_room-1.m3u8 and "
        "the objects they list",
    )
    taker = Manifest(sid=SID, cname="room 1", uid="901", objects=TAKERS, timeline=(handed,))
    assert unlisted_parts(taker) == (
        f"not listed here: {SID}_room-1.m3u8 and the objects they list"
    )
    whole = Manifest(sid=SID, cname="room 1", uid="901", objects=TAKERS)
    assert unlisted_parts(whole) is None
