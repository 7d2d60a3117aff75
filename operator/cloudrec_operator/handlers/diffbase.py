"""kopf's last-handled spec, kept in this process's memory instead of an annotation.

kopf compares each CloudRecording with the configuration it last handled to tell create,
update and resume apart, and by default stores that configuration in an annotation: one
more API write for every new recording (and its watch event back), after the create handler.
The reconcile pass is level-based (it rebuilds what to do from the spec, the status and the
tracking annotation), so it does not need that record to survive a restart: after one, kopf
finds no record and calls the create handler instead of resume, which runs the same pass.

What is compared is only what the handlers react to (the spec, labels and annotations not
of this operator), so the operator's own writes (status, tracking annotation, finalizer)
are never mistaken for a change to handle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import kopf

from .finalizer import PREFIX

OWN_ANNOTATIONS = f"{PREFIX}/"


class MemoryDiffBaseStorage(kopf.DiffBaseStorage):
    """The essence kopf last handled, per object uid, in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._handled: dict[str, kopf.BodyEssence] = {}

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        essence = cast(dict[str, Any], super().build(body=body, extra_fields=extra_fields))
        metadata = essence.get("metadata") or {}
        annotations = metadata.get("annotations")
        if annotations:
            metadata["annotations"] = {
                key: value
                for key, value in annotations.items()
                if not key.startswith(OWN_ANNOTATIONS)
            }
        self.remove_empty_stanzas(cast(kopf.BodyEssence, essence))
        return cast(kopf.BodyEssence, essence)

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return self._handled.get(str(body.metadata.uid))

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        self._handled[str(body.metadata.uid)] = essence

    def forget(self, uid: str) -> None:
        """Drop the record of a deleted object."""
        self._handled.pop(uid, None)

    def __len__(self) -> int:
        return len(self._handled)


__all__ = ["MemoryDiffBaseStorage"]
