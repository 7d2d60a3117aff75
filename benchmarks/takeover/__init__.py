"""Unplanned take-over benchmark (issue 14): `python -m benchmarks.takeover`."""
