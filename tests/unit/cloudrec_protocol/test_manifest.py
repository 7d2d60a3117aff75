"""The manifest (our protocol extension): canonical JSON, signature, and the comparison with
what a bucket holds."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from cloudrec_protocol.manifest import (
    ED25519,
    Discrepancy,
    DiscrepancyKind,
    FoundObject,
    Manifest,
    ManifestObject,
    ManifestSignature,
    ManifestTrust,
    TimelineEntry,
    TimelineKind,
    canonical_json,
    compare,
    describe,
    ed25519_signature_valid,
    is_manifest_name,
    load_private_key,
    load_public_key,
    manifest_name,
    sign_manifest,
    sign_manifest_ed25519,
    signature_problem,
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


# ------------------------------------------------------------------ Ed25519


def pem_pair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as an operator would hold it: PKCS #8 and SubjectPublicKeyInfo."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE, PUBLIC = pem_pair()
OTHER_PRIVATE, OTHER_PUBLIC = pem_pair()


def signed_ed25519() -> Manifest:
    return sign_manifest_ed25519(manifest(), load_private_key(PRIVATE))


def test_a_manifest_signed_with_ed25519_verifies_with_the_public_key() -> None:
    signed = signed_ed25519()
    assert signed.signature is not None and signed.signature.algorithm == ED25519
    assert len(signed.signature.value) == 128
    assert ed25519_signature_valid(signed, load_public_key(PUBLIC))
    again = Manifest.model_validate(json.loads(signed.model_dump_json()))  # through JSON
    assert signature_problem(again, ManifestTrust(public_key=load_public_key(PUBLIC))) is None


@pytest.mark.parametrize(
    "change",
    [
        {"sid": "other"},
        {"objects": (A.model_copy(update={"size": 101}), B)},
        {"timeline": ()},
    ],
    ids=["sid", "object size", "timeline"],
)
def test_an_altered_ed25519_manifest_fails_its_signature(change: dict[str, object]) -> None:
    forged = signed_ed25519().model_copy(update=change)
    problem = signature_problem(forged, ManifestTrust(public_key=load_public_key(PUBLIC)))
    assert problem is not None and "does not verify" in problem


def test_another_recorders_key_does_not_verify_the_signature() -> None:
    problem = signature_problem(
        signed_ed25519(), ManifestTrust(public_key=load_public_key(OTHER_PUBLIC))
    )
    assert problem is not None and "another key" in problem


def test_with_a_public_key_a_manifest_signed_with_the_shared_secret_is_refused() -> None:
    hmac_signed = sign_manifest(manifest(), SECRET)
    trust = ManifestTrust(secret=SECRET, public_key=load_public_key(PUBLIC))
    problem = signature_problem(hmac_signed, trust)
    assert problem is not None and "only Ed25519" in problem
    assert signature_problem(hmac_signed, ManifestTrust(secret=SECRET)) is None


def test_with_the_secret_alone_an_ed25519_manifest_asks_for_its_public_key() -> None:
    problem = signature_problem(signed_ed25519(), ManifestTrust(secret=SECRET))
    assert problem is not None and "public key is needed" in problem
    assert not signature_valid(signed_ed25519(), SECRET)


def test_an_unsigned_manifest_fails_whatever_the_trust() -> None:
    trust = ManifestTrust(secret=SECRET, public_key=load_public_key(PUBLIC))
    assert signature_problem(manifest(), trust) == "the manifest is not signed"


def test_a_signature_whose_length_does_not_fit_its_algorithm_is_refused() -> None:
    with pytest.raises(ValidationError, match="Ed25519 signature is 128 hex digits"):
        ManifestSignature(algorithm=ED25519, value="a" * 64)
    with pytest.raises(ValidationError, match="HMAC-SHA256 signature is 64 hex digits"):
        ManifestSignature(value="a" * 128)


def test_keys_that_are_not_ed25519_pem_are_refused_saying_what_they_are() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        load_private_key(ec_pem)
    with pytest.raises(ValueError, match="not a PEM private key") as caught:
        load_private_key("secret-looking text")
    assert "secret-looking" not in str(caught.value)  # never quoted
    with pytest.raises(ValueError, match="not a PEM public key"):
        load_public_key(PRIVATE)
    assert repr(ManifestTrust(secret=SECRET)).count(SECRET) == 0
