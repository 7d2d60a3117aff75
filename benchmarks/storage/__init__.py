"""Benchmark of the recorder storage uploader (``python -m benchmarks.storage``)."""
