"""Secrets the operator reads: the recordings' inputs (cached briefly, one read shared by
concurrent passes) and the operator's own state key (created at first start)."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

from .errors import MissingInputError

COMPONENT = "cloudrec-operator"
STATE_KEY = "stateKey"
"""The key of the operator's state key Secret (``--state-key-secret``)."""
SECRET_CACHE_SECONDS = 5.0
"""How long a Secret read serves other recordings (a changed Secret is seen this much later)."""

log = logging.getLogger(__name__)

Run = Callable[..., Awaitable[Any]]


class Secrets:
    """Secret reads through ``run`` (the facade's thread pool) with ``core`` (CoreV1Api)."""

    def __init__(self, run: Run, core: Any) -> None:
        self._run = run
        self._core = core
        self._secrets: dict[tuple[str, str], tuple[float, Mapping[str, str]]] = {}
        self._secret_reads: dict[tuple[str, str], asyncio.Lock] = {}

    async def value(self, namespace: str, name: str, key: str) -> str:
        """The decoded value of ``key`` in Secret ``namespace/name``.

        A Secret read is kept for ``SECRET_CACHE_SECONDS`` and concurrent reads of one Secret
        share one request, so many recordings started at once with the same bucket or token
        Secret read it once; a missing Secret is never remembered.
        """
        data = await self._secret_data(namespace, name)
        if key not in data:
            raise MissingInputError(
                "SecretKeyNotFound", f"Secret {namespace}/{name} has no key {key!r}"
            )
        return base64.b64decode(data[key]).decode("utf-8")

    async def state_key(self, namespace: str, name: str) -> bytes:
        """The operator's state key: key ``stateKey`` of Secret ``namespace/name``, which
        is created with a random key when it does not exist (the first start; a replica
        starting at the same time reads the key the other one created)."""
        try:
            secret = await self._run(self._core.read_namespaced_secret, name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise RuntimeError(
                    f"Reading Secret {namespace}/{name} failed: HTTP {error.status}"
                ) from None
            secret = await self._create_state_key(namespace, name)
        value = (secret.data or {}).get(STATE_KEY)
        if not value:
            raise MissingInputError(
                "SecretKeyNotFound", f"Secret {namespace}/{name} has no key {STATE_KEY!r}"
            )
        return base64.b64decode(value).strip()

    async def _create_state_key(self, namespace: str, name: str) -> Any:
        key = base64.b64encode(secrets.token_urlsafe(36).encode()).decode()
        body = kubernetes.client.V1Secret(
            metadata=kubernetes.client.V1ObjectMeta(
                name=name,
                namespace=namespace,
                labels={"app.kubernetes.io/managed-by": COMPONENT},
            ),
            type="Opaque",
            data={STATE_KEY: key},
        )
        try:
            created = await self._run(self._core.create_namespaced_secret, namespace, body)
        except ApiException as error:
            if error.status != 409:
                raise RuntimeError(
                    f"Creating Secret {namespace}/{name} failed: HTTP {error.status}"
                ) from None
            return await self._run(self._core.read_namespaced_secret, name, namespace)
        log.info("Created the state key Secret %s/%s", namespace, name)
        return created

    async def _secret_data(self, namespace: str, name: str) -> Mapping[str, str]:
        cache_key = (namespace, name)
        cached = self._secrets.get(cache_key)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        async with self._secret_reads.setdefault(cache_key, asyncio.Lock()):
            cached = self._secrets.get(cache_key)
            if cached is not None and time.monotonic() < cached[0]:
                return cached[1]
            try:
                secret = await self._run(self._core.read_namespaced_secret, name, namespace)
            except ApiException as error:
                self._secrets.pop(cache_key, None)
                if error.status == 404:
                    raise MissingInputError(
                        "SecretNotFound", f"Secret {namespace}/{name} not found"
                    ) from None
                raise RuntimeError(
                    f"Reading Secret {namespace}/{name} failed: HTTP {error.status}"
                ) from None
            data: Mapping[str, str] = dict(secret.data or {})
            self._secrets[cache_key] = (time.monotonic() + SECRET_CACHE_SECONDS, data)
            return data
