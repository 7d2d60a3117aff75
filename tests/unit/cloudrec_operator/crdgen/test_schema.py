"""Unit tests of the pydantic JSON Schema -> structural schema rewrite."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import ConfigDict, Field

from cloudrec_operator.api.base import CrdModel, cel, validations
from cloudrec_operator.api.enums import Layout
from cloudrec_operator.crdgen.schema import SchemaError, structural_schema, to_structural


class Inner(CrdModel):
    """An inner object."""

    model_config = ConfigDict(
        json_schema_extra=validations(cel("self.size > 0", "inner.size: positive"))
    )

    size: int = 1
    """How big."""


class Outer(CrdModel):
    """The outer object."""

    first_name: str = Field(max_length=10)
    """The first
    name, over two lines."""
    layout: Layout = Layout.FLOAT
    """A layout."""
    inner: Inner | None = None
    """Optional inner object."""
    pinned: Inner = Field(
        default_factory=Inner,
        json_schema_extra={
            "default": {},
            **validations(cel("self == oldSelf", "pinned is immutable")),
        },
    )
    """Pinned inner object."""
    tags: set[str] = Field(default_factory=set, max_length=4)
    """Some tags."""
    fixed: Literal["only"] = "only"
    """A constant."""
    ratio: float = Field(default=0.5, gt=0, lt=1)
    """Strictly between 0 and 1."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Anything."""
    labels: dict[str, str] = Field(default_factory=dict)
    """String map."""


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return structural_schema(Outer)


def walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def test_fields_use_camel_case_names(schema: dict[str, Any]) -> None:
    assert "firstName" in schema["properties"]
    assert schema["required"] == ["firstName"]


@pytest.mark.parametrize(
    "key", ["$ref", "$defs", "title", "anyOf", "const", "uniqueItems", "additionalProperties"]
)
def test_no_node_keeps_a_key_kubernetes_rejects(schema: dict[str, Any], key: str) -> None:
    offenders = [
        n
        for n in walk(schema)
        if key in n and not (key == "additionalProperties" and isinstance(n[key], dict))
    ]
    assert offenders == []


def test_enum_reference_is_inlined_with_the_field_description_and_default(
    schema: dict[str, Any],
) -> None:
    assert schema["properties"]["layout"] == {
        "default": "Float",
        "description": "A layout.",
        "enum": ["Float", "BestFit", "Vertical", "Custom"],
        "type": "string",
    }


def test_optional_object_becomes_the_object_without_a_null_default(schema: dict[str, Any]) -> None:
    inner = schema["properties"]["inner"]
    assert inner["type"] == "object"
    assert inner["description"] == "Optional inner object."
    assert "default" not in inner and "nullable" not in inner
    assert inner["properties"]["size"]["default"] == 1


def test_cel_rules_of_the_model_and_the_field_are_both_kept(schema: dict[str, Any]) -> None:
    rules = [r["message"] for r in schema["properties"]["pinned"]["x-kubernetes-validations"]]
    assert rules == ["inner.size: positive", "pinned is immutable"]
    assert schema["properties"]["pinned"]["default"] == {}


def test_multi_line_docstrings_become_one_line(schema: dict[str, Any]) -> None:
    assert schema["properties"]["firstName"]["description"] == "The first name, over two lines."


def test_set_becomes_a_list_of_type_set(schema: dict[str, Any]) -> None:
    tags = schema["properties"]["tags"]
    assert tags["type"] == "array"
    assert tags["x-kubernetes-list-type"] == "set"
    assert tags["maxItems"] == 4


def test_literal_becomes_a_one_value_enum(schema: dict[str, Any]) -> None:
    assert schema["properties"]["fixed"]["enum"] == ["only"]


def test_exclusive_bounds_use_the_openapi_v3_0_boolean_form(schema: dict[str, Any]) -> None:
    ratio = schema["properties"]["ratio"]
    assert (ratio["minimum"], ratio["exclusiveMinimum"]) == (0, True)
    assert (ratio["maximum"], ratio["exclusiveMaximum"]) == (1, True)


def test_free_form_dict_preserves_unknown_fields(schema: dict[str, Any]) -> None:
    assert schema["properties"]["extra"]["x-kubernetes-preserve-unknown-fields"] is True


def test_typed_map_keeps_its_value_schema(schema: dict[str, Any]) -> None:
    assert schema["properties"]["labels"]["additionalProperties"] == {"type": "string"}


def test_int_or_string_union_is_marked() -> None:
    out = to_structural(
        {
            "type": "object",
            "properties": {"port": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
        }
    )
    assert out["properties"]["port"] == {"x-kubernetes-int-or-string": True}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"anyOf": [{"type": "integer"}, {"type": "boolean"}]}, "not structural"),
        ({"oneOf": [{"type": "integer"}]}, "oneOf is not supported"),
        ({"$ref": "#/$defs/Missing"}, "cannot resolve"),
        ({"description": "typeless"}, "no type"),
    ],
    ids=["int-or-bool", "one-of", "dangling-ref", "no-type"],
)
def test_constructs_without_a_structural_form_are_refused(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(SchemaError, match=message):
        to_structural({"type": "object", "properties": {"field": raw}})
