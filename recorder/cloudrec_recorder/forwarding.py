"""Forwarding between recorder replicas (architecture.md, "Scale").

Any replica accepts ``acquire``; the resource id names the replica that owns the recording
(:func:`cloudrec_recorder.sessions.replica_of`). A ``start``, ``query``, ``update``,
``updateLayout`` or ``stop`` whose resource id names another replica is passed on to that
replica unchanged (method, path, query, body, ``Authorization``) and its answer is returned
as is. A forwarded request carries ``X-Cloudrec-Forwarded-By`` and is never forwarded again.
When the owner cannot be reached the answer is the protocol's 404 / ``failed to find worker``
(the owner is gone; the operator's restart policy takes over).

Only requests that :class:`~cloudrec_recorder.edge.Edge` admitted get here: authenticated for
the path's app id, with a body under ``maxRequestBodyBytes``. The owner checks the forwarded
``Authorization`` again.
"""

from __future__ import annotations

import logging
import re

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cloudrec_recorder import errors
from cloudrec_recorder.sessions import replica_of
from cloudrec_recorder.settings import RecorderSettings

log = logging.getLogger(__name__)

FORWARDED_HEADER = "X-Cloudrec-Forwarded-By"
_APP_PATH = re.compile(r"^/v1/apps/([^/]+)/")
_RESOURCE_PATH = re.compile(r"^/v1/apps/[^/]+/cloud_recording/resourceid/([^/]+)/")
_SID_PATH = re.compile(r"^/v1/apps/[^/]+/cloud_recording/resourceid/[^/]+/sid/([^/]+)/")
_PASSED_HEADERS = ("authorization", "content-type", "accept")


def owner_of(path: str) -> str | None:
    """The replica named by the resource id in ``path``, if the path has one of ours."""
    match = _RESOURCE_PATH.match(path)
    return replica_of(match.group(1)) if match else None


def appid_of(path: str) -> str | None:
    """The app id in ``path``, if it is one of the protocol's ``/v1/apps/{appid}/...``."""
    match = _APP_PATH.match(path)
    return match.group(1) if match else None


def sid_of(path: str) -> str | None:
    """The sid in ``path``, if it names one (query, update, updateLayout, stop)."""
    match = _SID_PATH.match(path)
    return match.group(1) if match else None


def forward_target(settings: RecorderSettings, path: str, forwarded: bool) -> str | None:
    """The base URL to forward this request to, or None to handle it here (pure; without
    hand-overs: :func:`cloudrec_recorder.handover.route` decides with them)."""
    if forwarded:
        return None
    owner = owner_of(path)
    if owner is None or owner == settings.replica_id:
        return None
    return settings.peer_url(owner)


async def forward(
    client: httpx.AsyncClient, settings: RecorderSettings, request: Request, base_url: str
) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() in _PASSED_HEADERS}
    headers[FORWARDED_HEADER] = settings.replica_id
    url = base_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        answer = await client.request(
            request.method,
            url,
            content=await request.body(),
            headers=headers,
            timeout=settings.sync_stop_timeout_seconds + 15.0,
        )
    except httpx.HTTPError as exc:
        log.warning("Forwarding failed owner=%s error=%s", base_url, type(exc).__name__)
        gone = errors.not_found()
        return JSONResponse({"code": gone.code, "reason": gone.reason}, status_code=gone.status)
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type"),
    )
