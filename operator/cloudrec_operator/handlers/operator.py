"""kopf glue: which kopf handler calls the one reconcile, and operator start-up.

* create, update (spec only) and resume run a reconcile pass; a missing
  Secret or backend raises a TemporaryError so kopf retries with backoff
  until it appears;
* every pass sets when the recording's next one runs (``schedule``: one event-loop timer
  per recording, at the time its next query, retry or backoff is due, at least every
  ``tick`` seconds while a recording may exist);
* deletion is handled while a recording may exist (``timer_needed``), which is also what
  keeps kopf's finalizer on the resource only as long as there is a recording to stop;
* one kopf index, ``recording_index`` (``indexes``), read as two: the recordings whose status
  says Queued, per backend, which the queue loop (``queues.serve_queues``, started at
  start-up) orders (kopf fills it from the initial listing before any handler runs, so a
  restart keeps the queue), and ``status.recordingId`` -> namespace and name, how the
  callback receiver finds a recording;
* its indexer, which kopf runs at every watch event, also keeps the recording's last body
  and, when the event (or a pass that stored a sid) makes a sid known, applies the
  callbacks held for it (after kopf stored the entry: no await comes between); the only
  ``@kopf.on.event`` handler left takes DELETED events (one kopf handler call per event,
  not three: ``BENCHMARKS.md``);
* start-up moves kopf's finalizer and progress annotations (written only while a handler
  retries) under ``cloudrecording.io/``, keeps kopf's last-handled spec in memory
  (``diffbase``: no write of its own per recording) and starts the signed callback
  receiver.

Every handler has an explicit id: kopf names the progress annotation of a
retrying handler after it, and the default id (the function's qualified name,
``_register_reconcile.<locals>.resume``) is not a valid annotation name.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Mapping
from typing import Any

import kopf
from aiohttp import web

from cloudrec_operator.api.names import CLOUDRECORDINGS, GROUP, VERSION
from cloudrec_operator.k8s.lanes import urgent
from cloudrec_operator.metrics import RECONCILE_ERRORS
from cloudrec_operator.reconcile.model import Tracked
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.settings import MIN_STATE_KEY, Settings

from .callbacks import release_held, serve, sweep_held
from .diffbase import MemoryDiffBaseStorage, QuietProgressStorage
from .finalizer import FINALIZER, PREFIX, timer_needed
from .indexes import RECORDINGS_INDEX, IndexPart, index_entry
from .ports import KubeApi
from .queues import QueueServer, backend_room, queue_index_entry, serve_queues
from .reconciler import reconcile
from .runtime import Key, Runtime
from .schedule import PassScheduler
from .verifying import VERIFY_ANNOTATION

log = logging.getLogger("cloudrec_operator")


def sid_index_entry(namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Key]:
    """The sid part of the ``recording_index`` entry of one CloudRecording: empty without a sid
    (kopf then drops what it held for the object, e.g. the sid of a recording that
    was restarted)."""
    sid = status.get("recordingId")
    return {str(sid): (namespace, name)} if sid else {}


def _deleted(type: str | None = None, **_: Any) -> bool:
    """``when`` of the DELETED-only event handler: evaluated without a handler call."""
    return type == "DELETED"


def _key(body: kopf.Body) -> Key:
    return (str(body.metadata.namespace), str(body.metadata.name))


async def _scheduled(rt: Runtime, key: Key) -> None:
    """A pass whose time has come (queries, retries, backoffs: ``schedule``)."""
    body = rt.bodies.get(key)
    if body is None:
        return
    try:
        await reconcile(rt, body)
    except Exception as error:  # the pass set the next one (``--tick`` s) before raising
        RECONCILE_ERRORS.inc()
        log.error("Reconcile pass failed: %s", type(error).__name__)
    release_held(rt, key)


def _queue_server(rt: Runtime) -> QueueServer:
    """The queue loop's view of the runtime (``queues.QueueServer``)."""

    def tracked(key: Key) -> Tracked | None:
        known = rt.known.get(key)
        return None if known is None else known.tracked

    def status(key: Key) -> Mapping[str, Any]:
        known = rt.known.get(key)
        if known is not None:
            return known.status
        return (rt.bodies.get(key) or {}).get("status") or {}

    async def run_pass(body: Mapping[str, Any]) -> None:
        await reconcile(rt, body)

    return QueueServer(
        queues=rt.queues,
        bodies=rt.bodies,
        tracked=tracked,
        status=status,
        room=backend_room(rt.backend, rt.bodies),
        run_pass=run_pass,
        admitting=urgent,
    )


def register(registry: kopf.OperatorRegistry, settings: Settings) -> None:
    """Register every handler of the operator on ``registry``."""
    _register_lifecycle(registry)
    _register_reconcile(registry, settings)
    _register_verification(registry)


async def _state_key_from_secret(kube: KubeApi, opts: Settings) -> bytes:
    """The state key from (or created in) ``--state-key-secret``; a clear stop otherwise."""
    name = f"{opts.operator_namespace}/{opts.state_key_secret}"
    try:
        key = await kube.state_key(opts.operator_namespace, opts.state_key_secret or "")
    except (LookupError, RuntimeError) as error:
        raise kopf.PermanentError(f"No state key: {error}") from None
    if len(key) < MIN_STATE_KEY:
        raise kopf.PermanentError(
            f"No state key: stateKey in Secret {name} is shorter than {MIN_STATE_KEY} bytes"
        )
    return key


def _register_lifecycle(registry: kopf.OperatorRegistry) -> None:
    @kopf.on.login(id="login", registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # In-cluster service account or KUBECONFIG, through the kubernetes client.
        return kopf.login_via_client(**kwargs)

    @kopf.on.startup(id="startup", registry=registry)
    async def startup(memo: kopf.Memo, settings: kopf.OperatorSettings, **kwargs: Any) -> None:
        settings.persistence.finalizer = FINALIZER
        settings.persistence.progress_storage = QuietProgressStorage(prefix=PREFIX)
        diffbase = MemoryDiffBaseStorage()
        settings.persistence.diffbase_storage = diffbase
        memo["diffbase"] = diffbase
        settings.posting.enabled = False
        settings.execution.max_workers = 32
        settings.batching.worker_limit = None
        opts: Settings = memo["options"]
        kube = memo["kube_factory"](opts.kubeconfig)
        timing = Timing(
            first_query=opts.first_query,
            steady_query=opts.steady_query,
            resource_id_lifetime=opts.resource_id_lifetime,
        )
        index = kwargs[RECORDINGS_INDEX]
        rt = Runtime(settings=opts, kube=kube, timing=timing, index=IndexPart(index, str))
        rt.passes = PassScheduler(functools.partial(_scheduled, rt))
        if opts.state_key is not None:
            rt.state_key = opts.state_key
        elif opts.state_key_secret:
            rt.state_key = await _state_key_from_secret(kube, opts)
        else:
            log.warning(
                "No state key (--state-key-file, CLOUDREC_STATE_KEY): the tracking annotation "
                "is signed with a key of this process only and is ignored after a restart"
            )
        memo["rt"] = rt
        memo["sweeper"] = asyncio.get_running_loop().create_task(sweep_held(rt))
        rt.queues.index = IndexPart(index, tuple)
        memo["queues"] = asyncio.get_running_loop().create_task(serve_queues(_queue_server(rt)))
        memo["runner"] = await serve(rt, opts.callback_host, opts.callback_port)
        if opts.metrics_port is not None:
            memo["metrics_runner"] = await serve(rt, opts.callback_host, opts.metrics_port)

    @kopf.on.cleanup(id="cleanup", registry=registry)
    async def cleanup(memo: kopf.Memo, **_: Any) -> None:
        for job in ("sweeper", "queues"):
            task: asyncio.Task[None] | None = memo.get(job)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for name in ("runner", "metrics_runner"):
            runner: web.AppRunner | None = memo.get(name)
            if runner is not None:
                await runner.cleanup()
        rt: Runtime | None = memo.get("rt")
        if rt is not None:
            await rt.aclose()

    @kopf.on.probe(id="recordings", registry=registry)
    def probe(memo: kopf.Memo, **_: Any) -> int:
        rt: Runtime | None = memo.get("rt")
        return 0 if rt is None else len(rt.known)


def _register_verification(registry: kopf.OperatorRegistry) -> None:
    @kopf.on.field(
        GROUP,
        VERSION,
        CLOUDRECORDINGS,
        id="reverify",
        field=("metadata", "annotations", VERIFY_ANNOTATION),
        registry=registry,
        backoff=5,
    )
    async def reverify(body: kopf.Body, memo: kopf.Memo, new: Any, **_: Any) -> None:
        # A new value of the annotation asks for the bucket to be checked again.
        if new:
            await reconcile(memo["rt"], body, reverify=True)


def _register_reconcile(registry: kopf.OperatorRegistry, settings: Settings) -> None:
    resource = (GROUP, VERSION, CLOUDRECORDINGS)

    @kopf.index(*resource, id=RECORDINGS_INDEX, registry=registry)
    async def recording_index(
        namespace: str | None, name: str, body: kopf.Body, memo: kopf.Memo, **_: Any
    ) -> dict[Any, Any]:
        # No await in here: kopf stores the entry before anything else runs.
        key = (str(namespace), name)
        status = body.get("status") or {}
        entry = index_entry(sid_index_entry(*key, status), queue_index_entry(*key, body))
        rt: Runtime | None = memo.get("rt")
        if rt is not None:
            rt.bodies[key] = body
            sid = status.get("recordingId")
            if sid:
                release_held(rt, key, str(sid))
        return entry

    async def _pass(body: kopf.Body, memo: kopf.Memo, retry: int) -> None:
        rt: Runtime = memo["rt"]
        result = await reconcile(rt, body)
        release_held(rt, _key(body))
        if result.blocked is not None and not result.has_recording:
            raise kopf.TemporaryError(result.blocked, delay=min(60.0, 2.0 ** min(retry, 6)))

    @kopf.on.resume(*resource, id="resume", registry=registry, backoff=5)
    async def resume(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
        await _pass(body, memo, retry)

    @kopf.on.create(*resource, id="create", registry=registry, backoff=5)
    async def create(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
        await _pass(body, memo, retry)

    @kopf.on.update(*resource, id="update", field="spec", registry=registry, backoff=5)
    async def update(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
        await _pass(body, memo, retry)

    # Not optional while a recording may exist (``timer_needed``): kopf then keeps the
    # finalizer on exactly as long as the operator's own writes do.
    @kopf.on.delete(*resource, id="delete", when=timer_needed, registry=registry, backoff=5)
    async def delete(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        rt: Runtime = memo["rt"]
        result = await reconcile(rt, body, deleting=True)
        if not result.finished:
            raise kopf.TemporaryError(
                "Waiting to stop or release the recording", delay=max(1.0, result.wait or 5.0)
            )
        rt.forget((str(body.metadata.namespace), str(body.metadata.name)))

    @kopf.on.event(*resource, id="watch", when=_deleted, registry=registry)
    async def watch(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        # The indexer takes every other event (kopf indexes none of DELETED).
        rt: Runtime | None = memo.get("rt")
        if rt is None:
            return
        rt.forget(_key(body))
        memo["diffbase"].forget(str(body.metadata.uid))
