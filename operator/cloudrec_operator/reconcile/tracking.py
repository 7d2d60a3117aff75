"""The operator's bookkeeping annotation, bounded and sealed (docs/security.md, item 3).

Timing and retry bookkeeping lives in the ``cloudrecording.io/tracking`` annotation
(``persist`` says why). Anyone who may ``patch`` the CloudRecording may write that
annotation, so the operator trusts it only when

* it carries an HMAC-SHA256, made with the operator's state key, over the object's
  identity (namespace, name and metadata.uid) and the state: a value copied from another
  object, written by hand or left by another operator does not verify;
* its state passes a bounded model: every number has a range, every string a length,
  so nothing read back can make the operator compute ``2 ** 4000000000`` or hold a
  megabyte per object.

Anything else is ignored (the recording starts from its status alone) and reported with
a fixed text that never repeats what the annotation held. Nothing here does I/O or reads
a clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudrec_operator.api.names import TRACKING_ANNOTATION

MAX_FAILURES = 1000
"""Consecutive transient failures counted at most (the back-off is capped long before)."""
MAX_ANNOTATION = 16384
"""Characters of the annotation read at most; a longer value is not ours."""

TEXT_MAX = 1024

Reason = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9]+$")]
Digest = Annotated[str, Field(max_length=128)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]


class TrackingState(BaseModel):
    """What the annotation may hold: each field of ``Tracked`` kept out of the status."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry_at: datetime | None = None
    not_found_since: datetime | None = None
    failover_at: datetime | None = None
    progress_event_at: datetime | None = None
    failures: int = Field(default=0, ge=0, le=MAX_FAILURES)
    unreachable: bool = False
    stop_requested: bool = False
    ready: bool | None = None
    applied_layout_hash: Digest | None = None
    applied_subscribe_hash: Digest | None = None
    progress_event_value: int | None = Field(default=None, ge=0, le=100)
    degraded: Reason | None = None
    degraded_message: Text = ""
    failed_reason: Reason | None = None
    lost_start: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    blocked_notice: Text | None = None
    refused_start: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    conflict_since: datetime | None = None
    snapshots_omitted: int = Field(default=0, ge=0)
    pause_refused: bool = False
    snapshot_event_at: datetime | None = None


TIME_FIELDS = (
    "retry_at",
    "not_found_since",
    "failover_at",
    "progress_event_at",
    "conflict_since",
    "snapshot_event_at",
)
"""The fields of ``TrackingState`` that hold times."""
VALUE_FIELDS = tuple(name for name in TrackingState.model_fields if name not in TIME_FIELDS)
"""Every other field of ``TrackingState``."""


@dataclass(frozen=True)
class Sealing:
    """The key that signs the annotation and the object it belongs to."""

    key: bytes
    owner: str
    """``namespace/name/uid`` of the CloudRecording: a seal is valid on this object only."""

    def __repr__(self) -> str:
        return f"Sealing(owner={self.owner!r})"


def owner_of(namespace: str, name: str, uid: str) -> str:
    return f"{namespace}/{name}/{uid}"


def _canonical(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


def _mac(sealing: Sealing, canonical: str) -> str:
    message = f"{sealing.owner}\n{canonical}".encode()
    return hmac.new(sealing.key, message, hashlib.sha256).hexdigest()


def clamp(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` within the model's bounds, so what the operator writes it reads back."""
    out = dict(state)
    if "failures" in out:
        out["failures"] = min(int(out["failures"]), MAX_FAILURES)
    for name in ("degraded_message", "blocked_notice"):
        if isinstance(out.get(name), str):
            out[name] = out[name][:TEXT_MAX]
    return out


def seal(state: dict[str, Any], sealing: Sealing) -> str:
    """The annotation value for ``state`` (JSON-ready values), signed for its owner."""
    state = clamp(state)
    canonical = _canonical(state)
    return _canonical({"sig": _mac(sealing, canonical), "state": state})


@dataclass(frozen=True)
class Opened:
    state: TrackingState
    problem: str | None = None
    """Why the annotation was ignored (a fixed text naming no value), or None."""


NOT_OURS = (
    f"The {TRACKING_ANNOTATION} annotation is not signed by this operator for this "
    "object; it was ignored"
)


def open_sealed(raw: str | None, sealing: Sealing) -> Opened:
    """The state in ``raw`` when this operator wrote it for this object; else the defaults
    and the reason (no annotation at all is no problem)."""
    if not raw:
        return Opened(TrackingState())
    if len(raw) > MAX_ANNOTATION:
        return Opened(TrackingState(), NOT_OURS)
    try:
        outer = json.loads(raw)
    except ValueError:
        return Opened(TrackingState(), NOT_OURS)
    if not isinstance(outer, dict) or set(outer) != {"sig", "state"}:
        return Opened(TrackingState(), NOT_OURS)
    sig, state = outer["sig"], outer["state"]
    if not isinstance(sig, str) or not isinstance(state, dict):
        return Opened(TrackingState(), NOT_OURS)
    if not hmac.compare_digest(sig.encode(), _mac(sealing, _canonical(state)).encode()):
        return Opened(TrackingState(), NOT_OURS)
    try:
        return Opened(TrackingState.model_validate(state))
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"][:1]) for e in error.errors()})
        return Opened(
            TrackingState(),
            f"The {TRACKING_ANNOTATION} annotation holds out-of-range values "
            f"({', '.join(fields)[:200]}); it was ignored",
        )


__all__ = [
    "MAX_FAILURES",
    "NOT_OURS",
    "TIME_FIELDS",
    "TRACKING_ANNOTATION",
    "VALUE_FIELDS",
    "Opened",
    "Sealing",
    "TrackingState",
    "open_sealed",
    "owner_of",
    "seal",
]
