"""A CRD-safe pydantic base model and helpers for CEL rules.

Every API model derives from :class:`CrdModel`:

* Python attributes are snake_case; the wire (and CRD) names are camelCase aliases;
  both spellings are accepted on input.
* Attribute docstrings become field descriptions, so ``kubectl explain`` explains
  every field (``use_attribute_docstrings``).
* Unknown fields are rejected (``extra="forbid"``); ``crdgen`` drops the resulting
  ``additionalProperties: false`` because the API server prunes unknown fields itself.
* :meth:`CrdModel.dump` gives the Kubernetes form: aliases, JSON types, no ``None``.

CEL rules (``x-kubernetes-validations``) are declared next to the fields they check
with :func:`cel` and :func:`validations`; ``crdgen`` copies them into the CRD.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["CEL_KEY", "ApiObject", "CrdModel", "cel", "validations"]

CEL_KEY = "x-kubernetes-validations"
"""The OpenAPI extension that carries CEL validation rules."""


class CrdModel(BaseModel):
    """Base for every model that becomes part of a CRD schema."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
        extra="forbid",
    )

    def dump(self) -> dict[str, Any]:
        """The Kubernetes form: camelCase keys, JSON values, ``None`` fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """Validate a Kubernetes-form mapping (camelCase keys)."""
        return cls.model_validate(dict(data))


class ApiObject(CrdModel):
    """Base for a top-level API object (a resource with its own CRD)."""

    KIND: ClassVar[str]
    """The resource's kind, e.g. CloudRecording."""
    PLURAL: ClassVar[str]
    """The plural name used in URLs and kopf handlers, e.g. cloudrecordings."""
    SINGULAR: ClassVar[str]
    """The singular name, e.g. cloudrecording."""
    SHORT_NAMES: ClassVar[tuple[str, ...]]
    """Short names for kubectl, e.g. crec."""
    NAMESPACED: ClassVar[bool]
    """True for namespaced resources, False for cluster-scoped ones."""


def cel(
    rule: str,
    message: str,
    *,
    field_path: str | None = None,
    reason: str | None = None,
) -> dict[str, str]:
    """One CEL validation rule; ``message`` must name the field it is about."""
    out = {"rule": rule, "message": message}
    if field_path is not None:
        out["fieldPath"] = field_path
    if reason is not None:
        out["reason"] = reason
    return out


def validations(*rules: dict[str, str]) -> dict[str, Any]:
    """A ``json_schema_extra`` mapping carrying the given CEL rules."""
    return {CEL_KEY: list(rules)}
