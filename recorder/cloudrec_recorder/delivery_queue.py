"""The bounded queue of event notifications waiting for delivery (pure: no I/O, no asyncio).

While the callback receiver is down, notifications arrive faster than they leave (each one
waits through its retries), so what the queue keeps decides what the receiver gets when it is
back, and its bound is the recorder's memory for them. An item may have a *key*: a newer item
with the same key replaces the queued one (upload progress, event 33: only a recording's
newest value is worth sending). When the queue is full, the oldest item that has a key goes
first (it is the least useful: a newer value of its kind follows), then the oldest of any kind.
The caller counts what :meth:`DeliveryQueue.push` returns as not delivered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["DeliveryQueue", "Pushed"]

T = TypeVar("T")


@dataclass(frozen=True)
class Pushed(Generic[T]):
    """What one push removed: ``superseded`` (replaced by the new item) and ``dropped`` (full)."""

    superseded: tuple[T, ...] = ()
    dropped: tuple[T, ...] = ()


@dataclass
class DeliveryQueue(Generic[T]):
    """First in, first out, at most ``capacity`` items; see the module docstring."""

    capacity: int
    key: Callable[[T], Hashable | None]
    _items: deque[T] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {self.capacity}")

    def __len__(self) -> int:
        return len(self._items)

    def push(self, item: T) -> Pushed[T]:
        """Queue ``item`` at the end; return what left the queue to make room for it."""
        superseded: list[T] = []
        key = self.key(item)
        if key is not None:
            older = next((queued for queued in self._items if self.key(queued) == key), None)
            if older is not None:  # at most one per key is ever queued
                self._items.remove(older)
                superseded.append(older)
        dropped: list[T] = []
        while len(self._items) >= self.capacity:
            victim = next((q for q in self._items if self.key(q) is not None), self._items[0])
            self._items.remove(victim)
            dropped.append(victim)
        self._items.append(item)
        return Pushed(tuple(superseded), tuple(dropped))

    def pop(self) -> T:
        """The oldest item (``IndexError`` when empty)."""
        return self._items.popleft()
