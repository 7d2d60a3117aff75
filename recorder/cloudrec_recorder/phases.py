"""Where a recording's start and stop spend their time: one log line per step.

Each line carries the host's monotonic clock (``time.monotonic()``, the same clock in every
process of the host), so a benchmark running beside the recorder lines the steps up with its
own requests (``benchmarks/recorder`` prints them)::

    Phase sid=... phase=subscribed at=1234.567 uid=101

Start: ``start`` (the request), ``joined`` (in the room), ``ready`` (uploader started),
``subscribed`` and ``first-frame`` per publisher, ``media-start`` (output time 0; the media
worker is started), ``worker-ready`` (its thread runs, its encoders are open),
``first-encoded`` (its first frame is composed and encoded), ``first-segment`` (the first
complete segment in the spool). Stop: ``stop`` (the request, and the last instant written),
``channel-left``, ``files-finished`` (every file complete in the spool; ``worst-lag=``: the
most the media worker was behind the wall clock, in seconds, media/lag.py), ``uploaded`` (the
upload settled).
"""

from __future__ import annotations

import logging
import time

__all__ = ["mark"]

log = logging.getLogger("cloudrec_recorder.phases")


def mark(sid: str, phase: str, detail: str = "") -> bool:
    """Log step ``phase`` of recording ``sid`` now (``detail``: ``key=value`` words); True."""
    if log.isEnabledFor(logging.INFO):
        suffix = f" {detail}" if detail else ""
        log.info("Phase sid=%s phase=%s at=%.3f%s", sid, phase, time.monotonic(), suffix)
    return True
