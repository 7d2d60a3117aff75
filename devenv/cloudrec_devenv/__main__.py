"""``python -m cloudrec_devenv up|down|demo`` (see :mod:`cloudrec_devenv.cli`)."""

from cloudrec_devenv.cli import main

raise SystemExit(main())
