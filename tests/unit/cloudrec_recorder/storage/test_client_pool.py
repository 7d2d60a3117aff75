"""The pool of S3 clients shared by recordings with the same endpoint and credentials."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from cloudrec_recorder.storage.session import ClientPool, credential_digest


class Opened:
    """What a test's ``open_client`` did: clients entered and exited, in order."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.exited: list[str] = []

    def factory(
        self, name: str, fail: bool = False
    ) -> Callable[[], AbstractAsyncContextManager[str]]:
        @asynccontextmanager
        async def client() -> AsyncIterator[str]:
            await asyncio.sleep(0.01)
            if fail:
                raise ConnectionError("cannot open")
            self.entered.append(name)
            try:
                yield name
            finally:
                self.exited.append(name)

        return client


async def test_recordings_with_the_same_key_share_one_client() -> None:
    pool: ClientPool[str] = ClientPool()
    opened = Opened()
    clients = await asyncio.gather(*(pool.acquire("k", opened.factory("c1")) for _ in range(5)))
    assert clients == ["c1"] * 5
    assert opened.entered == ["c1"]


async def test_different_keys_get_different_clients() -> None:
    pool: ClientPool[str] = ClientPool()
    opened = Opened()
    assert await pool.acquire("a", opened.factory("ca")) == "ca"
    assert await pool.acquire("b", opened.factory("cb")) == "cb"
    assert opened.entered == ["ca", "cb"]


async def test_the_client_closes_when_the_last_user_releases_it() -> None:
    pool: ClientPool[str] = ClientPool()
    opened = Opened()
    await pool.acquire("k", opened.factory("c1"))
    await pool.acquire("k", opened.factory("c1"))
    await pool.release("k")
    assert opened.exited == []
    await pool.release("k")
    assert opened.exited == ["c1"]
    assert len(pool) == 0
    assert await pool.acquire("k", opened.factory("c2")) == "c2"


async def test_a_failed_open_is_not_kept_and_the_next_acquire_tries_again() -> None:
    pool: ClientPool[str] = ClientPool()
    opened = Opened()
    with pytest.raises(ConnectionError):
        await pool.acquire("k", opened.factory("bad", fail=True))
    assert len(pool) == 0
    assert await pool.acquire("k", opened.factory("good")) == "good"


def test_clients_are_not_shared_across_event_loops() -> None:
    pool: ClientPool[str] = ClientPool()
    opened = Opened()
    first = asyncio.run(pool.acquire("k", opened.factory("loop1")))
    second = asyncio.run(pool.acquire("k", opened.factory("loop2")))
    assert (first, second) == ("loop1", "loop2")


def test_the_credential_digest_tells_credentials_apart_without_showing_them() -> None:
    digest = credential_digest("AKIA-access", "s3cr3t-value", None)
    assert digest == credential_digest("AKIA-access", "s3cr3t-value", None)
    assert digest != credential_digest("AKIA-access", "other", None)
    assert digest != credential_digest("AKIA-access", "s3cr3t-value", "")
    assert "s3cr3t" not in digest and "AKIA" not in digest
