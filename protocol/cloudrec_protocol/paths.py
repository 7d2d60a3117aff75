"""URL paths of the cloud recording REST protocol (protocol.md §1, §3).

The `*_TEMPLATE` constants use `{appid}`, `{resourceid}`, `{sid}` and `{mode}` placeholders, the
form ASGI routers (FastAPI, Starlette) take; the functions fill them in with each value
percent-encoded as one path segment.
"""

from __future__ import annotations

from urllib.parse import quote

from cloudrec_protocol.enums import Mode

__all__ = [
    "ACQUIRE_TEMPLATE",
    "CAPACITY_TEMPLATE",
    "NCS_IP_PATH",
    "PREFIX_TEMPLATE",
    "QUERY_TEMPLATE",
    "START_TEMPLATE",
    "STOP_TEMPLATE",
    "UPDATE_LAYOUT_TEMPLATE",
    "UPDATE_TEMPLATE",
    "acquire_path",
    "capacity_path",
    "query_path",
    "start_path",
    "stop_path",
    "update_layout_path",
    "update_path",
]

PREFIX_TEMPLATE = "/v1/apps/{appid}/cloud_recording"
ACQUIRE_TEMPLATE = PREFIX_TEMPLATE + "/acquire"
START_TEMPLATE = PREFIX_TEMPLATE + "/resourceid/{resourceid}/mode/{mode}/start"
_SESSION_TEMPLATE = PREFIX_TEMPLATE + "/resourceid/{resourceid}/sid/{sid}/mode/{mode}"
QUERY_TEMPLATE = _SESSION_TEMPLATE + "/query"
UPDATE_TEMPLATE = _SESSION_TEMPLATE + "/update"
STOP_TEMPLATE = _SESSION_TEMPLATE + "/stop"
UPDATE_LAYOUT_TEMPLATE = (
    PREFIX_TEMPLATE + "/resourceid/{resourceid}/sid/{sid}/mode/mix/updateLayout"
)
NCS_IP_PATH = "/v1/ncs/ip"
CAPACITY_TEMPLATE = PREFIX_TEMPLATE + "/capacity"
"""Our extension (docs/backends.md): how many more recordings the self-hosted recorder takes."""


def _segment(value: str) -> str:
    if not value:
        raise ValueError("path segments must not be empty")
    return quote(value, safe="")


def _mode(mode: Mode | str) -> str:
    return Mode(mode).value


def acquire_path(appid: str) -> str:
    """`POST` path of acquire."""
    return ACQUIRE_TEMPLATE.format(appid=_segment(appid))


def start_path(appid: str, resource_id: str, mode: Mode | str) -> str:
    """`POST` path of start."""
    return START_TEMPLATE.format(
        appid=_segment(appid), resourceid=_segment(resource_id), mode=_mode(mode)
    )


def _session_path(template: str, appid: str, resource_id: str, sid: str, mode: Mode | str) -> str:
    return template.format(
        appid=_segment(appid),
        resourceid=_segment(resource_id),
        sid=_segment(sid),
        mode=_mode(mode),
    )


def query_path(appid: str, resource_id: str, sid: str, mode: Mode | str) -> str:
    """`GET` path of query."""
    return _session_path(QUERY_TEMPLATE, appid, resource_id, sid, mode)


def update_path(appid: str, resource_id: str, sid: str, mode: Mode | str) -> str:
    """`POST` path of update."""
    return _session_path(UPDATE_TEMPLATE, appid, resource_id, sid, mode)


def stop_path(appid: str, resource_id: str, sid: str, mode: Mode | str) -> str:
    """`POST` path of stop."""
    return _session_path(STOP_TEMPLATE, appid, resource_id, sid, mode)


def update_layout_path(appid: str, resource_id: str, sid: str) -> str:
    """`POST` path of updateLayout (mix mode only)."""
    return UPDATE_LAYOUT_TEMPLATE.format(
        appid=_segment(appid), resourceid=_segment(resource_id), sid=_segment(sid)
    )


def capacity_path(appid: str) -> str:
    """`GET` path of capacity (our extension; the hosted service has no such call)."""
    return CAPACITY_TEMPLATE.format(appid=_segment(appid))
