"""A typed facade over the official ``kubernetes`` client (see the package docstring)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import kubernetes
from kubernetes.client.exceptions import ApiException

from cloudrec_operator.api.names import (
    API_VERSION,
    CLOUDRECORDINGS,
    CLUSTERRECORDINGBACKENDS,
    GROUP,
    RECORDINGBACKENDS,
    VERSION,
)

from .errors import MissingInputError
from .lanes import URGENT_WORKERS, is_urgent, urgent
from .secrets import COMPONENT, SECRET_CACHE_SECONDS, STATE_KEY, Secrets
from .writer import CREATE, JSON_PATCH, MERGE_PATCH, Writer

__all__ = [
    "COMPONENT",
    "SECRET_CACHE_SECONDS",
    "STATE_KEY",
    "Kube",
    "MissingInputError",
    "load_kube",
    "urgent",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


def load_kube(kubeconfig: str | None = None, workers: int = 16) -> Kube:
    """A facade for the in-cluster service account, or ``kubeconfig`` when given."""
    config = kubernetes.client.Configuration()
    if kubeconfig:
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=config
        )
    else:
        try:
            kubernetes.config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=config
            )
        except kubernetes.config.ConfigException:
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                client_configuration=config
            )
    config.connection_pool_maxsize = max(workers, 4) + URGENT_WORKERS
    return Kube(kubernetes.client.ApiClient(config), workers)


class Kube:
    """What the operator needs from the Kubernetes API."""

    def __init__(self, api: Any, workers: int = 16) -> None:
        self._api = api
        self._core = kubernetes.client.CoreV1Api(api)
        self._custom = kubernetes.client.CustomObjectsApi(api)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kube")
        self._urgent_pool = ThreadPoolExecutor(
            max_workers=URGENT_WORKERS, thread_name_prefix="kube-urgent"
        )
        self._secret_store = Secrets(self._run, self._core)
        self._writer = Writer(api.configuration, workers)
        self.writes = 0
        """Write requests sent (status/metadata patches and Events), for metrics."""

    def _executor(self) -> ThreadPoolExecutor:
        return self._urgent_pool if is_urgent() else self._pool

    async def _run(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), lambda: func(*args, **kwargs))

    def _recording_path(self, namespace: str, name: str, subresource: str = "") -> str:
        path = (
            f"/apis/{GROUP}/{VERSION}/namespaces/{quote(namespace, safe='')}/"
            f"{CLOUDRECORDINGS}/{quote(name, safe='')}"
        )
        return f"{path}/{subresource}" if subresource else path

    async def aclose(self) -> None:
        """Close the writes' connections, then :meth:`close`."""
        await self._writer.aclose()
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._urgent_pool.shutdown(wait=False, cancel_futures=True)
        self._api.close()

    # ------------------------------------------------------------ secrets

    async def secret_value(self, namespace: str, name: str, key: str) -> str:
        """The decoded value of ``key`` in Secret ``namespace/name`` (``Secrets.value``)."""
        return await self._secret_store.value(namespace, name, key)

    async def config_map_value(self, namespace: str, name: str, key: str) -> str:
        """The value of ``key`` in ConfigMap ``namespace/name`` (a manifest public key)."""
        try:
            config_map = await self._run(self._core.read_namespaced_config_map, name, namespace)
        except ApiException as error:
            if error.status == 404:
                raise MissingInputError(
                    "ConfigMapNotFound", f"ConfigMap {namespace}/{name} not found"
                ) from None
            raise RuntimeError(
                f"Reading ConfigMap {namespace}/{name} failed: HTTP {error.status}"
            ) from None
        data = dict(config_map.data or {})
        if key not in data:
            raise MissingInputError(
                "ConfigMapKeyNotFound", f"ConfigMap {namespace}/{name} has no key {key!r}"
            )
        return str(data[key])

    async def state_key(self, namespace: str, name: str) -> bytes:
        """The operator's state key (``Secrets.state_key``: created at first start)."""
        return await self._secret_store.state_key(namespace, name)

    # ------------------------------------------------------------ namespaces

    async def namespace_labels(self, name: str) -> dict[str, str]:
        """The labels of Namespace ``name`` (scoped ClusterRecordingBackends)."""
        try:
            namespace = await self._run(self._core.read_namespace, name)
        except ApiException as error:
            raise MissingInputError(
                "NamespaceNotReadable", f"Reading Namespace {name} failed: HTTP {error.status}"
            ) from None
        return dict(namespace.metadata.labels or {})

    # ------------------------------------------------------------ backends

    async def backend(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """A RecordingBackend (namespaced) or ClusterRecordingBackend, as a mapping."""
        try:
            if kind == "ClusterRecordingBackend":
                obj = await self._run(
                    self._custom.get_cluster_custom_object,
                    GROUP,
                    VERSION,
                    CLUSTERRECORDINGBACKENDS,
                    name,
                )
            else:
                obj = await self._run(
                    self._custom.get_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    namespace,
                    RECORDINGBACKENDS,
                    name,
                )
        except ApiException as error:
            if error.status == 404:
                where = name if kind == "ClusterRecordingBackend" else f"{namespace}/{name}"
                raise MissingInputError("BackendNotFound", f"{kind} {where} not found") from None
            raise RuntimeError(f"Reading {kind} {name} failed: HTTP {error.status}") from None
        return dict(obj)

    # ------------------------------------------------------------ recordings

    async def recording(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The CloudRecording, or None when it is gone."""
        try:
            obj = await self._run(
                self._custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                CLOUDRECORDINGS,
                name,
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(obj)

    async def patch_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Replace the status fields given (merge patch on the status subresource)."""
        self.writes += 1
        await self._writer.send(
            "PATCH",
            self._recording_path(namespace, name, "status"),
            {"status": dict(status)},
            MERGE_PATCH,
        )

    async def _patch(
        self, namespace: str, name: str, body: object, content_type: str | None = None
    ) -> None:
        """One write to a CloudRecording (merge patch, or JSON patch for a list body)."""
        self.writes += 1
        await self._writer.send(
            "PATCH", self._recording_path(namespace, name), body, content_type or MERGE_PATCH
        )

    async def patch_metadata(
        self,
        namespace: str,
        name: str,
        *,
        annotations: Mapping[str, str | None] | None = None,
        finalizers: list[str] | None = None,
        resource_version: str | None = None,
    ) -> None:
        """Merge-patch annotations (None deletes a key) and/or replace the finalizer list."""
        metadata: dict[str, Any] = {}
        if annotations is not None:
            metadata["annotations"] = dict(annotations)
        if finalizers is not None:
            metadata["finalizers"] = finalizers
        if resource_version is not None:
            metadata["resourceVersion"] = resource_version
        if not metadata:
            return
        try:
            await self._patch(namespace, name, {"metadata": metadata})
        except ApiException as error:
            if error.status == 404:
                return
            raise

    async def add_finalizer(
        self,
        namespace: str,
        name: str,
        finalizer: str,
        meta: Mapping[str, Any],
        *,
        annotations: Mapping[str, str | None] | None = None,
        attempts: int = 3,
    ) -> bool:
        """Add ``finalizer`` (and ``annotations``, in the same write) to the finalizer list of
        ``meta``, over its resourceVersion, so no one else's finalizer is lost.

        When someone else wrote the object in between (409), it is read again and the write
        retried at once, rather than failing the pass. False when the object is gone.
        """
        for attempt in range(attempts):
            current = [str(f) for f in meta.get("finalizers") or ()]
            metadata: dict[str, Any] = {
                "finalizers": current if finalizer in current else [*current, finalizer],
                "resourceVersion": str(meta.get("resourceVersion")),
            }
            if annotations is not None:
                metadata["annotations"] = dict(annotations)
            try:
                await self._patch(namespace, name, {"metadata": metadata})
                return True
            except ApiException as error:
                if error.status == 404:
                    return False
                if error.status != 409 or attempt == attempts - 1:
                    raise
            fresh = await self.recording(namespace, name)
            if fresh is None:
                return False
            meta = fresh.get("metadata") or {}
        return False

    async def remove_finalizer(self, namespace: str, name: str, finalizer: str, index: int) -> bool:
        """Remove ``finalizer`` if it is still at ``index`` (a JSON patch that tests the entry
        first, so no other finalizer can be removed by a stale index); False if it was not."""
        path = f"/metadata/finalizers/{index}"
        try:
            await self._patch(
                namespace,
                name,
                [
                    {"op": "test", "path": path, "value": finalizer},
                    {"op": "remove", "path": path},
                ],
                content_type=JSON_PATCH,
            )
        except ApiException as error:
            if error.status in (404, 409, 422):
                return False
            raise
        return True

    # ------------------------------------------------------------ events

    async def post_event(
        self,
        obj: Mapping[str, Any],
        reason: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None:
        """A core/v1 Event about ``obj`` (a CloudRecording mapping)."""
        meta = obj.get("metadata", {})
        now = datetime.now(UTC)
        namespace = meta.get("namespace", "default")
        stamp = now.isoformat(timespec="microseconds")
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "generateName": f"{meta.get('name', 'cloudrecording')}.",
                "namespace": namespace,
            },
            "involvedObject": {
                "apiVersion": API_VERSION,
                "kind": "CloudRecording",
                "name": meta.get("name"),
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "eventTime": stamp,
            "count": 1,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": COMPONENT,
            "action": reason,
        }
        self.writes += 1
        try:
            await self._writer.send(
                "POST", f"/api/v1/namespaces/{quote(namespace, safe='')}/events", body, CREATE
            )
        except ApiException as error:
            log.warning("Posting Event %s failed: HTTP %s", reason, error.status)
