"""What the handlers need from the Kubernetes API, as a protocol.

``cloudrec_operator.k8s.Kube`` implements it; ``__main__`` hands a factory for it
to the handlers, so the kopf glue never imports the Kubernetes client itself.
A missing Secret, key or backend is raised as a ``LookupError`` whose
``reason`` (CamelCase) and ``message`` name what is missing, never a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol


class KubeApi(Protocol):
    writes: int

    async def secret_value(self, namespace: str, name: str, key: str) -> str: ...

    async def config_map_value(self, namespace: str, name: str, key: str) -> str: ...

    async def state_key(self, namespace: str, name: str) -> bytes: ...

    async def backend(self, kind: str, namespace: str, name: str) -> dict[str, Any]: ...

    async def namespace_labels(self, name: str) -> dict[str, str]: ...

    async def patch_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None: ...

    async def patch_metadata(
        self,
        namespace: str,
        name: str,
        *,
        annotations: Mapping[str, str | None] | None = None,
        finalizers: list[str] | None = None,
        resource_version: str | None = None,
    ) -> None: ...

    async def add_finalizer(
        self,
        namespace: str,
        name: str,
        finalizer: str,
        meta: Mapping[str, Any],
        *,
        annotations: Mapping[str, str | None] | None = None,
    ) -> bool: ...

    async def remove_finalizer(
        self, namespace: str, name: str, finalizer: str, index: int
    ) -> bool: ...

    async def post_event(
        self, obj: Mapping[str, Any], reason: str, message: str, *, warning: bool = False
    ) -> None: ...

    async def aclose(self) -> None: ...


KubeFactory = Callable[[str | None], KubeApi]
"""Builds the API facade from an optional kubeconfig path."""


class MissingInputError(LookupError):
    """A Secret, key, backend or app id the recording needs is missing."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def missing_input(error: LookupError) -> MissingInputError:
    """Any missing-input ``LookupError`` (from the k8s facade) as a ``MissingInputError``."""
    if isinstance(error, MissingInputError):
        return error
    reason = str(getattr(error, "reason", "") or "NotFound")
    message = str(getattr(error, "message", "") or "A required object was not found")
    return MissingInputError(reason, message)
