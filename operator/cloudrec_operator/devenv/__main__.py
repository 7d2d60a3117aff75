"""``python -m cloudrec_operator.devenv up|down|demo`` (see :mod:`cloudrec_operator.devenv.cli`)."""

from cloudrec_operator.devenv.cli import main

raise SystemExit(main())
