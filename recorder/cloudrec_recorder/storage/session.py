"""One aiobotocore session for the whole recorder process, and S3 clients shared through it.

Creating a session loads botocore's endpoint and service models: 0.1-0.3 s of CPU, on the
event loop. A session per upload target did that for every recording that started, so many
starts at once queued behind each other (see BENCHMARKS.md, "Operator at scale"). Clients
made from one session share the loaded models.

A client still costs 20-30 ms of CPU to create (endpoint rules on the loop, TLS contexts with
the CA bundle in a thread), so recordings that upload to the same endpoint with the same
credentials and settings share one client (:class:`ClientPool`): reference counted, created
by the first recording that needs it and closed when the last one lets go. Each recording
still bounds its own concurrent uploads; the shared client's connection pool is sized for
many recordings.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiobotocore.session import AioSession, get_session

__all__ = ["ClientPool", "credential_digest", "shared_session", "warm_up"]

C = TypeVar("C")


@functools.cache
def shared_session() -> AioSession:
    """The process's aiobotocore session (created on first use)."""
    return get_session()


async def warm_up() -> None:
    """Load botocore's S3 model and endpoint rules into :func:`shared_session` now.

    Otherwise the first recording to start pays for it (0.1-0.3 s of CPU on the event
    loop, with every other start waiting behind it). Called once at start-up, before the
    recorder reports ready; the client made here is closed again (no request is sent).
    """
    client = shared_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="warm-up",
        aws_secret_access_key="warm-up",  # not a secret: no request is made
    )
    async with client:
        pass


def credential_digest(*values: str | None) -> str:
    """A stand-in for credentials inside a pool key: equal for equal values, not reversible."""
    digest = hashlib.sha256()
    for value in values:
        digest.update(b"\x00" if value is None else b"\x01" + value.encode())
    return digest.hexdigest()


@dataclass
class _Entry(Generic[C]):
    opened: asyncio.Task[tuple[C, AbstractAsyncContextManager[C]]]
    users: int = 0


class ClientPool(Generic[C]):
    """Clients shared by key, reference counted; keys are bound to the running event loop.

    ``acquire(key, open_client)`` returns the key's client, entering ``open_client()`` (an
    async context manager, e.g. ``session.create_client(...)``) for the first user; every
    ``acquire`` is paired with one ``release(key)``, and the last release closes the client.
    A failed open is not cached: the next ``acquire`` tries again.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, Hashable], _Entry[C]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def acquire(
        self, key: Hashable, open_client: Callable[[], AbstractAsyncContextManager[C]]
    ) -> C:
        full = (id(asyncio.get_running_loop()), key)
        entry = self._entries.get(full)
        if entry is None:
            entry = _Entry(asyncio.ensure_future(_open(open_client)))
            self._entries[full] = entry
        entry.users += 1
        try:
            client, _ = await asyncio.shield(entry.opened)
        except BaseException:
            entry.users -= 1
            if self._entries.get(full) is entry and (entry.users == 0 or entry.opened.done()):
                del self._entries[full]
            raise
        return client

    async def release(self, key: Hashable) -> None:
        full = (id(asyncio.get_running_loop()), key)
        entry = self._entries.get(full)
        if entry is None:
            return
        entry.users -= 1
        if entry.users > 0:
            return
        del self._entries[full]
        _, context = entry.opened.result()
        await context.__aexit__(None, None, None)


async def _open(
    open_client: Callable[[], AbstractAsyncContextManager[C]],
) -> tuple[C, AbstractAsyncContextManager[C]]:
    context = open_client()
    client = await context.__aenter__()
    return client, context
