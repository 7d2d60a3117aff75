"""Unit tests of the structural-schema lint."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_operator.crdgen.lint import lint_schema


def obj(**props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def field(**schema: Any) -> dict[str, Any]:
    return {"description": "A field.", **schema}


GOOD = obj(name=field(type="string", maxLength=5, default="abc"))


def test_a_clean_schema_has_no_problems() -> None:
    assert lint_schema(GOOD) == []


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (obj(x=field(**{"$ref": "#/$defs/X"})), "$ref is not allowed"),
        (obj(x=field(type="string", maxLength=1, const="a")), "const is not allowed"),
        (
            obj(x=field(type="array", maxItems=2, uniqueItems=True, items={"type": "integer"})),
            "uniqueItems",
        ),
        (obj(x=field(type="null")), "type null"),
        (obj(x=field(maxLength=3)), "no type"),
        (obj(x={"type": "integer"}), "no description"),
        (
            obj(x=field(type="object", properties={}, additionalProperties={"type": "string"})),
            "mutually exclusive",
        ),
        (
            obj(x=field(type="object", **{"x-kubernetes-preserve-unknown-fields": False})),
            "must be true or absent",
        ),
        (obj(x=field(type="integer", exclusiveMinimum=0)), "must be a boolean"),
        (obj(x=field(type="array", items={"type": "integer"})), "without maxItems"),
        (obj(x=field(type="string")), "without maxLength"),
        (obj(x=field(type="integer", anyOf=[{"type": "integer"}])), "anyOf branch sets type"),
        (obj(x=field(type="integer", minimum=1, default=0)), "below the minimum"),
        (obj(x=field(type="string", enum=["A"], default="B")), "not one of"),
        (obj(x=field(type="string", maxLength=3, pattern="^a+$", default="b")), "does not match"),
        (obj(x=field(type="integer", default="1")), "not of type integer"),
        (obj(x=field(type="object", properties={}, default={"y": 1})), "unknown field"),
    ],
    ids=[
        "ref",
        "const",
        "unique-items",
        "type-null",
        "no-type",
        "no-description",
        "properties-and-additional-properties",
        "preserve-unknown-false",
        "numeric-exclusive-minimum",
        "unbounded-array",
        "unbounded-string",
        "typed-any-of-branch",
        "default-below-minimum",
        "default-outside-enum",
        "default-not-matching-pattern",
        "default-of-the-wrong-type",
        "default-with-an-unknown-field",
    ],
)
def test_lint_names_the_problem_and_the_path(schema: dict[str, Any], problem: str) -> None:
    problems = lint_schema(schema)
    assert any(problem in p and p.startswith(".x") for p in problems), problems


def test_root_api_version_kind_and_metadata_need_no_description() -> None:
    schema = obj(
        apiVersion={"type": "string"}, kind={"type": "string"}, metadata={"type": "object"}
    )
    assert lint_schema(schema) == []
