"""The recording manifest: our extension to the protocol (docs/verification.md).

When a recording's files are all in the bucket, the self-hosted recorder uploads one more
object, last: ``<sid>_<cname>.manifest.json`` (:func:`manifest_name`, next to the playlist). It
lists every object the recording wrote (key, size, SHA-256), the recording's timeline (start,
stop, and what the recorder knows happened in between: gaps, restarts, pauses, hand-overs) and a
signature: the lowercase hex HMAC-SHA256, with the backend's callback secret (the key that signs
the event callbacks), of the manifest's canonical JSON (:func:`canonical_json`: the manifest
without ``signature``, keys sorted, no white space, UTF-8). Anyone holding the files and the
secret can check that the bucket holds exactly what the recording made
(``python -m cloudrec_operator verify``).

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

from pydantic import BaseModel, ConfigDict, Field

from cloudrec_protocol.filenames import file_cname

__all__ = [
    "MANIFEST_SUFFIX",
    "MANIFEST_VERSION",
    "SIGNATURE_ALGORITHM",
    "Discrepancy",
    "DiscrepancyKind",
    "FoundObject",
    "Manifest",
    "ManifestObject",
    "ManifestSignature",
    "TimelineEntry",
    "TimelineKind",
    "canonical_json",
    "compare",
    "describe",
    "is_manifest_name",
    "manifest_name",
    "sign_manifest",
    "signature_valid",
]

MANIFEST_VERSION: Literal[1] = 1
MANIFEST_SUFFIX = ".manifest.json"
SIGNATURE_ALGORITHM: Literal["HMAC-SHA256"] = "HMAC-SHA256"
_SHA256_HEX = r"^[0-9a-f]{64}$"


def manifest_name(sid: str, cname: str) -> str:
    """The manifest's file name, ``<sid>_<cname>.manifest.json`` (cname as in file names)."""
    return f"{sid}_{file_cname(cname)}{MANIFEST_SUFFIX}"


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
    """Nothing was recorded from ``atMs`` to ``untilMs`` (e.g. nobody in the channel)."""
    RESTARTED = "Restarted"
    """The recorder restarted and went on with the same recording."""
    PAUSED = "Paused"
    RESUMED = "Resumed"
    HANDED_OVER = "HandedOver"
    """Another recorder took the recording over."""


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

    algorithm: Literal["HMAC-SHA256"] = SIGNATURE_ALGORITHM
    value: str = Field(pattern=_SHA256_HEX)
    """Lowercase hex HMAC-SHA256 of :func:`canonical_json` with the callback secret."""


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
    if manifest.signature is None:
        return False
    return hmac.compare_digest(manifest.signature.value.encode(), _hmac(manifest, secret).encode())


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
