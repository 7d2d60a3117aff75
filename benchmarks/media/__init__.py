"""Benchmark of the recorder's media pipeline against an ffmpeg floor (see BENCHMARKS.md)."""
