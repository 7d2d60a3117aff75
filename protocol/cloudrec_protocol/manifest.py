"""The recording manifest: our extension to the protocol (docs/verification.md).

When a recording's files are all in the bucket, the self-hosted recorder uploads one more
object, last: ``<sid>_<cname>.manifest.json`` (:func:`manifest_name`, next to the playlist). It
lists every object the recording wrote (key, size, SHA-256), the recording's timeline (start,
stop, and what the recorder knows happened in between: gaps, restarts, pauses, hand-overs) and a
signature over the manifest's canonical JSON (:func:`canonical_json`: the manifest without
``signature``, keys sorted, no white space, UTF-8), one of

* ``HMAC-SHA256``: the lowercase hex HMAC with the backend's callback secret (the key that signs
  the event callbacks); whoever checks it holds the secret, so could sign too;
* ``Ed25519``: the lowercase hex Ed25519 signature (RFC 8032) with the recorder's private key;
  whoever checks it needs only the public key, which cannot sign.

Anyone holding the files and the secret (or the public key) can check that the bucket holds
exactly what the recording made (``python -m cloudrec_operator verify``). Whoever holds an
Ed25519 public key accepts only Ed25519 signatures (:class:`ManifestTrust`): a manifest signed
with the shared secret instead is refused, since anyone with the secret could have made it.

The pure parts live here, shared by the recorder (which builds and signs it) and the operator
(which checks the bucket against it): the models, the canonical form, signing, and the
comparison of the manifest with what the bucket holds (:func:`compare`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloudrec_protocol.filenames import file_cname

__all__ = [
    "ED25519",
    "MANIFEST_SUFFIX",
    "MANIFEST_VERSION",
    "NOT_LISTED",
    "SIGNATURE_ALGORITHM",
    "Discrepancy",
    "DiscrepancyKind",
    "FoundObject",
    "Manifest",
    "ManifestObject",
    "ManifestSignature",
    "ManifestTrust",
    "SignatureAlgorithm",
    "TimelineEntry",
    "TimelineKind",
    "canonical_json",
    "compare",
    "describe",
    "ed25519_signature_valid",
    "is_manifest_name",
    "load_private_key",
    "load_public_key",
    "manifest_name",
    "part_manifest_name",
    "sign_manifest",
    "sign_manifest_ed25519",
    "signature_problem",
    "signature_valid",
    "unlisted_parts",
]

MANIFEST_VERSION: Literal[1] = 1
MANIFEST_SUFFIX = ".manifest.json"
SIGNATURE_ALGORITHM: Literal["HMAC-SHA256"] = "HMAC-SHA256"
ED25519: Literal["Ed25519"] = "Ed25519"
SignatureAlgorithm = Literal["HMAC-SHA256", "Ed25519"]
_SHA256_HEX = r"^[0-9a-f]{64}$"
_SIGNATURE_HEX = r"^([0-9a-f]{64}|[0-9a-f]{128})$"
_HEX_LENGTH = {SIGNATURE_ALGORITHM: 64, ED25519: 128}


def manifest_name(sid: str, cname: str) -> str:
    """The manifest's file name, ``<sid>_<cname>.manifest.json`` (cname as in file names)."""
    return f"{sid}_{file_cname(cname)}{MANIFEST_SUFFIX}"


FIRST_PART = "first"
"""The part label of a recording's first part (its files have no ``bak<n>_`` prefix)."""


def part_manifest_name(sid: str, cname: str, prefix: str) -> str:
    """The name of one part's own manifest after a take-over,
    ``<sid>_<cname>.<part>.manifest.json``: ``<part>`` is the part's file prefix without its
    ``_`` (``bak0`` for the ``bak0_`` part) or ``first`` for the part without a prefix. The
    recording's own name (:func:`manifest_name`) is the last part's, whose manifest is final.
    A file cname has no ``.``, so the two never meet."""
    part = prefix.removesuffix("_") or FIRST_PART
    return f"{sid}_{file_cname(cname)}.{part}{MANIFEST_SUFFIX}"


NOT_LISTED = "not listed here: "
"""How a take-over's ``HandedOver`` detail begins to name the earlier parts a taker's manifest
does not list (``not listed here: <playlists> and the objects they list``)."""


def unlisted_parts(manifest: Manifest) -> str | None:
    """What ``manifest`` says it does not list (the last take-over's ``not listed here: ...``),
    None when it lists the whole recording."""
    for entry in reversed(manifest.timeline):
        detail = entry.detail or ""
        if entry.kind == TimelineKind.HANDED_OVER and NOT_LISTED in detail:
            return NOT_LISTED + detail.split(NOT_LISTED, 1)[1]
    return None


def is_manifest_name(name: str) -> bool:
    """True for a manifest's file name or object key."""
    return name.endswith(MANIFEST_SUFFIX)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class _Model(BaseModel):
    """camelCase keys; unknown keys refused (the signature covers every field there is)."""

    model_config = ConfigDict(
        alias_generator=_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        hide_input_in_errors=True,
        extra="forbid",
        frozen=True,
    )


class ManifestObject(_Model):
    """One object the recording wrote, as it was uploaded."""

    key: str = Field(min_length=1, max_length=1024)
    """Object key in the bucket (``fileNamePrefix`` parts joined by ``/`` + file name)."""
    size: int = Field(ge=0)
    """Size in bytes."""
    sha256: str = Field(pattern=_SHA256_HEX)
    """Lowercase hex SHA-256 of the object's bytes."""


class TimelineKind(StrEnum):
    """What happened to the recording at a moment of its timeline."""

    STARTED = "Started"
    STOPPED = "Stopped"
    GAP = "Gap"
    """Nothing was captured from ``atMs`` to ``untilMs``, longer than one HLS segment (e.g.
    nobody published in the channel)."""
    RESTARTED = "Restarted"
    """A restarted recorder process took the recording up (delivered what the earlier
    process left); ``detail`` names the replica."""
    PAUSED = "Paused"
    RESUMED = "Resumed"
    HANDED_OVER = "HandedOver"
    """Another recorder took the recording over at the cut; ``detail`` names the giver."""


class TimelineEntry(_Model):
    """One moment (or interval) of the recording's timeline."""

    kind: TimelineKind
    at_ms: int = Field(ge=0)
    """When, in Unix milliseconds."""
    until_ms: int | None = Field(default=None, ge=0)
    """End of an interval (a gap), in Unix milliseconds."""
    detail: str | None = Field(default=None, max_length=1024)


class ManifestSignature(_Model):
    """The signature over the manifest's canonical JSON."""

    algorithm: SignatureAlgorithm = SIGNATURE_ALGORITHM
    value: str = Field(pattern=_SIGNATURE_HEX)
    """Lowercase hex of :func:`canonical_json`'s HMAC-SHA256 with the callback secret (64
    digits), or of its Ed25519 signature with the recorder's private key (128 digits)."""

    @model_validator(mode="after")
    def _length_fits_the_algorithm(self) -> ManifestSignature:
        if len(self.value) != _HEX_LENGTH[self.algorithm]:
            raise ValueError(
                f"a {self.algorithm} signature is {_HEX_LENGTH[self.algorithm]} hex digits"
            )
        return self


class Manifest(_Model):
    """Every object a recording wrote, its timeline and the signature over both."""

    version: Literal[1] = MANIFEST_VERSION
    sid: str = Field(min_length=1, max_length=1024)
    cname: str = Field(min_length=1, max_length=1024)
    uid: str = Field(min_length=1, max_length=64)
    """The recorder's uid in the channel."""
    objects: tuple[ManifestObject, ...]
    """Every object the recording wrote but this manifest, sorted by key."""
    timeline: tuple[TimelineEntry, ...] = ()
    signature: ManifestSignature | None = None


def canonical_json(manifest: Manifest) -> bytes:
    """The bytes the signature covers: the manifest without ``signature``, keys sorted, no
    white space, non-ASCII as UTF-8, optional fields left out when unset."""
    body = manifest.model_dump(mode="json", exclude={"signature"}, exclude_none=True)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _hmac(manifest: Manifest, secret: str) -> str:
    return hmac.new(secret.encode(), canonical_json(manifest), hashlib.sha256).hexdigest()


def sign_manifest(manifest: Manifest, secret: str) -> Manifest:
    """``manifest`` with its objects sorted by key and signed with ``secret``."""
    ordered = manifest.model_copy(
        update={"objects": tuple(sorted(manifest.objects, key=lambda o: o.key))}
    )
    return ordered.model_copy(update={"signature": ManifestSignature(value=_hmac(ordered, secret))})


def signature_valid(manifest: Manifest, secret: str) -> bool:
    """True when the manifest's signature is the HMAC of its canonical JSON with ``secret``
    (compared in constant time)."""
    signature = manifest.signature
    if signature is None or signature.algorithm != SIGNATURE_ALGORITHM:
        return False
    return hmac.compare_digest(signature.value.encode(), _hmac(manifest, secret).encode())


def load_private_key(pem: str | bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS #8, ``openssl genpkey -algorithm ed25519``);
    ValueError saying what it is instead (never quoting it)."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not a PEM private key without a password (PKCS #8)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"not an Ed25519 key ({type(key).__name__.removesuffix('PrivateKey')})")
    return key


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (``openssl pkey -pubout``); ValueError otherwise."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an Ed25519 key ({type(key).__name__.removesuffix('PublicKey')})")
    return key


def sign_manifest_ed25519(manifest: Manifest, private_key: Ed25519PrivateKey) -> Manifest:
    """``manifest`` with its objects sorted by key and signed with ``private_key``."""
    ordered = manifest.model_copy(
        update={"objects": tuple(sorted(manifest.objects, key=lambda o: o.key))}
    )
    value = private_key.sign(canonical_json(ordered)).hex()
    return ordered.model_copy(
        update={"signature": ManifestSignature(algorithm=ED25519, value=value)}
    )


def ed25519_signature_valid(manifest: Manifest, public_key: Ed25519PublicKey) -> bool:
    """True when the manifest's signature is an Ed25519 signature of its canonical JSON that
    ``public_key`` verifies."""
    signature = manifest.signature
    if signature is None or signature.algorithm != ED25519:
        return False
    try:
        public_key.verify(bytes.fromhex(signature.value), canonical_json(manifest))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class ManifestTrust:
    """What a manifest's signature is checked with: the Ed25519 public key when there is one
    (then only Ed25519 signatures count), else the HMAC secret."""

    secret: str | None = None
    public_key: Ed25519PublicKey | None = None

    def __repr__(self) -> str:
        secret = "***" if self.secret else None
        return f"ManifestTrust(secret={secret}, ed25519={self.public_key is not None})"


def signature_problem(manifest: Manifest, trust: ManifestTrust) -> str | None:
    """Why the manifest's signature does not hold under ``trust`` (None: it holds)."""
    signature = manifest.signature
    if signature is None:
        return "the manifest is not signed"
    if trust.public_key is not None:
        if signature.algorithm != ED25519:
            return (
                f"signed with {signature.algorithm}, but an Ed25519 public key is given: only "
                "Ed25519 signatures are accepted then"
            )
        if not ed25519_signature_valid(manifest, trust.public_key):
            return "the Ed25519 signature does not verify (forged, altered, or another key's)"
        return None
    if trust.secret is None:
        return "neither a secret nor a public key to check the signature with"
    if signature.algorithm != SIGNATURE_ALGORITHM:
        return f"signed with {signature.algorithm}: its public key is needed to check it"
    if not signature_valid(manifest, trust.secret):
        return "the signature does not match (forged, altered, or signed with another secret)"
    return None


# ------------------------------------------------------------------ comparison


@dataclass(frozen=True, slots=True)
class FoundObject:
    """What the bucket holds under a key: its size and, when read whole, its SHA-256."""

    size: int
    sha256: str | None = None


class DiscrepancyKind(StrEnum):
    MISSING = "Missing"
    SIZE_CHANGED = "SizeChanged"
    CONTENT_CHANGED = "ContentChanged"


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One object of the manifest the bucket does not hold as the manifest says."""

    key: str
    kind: DiscrepancyKind
    detail: str = ""


def compare(manifest: Manifest, found: Mapping[str, FoundObject | None]) -> tuple[Discrepancy, ...]:
    """Each object of ``manifest`` that ``found`` (key -> what the bucket holds, None or
    absent: not there) misses or holds otherwise, in the manifest's order. A hash is compared
    only when ``found`` has one (a size check alone reads no object)."""
    problems: list[Discrepancy] = []
    for item in manifest.objects:
        there = found.get(item.key)
        if there is None:
            problems.append(Discrepancy(item.key, DiscrepancyKind.MISSING))
        elif there.size != item.size:
            problems.append(
                Discrepancy(
                    item.key,
                    DiscrepancyKind.SIZE_CHANGED,
                    f"{there.size} bytes, the manifest says {item.size}",
                )
            )
        elif there.sha256 is not None and there.sha256 != item.sha256:
            problems.append(
                Discrepancy(item.key, DiscrepancyKind.CONTENT_CHANGED, "SHA-256 differs")
            )
    return tuple(problems)


def describe(problems: tuple[Discrepancy, ...], limit: int = 10) -> str:
    """The discrepancies in words, at most ``limit`` named (and how many more there are)."""
    named = [
        f"{p.key}: {p.kind.value}" + (f" ({p.detail})" if p.detail else "")
        for p in problems[:limit]
    ]
    more = len(problems) - limit
    if more > 0:
        named.append(f"and {more} more")
    return "; ".join(named)
