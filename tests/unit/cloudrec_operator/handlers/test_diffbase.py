"""kopf's bookkeeping kept from costing writes: its last-handled spec in memory, its
progress annotations without a marker write."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from cloudrec_operator.handlers.diffbase import MemoryDiffBaseStorage, QuietProgressStorage


def body(spec: dict[str, Any], **extra: Any) -> kopf.Body:
    raw: dict[str, Any] = {
        "apiVersion": "cloudrecording.io/v1alpha1",
        "kind": "CloudRecording",
        "metadata": {"name": "rec", "namespace": "ns", "uid": "u1", **extra.pop("meta", {})},
        "spec": spec,
        **extra,
    }
    return kopf.Body(raw)


SPEC = {"channelName": "room", "uid": "1"}


def _no_full_build(*_: Any, **__: Any) -> kopf.BodyEssence:
    raise AssertionError("kopf's build deep-copies the whole object")


def test_the_operators_own_writes_leave_the_handled_essence_unchanged() -> None:
    storage = MemoryDiffBaseStorage()
    created = storage.build(body=body(SPEC))
    written = storage.build(
        body=body(
            SPEC,
            status={"phase": "Recording", "recordingId": "s1"},
            meta={
                "finalizers": ["cloudrecording.io/finalizer"],
                "resourceVersion": "42",
                "annotations": {
                    "cloudrecording.io/tracking": "{}",
                    "kubectl.kubernetes.io/last-applied-configuration": "{...}",
                },
            },
        )
    )
    assert written == created == {"spec": SPEC}


def test_a_spec_change_or_a_users_annotation_is_a_change() -> None:
    storage = MemoryDiffBaseStorage()
    handled = storage.build(body=body(SPEC))
    assert storage.build(body=body({**SPEC, "state": "Stopped"})) != handled
    labelled = storage.build(body=body(SPEC, meta={"annotations": {"team": "a"}}))
    assert labelled == {"spec": SPEC, "metadata": {"annotations": {"team": "a"}}}


def test_the_handled_essence_is_kept_per_object_and_forgotten_on_deletion() -> None:
    storage = MemoryDiffBaseStorage()
    obj = body(SPEC)
    assert storage.fetch(body=obj) is None  # never handled: kopf's create
    patch = kopf.Patch()
    storage.store(body=obj, patch=patch, essence=storage.build(body=obj))
    assert storage.fetch(body=obj) == {"spec": SPEC}
    assert not patch  # nothing to write
    storage.forget("u1")
    assert len(storage) == 0


def test_a_retrying_handlers_progress_is_stored_without_a_marker_annotation() -> None:
    storage = QuietProgressStorage(prefix="cloudrecording.io")
    patch = kopf.Patch()
    storage.store(key=kopf.HandlerId("create"), record={"retries": 1}, body=body(SPEC), patch=patch)
    assert list(patch["metadata"]["annotations"]) == ["cloudrecording.io/create"]


def test_the_handlers_fields_are_in_the_cheap_essence_without_kopfs_full_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = MemoryDiffBaseStorage()
    monkeypatch.setattr(kopf.DiffBaseStorage, "build", _no_full_build)
    field = ("metadata", "annotations", "verify.cloudrecording.io/request")
    obj = body(
        SPEC,
        status={"phase": "Recording"},
        meta={"annotations": {"verify.cloudrecording.io/request": "1", "cloudrecording.io/t": ""}},
    )
    essence = storage.build(body=obj, extra_fields=[field, ("spec",)])
    assert essence == {
        "spec": SPEC,
        "metadata": {"annotations": {"verify.cloudrecording.io/request": "1"}},
    }


def test_the_spec_is_copied_once_per_generation_of_the_object() -> None:
    storage = MemoryDiffBaseStorage()
    first = storage.build(body=body(dict(SPEC), meta={"generation": 1}))
    again = storage.build(body=body(dict(SPEC), meta={"generation": 1, "resourceVersion": "9"}))
    assert again["spec"] is first["spec"]
    changed = storage.build(body=body({**SPEC, "state": "Stopped"}, meta={"generation": 2}))
    assert changed["spec"] == {**SPEC, "state": "Stopped"}


def test_an_essence_without_progress_annotations_is_cleared_without_a_copy() -> None:
    storage = QuietProgressStorage(prefix="cloudrecording.io")
    plain = kopf.BodyEssence(spec=SPEC)
    assert storage.clear(essence=plain) is plain
    marked = kopf.BodyEssence(spec=SPEC, metadata={"annotations": {"cloudrecording.io/create": ""}})
    assert storage.clear(essence=marked) == {"spec": SPEC}
