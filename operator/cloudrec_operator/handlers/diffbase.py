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


def _in_essence(field: Any) -> bool:
    """A field spec (kopf's tuple or dotted string) that :meth:`MemoryDiffBaseStorage.build`
    keeps anyway: in the spec (the ``update`` handler's ``spec``), the labels, or one
    annotation not this operator's (the ``reverify`` handler's)."""
    path = tuple(field.split(".", 2)) if isinstance(field, str) else tuple(field)
    if path[:1] == ("spec",) or path[:2] == ("metadata", "labels"):
        return True
    return len(path) == 3 and path[:2] == ("metadata", "annotations") and not _own(path[2])


class QuietProgressStorage(kopf.AnnotationsProgressStorage):
    """kopf's annotation progress storage without its marker annotation."""

    def _store_marker(self, prefix: str, patch: kopf.Patch, body: kopf.Body) -> None:
        return None

    def clear(self, *, essence: kopf.BodyEssence) -> kopf.BodyEssence:
        """The essence without kopf's progress annotations: as it is when it holds none
        (:class:`MemoryDiffBaseStorage` leaves them out), instead of kopf's deep copy of it,
        which kopf makes twice per watch event (the old essence and the new)."""
        annotations = essence.get("metadata", {}).get("annotations", {})
        if not any(key.startswith(f"{self.prefix}/") for key in annotations):
            return essence
        return super().clear(essence=essence)


class MemoryDiffBaseStorage(kopf.DiffBaseStorage):
    """The essence kopf last handled, per object uid, in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._handled: dict[str, kopf.BodyEssence] = {}
        self._specs: dict[str, tuple[object, dict[str, Any]]] = {}
        """Per uid: the generation and a copy of the spec at it (the spec changes only
        with the generation: one copy per generation, not one per watch event)."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        """The spec, labels and the annotations not of this operator (nor kubectl's copy of
        the applied manifest), copied; kopf's own build copies the whole object (status
        included) for each watch event first, its largest cost per event. The handlers'
        extra fields (``spec``, the ``reverify`` annotation) are in it already."""
        if extra_fields and not all(_in_essence(field) for field in extra_fields):
            # A handler on other fields (none today): kopf's build, filtered.
            full = cast(dict[str, Any], super().build(body=body, extra_fields=extra_fields))
            own = [k for k in full.get("metadata", {}).get("annotations", {}) if _own(k)]
            self.remove_annotations(cast(kopf.BodyEssence, full), own)
            self.remove_empty_stanzas(cast(kopf.BodyEssence, full))
            return cast(kopf.BodyEssence, full)
        essence: dict[str, Any] = {}
        spec = body.get("spec")
        if spec is not None:
            essence["spec"] = self._spec(body, spec)
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

    def _spec(self, body: kopf.Body, spec: Any) -> dict[str, Any]:
        uid, generation = str(body.metadata.uid), body.metadata.get("generation")
        cached = self._specs.get(uid)
        if generation is not None and cached is not None and cached[0] == generation:
            return cached[1]
        copied = copy.deepcopy(dict(spec))
        if generation is not None:
            self._specs[uid] = (generation, copied)
        return copied

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return self._handled.get(str(body.metadata.uid))

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        self._handled[str(body.metadata.uid)] = essence

    def forget(self, uid: str) -> None:
        """Drop the record of a deleted object."""
        self._handled.pop(uid, None)
        self._specs.pop(uid, None)

    def __len__(self) -> int:
        return len(self._handled)


__all__ = ["MemoryDiffBaseStorage", "QuietProgressStorage"]
