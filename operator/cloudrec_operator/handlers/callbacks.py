"""The signed event callback receiver (protocol.md §7), served with aiohttp.

Every sender is named before any signature is computed, so an unsigned or forged body
costs one HMAC at most, whatever the number of backends (docs/security.md):

* ``POST /callbacks/namespaces/<ns>/recordingbackends/<name>`` and
  ``POST /callbacks/clusterrecordingbackends/<name>``: the backend is in the path; the
  body is checked with that backend's callback secret alone, then parsed. An event it
  signs may only be about a recording that uses that backend.
* ``POST /callbacks`` (and ``/``): the body's sid names the recording, whose backend's
  secret checks it. A sid not known yet is checked against the backends of the (at most
  ``MAX_WAITING_BACKENDS``) recordings waiting for that channel and uid.

A callback whose ``notifyMs`` is further than ``--callback-window`` (default 5 minutes)
from now is refused (a replay); duplicates are dropped by noticeId, in memory and through
``status.appliedCallbacks`` (which outlives a restart). The event is applied by a
reconcile pass in the background, so the sender gets its 200 well within its 10 s budget.

The first events of a recording are sent while the service answers ``start``,
before the operator has stored the sid and long before the index learns it
from the watch. Such an event, once verified, is answered 200 (delivered, §7.2) and
held (``reconcile.held``, capped by count and bytes per backend and in all);
``release_held`` applies it, checked again against its own recording's backend, as soon
as the recording is known. An event still unclaimed after two minutes is dropped and
counted as ``unknown_recording``; with the buffer full (for the backend that signed it,
or in all) the sender is told to try again later (503, reason ``held_full``).

``GET /metrics`` serves the Prometheus metrics (eventType labels: the catalogue's event
types, anything else is ``other``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Collection, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from cloudrec_operator.metrics import (
    CALLBACKS_HELD,
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

from .notices import accepted as _accepted
from .notices import arrived, event_label
from .notices import notified as _notified
from .notices import short as _short
from .reconciler import parsed_spec, reconcile
from .runtime import HeldCallback, Key, Runtime

log = logging.getLogger("cloudrec_operator.callbacks")

CALLBACK_PATH = "/callbacks"
READY_PATH = "/readyz"
NAMESPACED_PATH = CALLBACK_PATH + "/namespaces/{namespace}/recordingbackends/{name}"
CLUSTER_PATH = CALLBACK_PATH + "/clusterrecordingbackends/{name}"
MAX_BODY = 1 << 20
MAX_WAITING_BACKENDS = 4
"""Backends tried for a sid not known yet on the shared path (one per waiting recording
of the channel and uid; the per-backend paths need one)."""
EXPIRY_SWEEP_SECONDS = 5.0
_SIGNATURES = (SIGNATURE_HEADER.lower(), SIGNATURE_V2_HEADER.lower())


def _reject(reason: str, status: int, message: str) -> web.Response:
    CALLBACKS_REJECTED.labels(reason=reason).inc()
    log.warning("Rejected a callback: %s", message)
    return web.json_response({"ok": False, "reason": reason}, status=status)


def _parse(raw: bytes) -> Notification | None:
    try:
        return Notification.model_validate_json(raw)
    except ValidationError:
        return None


def _stale(rt: Runtime, note: Notification) -> web.Response | None:
    """A refusal when ``notifyMs`` is outside the freshness window (a replay), else None."""
    window = rt.settings.callback_window
    away = abs(time.time() * 1000 - note.notify_ms) / 1000
    if away <= window:
        return None
    return _reject(
        "stale",
        400,
        f"notifyMs is {away:.0f} s away from the operator's clock (window {window:.0f} s)",
    )


def _duplicate(rt: Runtime, key: Key | None, note: Notification) -> bool:
    """Seen before: by this process, or applied to the recording (``appliedCallbacks``)."""
    notice = note.dedupe_key()
    if key is not None and notice in _applied(rt, key):
        return True
    return rt.seen_notice(notice)


def _applied(rt: Runtime, key: Key) -> Collection[str]:
    """The notice ids applied to the recording: as this process knows them, or (not loaded
    yet, e.g. right after a restart) as its last watched body says."""
    known = rt.known.get(key)
    if known is not None:
        return known.tracked.notices
    status = (rt.bodies.get(key) or {}).get("status") or {}
    applied = status.get("appliedCallbacks")
    return [str(n) for n in applied] if isinstance(applied, list) else []


async def _receive(rt: Runtime, request: web.Request) -> web.Response:
    raw = await request.read()
    if len(raw) > MAX_BODY:
        return _reject("malformed", 413, "body too large")
    note = _parse(raw)
    if note is None:
        return _reject("malformed", 400, "body is not a cloud recording notification")
    stale = _stale(rt, note)
    if stale is not None:
        return stale
    signatures = _signatures(request)
    # No await from the lookup to holding: the index cannot learn the sid in between.
    key = rt.owner(note.payload.sid) or rt.adoptable(note.payload.cname, note.payload.uid)
    body = rt.bodies.get(key) if key is not None else None
    if key is None or body is None:
        return _hold_unsigned_path(rt, HeldCallback(raw, signatures, note))
    refused = await _check(rt, key, body, raw, signatures)
    if refused is not None:
        return _reject(refused, 401, f"{_REFUSALS[refused]} for {key[0]}/{key[1]}")
    return _deliver(rt, key, note)


async def _receive_for_backend(rt: Runtime, request: web.Request) -> web.Response:
    info = request.match_info
    namespace = info.get("namespace")
    kind = "RecordingBackend" if namespace is not None else "ClusterRecordingBackend"
    backend_key = (kind, namespace or "", info["name"])
    raw = await request.read()
    backend = rt.backends.get(backend_key)
    if backend is None or backend.callback_secret is None:
        return _reject("unknown_backend", 404, f"no {kind} {_named(backend_key)} in use")
    signatures = _signatures(request)
    if not verify(raw, signatures, backend.callback_secret):
        return _reject("bad_signature", 401, f"bad signature for {_named(backend_key)}")
    note = _parse(raw)
    if note is None:
        return _reject("malformed", 400, "body is not a cloud recording notification")
    stale = _stale(rt, note)
    if stale is not None:
        return stale
    key = rt.owner(note.payload.sid)
    if key is None:
        key = rt.adoptable(note.payload.cname, note.payload.uid, backend_key)
    if key is None or rt.bodies.get(key) is None:
        return _hold(rt, HeldCallback(raw, signatures, note), _named(backend_key))
    if rt.backend_key_of(key) != backend_key:
        return _reject(
            "wrong_backend",
            401,
            f"{_named(backend_key)} signed an event for {key[0]}/{key[1]}, "
            "which uses another backend",
        )
    return _deliver(rt, key, note)


def build_app(rt: Runtime) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def ready(_: web.Request) -> web.Response:
        # The readiness probe: this replica takes callbacks (the callback Service routes to
        # ready pods). Liveness is kopf's own endpoint (--liveness), a separate server.
        return web.json_response({"status": "ready"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(CALLBACK_PATH, functools.partial(_receive, rt))
    app.router.add_post(NAMESPACED_PATH, functools.partial(_receive_for_backend, rt))
    app.router.add_post(CLUSTER_PATH, functools.partial(_receive_for_backend, rt))
    app.router.add_post("/", functools.partial(_receive, rt))
    app.router.add_get("/metrics", metrics)
    app.router.add_get(READY_PATH, ready)
    return app


def _signatures(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() in _SIGNATURES}


def _named(backend_key: tuple[str, str, str]) -> str:
    _, namespace, name = backend_key
    return f"{namespace}/{name}" if namespace else name


def _deliver(rt: Runtime, key: Key, note: Notification) -> web.Response:
    if _duplicate(rt, key, note):
        CALLBACKS_REJECTED.labels(reason="duplicate").inc()
        return web.json_response({"ok": True, "duplicate": True})
    _accepted(note, key)
    rt.spawn(_apply(rt, key, _notified(note)))
    return web.json_response({"ok": True})


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
        spec, _ = parsed_spec(rt, key, body)
        backend = await rt.backend(spec, key[0])
    except (LookupError, ValidationError):
        return "no_secret"
    if backend.callback_secret is None:
        return "no_secret"
    if not verify(raw, signatures, backend.callback_secret):
        return "bad_signature"
    return None


def _hold_unsigned_path(rt: Runtime, held: HeldCallback) -> web.Response:
    """A callback on the shared path for a sid not known yet: held when the backend of a
    recording waiting for its channel and uid signed it (at most a few HMACs)."""
    payload = held.note.payload
    for backend_key, secret in rt.waiting_backends(payload.cname, payload.uid)[
        :MAX_WAITING_BACKENDS
    ]:
        if verify(held.raw, held.signatures, secret):
            return _hold(rt, held, _named(backend_key))
    # Not signed by the backend of any recording waiting for it: nothing vouches for it.
    # The sender retries.
    return _reject("unknown_recording", 404, f"no CloudRecording has sid {_short(payload.sid)}")


def _hold(rt: Runtime, held: HeldCallback, group: str) -> web.Response:
    """Keep a verified callback for a sid no CloudRecording is known to have yet
    (module docstring); ``group`` is the backend that signed it."""
    sid = held.note.payload.sid
    expire_held(rt, time.monotonic())
    notice = held.note.dedupe_key()
    if notice in rt.notices:
        CALLBACKS_REJECTED.labels(reason="duplicate").inc()
        return web.json_response({"ok": True, "duplicate": True})
    if not rt.held.hold(sid, held, time.monotonic(), size=len(held.raw), group=group):
        return _reject(
            "held_full",
            503,
            f"too many callbacks of {group} wait for their recording (sid {_short(sid)})",
        )
    rt.seen_notice(notice)
    arrived(rt, sid)
    CALLBACKS_HELD.inc()
    log.info(
        "Holding callback eventType %s for sid %s until its CloudRecording is known",
        event_label(held.note.event_type),
        _short(sid),
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
            event_label(item.note.event_type),
            _short(item.note.payload.sid),
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
    except Exception as error:  # logged; the next scheduled pass repeats the work
        RECONCILE_ERRORS.inc()
        log.error("Applying a callback to %s/%s failed: %s", key[0], key[1], type(error).__name__)
    release_held(rt, key)


async def serve(rt: Runtime, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_app(rt), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Callback receiver listening on %s:%s%s", host, port, CALLBACK_PATH)
    return runner
