"""Benchmarks: speed and memory measurements, never timed tests (results in BENCHMARKS.md)."""
