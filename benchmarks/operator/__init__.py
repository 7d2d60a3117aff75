"""Operator benchmarks (see :mod:`benchmarks.operator.scale`)."""
