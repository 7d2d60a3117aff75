"""``python -m benchmarks.storage``: see :mod:`benchmarks.storage.upload`."""

from benchmarks.storage.upload import main

main()
