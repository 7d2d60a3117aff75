"""Status conditions (metav1.Condition shape) and the pure helper that updates them.

Condition types used by CloudRecording (kstatus style: ``Ready`` plus
``observedGeneration`` lets ``kubectl wait`` and GitOps tools judge health):

* ``Ready``: the recording is in the state the spec asks for;
* ``Recording``: the recorder is in the channel and recording;
* ``Uploaded``: every file is in the bucket (or the backup store);
* ``Degraded``: something failed that the operator could not fix;
* ``Verified``: the bucket holds every object the recording's signed manifest lists, as it
  lists them (False names the missing or changed ones; Unknown without a manifest).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import Field

from cloudrec_operator.api.base import CrdModel
from cloudrec_operator.api.enums import ConditionStatus

__all__ = [
    "DEGRADED",
    "READY",
    "RECORDING",
    "STALLED",
    "UPLOADED",
    "VERIFIED",
    "Condition",
    "conditions_field",
    "find_condition",
    "is_condition_true",
    "set_condition",
]

READY = "Ready"
"""The recording is in the state the spec asks for (Recording, or Stopped and uploaded)."""
RECORDING = "Recording"
"""The recorder is in the channel and recording."""
UPLOADED = "Uploaded"
"""Every recorded file reached the bucket or the backup store."""
VERIFIED = "Verified"
"""The bucket matches the recording's signed manifest (object keys, sizes, optionally SHA-256)."""
DEGRADED = "Degraded"
"""A failure the operator could not repair on its own."""
STALLED = "Stalled"
"""True once the recording has failed for good (phase Failed): kstatus, and so Flux's health
checks, then report the resource as Failed instead of waiting for it until they time out."""

REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"


class Condition(CrdModel):
    """One aspect of the object's current state (the shape of metav1.Condition)."""

    type: str = Field(min_length=1, max_length=316)
    """Type of the condition in CamelCase: Ready, Recording, Uploaded or Degraded."""
    status: ConditionStatus
    """Status of the condition: True, False or Unknown."""
    reason: str = Field(min_length=1, max_length=1024, pattern=REASON_PATTERN)
    """A CamelCase word that says why the condition last changed, for machines."""
    message: str = Field(default="", max_length=32768)
    """A human-readable explanation of the last change. May be empty."""
    last_transition_time: datetime | None = None
    """When the status last changed from one value to another (set by set_condition)."""
    observed_generation: int | None = Field(default=None, ge=0)
    """The .metadata.generation this condition was computed from."""


def conditions_field() -> Any:
    """The ``status.conditions`` field: at most 16, a map list keyed by ``type``, default empty."""
    return Field(
        default_factory=list,
        max_length=16,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    )


def find_condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    """The condition of the given type, or None."""
    for condition in conditions:
        if condition.type == type_:
            return condition
    return None


def is_condition_true(conditions: Sequence[Condition], type_: str) -> bool:
    """True when the condition of the given type exists and its status is True."""
    found = find_condition(conditions, type_)
    return found is not None and found.status is ConditionStatus.TRUE


def set_condition(
    conditions: Sequence[Condition], new: Condition, now: datetime
) -> list[Condition]:
    """Return a new list with ``new`` set, leaving the input untouched.

    * When a condition of the same type exists with the same status, its
      ``lastTransitionTime`` is kept (reason, message and generation are updated);
      otherwise ``lastTransitionTime`` becomes ``now`` (seconds precision).
    * A new type is appended; the others keep their order, except that ``Ready``
      always comes first.
    """
    old = find_condition(conditions, new.type)
    if old is not None and old.status == new.status and old.last_transition_time is not None:
        when = old.last_transition_time
    else:
        when = now.replace(microsecond=0)
    updated = new.model_copy(update={"last_transition_time": when})
    result: list[Condition] = []
    replaced = False
    for condition in conditions:
        if condition.type == new.type:
            result.append(updated)
            replaced = True
        else:
            result.append(condition.model_copy())
    if not replaced:
        result.append(updated)
    ready = [c for c in result if c.type == READY]
    return ready + [c for c in result if c.type != READY]
