"""The signed event callback receiver (protocol.md §7), served with aiohttp.

``POST /callbacks``: the raw body's signature is checked with the secret of
the backend of the recording the event names (found by sid in kopf's index),
duplicates are dropped by noticeId, and the event is applied by a reconcile
pass in the background, so the sender gets its 200 well within its 10 s budget.

The first events of a recording are sent while the service answers ``start``,
before the operator has stored the sid and long before the index learns it
from the watch. Such an event, if signed with the callback secret of a backend
this process uses, is answered 200 (delivered, §7.2) and held
(``reconcile.held``); ``release_held`` applies it, checked again against its
own backend's secret, as soon as the recording is known: after the reconcile
pass that stored the sid, or when the index learns it. An event still unclaimed
after two minutes is dropped and counted as ``unknown_recording``; with the
buffer full the sender is told to try again later (503).

``GET /metrics`` serves the Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.metrics import (
    CALLBACKS_HELD,
    CALLBACKS_RECEIVED,
    CALLBACKS_REJECTED,
    RECONCILE_ERRORS,
    REGISTRY,
)
from cloudrec_operator.reconcile.model import Notified
from cloudrec_protocol.events import (
    SIGNATURE_HEADER,
    SIGNATURE_V2_HEADER,
    Notification,
    verify,
)

from .reconciler import reconcile
from .runtime import HeldCallback, Key, Runtime

log = logging.getLogger("cloudrec_operator.callbacks")

CALLBACK_PATH = "/callbacks"
READY_PATH = "/readyz"
MAX_BODY = 1 << 20
EXPIRY_SWEEP_SECONDS = 5.0
_SIGNATURES = (SIGNATURE_HEADER.lower(), SIGNATURE_V2_HEADER.lower())


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
        signatures = {k: v for k, v in request.headers.items() if k.lower() in _SIGNATURES}
        # No await from the lookup to holding: the index cannot learn the sid in between.
        key = rt.owner(note.payload.sid) or rt.adoptable(note.payload.cname, note.payload.uid)
        body = rt.bodies.get(key) if key is not None else None
        if key is None or body is None:
            return _hold(rt, HeldCallback(raw, signatures, note))
        refused = await _check(rt, key, body, raw, signatures)
        if refused is not None:
            return _reject(refused, 401, f"{_REFUSALS[refused]} for {key[0]}/{key[1]}")
        if rt.seen_notice(note.dedupe_key()):
            CALLBACKS_REJECTED.labels(reason="duplicate").inc()
            return web.json_response({"ok": True, "duplicate": True})
        _accepted(note, key)
        rt.spawn(_apply(rt, key, _notified(note)))
        return web.json_response({"ok": True})

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def ready(_: web.Request) -> web.Response:
        # The readiness probe: this replica takes callbacks (the callback Service routes to
        # ready pods). Liveness is kopf's own endpoint (--liveness), a separate server.
        return web.json_response({"status": "ready"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(CALLBACK_PATH, receive)
    app.router.add_post("/", receive)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(READY_PATH, ready)
    return app


_REFUSALS = {
    "no_secret": "backend has no callback secret or cannot be resolved",
    "bad_signature": "bad signature",
}


async def _check(
    rt: Runtime, key: Key, body: Mapping[str, Any], raw: bytes, signatures: Mapping[str, str]
) -> str | None:
    """None when the callback is signed with the secret of the recording's backend,
    otherwise the reason to refuse it (no_secret, bad_signature)."""
    try:
        spec = CloudRecordingSpec.load(body.get("spec") or {})
        backend = await rt.backend(spec, key[0])
    except (LookupError, ValidationError):
        return "no_secret"
    if backend.callback_secret is None:
        return "no_secret"
    if not verify(raw, signatures, backend.callback_secret):
        return "bad_signature"
    return None


def _notified(note: Notification) -> Notified:
    """The callback with its typed details; details that do not fit their event's model are
    left out (the event then changes nothing) and said in the log."""
    try:
        details = note.typed_details()
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        log.warning(
            "Callback eventType %s for sid %s: details do not fit (%s); ignored",
            note.event_type,
            note.payload.sid,
            fields,
        )
        details = None
    return Notified(note.event_type, details, sid=note.payload.sid)


def _accepted(note: Notification, key: Key) -> None:
    CALLBACKS_RECEIVED.labels(event_type=str(note.event_type)).inc()
    log.info(
        "Received callback eventType %s for CloudRecording %s/%s",
        note.event_type,
        key[0],
        key[1],
    )


def _hold(rt: Runtime, held: HeldCallback) -> web.Response:
    """Keep a callback for a sid no CloudRecording is known to have yet (module docstring)."""
    sid = held.note.payload.sid
    expire_held(rt, time.monotonic())
    if not any(verify(held.raw, held.signatures, s) for s in rt.callback_secrets()):
        # Not signed by any backend in use: nothing vouches for it. The sender retries.
        return _reject("unknown_recording", 404, f"no CloudRecording has sid {sid}")
    notice = held.note.dedupe_key()
    if notice in rt.notices:
        CALLBACKS_REJECTED.labels(reason="duplicate").inc()
        return web.json_response({"ok": True, "duplicate": True})
    if not rt.held.hold(sid, held, time.monotonic()):
        return _reject(
            "unknown_recording", 503, f"too many callbacks wait for their recording (sid {sid})"
        )
    rt.seen_notice(notice)
    CALLBACKS_HELD.inc()
    log.info(
        "Holding callback eventType %s for sid %s until its CloudRecording is known",
        held.note.event_type,
        sid,
    )
    return web.json_response({"ok": True, "held": True})


def release_held(rt: Runtime, key: Key, sid: str | None = None) -> None:
    """Apply the callbacks held for the sid of ``key`` (by default the one this process
    last stored for it), in the order they arrived."""
    if sid is None:
        known = rt.known.get(key)
        sid = known.tracked.sid if known is not None else None
    if sid is None or sid not in rt.held:
        return
    rt.spawn(_apply_held(rt, key, rt.held.claim(sid)))


async def _apply_held(rt: Runtime, key: Key, held: list[HeldCallback]) -> None:
    for item in held:
        body = rt.bodies.get(key)
        if body is None:
            CALLBACKS_REJECTED.labels(reason="unknown_recording").inc()
            continue
        refused = await _check(rt, key, body, item.raw, item.signatures)
        if refused is not None:
            CALLBACKS_REJECTED.labels(reason=refused).inc()
            log.warning("Dropped a held callback: %s for %s/%s", _REFUSALS[refused], key[0], key[1])
            continue
        _accepted(item.note, key)
        await _apply(rt, key, _notified(item.note))


def expire_held(rt: Runtime, now: float) -> None:
    """Drop (and count) the held callbacks whose recording never became known."""
    for item in rt.held.expire(now):
        CALLBACKS_REJECTED.labels(reason="unknown_recording").inc()
        log.warning(
            "Dropped callback eventType %s: no CloudRecording took sid %s in time",
            item.note.event_type,
            item.note.payload.sid,
        )


async def sweep_held(rt: Runtime) -> None:
    """Expire held callbacks every few seconds (runs for the life of the operator)."""
    while True:
        await asyncio.sleep(EXPIRY_SWEEP_SECONDS)
        expire_held(rt, time.monotonic())


async def _apply(rt: Runtime, key: tuple[str, str], notified: Notified) -> None:
    body = rt.bodies.get(key)
    if body is None:
        return
    try:
        await reconcile(rt, body, notification=notified)
    except Exception as error:  # logged; the timer's next pass repeats the work
        RECONCILE_ERRORS.inc()
        log.error("Applying a callback to %s/%s failed: %s", key[0], key[1], type(error).__name__)
    release_held(rt, key)


async def serve(rt: Runtime, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_app(rt), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Callback receiver listening on %s:%s%s", host, port, CALLBACK_PATH)
    return runner
