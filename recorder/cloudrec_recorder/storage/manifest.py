"""What the uploader needs to write a recording's manifest (our protocol extension).

The manifest itself (models, canonical JSON, signature) is :mod:`cloudrec_protocol.manifest`'s;
the uploader puts it in the bucket last, once every other object is there
(:meth:`~cloudrec_recorder.storage.uploader.Uploader`), signed with the recorder's Ed25519
key when it has one (``manifestSigningKey``), with the callback secret otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloudrec_protocol.manifest import (
    Manifest,
    ManifestObject,
    TimelineEntry,
    manifest_name,
    sign_manifest,
    sign_manifest_ed25519,
)

__all__ = ["ManifestSource", "manifest_document"]


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

    @property
    def name(self) -> str:
        return manifest_name(self.sid, self.cname)


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
