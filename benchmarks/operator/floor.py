"""The floor under the operator's cost: kopf itself, with a handler that only writes.

``python -m benchmarks.operator.floor --writes ready|same --kubeconfig K --liveness URL`` is
a kopf operator over CloudRecordings configured as the real one is (its in-memory diff base,
its progress storage without kopf's marker, no kopf Events, the same worker settings and
the same Kubernetes facade and thread pool), whose create handler makes no protocol call
and decides nothing:

* ``ready``: one status write, ``Ready=True``: the least any operator that reports Ready
  must do (one write and its watch event back, besides the object's own ADDED event);
* ``same``: the writes the real operator makes for a new recording when the recorder's
  ``recorder_started`` came before the start's answer (``BENCHMARKS.md``): the finalizer
  with the tracking annotation, the resource id's status, the sid with Ready, and the
  Connecting and Started Events.

Run by ``python -m benchmarks.operator --operator floor-ready|floor-same`` in place of the
operator, so the same benchmark measures the floor and the operator: what the operator costs
above kopf and its writes is the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

FLOOR_WRITES = ("ready", "same")


def _ready(generation: int) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "phase": "Recording",
        "observedGeneration": generation,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Recording",
                "message": "floor",
                "lastTransitionTime": now,
                "observedGeneration": generation,
            }
        ],
    }


async def run(writes: str, liveness: str) -> None:
    import kopf

    from cloudrec_operator.api.names import CLOUDRECORDINGS, FINALIZER, GROUP, VERSION
    from cloudrec_operator.handlers.diffbase import MemoryDiffBaseStorage, QuietProgressStorage
    from cloudrec_operator.handlers.finalizer import PREFIX
    from cloudrec_operator.k8s import load_kube
    from cloudrec_operator.logs import quiet_routine
    from cloudrec_operator.reconcile.tracking import TRACKING_ANNOTATION

    kopf.configure(verbose=False, log_format=kopf.LogFormat.JSON)
    quiet_routine(False)
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    registry = kopf.OperatorRegistry()
    kube = load_kube(os.environ.get("KUBECONFIG"))

    @kopf.on.login(id="login", registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        return kopf.login_via_client(**kwargs)

    @kopf.on.startup(id="startup", registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        # kopf's finalizer is not the operator's: kopf, with no deletion handler here,
        # would otherwise remove the one the handler adds (a write the operator never has).
        settings.persistence.progress_storage = QuietProgressStorage(prefix=PREFIX)
        settings.persistence.diffbase_storage = MemoryDiffBaseStorage()
        settings.posting.enabled = False
        settings.execution.max_workers = 32
        settings.batching.worker_limit = None

    @kopf.on.create(GROUP, VERSION, CLOUDRECORDINGS, id="create", registry=registry)
    async def create(body: kopf.Body, **_: Any) -> None:
        namespace, name = str(body.metadata.namespace), str(body.metadata.name)
        generation = int(body.metadata.get("generation") or 1)
        if writes == "same":
            await kube.add_finalizer(
                namespace,
                name,
                FINALIZER,
                body.metadata,
                annotations={TRACKING_ANNOTATION: secrets.token_urlsafe(96)},
            )
            rid = secrets.token_hex(32)
            await kube.patch_status(namespace, name, {"phase": "Connecting", "resourceId": rid})
            await kube.patch_status(
                namespace, name, {"recordingId": secrets.token_hex(16), **_ready(generation)}
            )
            await kube.post_event(body, "Connecting", "Recording accepted by the service")
            await kube.post_event(body, "Started", "The service started recording")
        else:
            await kube.patch_status(namespace, name, _ready(generation))

    await kopf.operator(
        registry=registry, clusterwide=True, standalone=True, liveness_endpoint=liveness
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.operator.floor")
    parser.add_argument("--writes", choices=FLOOR_WRITES, default="ready")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--liveness", required=True)
    args = parser.parse_args(argv)
    os.environ["KUBECONFIG"] = args.kubeconfig
    asyncio.run(run(args.writes, args.liveness))
    return 0


if __name__ == "__main__":
    sys.exit(main())
