"""Pydantic JSON Schema -> structural OpenAPI v3 schema for a CRD.

Kubernetes accepts only *structural* schemas (every node has a type, no ``$ref``,
no ``anyOf`` that declares types, OpenAPI 3.0 keywords). pydantic emits JSON
Schema 2020-12, so :func:`structural_schema` rewrites it:

* every ``$ref`` is inlined and ``$defs`` dropped; keys next to a ``$ref``
  (description, default, CEL rules) win over the referenced definition's;
* ``Optional[X]`` (``anyOf: [X, {type: null}]``) becomes ``X``; the field is simply
  not required, because models are dumped without ``None`` values;
* ``anyOf: [integer, string]`` becomes ``x-kubernetes-int-or-string: true``;
* ``const`` becomes a one-value ``enum``; ``title``, ``discriminator`` and
  ``additionalProperties: false`` are dropped; ``uniqueItems`` becomes
  ``x-kubernetes-list-type: set``; ``additionalProperties: true`` or an untyped
  object becomes ``x-kubernetes-preserve-unknown-fields: true``;
* numeric ``exclusiveMinimum``/``exclusiveMaximum`` become the OpenAPI 3.0 boolean form;
* ``default: null`` is dropped;
* descriptions are unwrapped (attribute docstrings span several lines).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel

from cloudrec_operator.api.base import CEL_KEY

__all__ = ["SchemaError", "structural_schema", "to_structural"]

JsonSchema = dict[str, Any]

_DROP = frozenset({"title", "discriminator", "$schema", "$id", "examples"})


class SchemaError(ValueError):
    """The model uses a construct that has no structural CRD equivalent."""


def structural_schema(model: type[BaseModel]) -> JsonSchema:
    """The structural OpenAPI v3 schema of ``model`` (camelCase, validation mode)."""
    return to_structural(model.model_json_schema(by_alias=True, mode="validation"))


def to_structural(raw: JsonSchema) -> JsonSchema:
    """Rewrite a pydantic JSON Schema document into a structural schema."""
    document = copy.deepcopy(raw)
    defs: dict[str, JsonSchema] = document.pop("$defs", {})
    return _rewrite(document, defs, path="")


def _deref(node: JsonSchema, defs: dict[str, JsonSchema], path: str) -> JsonSchema:
    ref = node["$ref"]
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise SchemaError(f"{path or '<root>'}: cannot resolve $ref {ref!r}")
    target = copy.deepcopy(defs[ref[len(prefix) :]])
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    rules = target.get(CEL_KEY, []) + siblings.pop(CEL_KEY, [])
    target.update(siblings)
    if rules:
        target[CEL_KEY] = rules
    return target


def _collapse_any_of(node: JsonSchema, path: str) -> JsonSchema:
    branches = [b for b in node.pop("anyOf") if b.get("type") != "null"]
    if len(branches) == 1:
        merged = dict(branches[0])
        merged.update(node)
        return merged
    types = sorted(b.get("type", "") for b in branches)
    if types == ["integer", "string"]:
        node["x-kubernetes-int-or-string"] = True
        return node
    raise SchemaError(f"{path or '<root>'}: union of {types} is not structural")


def _unwrap(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _resolve(node: JsonSchema, defs: dict[str, JsonSchema], path: str) -> JsonSchema:
    """Inline refs and collapse unions until the node is one plain schema."""
    while "$ref" in node or "anyOf" in node or "allOf" in node:
        if "$ref" in node:
            node = _deref(node, defs, path)
        elif "anyOf" in node:
            node = _collapse_any_of(node, path)
        else:
            parts = node.pop("allOf")
            if len(parts) != 1:
                raise SchemaError(f"{path or '<root>'}: allOf with several parts")
            merged = dict(parts[0])
            merged.update(node)
            node = merged
    if "oneOf" in node:
        raise SchemaError(f"{path or '<root>'}: oneOf is not supported; use one field per variant")
    return node


def _rewrite_key(
    out: JsonSchema, key: str, value: Any, defs: dict[str, JsonSchema], path: str
) -> None:
    if key in _DROP or key.startswith("$") or (key == "default" and value is None):
        return
    if key == "const":
        out["enum"] = [value]
    elif key == "uniqueItems":
        if value:
            out.setdefault("x-kubernetes-list-type", "set")
    elif key == "description":
        out[key] = _unwrap(value)
    elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
        out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
        out[key] = True
    elif key == "properties":
        out[key] = {name: _rewrite(sub, defs, f"{path}.{name}") for name, sub in value.items()}
    elif key == "items":
        out[key] = _rewrite(value, defs, f"{path}[]")
    elif key == "additionalProperties":
        if value is True or value == {}:
            out["x-kubernetes-preserve-unknown-fields"] = True
        elif value is not False:
            out[key] = _rewrite(value, defs, f"{path}{{}}")
    else:
        out[key] = value


def _rewrite(node: JsonSchema, defs: dict[str, JsonSchema], path: str) -> JsonSchema:
    node = _resolve(node, defs, path)
    out: JsonSchema = {}
    for key, value in node.items():
        _rewrite_key(out, key, value, defs, path)
    if out.get("type") == "object" and not ({"properties", "additionalProperties"} & out.keys()):
        out["x-kubernetes-preserve-unknown-fields"] = True
    if "type" not in out and not (
        out.get("x-kubernetes-int-or-string") or out.get("x-kubernetes-preserve-unknown-fields")
    ):
        if "enum" in out and all(isinstance(v, str) for v in out["enum"]):
            out["type"] = "string"
        else:
            raise SchemaError(f"{path or '<root>'}: node has no type")
    return {key: out[key] for key in sorted(out)}
