"""kopf's own bookkeeping on a CloudRecording, kept from costing writes.

kopf's last-handled spec is kept in this process's memory instead of an annotation.

kopf compares each CloudRecording with the configuration it last handled to tell create,
update and resume apart, and by default stores that configuration in an annotation: one
more API write for every new recording (and its watch event back), after the create handler.
The reconcile pass is level-based (it rebuilds what to do from the spec, the status and the
tracking annotation), so it does not need that record to survive a restart: after one, kopf
finds no record and calls the create handler instead of resume, which runs the same pass.

What is compared is only what the handlers react to (the spec, labels and annotations not
of this operator), so the operator's own writes (status, tracking annotation, finalizer)
are never mistaken for a change to handle.

kopf's progress of a retrying handler stays in annotations (``QuietProgressStorage``), but
without kopf's ``kopf-managed`` marker annotation, which kopf otherwise writes on its own
after the first handler of every new object (a PATCH with nothing else in it). The
marker tells *other* kopf-based operators to leave our annotations out of their diffs;
this operator's own diff base leaves them out by name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, cast

import kopf

from .finalizer import PREFIX

OWN_ANNOTATIONS = f"{PREFIX}/"
KUBECTL_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _own(annotation: str) -> bool:
    """This operator's (and kopf's under its prefix), or kubectl's copy of the manifest."""
    return annotation.startswith(OWN_ANNOTATIONS) or annotation == KUBECTL_APPLIED


class QuietProgressStorage(kopf.AnnotationsProgressStorage):
    """kopf's annotation progress storage without its marker annotation."""

    def _store_marker(self, prefix: str, patch: kopf.Patch, body: kopf.Body) -> None:
        return None


class MemoryDiffBaseStorage(kopf.DiffBaseStorage):
    """The essence kopf last handled, per object uid, in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._handled: dict[str, kopf.BodyEssence] = {}

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        """The spec, labels and the annotations not of this operator (nor kubectl's copy of
        the applied manifest), copied; kopf's own build copies the whole object (status
        included) for each watch event first, its largest cost per event."""
        if extra_fields:  # a handler on other fields (none today): kopf's build, filtered
            full = cast(dict[str, Any], super().build(body=body, extra_fields=extra_fields))
            own = [k for k in full.get("metadata", {}).get("annotations", {}) if _own(k)]
            self.remove_annotations(cast(kopf.BodyEssence, full), own)
            self.remove_empty_stanzas(cast(kopf.BodyEssence, full))
            return cast(kopf.BodyEssence, full)
        essence: dict[str, Any] = {}
        spec = body.get("spec")
        if spec is not None:
            essence["spec"] = copy.deepcopy(dict(spec))
        metadata: dict[str, Any] = {}
        labels = body.metadata.labels
        if labels:
            metadata["labels"] = dict(labels)
        annotations = {k: v for k, v in body.metadata.annotations.items() if not _own(k)}
        if annotations:
            metadata["annotations"] = annotations
        if metadata:
            essence["metadata"] = metadata
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


__all__ = ["MemoryDiffBaseStorage", "QuietProgressStorage"]
