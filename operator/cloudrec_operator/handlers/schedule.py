"""When each CloudRecording's next pass runs: one timer of the event loop per recording.

Every pass says how long until its next step is due (a query, a retry, a backoff); the
operator runs a pass then, and never in between unless something else (a spec change, a
callback, deletion) runs one first, which sets the time again. This replaced a kopf timer
per recording that woke every ``--tick`` seconds to find, most of the time, nothing due: at
1,000 recordings that was 200 handler calls a second through kopf's machinery, more than
half of the operator's CPU during a ramp (``BENCHMARKS.md``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Generic, TypeVar

K = TypeVar("K")

MIN_DELAY = 0.2
"""A pass is never scheduled sooner than this after the last one (no busy loop on a
step that keeps saying 'now')."""


def next_pass_delay(wait: float | None, live: bool, tick: float) -> float | None:
    """Seconds until the next pass of a recording, or None for none.

    ``wait``: when the pass said its next step is due (None: nothing is); ``live``: a
    recording may exist at the service, or the operator's finalizer is still on, which
    is checked at least every ``tick`` seconds, as the query timer used to.
    """
    if wait is not None:
        return max(MIN_DELAY, wait)
    if live:
        return max(MIN_DELAY, tick)
    return None


class PassScheduler(Generic[K]):
    """At most one pending pass per key; scheduling a key again replaces its time."""

    def __init__(self, run: Callable[[K], Coroutine[object, object, None]]) -> None:
        self._run = run
        self._handles: dict[K, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._handles

    def __len__(self) -> int:
        return len(self._handles)

    def set(self, key: K, delay: float | None) -> None:
        """Run a pass of ``key`` in ``delay`` seconds (None: cancel its pending pass)."""
        self.cancel(key)
        if delay is not None:
            loop = asyncio.get_running_loop()
            self._handles[key] = loop.call_later(delay, self._due, key)

    def cancel(self, key: K) -> None:
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _due(self, key: K) -> None:
        self._handles.pop(key, None)
        task = asyncio.get_running_loop().create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        for task in self._tasks:
            task.cancel()


__all__ = ["MIN_DELAY", "PassScheduler", "next_pass_delay"]
