"""The operator benchmark counts each recording's writes from its creation to Ready."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.operator.writes import (
    Changes,
    Write,
    kind_of,
    per_recording,
    queueing_summary,
    steps_to_ready,
)

from cloudrec_operator.api.names import CLOUDRECORDINGS, TRACKING_ANNOTATION


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (
            {
                "verb": "patch",
                "objectRef": {"resource": CLOUDRECORDINGS},
                "requestObject": {"metadata": {"finalizers": ["x"], "annotations": {"a/b": "1"}}},
            },
            "patch metadata [finalizers, a/b]",
        ),
        (
            {
                "verb": "patch",
                "objectRef": {"resource": CLOUDRECORDINGS},
                "requestObject": [{"op": "test", "path": "/metadata/finalizers/0"}],
            },
            "patch metadata [/metadata/finalizers/0]",
        ),
        (
            {
                "verb": "patch",
                "objectRef": {"resource": CLOUDRECORDINGS, "subresource": "status"},
            },
            "patch status",
        ),
        (
            {
                "verb": "create",
                "objectRef": {"resource": "events"},
                "requestObject": {"reason": "Started"},
            },
            "create Event Started",
        ),
        ({"verb": "create", "objectRef": {"resource": CLOUDRECORDINGS}}, "create cloudrecording"),
    ],
)
def test_each_write_is_named_by_what_it_changes(entry: dict[str, Any], kind: str) -> None:
    assert kind_of(entry) == kind


def _write(name: str, kind: str, at: float, *, ready: bool = False, code: int = 200) -> Write:
    return Write("bench", name, kind, at, code, "kopf", ready)


def test_writes_are_counted_from_the_create_to_the_status_write_that_made_it_ready() -> None:
    writes = [
        _write("a", "create cloudrecording", 1.0),
        _write("a", "patch metadata [finalizers]", 2.0),
        _write("a", "patch status", 3.0, code=409),
        _write("a", "patch status", 4.0, ready=True),
        _write("a", "create Event Started", 5.0),
        _write("a", "create Event UploadProgress", 6.0),
        _write("b", "create cloudrecording", 1.0),
        _write("b", "patch status", 2.0, ready=True),
        _write("c", "create cloudrecording", 1.0),  # never Ready: not counted
        _write("c", "patch status", 2.0),
        Write("other", "a", "patch status", 2.0, 200, "kopf", False),  # another namespace
    ]

    counted = per_recording(writes, "bench", until=10.0)

    assert counted.recordings == 2
    assert counted.writes == 2.0  # a: 3, b: 1
    assert counted.by_kind == {
        "patch status (kopf)": 1.5,
        "patch metadata [finalizers] (kopf)": 0.5,
    }
    assert counted.failed == 0.5
    assert counted.after_ready == {
        "create Event Started (kopf)": 0.5,
        "create Event UploadProgress (kopf)": 0.5,
    }
    assert counted.starting == 2.5  # a: 3 + Started, b: 1; progress is not starting


def test_a_write_is_named_by_the_status_fields_and_tracking_keys_it_changed() -> None:
    changes = Changes()
    key = ("bench", "a")

    def status(**fields: Any) -> dict[str, Any]:
        return {"requestObject": {"status": fields}}

    def tracking(value: str) -> dict[str, Any]:
        annotations = {TRACKING_ANNOTATION: value}
        return {"requestObject": {"metadata": {"annotations": annotations}}}

    assert changes.describe(key, status(phase="Connecting", resourceId="r"), "patch status") == (
        "patch status [phase, resourceId]"
    )
    assert (
        changes.describe(
            key, status(phase="Connecting", resourceId="r", recordingId="s"), "patch status"
        )
        == "patch status [recordingId]"
    )
    assert changes.describe(
        key, tracking('{"a": 1}'), f"patch metadata [{TRACKING_ANNOTATION}]"
    ) == ("patch metadata [tracking: a]")
    assert (
        changes.describe(
            key, tracking('{"a": 1, "ready": true}'), f"patch metadata [{TRACKING_ANNOTATION}]"
        )
        == "patch metadata [tracking: ready]"
    )


def test_the_ramps_api_server_time_reads_as_mean_latency_per_verb_and_apf_wait_per_level() -> None:
    ramp = {
        "sum PATCH cloudrecordings": 2.0,
        "count PATCH cloudrecordings": 40.0,
        "sum POST events": 0.5,
        "count POST events": 0.0,
        "request workload-low": 1.5,
        "dispatched exempt": 1619.0,
    }
    assert queueing_summary(ramp) == {
        "server_latency_ms_mean": {"PATCH cloudrecordings": 50.0},
        "apf_wait_s": {"workload-low": 1.5},
        "apf_dispatched": {"exempt": 1619.0},
    }


def test_the_steps_to_ready_are_the_seconds_between_a_recordings_writes_up_to_ready() -> None:
    audited = [
        _write("a", "create cloudrecording", 1.0),
        _write("a", "patch metadata [finalizers]", 2.0),
        _write("a", "create Event Connecting", 2.5),
        _write("a", "patch status", 4.0, code=409),
        _write("a", "patch status", 5.0),
        _write("a", "patch status", 5.5, ready=True),
        _write("a", "patch status", 9.0),
        _write("b", "patch status", 3.0, ready=True),
    ]
    steps = steps_to_ready(audited, "bench")
    assert {label: step["p50"] for label, step in steps.items()} == {
        "creation -> write 1": 1.0,
        "write 1 -> write 2": 3.0,
        "write 2 -> write 3": 0.5,
    }
