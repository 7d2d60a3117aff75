"""Callbacks that name a recording not known yet, held until it is (protocol.md §7).

The recorder sends its first events (uploader started, recorder started) while
it answers ``start``, so they often arrive before the operator has stored the
sid and before its sid index has learned it. Answering them "unknown" would
make the sender retry seconds later (or never, once its retries are spent);
instead the receiver holds each verified event here, keyed by sid, and hands
it over as soon as the resource with that sid is known.

Bounded by count and by bytes, per sid, per group (the backend whose secret
signed the events: one tenant's backend cannot take the room of another's) and in
all: ``hold`` refuses beyond a cap, so the caller can answer the sender to try
again later; and each event is held for at most ``seconds`` (``expire`` returns
what was never claimed, oldest first). Time is whatever monotonic clock the
caller passes; nothing here reads a clock or does I/O.
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
    total_bytes: int = 16 << 20
    """Bytes kept in all."""
    per_group: int = 512
    """Events kept for one group (one backend)."""
    per_group_bytes: int = 2 << 20
    """Bytes kept for one group (one backend)."""


class HeldEvents(Generic[T]):
    """Items held per sid in arrival order (see the module docstring)."""

    def __init__(self, limits: HoldLimits | None = None) -> None:
        self.limits = limits or HoldLimits()
        self._items: OrderedDict[int, tuple[str, float, T, str, int]] = OrderedDict()
        self._by_sid: dict[str, list[int]] = {}
        self._groups: dict[str, tuple[int, int]] = {}
        """group -> (events, bytes) held."""
        self._bytes = 0
        self._next = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, sid: object) -> bool:
        return sid in self._by_sid

    @property
    def bytes(self) -> int:
        return self._bytes

    def hold(self, sid: str, item: T, now: float, size: int = 0, group: str = "") -> bool:
        """Keep ``item`` (``size`` bytes, signed by ``group``) for ``sid``; False (nothing
        kept) when a cap is reached.

        Call ``expire`` first so that expired items do not take up room.
        """
        limits = self.limits
        waiting = self._by_sid.get(sid, [])
        count, held_bytes = self._groups.get(group, (0, 0))
        if (
            len(waiting) >= limits.per_sid
            or len(self._items) >= limits.total
            or self._bytes + size > limits.total_bytes
            or count >= limits.per_group
            or held_bytes + size > limits.per_group_bytes
        ):
            return False
        number = self._next
        self._next += 1
        self._items[number] = (sid, now, item, group, size)
        self._by_sid.setdefault(sid, []).append(number)
        self._groups[group] = (count + 1, held_bytes + size)
        self._bytes += size
        return True

    def _release(self, group: str, size: int) -> None:
        count, held_bytes = self._groups[group]
        if count <= 1:
            del self._groups[group]
        else:
            self._groups[group] = (count - 1, held_bytes - size)
        self._bytes -= size

    def claim(self, sid: str) -> list[T]:
        """Every item held for ``sid``, in arrival order; they are no longer held."""
        claimed: list[T] = []
        for number in self._by_sid.pop(sid, []):
            _, _, item, group, size = self._items.pop(number)
            self._release(group, size)
            claimed.append(item)
        return claimed

    def expire(self, now: float) -> list[T]:
        """Drop and return the items held ``seconds`` or longer, oldest first."""
        expired: list[T] = []
        while self._items:
            number, (sid, since, item, group, size) = next(iter(self._items.items()))
            if now - since < self.limits.seconds:
                break
            del self._items[number]
            self._release(group, size)
            waiting = self._by_sid[sid]
            waiting.remove(number)
            if not waiting:
                del self._by_sid[sid]
            expired.append(item)
        return expired


__all__ = ["HeldEvents", "HoldLimits"]
