"""Which kopf log lines the operator drops at scale."""

from __future__ import annotations

import logging

import pytest

from cloudrec_operator.logs import DropRoutine


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", logging.INFO, __file__, 1, message, args, None)


@pytest.mark.parametrize(
    "message",
    [
        "Timer '_register_reconcile.<locals>.tick' succeeded.",
        "Handler '_register_reconcile.<locals>.watch' succeeded.",
        "Indexer 'recording_by_sid' succeeded.",
        "Indexer 'recording_index' succeeded.",
    ],
)
def test_the_success_lines_of_routine_handlers_are_dropped(message: str) -> None:
    assert not DropRoutine().filter(record(message))


@pytest.mark.parametrize(
    "message",
    [
        "Handler '_register_reconcile.<locals>.create' succeeded.",
        "Timer '_register_reconcile.<locals>.tick' failed with an exception. Will retry.",
        "Handler '_register_reconcile.<locals>.watch' failed temporarily: boom",
        "Creation is processed: 1 succeeded; 0 failed.",
    ],
)
def test_failures_and_other_handlers_still_show(message: str) -> None:
    assert DropRoutine().filter(record(message))
