"""``python -m benchmarks.operator``: see :mod:`benchmarks.operator.scale`."""

from benchmarks.operator.scale import main

main()
