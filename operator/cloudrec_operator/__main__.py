"""``python -m cloudrec_operator``: settings -> kopf registry -> ``kopf.operator``.

``python -m cloudrec_operator verify s3://bucket/prefix/<sid> ...`` checks recordings' files
against their signed manifests instead (``cloudrec_operator.verify``).

See ``cloudrec_operator.settings`` for the options (``--help``). ``--kubeconfig`` is put into
``KUBECONFIG`` before the Kubernetes client is imported (it reads the variable on import).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from cloudrec_operator.settings import Settings, parse


async def run(settings: Settings) -> None:
    import kopf

    from cloudrec_operator.handlers.operator import register
    from cloudrec_operator.k8s import load_kube
    from cloudrec_operator.logs import quiet_routine

    kopf.configure(
        verbose=settings.verbose,
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.PLAIN,
    )
    quiet_routine(settings.verbose)
    registry = kopf.OperatorRegistry()
    register(registry, settings)
    await kopf.operator(
        registry=registry,
        clusterwide=not settings.namespaces,
        namespaces=list(settings.namespaces),
        standalone=settings.peering is None,
        peering_name=settings.peering,
        priority=settings.priority,
        liveness_endpoint=settings.liveness,
        memo=kopf.Memo(options=settings, kube_factory=load_kube),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["verify"]:
        from cloudrec_operator.verify import main as verify

        return verify(args[1:])
    settings = parse(args)
    if settings.kubeconfig:
        os.environ["KUBECONFIG"] = settings.kubeconfig
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
