"""Read-only S3 access to a recording's bucket: what manifest verification needs.

One aiobotocore client per :class:`Bucket` (``async with``): GET of the manifest, HEAD of each
object, a streamed SHA-256 of an object, and a listing under a prefix. "Not there" (404,
NoSuchKey) is ``None``; any other failure raises :class:`BucketError`, whose text names the
operation and key and never the credentials.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["Bucket", "BucketAccess", "BucketError"]

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_CHUNK = 1 << 20


@functools.cache
def _session() -> Any:
    """The process's aiobotocore session: its loader keeps botocore's parsed S3 model, so only
    the first check parses it (aiobotocore does that off the event loop: measured here, the
    loop's longest stall during a first client creation was 0.04 s on a loaded machine)."""
    from aiobotocore.session import get_session

    return get_session()


class BucketError(Exception):
    """The store answered something other than the object or "not there"."""


@dataclass(frozen=True)
class BucketAccess:
    """Where the bucket is and the keys to read it (the keys are never shown)."""

    bucket: str
    endpoint: str | None
    """Endpoint URL; None: the client's default (AWS, or ``AWS_ENDPOINT_URL``)."""
    region: str | None = None
    addressing_style: str = "path"
    access_key: str | None = field(default=None, repr=False)
    """None: the client's own credential chain (``AWS_ACCESS_KEY_ID`` and the rest)."""
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)


class Bucket:
    """An open S3 client on one bucket; see the module docstring."""

    def __init__(self, access: BucketAccess, *, timeout: float = 30.0) -> None:
        self.access = access
        self._timeout = timeout
        self._context: Any = None
        self._client: S3Client | None = None

    async def __aenter__(self) -> Bucket:
        # Imported on first use: an operator that never verifies never loads the S3 client.
        from aiobotocore.config import AioConfig

        session = _session()
        a = self.access
        config = AioConfig(
            connect_timeout=min(self._timeout, 10.0),
            read_timeout=self._timeout,
            retries={"total_max_attempts": 3, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": a.addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._context = session.create_client(
            "s3",
            endpoint_url=a.endpoint,
            region_name=a.region,
            aws_access_key_id=a.access_key,
            aws_secret_access_key=a.secret_key,
            aws_session_token=a.session_token,
            config=config,
        )
        self._client = await self._context.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._context is not None:
            await self._context.__aexit__(kind, error, trace)
        self._context = self._client = None

    @property
    def _s3(self) -> S3Client:
        assert self._client is not None, "use `async with Bucket(...)`"
        return self._client

    def _failed(self, operation: str, key: str, error: Exception) -> BucketError:
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", "?"))
            return BucketError(f"{operation} {self.access.bucket}/{key}: the store answered {code}")
        return BucketError(f"{operation} {self.access.bucket}/{key}: {type(error).__name__}")

    @staticmethod
    def _not_found(error: ClientError) -> bool:
        return str(error.response.get("Error", {}).get("Code", "")) in _NOT_FOUND

    async def read(self, key: str, limit: int = 16 << 20) -> bytes | None:
        """The object's bytes (at most ``limit``), None when it is not there."""
        try:
            answer = await self._s3.get_object(Bucket=self.access.bucket, Key=key)
            async with answer["Body"] as body:
                data = await body.read(limit + 1)
        except ClientError as error:
            if self._not_found(error):
                return None
            raise self._failed("GET", key, error) from None
        except (BotoCoreError, OSError) as error:
            raise self._failed("GET", key, error) from None
        if len(data) > limit:
            raise BucketError(f"GET {self.access.bucket}/{key}: larger than {limit} bytes")
        return bytes(data)

    async def size(self, key: str) -> int | None:
        """The object's size (one HEAD), None when it is not there."""
        try:
            answer = await self._s3.head_object(Bucket=self.access.bucket, Key=key)
        except ClientError as error:
            if self._not_found(error):
                return None
            raise self._failed("HEAD", key, error) from None
        except (BotoCoreError, OSError) as error:
            raise self._failed("HEAD", key, error) from None
        return int(answer["ContentLength"])

    async def sha256(self, key: str) -> tuple[int, str] | None:
        """The object's size and lowercase hex SHA-256 (read whole, streamed), None when it is
        not there."""
        digest = hashlib.sha256()
        size = 0
        try:
            answer = await self._s3.get_object(Bucket=self.access.bucket, Key=key)
            async with answer["Body"] as body:
                while chunk := await body.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except ClientError as error:
            if self._not_found(error):
                return None
            raise self._failed("GET", key, error) from None
        except (BotoCoreError, OSError) as error:
            raise self._failed("GET", key, error) from None
        return size, digest.hexdigest()

    async def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, in the store's order."""
        found: list[str] = []
        try:
            paginator = self._s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.access.bucket, Prefix=prefix):
                found += [item["Key"] for item in page.get("Contents", ()) if "Key" in item]
        except (ClientError, BotoCoreError, OSError) as error:
            raise self._failed("LIST", prefix, error) from None
        return found
