"""The manifest (our protocol extension): canonical JSON, signature, and the comparison with
what a bucket holds."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cloudrec_protocol.manifest import (
    Discrepancy,
    DiscrepancyKind,
    FoundObject,
    Manifest,
    ManifestObject,
    TimelineEntry,
    TimelineKind,
    canonical_json,
    compare,
    describe,
    is_manifest_name,
    manifest_name,
    sign_manifest,
    signature_valid,
)

SECRET = "callback-secret"
A = ManifestObject(key="p/sid_room_20260101000000000.ts", size=100, sha256="a" * 64)
B = ManifestObject(key="p/sid_room.m3u8", size=40, sha256="b" * 64)


def manifest(*objects: ManifestObject) -> Manifest:
    return Manifest(
        sid="sid",
        cname="room",
        uid="9",
        objects=objects or (A, B),
        timeline=(
            TimelineEntry(kind=TimelineKind.STARTED, at_ms=1000),
            TimelineEntry(kind=TimelineKind.STOPPED, at_ms=9000),
        ),
    )


@pytest.mark.parametrize(
    ("sid", "cname", "expected"),
    [
        ("sid1", "room", "sid1_room.manifest.json"),
        ("sid1", "my room!", "sid1_my-room-.manifest.json"),
    ],
)
def test_the_manifest_is_named_after_the_sid_and_the_cname_as_file_names_spell_it(
    sid: str, cname: str, expected: str
) -> None:
    assert manifest_name(sid, cname) == expected
    assert is_manifest_name(f"prefix/{expected}")
    assert not is_manifest_name("prefix/sid1_room.m3u8")


def test_the_canonical_json_has_sorted_keys_no_white_space_and_no_signature() -> None:
    signed = sign_manifest(manifest(), SECRET)
    text = canonical_json(signed).decode()
    assert " " not in text and "\n" not in text
    assert "signature" not in text
    body = json.loads(text)
    assert list(body) == sorted(body)
    assert body["timeline"][0] == {"atMs": 1000, "kind": "Started"}  # unset untilMs left out


def test_signing_sorts_the_objects_by_key_and_the_order_given_does_not_matter() -> None:
    one = sign_manifest(manifest(A, B), SECRET)
    other = sign_manifest(manifest(B, A), SECRET)
    assert [o.key for o in one.objects] == sorted([A.key, B.key])
    assert one.signature == other.signature


def test_a_signed_manifest_survives_a_round_trip_through_its_json() -> None:
    signed = sign_manifest(manifest(), SECRET)
    again = Manifest.model_validate_json(signed.model_dump_json())
    assert signature_valid(again, SECRET)


@pytest.mark.parametrize(
    ("change", "secret"),
    [
        ({}, "another-secret"),
        ({"sid": "other"}, SECRET),
        ({"objects": (A.model_copy(update={"size": 101}), B)}, SECRET),
        ({"objects": (A,)}, SECRET),
        ({"timeline": ()}, SECRET),
        ({"signature": None}, SECRET),
    ],
    ids=["wrong secret", "sid", "a size", "an object dropped", "timeline", "unsigned"],
)
def test_a_manifest_changed_after_signing_or_checked_with_another_secret_is_refused(
    change: dict[str, object], secret: str
) -> None:
    signed = sign_manifest(manifest(), SECRET)
    assert signature_valid(signed, SECRET)
    assert not signature_valid(signed.model_copy(update=change), secret)


def test_a_manifest_with_a_field_it_does_not_know_is_refused_naming_it() -> None:
    body = json.loads(sign_manifest(manifest(), SECRET).model_dump_json())
    body["extra"] = 1
    with pytest.raises(ValidationError, match="extra"):
        Manifest.model_validate(body)


@pytest.mark.parametrize(
    ("found", "hashes", "expected"),
    [
        ({A.key: FoundObject(100), B.key: FoundObject(40)}, False, ()),
        ({B.key: FoundObject(40)}, False, ((A.key, DiscrepancyKind.MISSING),)),
        (
            {A.key: None, B.key: FoundObject(41)},
            False,
            ((A.key, DiscrepancyKind.MISSING), (B.key, DiscrepancyKind.SIZE_CHANGED)),
        ),
        (
            {A.key: FoundObject(100, "a" * 64), B.key: FoundObject(40, "c" * 64)},
            True,
            ((B.key, DiscrepancyKind.CONTENT_CHANGED),),
        ),
        (
            {A.key: FoundObject(100, "a" * 64), B.key: FoundObject(40, "b" * 64)},
            True,
            (),
        ),
    ],
    ids=["all there", "one missing", "missing and resized", "content changed", "hashes match"],
)
def test_the_comparison_names_each_object_missing_or_changed(
    found: dict[str, FoundObject | None],
    hashes: bool,
    expected: tuple[tuple[str, DiscrepancyKind], ...],
) -> None:
    problems = compare(manifest(A, B), found)
    assert tuple((p.key, p.kind) for p in problems) == expected


@pytest.mark.parametrize(
    ("count", "limit", "expected_tail"),
    [(1, 10, "k0: Missing"), (3, 2, "and 1 more"), (12, 10, "and 2 more")],
)
def test_the_description_names_at_most_limit_objects_and_counts_the_rest(
    count: int, limit: int, expected_tail: str
) -> None:
    problems = tuple(Discrepancy(f"k{i}", DiscrepancyKind.MISSING) for i in range(count))
    text = describe(problems, limit)
    assert text.endswith(expected_tail)
    assert text.count(": Missing") == min(count, limit)
