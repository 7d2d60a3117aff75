"""Callbacks that name a recording not known yet, held until it is (protocol.md §7).

The recorder sends its first events (uploader started, recorder started) while
it answers ``start``, so they often arrive before the operator has stored the
sid and before its sid index has learned it. Answering them "unknown" would
make the sender retry seconds later (or never, once its retries are spent);
instead the receiver holds each verified event here, keyed by sid, and hands
it over as soon as the resource with that sid is known.

Bounded three ways: at most ``per_sid`` events per sid, at most ``total`` in
all (``hold`` refuses beyond that, so the caller can answer the sender to try
again later), and each for at most ``seconds`` (``expire`` returns what was
never claimed, oldest first). Time is whatever monotonic clock the caller
passes; nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class HoldLimits:
    per_sid: int = 16
    """Events kept for one sid (a start sends a handful before its answer)."""
    total: int = 4096
    """Events kept in all (many recordings starting at once)."""
    seconds: float = 120.0
    """How long an event waits for its sid to become known."""


class HeldEvents(Generic[T]):
    """Items held per sid in arrival order (see the module docstring)."""

    def __init__(self, limits: HoldLimits | None = None) -> None:
        self.limits = limits or HoldLimits()
        self._items: OrderedDict[int, tuple[str, float, T]] = OrderedDict()
        self._by_sid: dict[str, list[int]] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, sid: object) -> bool:
        return sid in self._by_sid

    def hold(self, sid: str, item: T, now: float) -> bool:
        """Keep ``item`` for ``sid``; False (nothing kept) when a cap is reached.

        Call ``expire`` first so that expired items do not take up room.
        """
        waiting = self._by_sid.get(sid, [])
        if len(waiting) >= self.limits.per_sid or len(self._items) >= self.limits.total:
            return False
        number = self._next
        self._next += 1
        self._items[number] = (sid, now, item)
        self._by_sid.setdefault(sid, []).append(number)
        return True

    def claim(self, sid: str) -> list[T]:
        """Every item held for ``sid``, in arrival order; they are no longer held."""
        numbers = self._by_sid.pop(sid, [])
        return [self._items.pop(number)[2] for number in numbers]

    def expire(self, now: float) -> list[T]:
        """Drop and return the items held ``seconds`` or longer, oldest first."""
        expired: list[T] = []
        while self._items:
            number, (sid, since, item) = next(iter(self._items.items()))
            if now - since < self.limits.seconds:
                break
            del self._items[number]
            waiting = self._by_sid[sid]
            waiting.remove(number)
            if not waiting:
                del self._by_sid[sid]
            expired.append(item)
        return expired


__all__ = ["HeldEvents", "HoldLimits"]
