"""One recording's view of the customer's S3-compatible bucket: the S3 calls and nothing else.

Library: **aiobotocore** (pinned). It is botocore (the AWS SDK's own request signing, endpoint
rules, error parsing and multipart API) on aiohttp, so it runs on the recorder's event loop
without threads and speaks to every S3-compatible vendor the way AWS's SDK does. aioboto3 only
adds boto3's resource layer and managed transfers on top of aiobotocore (not needed: we do our
own multipart to control MD5s and retries); obstore (Rust ``object_store``) is fast but hides
Content-MD5 and per-part control and is one more native wheel to keep up.

Every upload carries ``Content-MD5`` (the store verifies it; every vendor supports it); files
above the policy's ``multipart_threshold`` go up in parts, each part with its own MD5. Clients
are shared between recordings with the same endpoint, credentials and timeouts
(:mod:`cloudrec_recorder.storage.session`). Retries, backups and events are the uploader's:
this module only makes calls and says what a failure means (:meth:`ObjectStore.classify`).
Credentials never reach logs or messages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import weakref
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

from cloudrec_recorder.egress import EgressGuard
from cloudrec_recorder.storage.errors import FailureKind, failure_kind
from cloudrec_recorder.storage.files import object_key
from cloudrec_recorder.storage.policy import UploadPolicy
from cloudrec_recorder.storage.session import ClientPool, credential_digest, shared_session
from cloudrec_recorder.storage.target import StorageTarget

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

__all__ = [
    "SHARED_CLIENT_CONNECTIONS",
    "ObjectStore",
    "content_type",
    "file_digests",
    "md5",
    "read_with_digests",
]

_S3_CLIENTS: ClientPool[S3Client] = ClientPool()
"""S3 clients shared by the recordings with the same endpoint, credentials and timeouts."""
SHARED_CLIENT_CONNECTIONS = 64
"""Connections of one shared client (each recording still runs ``concurrency`` uploads)."""
BUCKET_CHECK_REUSE_SECONDS = 5.0
"""How long a bucket's successful start-time HEAD stands for other starts of the same bucket
with the same client (a failed one stands for nobody)."""
_BUCKET_CHECKS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, str], tuple[float, asyncio.Future[None]]]
] = weakref.WeakKeyDictionary()

log = logging.getLogger(__name__)


class ObjectStore:
    """The S3 calls of one recording's uploads, on a client shared through the pool."""

    def __init__(
        self, target: StorageTarget, policy: UploadPolicy, *, egress: EgressGuard | None = None
    ) -> None:
        self.target = target
        self.policy = policy
        self.object_params = target.object_params()
        """Server-side encryption and tags of every object (``extensionParams``)."""
        self.egress = egress
        """Checks the address of every connection the client makes (its socket factory)."""
        self._client: S3Client | None = None
        self._client_key: Any = None

    async def open(self, stack: AsyncExitStack) -> None:
        """Take a client from the pool; ``stack`` gives it back when it closes."""
        p, target = self.policy, self.target
        factory = self.egress.socket_factory_for_url(target.endpoint) if self.egress else None
        config = AioConfig(
            connector_args={"socket_factory": factory} if factory else None,
            connect_timeout=p.connect_timeout,
            read_timeout=p.read_timeout,
            retries={"total_max_attempts": 1},
            max_pool_connections=SHARED_CLIENT_CONNECTIONS,
            signature_version="s3v4",
            s3={"addressing_style": target.addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        token = target.session_token
        access = target.access_key.get_secret_value()
        secret = target.secret_key.get_secret_value()
        session_token = token.get_secret_value() if token else None
        key = (
            target.endpoint,
            target.region,
            target.addressing_style,
            p.connect_timeout,
            p.read_timeout,
            credential_digest(access, secret, session_token),
            id(self.egress),
        )
        self._client = await _S3_CLIENTS.acquire(
            key,
            lambda: shared_session().create_client(
                "s3",
                endpoint_url=target.endpoint,
                region_name=target.region,
                aws_access_key_id=access,
                aws_secret_access_key=secret,
                aws_session_token=session_token,
                config=config,
            ),
        )
        self._client_key = key
        stack.push_async_callback(self._release, key)

    async def _release(self, key: Any) -> None:
        self._client = None
        await _S3_CLIENTS.release(key)

    @property
    def client(self) -> S3Client:
        assert self._client is not None, "open() first"
        return self._client

    def key(self, name: str) -> str:
        """The object key of spool file ``name`` (the target's prefix, then the name)."""
        return object_key(self.target.prefix, name)

    async def head_bucket(self) -> None:
        """One HEAD on the bucket; raises what the store answered."""
        await self.client.head_bucket(Bucket=self.target.bucket)

    async def check_bucket(self) -> None:
        """The start-time HEAD on the bucket, shared: starts of one bucket with one client at
        the same moment wait for one HEAD, and its success stands for
        :data:`BUCKET_CHECK_REUSE_SECONDS` (500 starts to one bucket made 500 HEADs, a seventh
        of the recorder's loop). Raises what the store answered."""
        loop = asyncio.get_running_loop()
        checks = _BUCKET_CHECKS.setdefault(loop, {})
        key, now = (self._client_key, self.target.bucket), loop.time()
        entry = checks.get(key)
        if entry is None or _stale(entry, now):
            for old in [k for k, e in checks.items() if _stale(e, now)]:
                del checks[old]
            entry = checks[key] = (now, asyncio.ensure_future(self.head_bucket()))
        await asyncio.shield(entry[1])

    async def probe(self) -> bool:
        """True when the bucket answers a HEAD."""
        try:
            await self.head_bucket()
        except Exception:
            return False
        return True

    async def put_bytes(self, name: str, data: bytes, digest: bytes) -> None:
        """One PUT of ``data`` (whose MD5 is ``digest``) as ``name``."""
        await self.client.put_object(
            Bucket=self.target.bucket,
            Key=self.key(name),
            Body=data,
            ContentMD5=_b64(digest),
            ContentType=content_type(name),
            **self.object_params,  # type: ignore[arg-type]
        )

    async def get_bytes(self, name: str) -> bytes | None:
        """The object ``name`` whole (None: the bucket holds none); raises on other errors."""
        try:
            response = await self.client.get_object(Bucket=self.target.bucket, Key=self.key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def put_multipart(self, name: str, path: Path, size: int) -> None:
        """``path`` (``size`` bytes) as ``name`` in parts; an upload that fails is aborted."""
        client, bucket, key = self.client, self.target.bucket, self.key(name)
        created = await client.create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ContentType=content_type(name),
            **self.object_params,  # type: ignore[arg-type]
        )
        upload_id = created["UploadId"]
        parts: list[CompletedPartTypeDef] = []
        try:
            offset, number = 0, 1
            while offset < size:
                chunk = await asyncio.to_thread(_read_part, path, offset, self.policy.part_size)
                answer = await client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ContentMD5=_b64(md5(chunk)),
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
                offset += len(chunk)
                number += 1
            await client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    async def abort_unfinished_uploads(self, recording: str) -> list[str]:
        """Abort the multipart uploads an earlier run of ``recording`` left unfinished.

        A process killed in the middle of a large upload leaves its parts in the bucket,
        invisible but stored (and billed) until aborted. Every object key of a recording
        starts with its prefix and sid, so those are the uploads listed. Returns the keys;
        a store that cannot list uploads is logged and skipped (the file itself is uploaded
        again either way).
        """
        client, bucket, prefix = self.client, self.target.bucket, self.key(recording)
        aborted: list[str] = []
        try:
            paginator = client.get_paginator("list_multipart_uploads")
            async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    key, upload_id = upload.get("Key"), upload.get("UploadId")
                    if key is None or upload_id is None or not key.startswith(prefix):
                        continue
                    await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                    aborted.append(key)
        except Exception as error:  # best effort: the bucket may be down or not list uploads
            log.warning(
                "Unfinished uploads of recording %s not cleaned up: %s",
                recording,
                type(error).__name__,
            )
        if aborted:
            log.info("Aborted %d unfinished upload(s) of recording %s", len(aborted), recording)
        return aborted

    def classify(self, error: Any) -> tuple[FailureKind, str]:
        """What a botocore ``ClientError`` means: its kind and a message without credentials."""
        response = getattr(error, "response", {}) or {}
        code = str(response.get("Error", {}).get("Code", "")) or None
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        kind = failure_kind(code, int(status) if status is not None else None)
        if kind == "config":
            bucket = self.target.bucket
            what = {
                "NoSuchBucket": f"bucket {bucket} does not exist",
                "404": f"bucket {bucket} does not exist",
                "InvalidAccessKeyId": "the access key is not known to the storage",
                "SignatureDoesNotMatch": "the secret key does not match the access key",
            }.get(code or "", f"the storage refused the request ({code or status})")
            return kind, f"storage configuration is wrong: {what}"
        return kind, f"storage answered {code or status}"


def _stale(entry: tuple[float, asyncio.Future[None]], now: float) -> bool:
    """A check to make again: it failed, or it succeeded too long ago."""
    started, check = entry
    if not check.done():
        return False
    return (
        check.cancelled()
        or check.exception() is not None
        or (now - started > BUCKET_CHECK_REUSE_SECONDS)
    )


def md5(data: bytes) -> bytes:
    """The MD5 digest S3 checks (``Content-MD5``); not used for security."""
    return hashlib.md5(data, usedforsecurity=False).digest()


def file_digests(path: Path) -> tuple[bytes, str]:
    """A file's MD5 digest and lowercase hex SHA-256 (for the manifest), read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            sha256.update(chunk)
    return digest.digest(), sha256.hexdigest()


def read_with_digests(path: Path) -> tuple[bytes, bytes, str]:
    """A small file's bytes, their MD5 digest and lowercase hex SHA-256."""
    data = path.read_bytes()
    return data, md5(data), hashlib.sha256(data).hexdigest()


def content_type(name: str) -> str:
    """The ``Content-Type`` of an output file, by its extension."""
    if name.endswith(".m3u8"):
        return "application/vnd.apple.mpegurl"
    if name.endswith(".ts"):
        return "video/mp2t"
    if name.endswith(".mp4"):
        return "video/mp4"
    if name.endswith(".webm"):
        return "video/webm"
    if name.endswith(".jpg"):
        return "image/jpeg"
    if name.endswith(".json"):
        return "application/json"
    return "application/octet-stream"


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _read_part(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as src:
        src.seek(offset)
        return src.read(size)
