"""An optional second bucket that mirrors the backup store.

The backup directory is meant for a persistent volume. Where that volume may
be lost with the recorder (an ``emptyDir``, a node failure), a second bucket
(ours, not the customer's) keeps a copy of every backed-up file under
``<recording>/<name>``, next to the recording's sealed storage target, so that
:func:`cloudrec_recorder.storage.recovery.recover` can fetch it back and
deliver it. Writes to it are best effort: a failure is logged and the local
copy still counts. Copies are removed once the file is in the customer's
bucket.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig

from cloudrec_recorder.storage.backup import write_atomically
from cloudrec_recorder.storage.session import shared_session
from cloudrec_recorder.storage.target import StorageTarget

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = logging.getLogger(__name__)


class BackupBucket:
    """The second bucket: ``await start()``, then put / remove / list / fetch."""

    def __init__(self, target: StorageTarget, *, timeout: float = 20.0) -> None:
        self.target = target
        self._timeout = timeout
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None

    async def start(self) -> BackupBucket:
        if self._client is not None:
            return self
        token = self.target.session_token
        self._client = await self._stack.enter_async_context(
            shared_session().create_client(
                "s3",
                endpoint_url=self.target.endpoint,
                region_name=self.target.region,
                aws_access_key_id=self.target.access_key.get_secret_value(),
                aws_secret_access_key=self.target.secret_key.get_secret_value(),
                aws_session_token=token.get_secret_value() if token else None,
                config=AioConfig(
                    connect_timeout=self._timeout,
                    read_timeout=self._timeout,
                    retries={"total_max_attempts": 2},
                    s3={"addressing_style": self.target.addressing_style},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        )
        return self

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._client = None

    def _key(self, recording: str, name: str) -> str:
        return "/".join((*self.target.prefix, recording, name))

    async def put(self, recording: str, name: str, data: bytes) -> bool:
        """Store a copy; False (logged) when the second bucket refused it."""
        assert self._client is not None
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            await self._client.put_object(
                Bucket=self.target.bucket,
                Key=self._key(recording, name),
                Body=data,
                ContentMD5=digest,
            )
        except Exception as error:
            log.warning(
                "Backup bucket %s did not take %s of recording %s: %s",
                self.target.bucket,
                name,
                recording,
                self.target.scrub(type(error).__name__),
            )
            return False
        return True

    async def put_file(self, recording: str, name: str, path: Path) -> bool:
        return await self.put(recording, name, await asyncio.to_thread(path.read_bytes))

    async def remove(self, recording: str, name: str) -> None:
        assert self._client is not None
        try:
            await self._client.delete_object(
                Bucket=self.target.bucket, Key=self._key(recording, name)
            )
        except Exception as error:
            log.warning(
                "Backup bucket copy %s of recording %s stays: %s",
                name,
                recording,
                type(error).__name__,
            )

    async def _keys(self, prefix: str) -> list[str]:
        assert self._client is not None
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.target.bucket, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", []) if "Key" in item]
        return keys

    def _root(self) -> str:
        return "".join(f"{part}/" for part in self.target.prefix)

    async def recordings(self) -> list[str]:
        """Recordings with copies in the second bucket."""
        root = self._root()
        found = {key[len(root) :].split("/", 1)[0] for key in await self._keys(root)}
        return sorted(r for r in found if r)

    async def fetch_all(self, recording: str, directory: Path) -> list[str]:
        """Download a recording's copies (and sealed target) into ``directory``."""
        assert self._client is not None
        prefix = self._root() + recording + "/"
        names: list[str] = []
        for key in await self._keys(prefix):
            name = key[len(prefix) :]
            if not name or "/" in name or (directory / name).exists():
                continue
            answer = await self._client.get_object(Bucket=self.target.bucket, Key=key)
            async with answer["Body"] as body:
                data = await body.read()
            await asyncio.to_thread(write_atomically, directory / name, data)
            names.append(name)
        return names


__all__ = ["BackupBucket"]
