"""Per-app rate of ``acquire`` (pure, with an injected clock).

Each app id with ``acquiresPerMinute`` has a bucket of that many tokens, refilled evenly
over a minute; an ``acquire`` takes one, and finds none when the app went faster. The
concurrent-recording quota is counted by :class:`~cloudrec_recorder.sessions.SessionRegistry`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AcquireRate"]


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class AcquireRate:
    """Token buckets of ``acquire`` per app id."""

    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, appid: str, per_minute: int | None) -> bool:
        """True (and one token taken) when ``appid`` may acquire now; always with no limit."""
        if per_minute is None:
            return True
        now = self.clock()
        bucket = self._buckets.get(appid)
        if bucket is None:
            bucket = self._buckets[appid] = _Bucket(float(per_minute), now)
        refill = (now - bucket.updated) * per_minute / 60.0
        bucket.tokens = min(float(per_minute), bucket.tokens + refill)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
