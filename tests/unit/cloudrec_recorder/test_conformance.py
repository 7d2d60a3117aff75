"""Conformance table: every endpoint, every optional field, the body shapes real clients send.

Clients leave a field unset in four ways: they omit the key, send ``null``, send ``""`` (Go's
``string`` without ``omitempty``: ``"sse": ""``, ``"uid": ""``) or send the type's zero value
(``0``, ``[]``, ``{}``). Each row says what the recorder must answer, in one of three ways:

* :data:`ABSENT`: 200, and the recorder understands the body exactly as with the key left out;
* ``Means(path, value)``: 200, and what it understood has ``value`` at ``path`` (a fallback,
  or a zero that is a real value, like ``streamTypes`` 0 = audio only);
* ``Refused(field)``: 400, code 2, the reason naming ``field`` (unknown enum values,
  out-of-range numbers, wrong types, features this recorder does not have).

"What the recorder understood" is what reached it past the HTTP layer: for ``start`` the
parsed request plus the plan the recorder makes of it (:func:`~cloudrec_recorder.startplan.
plan_start`: the media pipeline's settings, the storage target's upload parameters); for
``acquire`` the resource it keeps; for ``update``/``updateLayout`` what the recording is
given; for ``stop`` whether it waits for the upload. Requests go through the real ASGI app in
process; the recording itself is a stand-in that joins no channel (the real recorder process
answers a few of these shapes in ``tests/integration/recorder/test_client_shapes.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.models import (
    LayoutSettings,
    ServerResponse,
    StartClientRequest,
    StreamSubscribe,
)
from cloudrec_recorder.app import basic_auth_header, create_app
from cloudrec_recorder.events import RecordingEvents
from cloudrec_recorder.ports import RecordMode, StopOutcome
from cloudrec_recorder.sessions import Resource
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.startplan import StartPlan, plan_start

APP = "app1"
AUTH = {"Authorization": basic_auth_header("cust", "s3cret")}
PREFIX = f"/v1/apps/{APP}/cloud_recording"

# ------------------------------------------------------------------ expectations


@dataclass(frozen=True)
class Absent:
    """200 and understood as if the key were left out."""


@dataclass(frozen=True)
class Means:
    """200 and ``value`` at ``path`` of what was understood."""

    path: str
    value: Any


@dataclass(frozen=True)
class Refused:
    """400 / code 2 naming ``field``."""

    field: str


@dataclass(frozen=True)
class Ok:
    """200 (the baseline: the full body, or a key left out that may be)."""


ABSENT = Absent()
OK = Ok()
OMIT = object()
"""The shape "key left out"."""
Expect = Absent | Means | Refused | Ok


@dataclass(frozen=True)
class Row:
    endpoint: str
    path: str
    """Dotted path of the field in the body (list items by index)."""
    shape: Any
    expect: Expect

    @property
    def id(self) -> str:
        shape = "omitted" if self.shape is OMIT else repr(self.shape)
        return f"{self.endpoint} {self.path}={shape}"


def optional(
    endpoint: str, path: str, zero: Any, zero_means: Expect = ABSENT, omitted: Expect = OK
) -> list[Row]:
    """The four ways to leave optional field ``path`` unset: omitted, null, "" and zero."""
    unset = ABSENT if isinstance(omitted, Ok) else omitted
    rows = [
        Row(endpoint, path, OMIT, omitted),
        Row(endpoint, path, None, unset),
        Row(endpoint, path, "", unset),
    ]
    if zero != "":
        rows.append(Row(endpoint, path, zero, zero_means))
    return rows


# ------------------------------------------------------------------ base bodies


def storage_config() -> dict[str, Any]:
    return {
        "vendor": 11,
        "region": 0,
        "bucket": "bucket",
        "accessKey": "ak",
        "secretKey": "sk",
        "stsToken": "sts",
        "stsExpiration": 1_900_000_000,
        "fileNamePrefix": ["rec", "day1"],
        "extensionParams": {"sse": "aes256", "tag": "team=rtc", "endpoint": "127.0.0.1:9000"},
    }


def mix_start() -> dict[str, Any]:
    return {
        "token": "tok",
        "recordingConfig": {
            "channelType": 1,
            "streamTypes": 2,
            "decryptionMode": 0,
            "maxIdleTime": 120,
            "videoStreamType": 1,
            "audioProfile": 1,
            "transcodingConfig": {
                "width": 640,
                "height": 360,
                "fps": 30,
                "bitrate": 800,
                "maxResolutionUid": "7",
                "mixedVideoLayout": 3,
                "backgroundColor": "#102030",
                "layoutConfig": [
                    {
                        "uid": "7",
                        "x_axis": 0.1,
                        "y_axis": 0.2,
                        "width": 0.5,
                        "height": 0.5,
                        "alpha": 0.5,
                        "render_mode": 1,
                    }
                ],
            },
            "subscribeAudioUids": ["7", "8"],
            "unSubscribeVideoUids": ["9"],
        },
        "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
        "storageConfig": storage_config(),
        "appsCollection": {"combinationPolicy": "default"},
    }


def individual_start() -> dict[str, Any]:
    return {
        "recordingConfig": {
            "channelType": 0,
            "streamTypes": 2,
            "streamMode": "standard",
            "subscribeUidGroup": 1,
            "subscribeVideoUids": ["#allstream#"],
            "unSubscribeAudioUids": ["9"],
        },
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": storage_config(),
    }


def layout() -> dict[str, Any]:
    return {
        "maxResolutionUid": "7",
        "mixedVideoLayout": 3,
        "backgroundColor": "#FF0000",
        "layoutConfig": [
            {"uid": "7", "x_axis": 0, "y_axis": 0, "width": 1, "height": 1, "render_mode": 1}
        ],
    }


def update() -> dict[str, Any]:
    return {
        "streamSubscribe": {
            "audioUidList": {"subscribeAudioUids": ["7"]},
            "videoUidList": {"unSubscribeVideoUids": ["8"]},
        }
    }


def acquire() -> dict[str, Any]:
    start = mix_start()
    del start["storageConfig"]
    return {
        "scene": 0,
        "resourceExpiredHour": 24,
        "startParameter": start,
        "excludeResourceIds": ["other"],
        "region": "EU",
        "regionAffinity": 3,
    }


BASE = {
    "acquire": acquire,
    "start mix": mix_start,
    "start individual": individual_start,
    "start web": mix_start,
    "update": update,
    "updateLayout": layout,
    "stop": lambda: {"async_stop": True},
}
"""Each endpoint's clientRequest with every optional field set (to a value not its default)."""

M = "start mix"
SNAP = {"fileType": ["jpg"]}
IND = "start individual"
RC = "recordingConfig"
TC = "recordingConfig.transcodingConfig"
REGION = "recordingConfig.transcodingConfig.layoutConfig.0"
SC = "storageConfig"
EP = "storageConfig.extensionParams"

# ------------------------------------------------------------------ the table

TABLE: list[Row] = [
    # acquire
    *optional("acquire", "", {}),
    *optional("acquire", "scene", 0),
    *optional("acquire", "resourceExpiredHour", 0, Refused("resourceExpiredHour")),
    *optional("acquire", "startParameter", {}, Means("startParameter", {})),
    *optional(
        "acquire",
        "startParameter.recordingConfig",
        {},
        Means("startParameter.recordingConfig.maxIdleTime", 30),
    ),
    *optional("acquire", "startParameter.storageConfig", {}, Refused("storageConfig.vendor")),
    *optional("acquire", "excludeResourceIds", []),
    *optional("acquire", "region", ""),
    *optional("acquire", "regionAffinity", 0),
    Row("acquire", "resourceExpiredHour", "48", Means("expiredHour", 48)),
    Row("acquire", "resourceExpiredHour", 721, Refused("resourceExpiredHour")),
    Row("acquire", "resourceExpiredHour", "a day", Refused("resourceExpiredHour")),
    Row("acquire", "scene", 2, Refused("scene")),
    Row("acquire", "region", "MARS", Refused("region")),
    Row("acquire", "regionAffinity", 9, Refused("regionAffinity")),
    # start, mix mode
    *optional(M, "token", ""),
    *optional(M, RC, {}, Means("media.fps", 15), omitted=Refused("recordingConfig")),
    *optional(M, f"{RC}.channelType", 0),
    *optional(M, f"{RC}.streamTypes", 0, Refused("video uid lists need streamTypes 1 or 2")),
    *optional(M, f"{RC}.decryptionMode", 0),
    *optional(M, f"{RC}.secret", ""),
    *optional(M, f"{RC}.salt", ""),
    *optional(M, f"{RC}.maxIdleTime", 0),
    *optional(M, f"{RC}.videoStreamType", 0),
    *optional(M, f"{RC}.audioProfile", 0, Means("media.audio_profile", 0)),
    *optional(M, f"{RC}.streamMode", ""),
    *optional(
        M, f"{RC}.subscribeAudioUids", [], Means("request.recordingConfig.subscribeAudioUids", [])
    ),
    *optional(M, f"{RC}.unSubscribeAudioUids", [], Refused("mutually exclusive")),
    *optional(M, f"{RC}.subscribeVideoUids", [], Refused("mutually exclusive")),
    *optional(
        M,
        f"{RC}.unSubscribeVideoUids",
        [],
        Means("request.recordingConfig.unSubscribeVideoUids", []),
    ),
    *optional(M, f"{RC}.subscribeUidGroup", 0, Means(f"request.{RC}.subscribeUidGroup", 0)),
    *optional(M, TC, {}, Means("media.width", 360)),
    *optional(M, f"{TC}.width", 0, Refused("width")),
    *optional(M, f"{TC}.height", 0, Refused("height")),
    *optional(M, f"{TC}.fps", 0, Means("media.fps", 15)),
    *optional(M, f"{TC}.bitrate", 0, Refused("bitrate")),
    *optional(M, f"{TC}.maxResolutionUid", ""),
    *optional(M, f"{TC}.mixedVideoLayout", 0),
    *optional(M, f"{TC}.backgroundColor", ""),
    *optional(
        M, f"{TC}.layoutConfig", [], Refused("layoutConfig"), omitted=Refused("layoutConfig")
    ),
    *optional(M, f"{TC}.backgroundImage", ""),
    *optional(M, f"{TC}.defaultUserBackgroundImage", ""),
    *optional(M, f"{TC}.backgroundConfig", [], Means(f"request.{TC}.backgroundConfig", [])),
    # a recorder that allows no picture hosts (the default) refuses every picture by name
    Row(M, f"{TC}.backgroundImage", "https://img.example.com/a.jpg", Refused("backgroundImage")),
    Row(
        M,
        f"{TC}.backgroundConfig",
        [{"uid": "7", "image_url": "https://img.example.com/7.png"}],
        Refused("backgroundConfig[0].image_url: background images are not allowed"),
    ),
    *optional(M, f"{REGION}.uid", ""),
    *optional(M, f"{REGION}.alpha", 0, Means("media.regions.0.alpha", 0)),
    *optional(M, f"{REGION}.render_mode", 0),
    *optional(
        M,
        "recordingFileConfig",
        {},
        Means("media.mp4", False),
        omitted=Refused("recordingFileConfig"),
    ),
    *optional(M, "recordingFileConfig.avFileType", [], Refused("avFileType")),
    *optional(M, f"{SC}.stsToken", ""),
    *optional(M, f"{SC}.stsExpiration", 0, Means("request.storageConfig.stsExpiration", 0)),
    *optional(M, f"{SC}.fileNamePrefix", [], Means("target.prefix", [])),
    *optional(
        M, EP, {}, Refused("extensionParams.endpoint"), omitted=Refused("extensionParams.endpoint")
    ),
    *optional(M, f"{EP}.sse", ""),
    *optional(M, f"{EP}.tag", ""),
    *optional(M, f"{EP}.endpoint", "", omitted=Refused("extensionParams.endpoint")),
    *optional(M, "snapshotConfig", {}, Refused("snapshotConfig")),
    *optional(M, "extensionServiceConfig", {}, Means("request.extensionServiceConfig", {})),
    *optional(M, "appsCollection", {}, Means("request.appsCollection.combinationPolicy", None)),
    *optional(M, "appsCollection.combinationPolicy", ""),
    *optional(M, "transcodeOptions", {}, Means("request.transcodeOptions", {})),
    # the documented fallbacks, numbers as strings, and where the recorder stays strict
    Row(M, f"{TC}.fps", 25, Means("media.fps", 15)),
    Row(M, f"{TC}.fps", "24", Means("media.fps", 24)),
    Row(M, f"{TC}.width", "320", Means("media.width", 320)),
    Row(M, f"{RC}.maxIdleTime", "40", Means("request.recordingConfig.maxIdleTime", 40)),
    Row(M, f"{RC}.channelType", "0", Means(f"request.{RC}.channelType", 0)),
    Row(M, f"{EP}.sse", "kms", Means("upload.ServerSideEncryption", "aws:kms")),
    Row(M, f"{EP}.tag", "a=1&b=two", Means("upload.Tagging", "a=1&b=two")),
    Row(M, f"{EP}.tag", "archive", Means("upload.Tagging", "archive=")),
    Row(M, f"{EP}.sse", "AES", Refused("sse")),
    Row(M, f"{EP}.tag", "&".join(f"k{n}=v" for n in range(11)), Refused("extensionParams.tag")),
    Row(M, f"{RC}.streamTypes", 3, Refused("streamTypes")),
    Row(M, f"{RC}.channelType", "live", Refused("channelType")),
    Row(M, f"{RC}.maxIdleTime", 4, Refused("maxIdleTime")),
    Row(M, f"{RC}.maxIdleTime", 2_592_001, Refused("maxIdleTime")),
    Row(M, f"{RC}.decryptionMode", 1, Refused("secret")),
    Row(M, f"{RC}.streamMode", "standard", Refused("streamMode")),
    Row(M, f"{TC}.bitrate", 6501, Refused("bitrate")),
    Row(M, f"{TC}.mixedVideoLayout", 4, Refused("mixedVideoLayout")),
    Row(M, f"{TC}.backgroundColor", "red", Refused("backgroundColor")),
    Row(M, f"{REGION}.uid", 7, Refused("uid")),
    Row(M, f"{REGION}.x_axis", 1.5, Refused("x_axis")),
    Row(M, "token", 12345, Refused("token")),
    Row(M, "recordingFileConfig.avFileType", ["mp4"], Refused("avFileType")),
    Row(M, f"{SC}.vendor", 5, Refused("vendor 5")),
    Row(M, f"{SC}.vendor", 12, Refused("vendor")),
    Row(M, f"{SC}.bucket", "", Refused("bucket")),
    Row(M, SC, OMIT, Refused("storageConfig")),
    Row(
        M,
        "extensionServiceConfig",
        {"errorHandlePolicy": "error_abort"},
        Refused("extensionServiceConfig"),
    ),
    Row(
        M, "appsCollection.combinationPolicy", "postpone_transcoding", Refused("combinationPolicy")
    ),
    Row(M, "transcodeOptions", {"container": {"format": "mp4"}}, Refused("transcodeOptions")),
    # web page recording is not this recorder's: the mode itself is refused by name
    Row(
        "start web",
        "extensionServiceConfig",
        {"errorHandlePolicy": "error_abort", "extensionServices": []},
        Refused("mode: this recorder records individual and mix; web page recording"),
    ),
    # start, individual mode
    *optional(IND, f"{RC}.streamMode", "", zero_means=ABSENT),
    *optional(IND, f"{RC}.subscribeUidGroup", 0, Means(f"request.{RC}.subscribeUidGroup", 0)),
    *optional(IND, f"{RC}.subscribeVideoUids", [], Means(f"request.{RC}.subscribeVideoUids", [])),
    *optional(
        IND,
        f"{RC}.unSubscribeAudioUids",
        [],
        Means("request.recordingConfig.unSubscribeAudioUids", []),
    ),
    *optional(IND, "recordingFileConfig.avFileType", [], Refused("avFileType")),
    Row(IND, f"{RC}.streamMode", "default", Means("media.stream_mode", "default")),
    Row(IND, f"{RC}.streamMode", "standard", Means("media.stream_mode", "standard")),
    Row(IND, f"{RC}.streamMode", "original", Refused("streamMode 'original' needs streamTypes 0")),
    Row(
        IND,
        RC,
        {"streamTypes": 0, "streamMode": "original", "subscribeUidGroup": 0},
        Means("media.stream_mode", "original"),
    ),
    Row(IND, RC, {"streamTypes": 0, "streamMode": "standard"}, Means("media.stream_types", 0)),
    Row(IND, f"{RC}.streamMode", "raw", Refused("streamMode")),
    Row(IND, f"{RC}.subscribeUidGroup", "2", Means("request.recordingConfig.subscribeUidGroup", 2)),
    Row(IND, f"{RC}.subscribeUidGroup", 6, Refused("subscribeUidGroup")),
    *optional(IND, "snapshotConfig", {}, Refused("snapshotConfig.fileType")),
    Row(IND, "snapshotConfig.fileType", ["png"], Refused("fileType")),
    # snapshots (§3.2.4): both documented interval ranges, only with video
    Row(IND, "snapshotConfig", {"fileType": ["jpg"]}, Means("snapshots.interval_seconds", 10)),
    Row(
        IND,
        "snapshotConfig",
        SNAP | {"captureInterval": "1"},
        Means("snapshots.interval_seconds", 1),
    ),
    Row(IND, "snapshotConfig", SNAP | {"captureInterval": 3601}, Refused("captureInterval")),
    Row(IND, "snapshotConfig", SNAP | {"captureInterval": 0}, Refused("captureInterval")),
    Row(IND, TC, {}, Refused("transcodingConfig")),
    Row(IND, "recordingFileConfig.avFileType", ["hls", "mp4"], Refused("mp4")),
    # update
    *optional("update", "streamSubscribe", {}, Means("subscribe", {})),
    *optional("update", "streamSubscribe.audioUidList", {}, Means("subscribe.audioUidList", {})),
    *optional(
        "update",
        "streamSubscribe.audioUidList.subscribeAudioUids",
        [],
        Means("subscribe.audioUidList.subscribeAudioUids", []),
    ),
    *optional(
        "update",
        "streamSubscribe.videoUidList.unSubscribeVideoUids",
        [],
        Means("subscribe.videoUidList.unSubscribeVideoUids", []),
    ),
    *optional("update", "storageConfig", {}, Refused("storageConfig.vendor")),
    Row("update", "storageConfig", storage_config(), Refused("no stsToken refresh")),
    *optional("update", "webRecordingConfig", {}),
    Row("update", "webRecordingConfig", {"onhold": True}, Refused("webRecordingConfig")),
    # onhold: our extension (docs/backends.md), pause and resume
    *optional("update", "onhold", False, Means("onhold", False)),
    Row("update", "onhold", True, Means("onhold", True)),
    Row("update", "onhold", "later", Refused("onhold")),
    *optional("update", "rtmpPublishConfig", {}),
    Row(
        "update",
        "rtmpPublishConfig",
        {"outputs": [{"rtmpUrl": "rtmp://x/y"}]},
        Refused("rtmpPublishConfig"),
    ),
    Row(
        "update",
        "streamSubscribe.audioUidList.unsubscribeAudioUids",
        ["7"],
        Refused("mutually exclusive"),
    ),
    Row(
        "update",
        "streamSubscribe.videoUidList.subscribeVideoUids",
        ["0"],
        Refused("subscribeVideoUids"),
    ),
    # updateLayout (every call replaces the whole layout)
    *optional(
        "updateLayout",
        "",
        {},
        Means("layout.mixedVideoLayout", 0),
        omitted=Means("layout.mixedVideoLayout", 0),
    ),
    *optional("updateLayout", "maxResolutionUid", ""),
    *optional("updateLayout", "mixedVideoLayout", 0, Means("layout.mixedVideoLayout", 0)),
    *optional("updateLayout", "backgroundColor", ""),
    *optional(
        "updateLayout", "layoutConfig", [], Refused("layoutConfig"), omitted=Refused("layoutConfig")
    ),
    *optional("updateLayout", "backgroundImage", ""),
    *optional("updateLayout", "defaultUserBackgroundImage", ""),
    *optional("updateLayout", "backgroundConfig", [], Means("layout.backgroundConfig", [])),
    *optional("updateLayout", "layoutConfig.0.uid", ""),
    *optional("updateLayout", "layoutConfig.0.alpha", 0, Means("layout.layoutConfig.0.alpha", 0)),
    *optional("updateLayout", "layoutConfig.0.render_mode", 0),
    Row("updateLayout", "layoutConfig.0.width", "0.5", Means("layout.layoutConfig.0.width", 0.5)),
    Row("updateLayout", "layoutConfig.0.render_mode", 2, Refused("render_mode")),
    Row("updateLayout", "layoutConfig.0.x_axis", OMIT, Refused("x_axis")),
    # stop
    *optional("stop", "", {}, Means("waitUpload", True), omitted=Means("waitUpload", True)),
    *optional(
        "stop", "async_stop", False, Means("waitUpload", True), omitted=Means("waitUpload", True)
    ),
    Row("stop", "async_stop", "true", Means("waitUpload", False)),
    Row("stop", "async_stop", "soon", Refused("async_stop")),
]


# ------------------------------------------------------------------ the recorder in process


@dataclass
class StandIn:
    """A recording that joins nothing: it keeps what the app hands it."""

    plan: StartPlan
    request: StartClientRequest
    subscribe: StreamSubscribe | None = None
    layout: LayoutSettings | None = None
    onhold: bool | None = None
    wait_upload: bool | None = None
    calls: list[str] = field(default_factory=list)

    def status(self) -> int:
        return RecordingStatus.READY

    async def start(self) -> None:
        self.calls.append("start")

    async def update(self, subscribe: StreamSubscribe) -> None:
        self.subscribe = subscribe

    async def update_layout(self, layout: LayoutSettings) -> None:
        self.layout = layout

    async def hold(self, onhold: bool) -> None:
        self.onhold = onhold

    async def stop(self, *, wait_upload: bool, wait_seconds: float) -> StopOutcome:
        self.wait_upload = wait_upload
        return StopOutcome(ServerResponse(uploading_status="uploaded"), had_media=True)

    def server_response(self) -> ServerResponse:
        return ServerResponse(status=RecordingStatus.READY)

    def media_lag(self) -> float:
        return 0.0


SETTINGS = RecorderSettings.model_validate(
    {
        "customerId": "cust",
        "customerSecret": "s3cret",
        "apps": {APP: {"janus": {"wsUrl": "ws://127.0.0.1:1/"}}},
        "maxConcurrentRecordings": 100_000,
    }
)


_UIDS = itertools.count(1000)
"""Recorder uids, one per recording of the whole table."""


@dataclass
class Recorder:
    client: httpx.AsyncClient
    app: Any
    recordings: list[StandIn] = field(default_factory=list)

    def factory(
        self,
        *,
        appid: str,
        resource: Resource,
        sid: str,
        mode: RecordMode,
        request: StartClientRequest,
        events: RecordingEvents,
        on_exit: Any,
    ) -> StandIn:
        plan = plan_start(
            SETTINGS,
            appid=appid,
            resource=resource,
            individual=mode == RecordMode.INDIVIDUAL,
            request=request,
        )
        recording = StandIn(plan, request)
        self.recordings.append(recording)
        return recording

    uids: itertools.count[int] = field(default_factory=lambda: _UIDS)

    async def post(self, path: str, client_request: Any, uid: str = "42") -> httpx.Response:
        body: dict[str, Any] = {"cname": "room", "uid": uid}
        if client_request is not OMIT:
            body["clientRequest"] = client_request
        return await self.client.post(f"{PREFIX}/{path}", json=body, headers=AUTH)

    async def start(self, mode: str, client_request: Any) -> tuple[httpx.Response, str, str]:
        """acquire + start as a new uid (one recording per uid): (answer, rid, uid)."""
        uid = str(next(self.uids))
        acquired = await self.post("acquire", {}, uid)
        rid = acquired.json()["resourceId"]
        response = await self.post(f"resourceid/{rid}/mode/{mode}/start", client_request, uid)
        return response, rid, uid


_CURRENT: list[Recorder] = []
RECORDER_APP = create_app(SETTINGS, lambda **kw: _CURRENT[-1].factory(**kw))
"""One app for the whole table (each row records as uids of its own, so rows never meet)."""


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    transport = httpx.ASGITransport(app=RECORDER_APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://recorder") as client:
        _CURRENT.append(Recorder(client, RECORDER_APP))
        try:
            yield _CURRENT[-1]
        finally:
            _CURRENT.clear()


# ------------------------------------------------------------------ reading what was understood


def _shaped(base: dict[str, Any], path: str, shape: Any) -> Any:
    """``base`` with the field at ``path`` set to ``shape`` (or removed for OMIT)."""
    if not path:
        return shape
    body = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if shape is OMIT:
        node.pop(last, None)
    else:
        node[last] = shape
    return body


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and not isinstance(value, int | str):
        return value.value
    return value


async def _understood(
    recorder: Recorder, endpoint: str, client_request: Any
) -> httpx.Response | dict[str, Any]:
    """Send ``client_request`` to ``endpoint``: the answer, or (200) what the recorder kept."""
    if endpoint == "acquire":
        response = await recorder.post("acquire", client_request)
        if response.status_code != 200:
            return response
        resource = recorder.app.state.recorder.registry.resource(response.json()["resourceId"])
        return {"expiredHour": resource.expired_hour, "startParameter": resource.start_parameter}
    if endpoint.startswith("start"):
        response, _, _ = await recorder.start(endpoint.split()[1], client_request)
        if response.status_code != 200:
            return response
        recording = recorder.recordings[-1]
        plan = recording.plan
        return {
            "request": recording.request.model_dump(mode="json", by_alias=True),
            "media": _plain(plan.media),
            "target": _plain(
                dataclasses.replace(plan.target, access_key="", secret_key="", session_token=None)
            ),  # type: ignore[arg-type]
            "upload": plan.target.object_params(),
            "mp4": plan.mp4,
            "snapshots": _plain(plan.snapshots) if plan.snapshots else None,
        }
    started, rid, uid = await recorder.start("mix", mix_start())
    assert started.status_code == 200, started.text
    recording = recorder.recordings[-1]
    sid = started.json()["sid"]
    path = f"resourceid/{rid}/sid/{sid}/mode/mix/{endpoint}"
    response = await recorder.post(path, client_request, uid)
    if response.status_code != 200:
        return response
    if endpoint == "update":
        subscribe = recording.subscribe
        return {
            "subscribe": subscribe.model_dump(mode="json", by_alias=True, exclude_none=True)
            if subscribe
            else {},
            "onhold": recording.onhold,
        }
    if endpoint == "updateLayout":
        assert recording.layout is not None
        return {"layout": recording.layout.model_dump(mode="json", by_alias=True)}
    return {"waitUpload": recording.wait_upload}


def _at(understood: dict[str, Any], path: str) -> Any:
    node: Any = understood
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@pytest.mark.parametrize("row", TABLE, ids=[row.id for row in TABLE])
async def test_each_body_shape_a_client_sends_gets_its_documented_answer(
    recorder: Recorder, row: Row
) -> None:
    base = BASE[row.endpoint]()
    got = await _understood(recorder, row.endpoint, _shaped(base, row.path, row.shape))
    if isinstance(row.expect, Refused):
        assert isinstance(got, httpx.Response), f"accepted: {got}"
        assert got.status_code == 400, got.text
        assert got.json()["code"] == 2, got.text
        assert row.expect.field in got.json()["reason"], got.text
        return
    assert not isinstance(got, httpx.Response), got.text
    if isinstance(row.expect, Means):
        assert _at(got, row.expect.path) == row.expect.value
    elif isinstance(row.expect, Absent):
        left_out = await _understood(recorder, row.endpoint, _shaped(base, row.path, OMIT))
        assert got == left_out
