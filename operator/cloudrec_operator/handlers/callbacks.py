"""The signed event callback receiver (protocol.md §7), served with aiohttp.

``POST /callbacks``: the raw body's signature is checked with the secret of
the backend of the recording the event names (found by sid), duplicates are
dropped by noticeId, and the event is applied by a reconcile pass in the
background, so the sender gets its 200 well within its 10 s budget.
``GET /metrics`` serves the Prometheus metrics.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.metrics import (
    CALLBACKS_RECEIVED,
    CALLBACKS_REJECTED,
    RECONCILE_ERRORS,
    REGISTRY,
)
from cloudrec_operator.protocol.events import Notification, verify
from cloudrec_operator.reconcile.model import Notified

from .reconciler import reconcile
from .runtime import Runtime

log = logging.getLogger("cloudrec_operator.callbacks")

CALLBACK_PATH = "/callbacks"
MAX_BODY = 1 << 20


def _reject(reason: str, status: int, message: str) -> web.Response:
    CALLBACKS_REJECTED.labels(reason=reason).inc()
    log.warning("Rejected a callback: %s", message)
    return web.json_response({"ok": False, "reason": reason}, status=status)


def build_app(rt: Runtime) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return _reject("malformed", 413, "body too large")
        try:
            note = Notification.model_validate_json(raw)
        except ValidationError:
            return _reject("malformed", 400, "body is not a cloud recording notification")
        key = rt.sids.get(note.payload.sid) or rt.adoptable(note.payload.cname, note.payload.uid)
        body = rt.bodies.get(key) if key is not None else None
        if key is None or body is None:
            return _reject(
                "unknown_recording", 404, f"no CloudRecording has sid {note.payload.sid}"
            )
        try:
            spec = CloudRecordingSpec.load(body.get("spec") or {})
            backend = await rt.backend(spec, key[0])
        except (LookupError, ValidationError):
            return _reject("no_secret", 401, f"backend of {key[0]}/{key[1]} cannot be resolved")
        if backend.callback_secret is None:
            return _reject("no_secret", 401, f"backend of {key[0]}/{key[1]} has no callback secret")
        if not verify(raw, dict(request.headers), backend.callback_secret):
            return _reject("bad_signature", 401, f"bad signature for {key[0]}/{key[1]}")
        if rt.seen_notice(note.dedupe_key()):
            CALLBACKS_REJECTED.labels(reason="duplicate").inc()
            return web.json_response({"ok": True, "duplicate": True})
        CALLBACKS_RECEIVED.labels(event_type=str(note.event_type)).inc()
        log.info(
            "Received callback eventType %s for CloudRecording %s/%s",
            note.event_type,
            key[0],
            key[1],
        )
        notified = Notified(note.event_type, dict(note.payload.details), sid=note.payload.sid)
        rt.spawn(_apply(rt, key, notified))
        return web.json_response({"ok": True})

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(CALLBACK_PATH, receive)
    app.router.add_post("/", receive)
    app.router.add_get("/metrics", metrics)
    return app


async def _apply(rt: Runtime, key: tuple[str, str], notified: Notified) -> None:
    body = rt.bodies.get(key)
    if body is None:
        return
    try:
        await reconcile(rt, body, notification=notified)
    except Exception as error:  # logged; the timer's next pass repeats the work
        RECONCILE_ERRORS.inc()
        log.error("Applying a callback to %s/%s failed: %s", key[0], key[1], type(error).__name__)


async def serve(rt: Runtime, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_app(rt), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Callback receiver listening on %s:%s%s", host, port, CALLBACK_PATH)
    return runner
