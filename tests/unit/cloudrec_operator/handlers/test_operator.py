"""The kopf handlers the operator registers."""

from __future__ import annotations

import re

import kopf

from cloudrec_operator.handlers.finalizer import PREFIX
from cloudrec_operator.handlers.operator import register
from cloudrec_operator.settings import parse

QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
"""The name part of an annotation key (Kubernetes validation: at most 63 characters)."""


def handler_ids() -> list[str]:
    registry = kopf.OperatorRegistry()
    register(registry, parse([]))
    groups = (
        registry._activities,
        registry._indexing,
        registry._watching,
        registry._spawning,
        registry._changing,
    )
    return [str(handler.id) for group in groups for handler in group.get_all_handlers()]


def test_every_handler_keeps_its_progress_in_a_valid_annotation() -> None:
    # kopf keeps a handler's progress in annotations named after its id while it retries;
    # an invalid name is refused by the API server with 422 (and kopf backs off).
    ids = handler_ids()
    assert len(ids) >= 8 and len(set(ids)) == len(ids)
    storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    keys = [key for handler_id in ids for key in storage.make_keys(handler_id)]
    invalid = [
        key
        for key in keys
        if not key.startswith(f"{PREFIX}/")
        or len(key.split("/", 1)[1]) > 63
        or QUALIFIED_NAME.fullmatch(key.split("/", 1)[1]) is None
    ]
    assert invalid == [], f"annotation names the API server refuses: {invalid}"
