"""Structural-schema lint: what the API server would reject, caught without a cluster.

:func:`lint_schema` walks an OpenAPI v3 schema and returns one message per problem
(an empty list means the schema is fine). Besides the API server's structural rules
it checks our own: every field has a description (``kubectl explain``), every
array and free string is bounded (CEL cost estimates), and defaults validate
against their own schema.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["lint_crd", "lint_schema"]

_FORBIDDEN = ("$ref", "$defs", "definitions", "const", "uniqueItems", "discriminator", "title")
_STANDARD = frozenset({"apiVersion", "kind", "metadata"})
"""Root properties the API server defines itself."""
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def lint_crd(crd: dict[str, Any]) -> list[str]:
    """Lint every version's schema of a CustomResourceDefinition dict."""
    problems: list[str] = []
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        problems += [f"{version['name']}: {p}" for p in lint_schema(schema)]
    return problems


def lint_schema(schema: dict[str, Any], path: str = "") -> list[str]:
    """Problems in one schema node and everything below it."""
    where = path or "<root>"
    problems = [f"{where}: {key} is not allowed" for key in _FORBIDDEN if key in schema]
    problems += _check_type(schema, where)
    problems += _check_combinators(schema, where)
    problems += _check_bounds(schema, where)
    if "default" in schema:
        problems += [f"{where}: default {p}" for p in _value_problems(schema["default"], schema)]
    for name, sub in schema.get("properties", {}).items():
        child = f"{path}.{name}"
        if not path and name in _STANDARD:
            continue
        if not sub.get("description"):
            problems.append(f"{child}: no description (kubectl explain would show nothing)")
        problems += lint_schema(sub, child)
    if isinstance(schema.get("items"), dict):
        problems += lint_schema(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        problems += lint_schema(schema["additionalProperties"], f"{path}{{}}")
    return problems


def _check_type(schema: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    kind = schema.get("type")
    if kind == "null":
        problems.append(f"{where}: type null is not allowed; leave the field out instead")
    elif kind is None and not (
        schema.get("x-kubernetes-int-or-string")
        or schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        problems.append(f"{where}: no type (not structural)")
    elif kind is not None and kind not in _JSON_TYPES:
        problems.append(f"{where}: unknown type {kind!r}")
    if schema.get("x-kubernetes-preserve-unknown-fields") is False:
        problems.append(f"{where}: x-kubernetes-preserve-unknown-fields must be true or absent")
    if "properties" in schema and "additionalProperties" in schema:
        problems.append(f"{where}: properties and additionalProperties are mutually exclusive")
    if schema.get("nullable"):
        problems.append(f"{where}: nullable is not used here; leave the field out instead")
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in schema and not isinstance(schema[key], bool):
            problems.append(f"{where}: {key} must be a boolean in OpenAPI v3.0")
    return problems


def _check_combinators(schema: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            banned = {"type", "description", "default", "nullable", "additionalProperties"}
            for bad in sorted(banned & branch.keys()):
                problems.append(f"{where}: {key} branch sets {bad} (not structural)")
    return problems


def _check_bounds(schema: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    if schema.get("type") == "array" and "maxItems" not in schema:
        problems.append(f"{where}: array without maxItems (unbounded CEL cost)")
    if (
        schema.get("type") == "string"
        and "maxLength" not in schema
        and "enum" not in schema
        and "format" not in schema
    ):
        problems.append(f"{where}: string without maxLength (unbounded CEL cost)")
    return problems


def _value_problems(value: Any, schema: dict[str, Any]) -> list[str]:  # noqa: C901
    kind = schema.get("type")
    if kind is not None:
        allowed = _JSON_TYPES.get(kind, ())
        if not isinstance(value, allowed) or (kind != "boolean" and isinstance(value, bool)):
            return [f"{value!r} is not of type {kind}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{value!r} is not one of {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{value!r} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{value!r} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{value!r} does not match {schema['pattern']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{value!r} is longer than {schema['maxLength']}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            problems += _value_problems(item, schema["items"])
    if isinstance(value, dict):
        for name, sub in value.items():
            if name not in schema.get("properties", {}):
                if not schema.get("x-kubernetes-preserve-unknown-fields"):
                    problems.append(f"unknown field {name!r}")
            else:
                problems += _value_problems(sub, schema["properties"][name])
    return problems
