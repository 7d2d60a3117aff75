"""kopf glue: which kopf handler calls the one reconcile, and operator start-up.

* create, update (spec only) and resume run a reconcile pass; a missing
  Secret or backend raises a TemporaryError so kopf retries with backoff
  until it appears;
* a timer runs a pass every ``tick`` seconds while an external recording
  exists (its ``when`` filter), which is also what keeps kopf's finalizer on
  the resource only as long as there is a recording to stop;
* deletion (optional handler, called while the finalizer blocks it) applies
  ``releasePolicy``;
* an index, ``recording_by_sid`` (``status.recordingId`` -> namespace and
  name), is how the callback receiver finds a recording; when a watch event
  (or a pass that stored a sid) makes a sid known, the callbacks held for it
  are applied;
* start-up moves kopf's finalizer, progress and diff-base annotations under
  ``cloudrecording.io/`` and starts the signed callback receiver.

Every handler has an explicit id: kopf names the progress annotation of a
retrying handler after it, and the default id (the function's qualified name,
``_register_reconcile.<locals>.resume``) is not a valid annotation name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import kopf
from aiohttp import web

from cloudrec_operator.metrics import RECONCILE_ERRORS
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.settings import MIN_STATE_KEY, Settings

from .callbacks import release_held, serve, sweep_held
from .finalizer import FINALIZER, PREFIX, timer_needed
from .ports import KubeApi
from .reconciler import reconcile
from .runtime import Key, Runtime
from .verifying import VERIFY_ANNOTATION

GROUP = "cloudrecording.io"
VERSION = "v1alpha1"
PLURAL = "cloudrecordings"
SID_INDEX = "recording_by_sid"

log = logging.getLogger("cloudrec_operator")


def sid_index_entry(namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Key]:
    """The ``recording_by_sid`` index entry of one CloudRecording: empty without a sid
    (kopf then drops what it held for the object, e.g. the sid of a recording that
    was restarted)."""
    sid = status.get("recordingId")
    return {str(sid): (namespace, name)} if sid else {}


def _key(body: kopf.Body) -> Key:
    return (str(body.metadata.namespace), str(body.metadata.name))


async def _tick(rt: Runtime, body: kopf.Body) -> None:
    """The query timer: a pass when something may be due (queries, retries, backoffs)."""
    if not rt.tick_due(_key(body), str(body.metadata.get("resourceVersion"))):
        return
    try:
        await reconcile(rt, body, tick=True)
    except Exception as error:  # the next tick tries again
        RECONCILE_ERRORS.inc()
        log.error("Reconcile pass failed: %s", type(error).__name__)
    release_held(rt, _key(body))


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
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=PREFIX, key="last-handled-configuration"
        )
        settings.posting.enabled = False
        # A timer stops when its recording ends; re-check soon so the finalizer goes soon.
        settings.background.cancellation_polling = 1.0
        settings.execution.max_workers = 32
        settings.batching.worker_limit = None
        opts: Settings = memo["options"]
        kube = memo["kube_factory"](opts.kubeconfig)
        timing = Timing(
            first_query=opts.first_query,
            steady_query=opts.steady_query,
            resource_id_lifetime=opts.resource_id_lifetime,
        )
        rt = Runtime(settings=opts, kube=kube, timing=timing, index=kwargs[SID_INDEX])
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
        memo["runner"] = await serve(rt, opts.callback_host, opts.callback_port)
        if opts.metrics_port is not None:
            memo["metrics_runner"] = await serve(rt, opts.callback_host, opts.metrics_port)

    @kopf.on.cleanup(id="cleanup", registry=registry)
    async def cleanup(memo: kopf.Memo, **_: Any) -> None:
        sweeper: asyncio.Task[None] | None = memo.get("sweeper")
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
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
        PLURAL,
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
    resource = (GROUP, VERSION, PLURAL)

    @kopf.index(*resource, id=SID_INDEX, registry=registry)
    async def recording_by_sid(
        namespace: str | None, name: str, status: kopf.Status, **_: Any
    ) -> dict[str, Key]:
        return sid_index_entry(str(namespace), name, status)

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

    @kopf.timer(
        *resource,
        id="tick",
        interval=settings.tick,
        when=timer_needed,
        registry=registry,
    )
    async def tick(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        await _tick(memo["rt"], body)

    @kopf.on.delete(*resource, id="delete", optional=True, registry=registry, backoff=5)
    async def delete(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        rt: Runtime = memo["rt"]
        result = await reconcile(rt, body, deleting=True)
        if not result.finished:
            raise kopf.TemporaryError(
                "Waiting to stop or release the recording", delay=max(1.0, result.wait or 5.0)
            )
        rt.forget((str(body.metadata.namespace), str(body.metadata.name)))

    @kopf.on.event(*resource, id="watch", registry=registry)
    async def watch(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        # Runs after kopf indexed this event: a sid the index just learned has its
        # held callbacks applied now (callbacks arriving from here on find it).
        rt: Runtime | None = memo.get("rt")
        if rt is None:
            return
        key = _key(body)
        if event.get("type") == "DELETED":
            rt.forget(key)
        else:
            rt.bodies[key] = body
            sid = body.status.get("recordingId")
            if sid:
                release_held(rt, key, str(sid))
