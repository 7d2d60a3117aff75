"""Check a bucket against a recording's signed manifest (the operator's and the CLI's check).

:func:`verify_manifest` reads the manifest, checks its signature (the callback secret's
HMAC, or the recorder's Ed25519 signature with its public key: ``ManifestTrust``),
then asks the bucket about every object it lists (one HEAD each, or a full read for the
SHA-256 with ``hashes``) and compares (:func:`cloudrec_protocol.manifest.compare`). The
answer is a :class:`Verdict`: verified, failed with a CamelCase reason and the objects named,
or unknown when the bucket could not be read.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from cloudrec_operator.client.bucket import Bucket, BucketError
from cloudrec_protocol.manifest import (
    Discrepancy,
    DiscrepancyKind,
    FoundObject,
    Manifest,
    ManifestTrust,
    compare,
    describe,
    signature_problem,
    unlisted_parts,
)

__all__ = ["Outcome", "Verdict", "verify_manifest"]

Outcome = Literal["Verified", "Failed", "Unknown"]

_PARALLEL = 8


@dataclass(frozen=True)
class Verdict:
    """The result of one verification."""

    outcome: Outcome
    reason: str
    """CamelCase: Verified, ManifestMissing, ManifestInvalid, SignatureInvalid,
    ManifestMismatch, ObjectsMissing, ObjectsChanged or BucketUnreadable."""
    message: str
    problems: tuple[Discrepancy, ...] = ()
    manifest: Manifest | None = None


def _parse(data: bytes) -> Manifest | str:
    try:
        return Manifest.model_validate(json.loads(data))
    except (ValueError, ValidationError) as error:
        if isinstance(error, ValidationError) and error.errors():
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the document"
            return f"{where}: {first['msg']}"
        return "not JSON"


async def _found(bucket: Bucket, manifest: Manifest, hashes: bool) -> dict[str, FoundObject | None]:
    gate = asyncio.Semaphore(_PARALLEL)

    async def one(key: str) -> tuple[str, FoundObject | None]:
        async with gate:
            if hashes:
                read = await bucket.sha256(key)
                return key, None if read is None else FoundObject(read[0], read[1])
            size = await bucket.size(key)
            return key, None if size is None else FoundObject(size)

    pairs = await asyncio.gather(*(one(item.key) for item in manifest.objects))
    return dict(pairs)


def _failed(problems: tuple[Discrepancy, ...], manifest: Manifest) -> Verdict:
    missing = any(p.kind is DiscrepancyKind.MISSING for p in problems)
    reason = "ObjectsMissing" if missing else "ObjectsChanged"
    message = (
        f"{len(problems)} of {len(manifest.objects)} object(s) not as the manifest says: "
        + describe(problems)
    )
    return Verdict("Failed", reason, message, problems, manifest)


async def verify_manifest(
    bucket: Bucket,
    manifest_key: str,
    trust: ManifestTrust,
    *,
    hashes: bool = False,
    sid: str | None = None,
) -> Verdict:
    """Check ``bucket`` against the manifest at ``manifest_key`` (see the module docstring);
    ``sid``, when given, must be the manifest's."""
    try:
        data = await bucket.read(manifest_key)
        if data is None:
            return Verdict("Failed", "ManifestMissing", f"no manifest at {manifest_key}")
        parsed = _parse(data)
        if isinstance(parsed, str):
            return Verdict("Failed", "ManifestInvalid", f"{manifest_key}: {parsed}")
        problem = signature_problem(parsed, trust)
        if problem is not None:
            return Verdict(
                "Failed", "SignatureInvalid", f"{manifest_key}: {problem}", manifest=parsed
            )
        if sid is not None and parsed.sid != sid:
            return Verdict(
                "Failed",
                "ManifestMismatch",
                f"{manifest_key} is the manifest of recording {parsed.sid}, not {sid}",
                manifest=parsed,
            )
        found = await _found(bucket, parsed, hashes)
    except BucketError as error:
        return Verdict("Unknown", "BucketUnreadable", str(error))
    problems = compare(parsed, found)
    if problems:
        return _failed(problems, parsed)
    total = sum(item.size for item in parsed.objects)
    checked = "sizes and SHA-256" if hashes else "sizes"
    unlisted = unlisted_parts(parsed)
    covers = "" if unlisted is None else f"; the part after the last take-over only, {unlisted}"
    return Verdict(
        "Verified",
        "Verified",
        f"{len(parsed.objects)} object(s), {total} bytes, as the signed manifest lists them "
        f"({checked} checked){covers}",
        manifest=parsed,
    )
