"""Log levels for a quiet operator at scale.

kopf logs a success line for every handler call, and the query timer and the watch handler
run for every recording every few seconds and on every change: at 500 recordings that was
over a hundred lines a second of "Timer 'tick' succeeded." and the loop's time spent
formatting them. httpx logs every request at INFO; the protocol client logs its own line
with the outcome and latency. Both are kept with ``--verbose``; failures always show.
"""

from __future__ import annotations

import logging
import re

ROUTINE = re.compile(
    r"^(Timer|Handler|Indexer) '(?:[^']*\.)?"
    r"(tick|watch|recording_index|recording_by_sid)' succeeded\.$"
)
"""kopf's success lines of the handlers that run all the time."""


class DropRoutine(logging.Filter):
    """Drops kopf's success lines of the routine handlers (:data:`ROUTINE`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not ROUTINE.match(record.getMessage())


def quiet_routine(verbose: bool) -> None:
    """Apply the levels above unless ``verbose``."""
    if verbose:
        return
    logging.getLogger("kopf.objects").addFilter(DropRoutine())
    logging.getLogger("httpx").setLevel(logging.WARNING)


__all__ = ["ROUTINE", "DropRoutine", "quiet_routine"]
