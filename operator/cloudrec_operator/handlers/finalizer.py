"""When a CloudRecording carries the operator's finalizer.

The finalizer is there exactly while a recording may exist at the service (phases
Connecting to Uploading, or Pending between a lost recording and its restart). The operator
writes it itself, in the same metadata patch as the tracking annotation and before
``acquire``, so it is on the resource before a recording exists, and removes it with the
write that ends the recording. kopf, which keeps a finalizer for the deletion handler, sees
the same truth at every step (:func:`timer_needed`) instead of racing the handler's writes
with resourceVersion-guarded patches of its own (which failed after each of them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from cloudrec_operator.api.names import FINALIZER, GROUP

PREFIX = GROUP
"""kopf's own annotations go under the API group too."""
LIVE_PHASES = frozenset({"Connecting", "Recording", "Paused", "Stopping", "Uploading"})


def has_external_recording(status: Mapping[str, Any], **_: Any) -> bool:
    """A recording exists (or is about to, after a restart backoff)."""
    phase = status.get("phase")
    if phase in LIVE_PHASES:
        return True
    return phase == "Pending" and bool(status.get("restarts"))


def timer_needed(status: Mapping[str, Any], meta: Mapping[str, Any], **_: Any) -> bool:
    """A recording may exist, or our finalizer is still on: the deletion handler's ``when``
    (kopf keeps its finalizer while a non-optional deletion handler matches), and what keeps
    a recording's passes coming at least every ``--tick`` (``schedule``).

    With the finalizer in this filter kopf never adds or removes it on its own while the
    operator's writes are under way (it used to, and every such patch conflicted with the
    next write); it only adds it if a recording exists without it (the operator's write
    failed) and removes it after the deletion handler.
    """
    return has_external_recording(status) or FINALIZER in (meta.get("finalizers") or ())


Change = Literal["add", "remove"] | None


def finalizer_change(meta: Mapping[str, Any], status: Mapping[str, Any], present: bool) -> Change:
    """Whether to add or remove the operator's finalizer alongside writing ``status``."""
    if meta.get("deletionTimestamp"):
        return None  # kopf removes it once the deletion handler is done
    live = has_external_recording(status)
    if live and not present:
        return "add"
    if present and not live:
        return "remove"
    return None


__all__ = [
    "FINALIZER",
    "LIVE_PHASES",
    "PREFIX",
    "finalizer_change",
    "has_external_recording",
    "timer_needed",
]
