"""Which CloudRecording a callback's sid is for, as far as this process itself knows.

kopf's index (``recording_index``) learns a sid from the watch event of the status write
that stored it, a moment after the pass that wrote it ends. :class:`SidBook` keeps, on every
:meth:`~cloudrec_operator.handlers.runtime.Runtime.remember`, O(1) each:

* ``stored``: sid -> recording, for the sids this process's passes stored (a callback in
  the moment before the index has the sid finds its recording here, not "unknown");
* ``unstarted``: the recordings with no sid yet, by the (channelName, uid) of their spec,
  in the order they became so: who a callback for a sid not known yet may be for, without
  a look at every recording per callback (that scan was 13 % of the operator's CPU in a
  1000-recording ramp, ``BENCHMARKS.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Channel", "SidBook"]

Key = tuple[str, str]
Channel = tuple[object, str]
"""(channelName, uid) of a recording's spec."""


@dataclass
class SidBook:
    """See the module docstring."""

    stored: dict[str, Key] = field(default_factory=dict)
    unstarted: dict[Channel, dict[Key, None]] = field(default_factory=dict)
    _unstarted_at: dict[Key, Channel] = field(default_factory=dict)

    def note(
        self, key: Key, before: str | None, sid: str | None, body: Mapping[str, Any] | None
    ) -> None:
        """``key`` had ``before`` and has ``sid`` now; ``body`` is its last known body (None:
        the recording is forgotten)."""
        if before is not None and before != sid and self.stored.get(before) == key:
            del self.stored[before]
        if sid is not None:
            self.stored[sid] = key
        channel: Channel | None = None
        if body is not None and sid is None:
            spec = body.get("spec") or {}
            channel = (spec.get("channelName"), str(spec.get("uid")))
        old = self._unstarted_at.get(key)
        if old == channel:
            return
        if old is not None:
            del self._unstarted_at[key]
            bucket = self.unstarted[old]
            bucket.pop(key, None)
            if not bucket:
                del self.unstarted[old]
        if channel is not None:
            self._unstarted_at[key] = channel
            self.unstarted.setdefault(channel, {})[key] = None
