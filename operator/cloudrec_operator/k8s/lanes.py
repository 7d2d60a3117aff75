"""Which of the Kubernetes facade's lanes a call waits in: its read threads and its write
slots (``writer``) each have an urgent share (no kubernetes import, so the handlers may mark
their calls)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

URGENT_WORKERS = 2
"""Threads (reads) and write slots that serve only urgent calls (:func:`urgent`)."""
_URGENT: ContextVar[bool] = ContextVar("cloudrec_kube_urgent", default=False)


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """The Kubernetes calls made inside (in this task) go ahead of the others: they have
    threads and write slots of their own instead of waiting behind every other
    recording's writes. For the few calls someone waits on at that moment: a queued
    recording admitted to a place that just freed (issue 15: freed -> next start)."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def is_urgent() -> bool:
    """Whether the current task is inside :func:`urgent`."""
    return _URGENT.get()


__all__ = ["URGENT_WORKERS", "is_urgent", "urgent"]
