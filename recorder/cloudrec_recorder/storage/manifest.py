"""What the uploader needs to write a recording's manifest (our protocol extension).

The manifest itself (models, canonical JSON, signature) is :mod:`cloudrec_protocol.manifest`'s;
the uploader puts it in the bucket last, once every other object is there
(:meth:`~cloudrec_recorder.storage.uploader.Uploader`), signed with the recorder's Ed25519
key when it has one (``manifestSigningKey``), with the callback secret otherwise.

A recording recovered after a crash may have been taken over meanwhile by a peer, which writes
the recording's final manifest under the recording's name (its ``bak<n>_`` part is the last).
The recovered part's manifest then goes under the part's own name
(:func:`~cloudrec_protocol.manifest.part_manifest_name`), whichever of the two is written
first: :func:`recovered_manifest_name` decides, from whether a peer holds the sid now and what
the bucket holds under the recording's name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from cloudrec_protocol.manifest import (
    Manifest,
    ManifestObject,
    TimelineEntry,
    manifest_name,
    part_manifest_name,
    sign_manifest,
    sign_manifest_ed25519,
)
from cloudrec_recorder.storage.objectstore import md5

__all__ = [
    "ManifestBucket",
    "ManifestSource",
    "RecoveredPart",
    "earlier_part_prefix",
    "manifest_document",
    "recovered_manifest_name",
    "upload_name",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveredPart:
    """A recovered recording's part: it may have been taken over while its replica was gone."""

    held_elsewhere: Callable[[], Awaitable[bool]]
    """True when a peer holds the recording's sid now (it took the recording over)."""


@dataclass(frozen=True)
class ManifestSource:
    """The recording's identity, the signing secret and where its timeline comes from."""

    sid: str
    cname: str
    uid: str
    secret: str | None
    """The callback secret; None: the manifest goes up unsigned (nothing can vouch for it)."""
    timeline: Callable[[], Sequence[TimelineEntry]]
    private_key: Ed25519PrivateKey | None = None
    """The recorder's Ed25519 key: when set, it signs (not the secret)."""
    prefix: str = ""
    """The part's file prefix: ``""`` for the first part, ``bak<n>_`` for a taker's."""
    recovered: RecoveredPart | None = None
    """Set for a recording a restart delivers: its manifest's name is decided at upload."""

    @property
    def name(self) -> str:
        """The recording's manifest name (the final one: the last part's)."""
        return manifest_name(self.sid, self.cname)

    @property
    def part_name(self) -> str:
        """This part's own manifest name, used when a peer took the recording over."""
        return part_manifest_name(self.sid, self.cname, self.prefix)


def recovered_manifest_name(
    source: ManifestSource,
    objects: Sequence[ManifestObject],
    *,
    held_elsewhere: bool,
    in_bucket: bytes | None,
) -> str:
    """Where a recovered part's manifest goes: the recording's name unless another part's
    manifest is (or will be) the recording's final one; then the part's own name.

    ``held_elsewhere``: a peer holds the sid now (it will write the final manifest when it
    stops). ``in_bucket``: what the bucket holds under the recording's name (None: nothing).
    A manifest there that lists none of this part's objects is another part's (a taker that
    already stopped); one that lists some of them is this part's own (an earlier run's) and
    is replaced. Anything there that is not a manifest of this sid is left alone."""
    if held_elsewhere:
        return source.part_name
    if in_bucket is None:
        return source.name
    try:
        there = Manifest.model_validate_json(in_bucket)
    except ValidationError:
        return source.part_name
    ours = {o.key for o in objects}
    if there.sid == source.sid and any(o.key in ours for o in there.objects):
        return source.name
    return source.part_name


class ManifestBucket(Protocol):
    """What deciding the manifest's name reads and writes in the bucket (the object store)."""

    async def get_bytes(self, name: str) -> bytes | None: ...
    async def put_bytes(self, name: str, data: bytes, digest: bytes) -> None: ...


def earlier_part_prefix(source: ManifestSource, there: bytes) -> str | None:
    """When ``there`` (the bucket's manifest under the recording's name, as a taker finds it
    before writing its own) is an earlier part's manifest of this sid, that part's file prefix
    (from its objects' names): a recovered part that went up first. None otherwise."""
    try:
        manifest = Manifest.model_validate_json(there)
    except ValidationError:
        return None
    if manifest.sid != source.sid or not manifest.objects:
        return None
    name = manifest.objects[0].key.rsplit("/", 1)[-1]
    prefix = name.split(f"{source.sid}_", 1)[0] if f"{source.sid}_" in name else None
    return None if prefix is None or prefix == source.prefix else prefix


async def upload_name(
    source: ManifestSource, objects: Sequence[ManifestObject], bucket: ManifestBucket
) -> str:
    """The name the manifest goes up under now: :func:`recovered_manifest_name` for a
    recovered part (when the bucket or the peers cannot be read, the part's own name: it
    replaces nothing); the recording's name otherwise. A taker (``prefix`` set) first keeps an
    earlier part's manifest it would replace under that part's name (the order of the two
    uploads does not matter)."""
    part = source.recovered
    try:
        if part is None:
            if source.prefix:
                await _keep_earlier_part(source, bucket)
            return source.name
        held = await part.held_elsewhere()
        in_bucket = None if held else await bucket.get_bytes(source.name)
    except Exception as exc:  # the bucket or the peers did not answer
        log.warning("Could not check the manifest of %s in the bucket: %s", source.sid, exc)
        return source.name if part is None else source.part_name
    return recovered_manifest_name(source, objects, held_elsewhere=held, in_bucket=in_bucket)


async def _keep_earlier_part(source: ManifestSource, bucket: ManifestBucket) -> None:
    there = await bucket.get_bytes(source.name)
    prefix = None if there is None else earlier_part_prefix(source, there)
    if there is not None and prefix is not None:
        name = part_manifest_name(source.sid, source.cname, prefix)
        await bucket.put_bytes(name, there, md5(there))
        log.info("Recording %s: the earlier part's manifest kept as %s", source.sid, name)


def manifest_document(source: ManifestSource, objects: Sequence[ManifestObject]) -> bytes:
    """The manifest's bytes as uploaded: signed with the Ed25519 key or else the secret (when
    there is either), indented JSON."""
    manifest = Manifest(
        sid=source.sid,
        cname=source.cname,
        uid=source.uid,
        objects=tuple(sorted(objects, key=lambda o: o.key)),
        timeline=tuple(source.timeline()),
    )
    if source.private_key is not None:
        manifest = sign_manifest_ed25519(manifest, source.private_key)
    elif source.secret:
        manifest = sign_manifest(manifest, source.secret)
    body = manifest.model_dump(mode="json", exclude_none=True)
    return json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n"
