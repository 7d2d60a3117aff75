"""The operator benchmark's ``--tracemalloc`` report (``benchmarks.operator.traced``)."""

from __future__ import annotations

import tracemalloc

from benchmarks.operator.traced import report


def test_the_memory_report_names_the_line_that_holds_the_most() -> None:
    tracemalloc.start(4)
    try:
        held = [bytearray(4 << 20)]
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    text = report(snapshot)
    assert text.startswith("traced: ")
    assert "bytearray(4 << 20)" in text.split("== by innermost line ==")[1].splitlines()[1]
    assert held
