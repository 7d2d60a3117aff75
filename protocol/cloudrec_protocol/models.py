"""Pydantic wire models of the cloud recording REST protocol (protocol.md §2-§6).

Python attributes are snake_case; the JSON keys are exactly those of protocol.md (camelCase,
plus the snake_case keys the protocol itself uses: `x_axis`, `render_mode`, `image_url`,
`async_stop`). Both the Python names and the JSON keys are accepted on input; dumps use the
JSON keys.

Input is parsed leniently where protocol.md says so (numbers given as strings, `"true"` for
booleans, both spellings of the block-lists `unSubscribe…`/`unsubscribe…`, `fileName` and
`filename`, `region` and `regionAffinity`); output always uses the canonical spelling
(`unSubscribe…`, `fileName`).

What real clients send for a field they leave unset means "absent": on every optional field
(one with a default), JSON `null` and the empty string `""` are the same as leaving the key out
(`WireModel` drops them before validation), so `"sse": ""`, `"uid": ""` in a layout region or
`"avFileType": null` get the field's default. The documented fallbacks apply too:
`transcodingConfig.fps` outside the listed values is 15, `maxIdleTime` 0 is the default 30
(the SDK's "0 means default"), and acquire's `startParameter` may leave out `storageConfig`.
Required fields stay required (`""` or `null` there is refused naming the field), and unknown
enum values, out-of-range numbers and wrong types are refused as before.

Secrets (`token`, `secret`, `salt`, `accessKey`, `secretKey`, `stsToken`) are
`pydantic.SecretStr`: repr, str, `model_dump()` and validation errors never show them. Only
`WireModel.to_wire()` (and `to_wire_json()`) put the real values into the JSON sent on the
wire. Validation errors never echo the input (`hide_input_in_errors`), so a rejected request
body cannot leak a key into an exception.

Extension (not in protocol.md): `storageConfig.extensionParams.endpoint` may be a full URL
with a scheme and port (`http://127.0.0.1:7070`) as well as the documented bare host name; a
bare host means HTTPS. It is required for vendor 11 (S3-compatible); the self-hosted recorder
also honours it for vendor 1 (Amazon S3) as an endpoint override. See
`StorageConfig.endpoint_url()`.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    field_validator,
    model_validator,
)

from cloudrec_protocol.canvas import MAX_CANVAS_PIXELS, MAX_CANVAS_WIDTH
from cloudrec_protocol.enums import (
    AudioProfile,
    ChannelType,
    DecryptionMode,
    Mode,
    RenderMode,
    Scene,
    StorageVendor,
    StreamMode,
    StreamTypes,
    SubscribeUidGroup,
    VideoLayout,
    VideoStreamType,
)

__all__ = [
    "ALL_STREAMS",
    "MAX_CANVAS_PIXELS",
    "MAX_LAYOUT_REGIONS",
    "MAX_UIDS_PER_LIST",
    "REVEAL_SECRETS",
    "SUPPORTED_FPS",
    "AcquireClientRequest",
    "AcquireRequest",
    "AcquireResponse",
    "AppsCollection",
    "AudioUidList",
    "BackgroundConfig",
    "CapacityResponse",
    "Cname",
    "ErrorBody",
    "ExtensionParams",
    "FileInfo",
    "GatewayErrorBody",
    "LayoutRegion",
    "LayoutSettings",
    "QueryResponse",
    "RecordingConfig",
    "RecordingFileConfig",
    "ServerResponse",
    "SnapshotConfig",
    "StartClientRequest",
    "StartParameter",
    "StartRequest",
    "StartResponse",
    "StopClientRequest",
    "StopRequest",
    "StopResponse",
    "StorageConfig",
    "StreamSubscribe",
    "TranscodingConfig",
    "Uid",
    "UpdateClientRequest",
    "UpdateLayoutClientRequest",
    "UpdateLayoutRequest",
    "UpdateLayoutResponse",
    "UpdateRequest",
    "UpdateResponse",
    "VideoUidList",
    "WireModel",
    "WireSecret",
    "absent_keys",
    "check_start_for_mode",
    "is_valid_cname",
    "is_valid_uid",
]

REVEAL_SECRETS = "reveal_secrets"
"""Serialization context key: when true, `WireSecret` fields dump their real value."""

ALL_STREAMS = "#allstream#"
"""The subscribe-list entry meaning "every user in the channel"."""

MAX_UIDS_PER_LIST = 32
MAX_LAYOUT_REGIONS = 17
MAX_BITRATE_KBPS = 6500
SUPPORTED_FPS = frozenset({1, 7, 10, 15, 24, 30, 60})
DEFAULT_FPS = 15
"""What any other `fps` falls back to (protocol.md §3.2.2)."""
DEFAULT_MAX_IDLE_TIME = 30
MAX_UID = 2**32 - 1
MAX_CNAME_BYTES = 63
MAX_FILE_NAME_PREFIX_CHARS = 128
MIN_CAPTURE_INTERVAL = 1
MAX_CAPTURE_INTERVAL = 3600

_CNAME_RE = re.compile(r"[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}~,|]+")
_UID_RE = re.compile(r"[1-9][0-9]{0,9}")
_COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")
_PREFIX_SEGMENT_RE = re.compile(r"[a-zA-Z0-9]+")


# ------------------------------------------------------------------ scalar types


def _serialize_secret(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context
    if isinstance(context, dict) and context.get(REVEAL_SECRETS):
        return value.get_secret_value()
    return str(value)


WireSecret = Annotated[SecretStr, PlainSerializer(_serialize_secret, return_type=str)]
"""A secret string: masked everywhere except in `WireModel.to_wire()`."""


def is_valid_uid(value: str) -> bool:
    """True for the string form of an integer in 1 … 2³²−1 (protocol.md §2)."""
    return _UID_RE.fullmatch(value) is not None and int(value) <= MAX_UID


def is_valid_cname(value: str) -> bool:
    """True for an RTC channel name: < 64 bytes from the protocol's 89-character set (§2)."""
    return _CNAME_RE.fullmatch(value) is not None and len(value.encode("utf-8")) <= MAX_CNAME_BYTES


def _check_uid(value: str) -> str:
    if not is_valid_uid(value):
        raise ValueError("uid must be the string of an integer in 1..4294967295")
    return value


def _check_cname(value: str) -> str:
    if not is_valid_cname(value):
        raise ValueError(
            "cname must be 1..63 bytes of a-z A-Z 0-9, space and ! # $ % & ( ) + - : ; < = . > ? @"
            " [ ] ^ _ { } ~ , |"
        )
    return value


def _check_subscribe_entry(value: str) -> str:
    if value != ALL_STREAMS and not is_valid_uid(value):
        raise ValueError(f"uid list entries must be uids or {ALL_STREAMS!r}")
    return value


def _check_color(value: str) -> str:
    if _COLOR_RE.fullmatch(value) is None:
        raise ValueError("colour must be #RRGGBB")
    return value


Uid = Annotated[str, AfterValidator(_check_uid)]
"""A recording uid: the string of an integer in 1 … 2³²−1 (never `"0"`, never a number)."""

Cname = Annotated[str, AfterValidator(_check_cname)]
"""An RTC channel name (§2)."""

UidList = Annotated[
    list[Annotated[str, AfterValidator(_check_subscribe_entry)]],
    Field(max_length=MAX_UIDS_PER_LIST),
]
Color = Annotated[str, AfterValidator(_check_color)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
FileType = Literal["hls", "mp4"]


def _unsubscribe(kind: str) -> Any:
    """A block-list field: accepts `unSubscribe…` and `unsubscribe…`; dumps `unSubscribe…`."""
    return Field(
        default=None,
        validation_alias=AliasChoices(f"unSubscribe{kind}Uids", f"unsubscribe{kind}Uids"),
        serialization_alias=f"unSubscribe{kind}Uids",
    )


# ------------------------------------------------------------------ base


def _to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_ABSENT_KEYS: dict[type[BaseModel], frozenset[str]] = {}


def absent_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every input key of `model`'s optional fields (Python name, alias, alias choices)."""
    known = _ABSENT_KEYS.get(model)
    if known is None:
        keys: set[str] = set()
        for name, info in model.model_fields.items():
            if info.is_required():
                continue
            keys.add(name)
            if info.alias:
                keys.add(info.alias)
            choices = info.validation_alias
            if isinstance(choices, str):
                keys.add(choices)
            elif isinstance(choices, AliasChoices):
                keys.update(c for c in choices.choices if isinstance(c, str))
        known = _ABSENT_KEYS[model] = frozenset(keys)
    return known


class WireModel(BaseModel):
    """Base of every wire model: camelCase JSON keys, lenient input, secrets hidden."""

    model_config = ConfigDict(
        alias_generator=_to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        hide_input_in_errors=True,
        extra="ignore",
    )

    UNSET_MEANS_ABSENT: ClassVar[bool] = True
    """Drop `null` and `""` of optional fields on input (off for answers that keep `""`)."""

    @model_validator(mode="before")
    @classmethod
    def _unset_means_absent(cls, data: Any) -> Any:
        """`null` and `""` on an optional field mean the key was left out (its default)."""
        if not isinstance(data, dict) or not cls.UNSET_MEANS_ABSENT:
            return data
        optional = absent_keys(cls)
        return {
            key: value
            for key, value in data.items()
            if not (key in optional and (value is None or value == ""))
        }

    def to_wire(self) -> dict[str, Any]:
        """The JSON object sent on the wire: JSON keys, `None` fields left out, secrets revealed."""
        data: dict[str, Any] = self.model_dump(
            mode="json", by_alias=True, exclude_none=True, context={REVEAL_SECRETS: True}
        )
        return data

    def to_wire_json(self) -> bytes:
        """`to_wire()` as compact UTF-8 JSON bytes."""
        return json.dumps(self.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()


# ------------------------------------------------------------------ acquire (§3.1)


class AcquireClientRequest(WireModel):
    """`acquire` `clientRequest`."""

    scene: Scene | None = None
    resource_expired_hour: int = Field(default=72, ge=1, le=720)
    """Hours after start during which query/update/updateLayout/stop may be called."""
    start_parameter: StartParameter | None = None
    """If present, what it gives must equal the `clientRequest` that `start` later sends."""
    exclude_resource_ids: list[str] | None = None
    region: Literal["CN", "AP", "EU", "NA"] | None = None
    """Geofence (docs' spelling)."""
    region_affinity: int | None = Field(default=None, ge=0, le=4)
    """Geofence (community Go client's spelling): 0 nearest, 1 China, 2 SE Asia, 3 EU, 4 NA."""


class AcquireRequest(WireModel):
    """`POST /v1/apps/{appid}/cloud_recording/acquire` body."""

    cname: Cname
    uid: Uid
    client_request: AcquireClientRequest = Field(default_factory=AcquireClientRequest)


class AcquireResponse(WireModel):
    """`acquire` 200 body."""

    cname: str | None = None
    uid: str | None = None
    resource_id: str


class CapacityResponse(WireModel):
    """`capacity` 200 body: our extension, answered by the self-hosted recorder only.

    ``available`` is how many more recordings an ``acquire`` for this app id would be given
    now (the process's and the app's limits, counting resource ids acquired and not yet
    started); ``maxConcurrentRecordings`` and ``active`` are the process's own figures.
    """

    max_concurrent_recordings: int = Field(ge=0)
    active: int = Field(ge=0)
    pending: int = Field(ge=0)
    available: int = Field(ge=0)


# ------------------------------------------------------------------ start (§3.2)


class LayoutRegion(WireModel):
    """One `layoutConfig[]` region; coordinates are fractions of the canvas."""

    uid: Uid | None = None
    """User shown here; absent means regions are filled in join order."""
    x_axis: Unit = Field(alias="x_axis")
    y_axis: Unit = Field(alias="y_axis")
    width: Unit
    height: Unit
    alpha: Unit = 1.0
    render_mode: RenderMode = Field(default=RenderMode.CROP, alias="render_mode")


class BackgroundConfig(WireModel):
    """One `backgroundConfig[]` entry: a per-uid background image."""

    uid: Uid
    image_url: str = Field(alias="image_url", min_length=1)
    render_mode: RenderMode = Field(default=RenderMode.CROP, alias="render_mode")


class LayoutSettings(WireModel):
    """The layout part shared by `transcodingConfig` and `updateLayout`'s `clientRequest`."""

    max_resolution_uid: Uid | None = None
    """The uid shown large on the left in the vertical layout."""
    mixed_video_layout: VideoLayout = VideoLayout.FLOAT
    background_color: Color = "#000000"
    background_image: str | None = None
    default_user_background_image: str | None = None
    layout_config: Annotated[list[LayoutRegion], Field(max_length=MAX_LAYOUT_REGIONS)] | None = None
    """Custom regions, only for `mixedVideoLayout` 3."""
    background_config: list[BackgroundConfig] | None = None

    @model_validator(mode="after")
    def _custom_layout_has_regions(self) -> Self:
        if self.mixed_video_layout == VideoLayout.CUSTOM and not self.layout_config:
            raise ValueError("mixedVideoLayout 3 (custom) needs layoutConfig regions")
        return self


class TranscodingConfig(LayoutSettings):
    """`recordingConfig.transcodingConfig` (mix mode)."""

    width: int = Field(default=360, ge=1, le=MAX_CANVAS_WIDTH)
    height: int = Field(default=640, ge=1)
    fps: int = DEFAULT_FPS
    """1, 7, 10, 15, 24, 30 or 60; any other integer falls back to 15 (§3.2.2)."""
    bitrate: int = Field(default=500, ge=1, le=MAX_BITRATE_KBPS)
    """Kbps."""

    @field_validator("fps", mode="after")
    @classmethod
    def _fps_falls_back_to_15(cls, value: int) -> int:
        return value if value in SUPPORTED_FPS else DEFAULT_FPS

    @model_validator(mode="after")
    def _canvas_within_limits(self) -> Self:
        if self.width * self.height > MAX_CANVAS_PIXELS:
            raise ValueError("width * height must be at most 1920 * 1080")
        return self


class RecordingConfig(WireModel):
    """`start` `clientRequest.recordingConfig` (§3.2.1)."""

    channel_type: ChannelType = ChannelType.COMMUNICATION
    stream_types: StreamTypes = StreamTypes.AUDIO_AND_VIDEO
    stream_mode: StreamMode | None = None
    """Individual mode only; absent means `default`."""
    decryption_mode: DecryptionMode = DecryptionMode.NONE
    secret: WireSecret | None = None
    salt: WireSecret | None = None
    max_idle_time: int = Field(default=DEFAULT_MAX_IDLE_TIME, ge=5, le=2_592_000)
    """Seconds with nobody (communication) / no host (live) before the recorder leaves;
    0 means the default (30)."""
    video_stream_type: VideoStreamType = VideoStreamType.HIGH
    audio_profile: AudioProfile | None = None
    """Mix mode only; absent means 0."""
    transcoding_config: TranscodingConfig | None = None
    subscribe_audio_uids: UidList | None = None
    un_subscribe_audio_uids: UidList | None = _unsubscribe("Audio")
    subscribe_video_uids: UidList | None = None
    un_subscribe_video_uids: UidList | None = _unsubscribe("Video")
    subscribe_uid_group: SubscribeUidGroup | None = None
    """Individual mode: how many uids are subscribed; absent means 0 (1-2 uids), which is
    what clients leave out."""

    @field_validator("max_idle_time", mode="before")
    @classmethod
    def _zero_idle_is_default(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        return DEFAULT_MAX_IDLE_TIME if value in (0, "0") else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.decryption_mode != DecryptionMode.NONE and not self.secret:
            raise ValueError("secret is required when decryptionMode is not 0")
        if (
            self.decryption_mode in (DecryptionMode.AES_128_GCM2, DecryptionMode.AES_256_GCM2)
            and not self.salt
        ):
            raise ValueError("salt is required when decryptionMode is 7 or 8")
        if self.subscribe_audio_uids is not None and self.un_subscribe_audio_uids is not None:
            raise ValueError("subscribeAudioUids and unSubscribeAudioUids are mutually exclusive")
        if self.subscribe_video_uids is not None and self.un_subscribe_video_uids is not None:
            raise ValueError("subscribeVideoUids and unSubscribeVideoUids are mutually exclusive")
        audio_lists = self.subscribe_audio_uids or self.un_subscribe_audio_uids
        video_lists = self.subscribe_video_uids or self.un_subscribe_video_uids
        if audio_lists and self.stream_types == StreamTypes.VIDEO_ONLY:
            raise ValueError("audio uid lists need streamTypes 0 or 2")
        if video_lists and self.stream_types == StreamTypes.AUDIO_ONLY:
            raise ValueError("video uid lists need streamTypes 1 or 2")
        if self.stream_mode == StreamMode.ORIGINAL and self.stream_types != StreamTypes.AUDIO_ONLY:
            raise ValueError("streamMode 'original' needs streamTypes 0 (audio only)")
        return self


class RecordingFileConfig(WireModel):
    """`start` `clientRequest.recordingFileConfig`: `["hls"]` or `["hls", "mp4"]`."""

    av_file_type: list[FileType] = Field(default_factory=lambda: list[FileType](["hls"]))

    @model_validator(mode="after")
    def _hls_always(self) -> Self:
        kinds = set(self.av_file_type)
        if "hls" not in kinds or len(kinds) != len(self.av_file_type):
            raise ValueError('avFileType must be ["hls"] or ["hls","mp4"]')
        return self

    @property
    def mp4(self) -> bool:
        """True when MP4 files are wanted besides HLS."""
        return "mp4" in self.av_file_type


class SnapshotConfig(WireModel):
    """`start` `clientRequest.snapshotConfig` (individual mode only, §3.2.4)."""

    capture_interval: int = Field(default=10, ge=MIN_CAPTURE_INTERVAL, le=MAX_CAPTURE_INTERVAL)
    """Seconds between two JPGs of a uid. protocol.md DISAGREE: [5, 3600] in the current docs,
    [1, 3600] in the older ones; both are accepted (a client of either kind works)."""
    file_type: list[Literal["jpg"]] = Field(min_length=1, max_length=1)
    """Only `["jpg"]`."""


class ExtensionParams(WireModel):
    """`storageConfig.extensionParams`."""

    sse: Literal["kms", "aes256"] | None = None
    tag: str | None = None
    endpoint: str | None = None
    """S3-compatible store (vendor 11): a host name, or (our extension) a URL with a port."""


class StorageConfig(WireModel):
    """`start` `clientRequest.storageConfig` (§3.2.5); also accepted by `update`."""

    vendor: StorageVendor
    region: int = Field(ge=0)
    bucket: str = Field(min_length=1)
    access_key: WireSecret
    secret_key: WireSecret
    sts_token: WireSecret | None = None
    sts_expiration: int | None = None
    file_name_prefix: list[str] | None = None
    """Path segments of `[a-zA-Z0-9]`, at most 128 characters joined with `/`."""
    extension_params: ExtensionParams | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.file_name_prefix is not None:
            for segment in self.file_name_prefix:
                if _PREFIX_SEGMENT_RE.fullmatch(segment) is None:
                    raise ValueError("fileNamePrefix segments may only hold a-z, A-Z and 0-9")
            if len("/".join(self.file_name_prefix)) > MAX_FILE_NAME_PREFIX_CHARS:
                raise ValueError("fileNamePrefix must be at most 128 characters with slashes")
        if self.vendor == StorageVendor.S3_COMPATIBLE and not (
            self.extension_params and self.extension_params.endpoint
        ):
            raise ValueError("vendor 11 (S3-compatible) needs extensionParams.endpoint")
        return self

    def endpoint_url(self) -> str | None:
        """The endpoint as a URL (`https://` added to a bare host), or None when none is set."""
        endpoint = self.extension_params.endpoint if self.extension_params else None
        if not endpoint:
            return None
        return endpoint if "://" in endpoint else f"https://{endpoint}"

    def key_prefix(self) -> str:
        """The object key prefix: `"a/b/"` for `["a", "b"]`, `""` when none."""
        return "".join(f"{segment}/" for segment in self.file_name_prefix or [])


class AppsCollection(WireModel):
    """`start` `clientRequest.appsCollection` (legacy postponed transcoding)."""

    combination_policy: Literal["default", "postpone_transcoding"] | None = None


class _StartFields(WireModel):
    """The fields of a start `clientRequest` besides `storageConfig`."""

    token: WireSecret | None = None
    """RTC token for the recorder's uid."""
    recording_config: RecordingConfig | None = None
    recording_file_config: RecordingFileConfig | None = None
    snapshot_config: SnapshotConfig | None = None
    extension_service_config: dict[str, Any] | None = None
    """Web page recording (not modelled further; the self-hosted recorder does no web mode)."""
    apps_collection: AppsCollection | None = None
    """Legacy: `combinationPolicy` `postpone_transcoding` asks for postponed transcoding."""
    transcode_options: dict[str, Any] | None = None
    """Legacy postponed audio mixing (not modelled further)."""


class StartClientRequest(_StartFields):
    """`start` `clientRequest`."""

    storage_config: StorageConfig


class StartParameter(_StartFields):
    """acquire's `clientRequest.startParameter`: a start `clientRequest` whose
    `storageConfig` may be left out (clients keep the keys for the start itself)."""

    storage_config: StorageConfig | None = None

    def matches(self, start: StartClientRequest) -> bool:
        """True when every field given here equals the same field of `start` (§3.1)."""
        given = self.to_wire()
        sent = start.to_wire()
        return all(sent.get(key) == value for key, value in given.items())


class StartRequest(WireModel):
    """`POST …/resourceid/{resourceid}/mode/{mode}/start` body."""

    cname: Cname
    uid: Uid
    client_request: StartClientRequest


class StartResponse(WireModel):
    """`start` 200 body."""

    cname: str | None = None
    uid: str | None = None
    resource_id: str
    sid: str


def _check_snapshot_subscription(config: RecordingConfig) -> None:
    """§3.2.4: snapshots need video, and an audio allow-list needs a video one."""
    if config.stream_types == StreamTypes.AUDIO_ONLY:
        raise ValueError("snapshotConfig needs streamTypes 1 or 2 (video)")
    if config.subscribe_audio_uids is not None and config.subscribe_video_uids is None:
        raise ValueError("snapshotConfig: subscribeAudioUids needs subscribeVideoUids too")


def check_start_for_mode(request: StartClientRequest, mode: Mode) -> None:
    """Raise `ValueError` (protocol code 2) when `request` breaks a rule of `mode` (§3.2)."""
    config = request.recording_config
    if mode in (Mode.INDIVIDUAL, Mode.MIX) and config is None:
        raise ValueError(f"recordingConfig is required in {mode.value} mode")
    if mode == Mode.INDIVIDUAL:
        assert config is not None
        if config.transcoding_config is not None:
            raise ValueError("transcodingConfig is only for mix mode")
        if request.recording_file_config is not None and request.recording_file_config.mp4:
            raise ValueError("mp4 files are only for mix and web mode")
        if request.recording_file_config is None and request.snapshot_config is None:
            raise ValueError("recordingFileConfig or snapshotConfig is required")
        if request.snapshot_config is not None:
            _check_snapshot_subscription(config)
    else:
        if request.snapshot_config is not None:
            raise ValueError("snapshotConfig is only for individual mode")
        if config is not None and config.stream_mode is not None:
            raise ValueError("streamMode is only for individual mode")
        if request.recording_file_config is None:
            raise ValueError("recordingFileConfig is required")
    if mode == Mode.WEB and request.extension_service_config is None:
        raise ValueError("extensionServiceConfig is required in web mode")


# ------------------------------------------------------------------ query / stop (§3.3, §3.6)


class FileInfo(WireModel):
    """One `fileList[]` item (JSON file list mode)."""

    file_name: str = Field(validation_alias=AliasChoices("fileName", "filename", "file_name"))
    track_type: Literal["audio", "video", "audio_and_video"] | None = None
    uid: str | None = None
    """`"0"` in mix mode."""
    mixed_all_user: bool | None = None
    is_playable: bool | None = None
    slice_start_time: int | None = None
    """ms since the epoch."""


class ServerResponse(WireModel):
    """`serverResponse` of query and stop; which fields are set depends on mode and endpoint."""

    UNSET_MEANS_ABSENT = False  # `"fileList": ""` is a mix recording without a playlist yet

    status: int | None = None
    """Recording status (§6.1, see `codes.RecordingStatus`); query only."""
    file_list_mode: Literal["string", "json"] | None = None
    file_list: str | list[FileInfo] | None = None
    slice_start_time: int | None = None
    uploading_status: str | None = None
    """stop only: `"uploaded"`, `"backuped"` or `"unknown"`."""
    extension_service_state: list[dict[str, Any]] | None = None
    sub_service_status: dict[str, Any] | None = None


class QueryResponse(WireModel):
    """`GET …/query` 200 body."""

    cname: str | None = None
    uid: str | None = None
    resource_id: str
    sid: str
    server_response: ServerResponse = Field(default_factory=ServerResponse)


class StopClientRequest(WireModel):
    """`stop` `clientRequest`."""

    async_stop: bool = Field(default=False, alias="async_stop")
    """True: answer at once and keep uploading; false: answer after the upload (~20 s window)."""


class StopRequest(WireModel):
    """`POST …/stop` body."""

    cname: Cname
    uid: Uid
    client_request: StopClientRequest = Field(default_factory=StopClientRequest)


class StopResponse(WireModel):
    """`stop` 200 body."""

    cname: str | None = None
    uid: str | None = None
    resource_id: str
    sid: str
    server_response: ServerResponse = Field(default_factory=ServerResponse)


# ------------------------------------------------------------------ update / updateLayout


class AudioUidList(WireModel):
    """`streamSubscribe.audioUidList`: an allow-list or a block-list."""

    subscribe_audio_uids: UidList | None = None
    un_subscribe_audio_uids: UidList | None = _unsubscribe("Audio")

    @model_validator(mode="after")
    def _one_list(self) -> Self:
        if self.subscribe_audio_uids is not None and self.un_subscribe_audio_uids is not None:
            raise ValueError("subscribeAudioUids and unSubscribeAudioUids are mutually exclusive")
        return self


class VideoUidList(WireModel):
    """`streamSubscribe.videoUidList`: an allow-list or a block-list."""

    subscribe_video_uids: UidList | None = None
    un_subscribe_video_uids: UidList | None = _unsubscribe("Video")

    @model_validator(mode="after")
    def _one_list(self) -> Self:
        if self.subscribe_video_uids is not None and self.un_subscribe_video_uids is not None:
            raise ValueError("subscribeVideoUids and unSubscribeVideoUids are mutually exclusive")
        return self


class StreamSubscribe(WireModel):
    """`update` `clientRequest.streamSubscribe`: the new lists replace the old subscription."""

    audio_uid_list: AudioUidList | None = None
    video_uid_list: VideoUidList | None = None


class UpdateClientRequest(WireModel):
    """`update` `clientRequest`."""

    stream_subscribe: StreamSubscribe | None = None
    storage_config: StorageConfig | None = None
    """Used to refresh `stsToken`/`stsExpiration`."""
    web_recording_config: dict[str, Any] | None = None
    rtmp_publish_config: dict[str, Any] | None = None
    onhold: bool | None = None
    """Our extension (the self-hosted recorder; docs/backends.md): ``true`` pauses the
    recording (no media captured, the same sid and files go on), ``false`` resumes it. It
    mirrors the service's own ``webRecordingConfig.onhold`` of web mode, for the
    individual and mix modes."""


class UpdateRequest(WireModel):
    """`POST …/update` body."""

    cname: Cname
    uid: Uid
    client_request: UpdateClientRequest


class UpdateResponse(WireModel):
    """`update` 200 body."""

    cname: str | None = None
    uid: str | None = None
    resource_id: str
    sid: str


class UpdateLayoutClientRequest(LayoutSettings):
    """`updateLayout` `clientRequest`: replaces the whole layout (omitted fields: defaults)."""


class UpdateLayoutRequest(WireModel):
    """`POST …/mode/mix/updateLayout` body."""

    cname: Cname
    uid: Uid
    client_request: UpdateLayoutClientRequest = Field(default_factory=UpdateLayoutClientRequest)


class UpdateLayoutResponse(WireModel):
    """`updateLayout` 200 body."""

    cname: str | None = None
    uid: str | None = None
    resource_id: str
    sid: str


# ------------------------------------------------------------------ errors (§1, §3.8)


class ErrorBody(WireModel):
    """Error body from the recording service: `{"code": N, "reason": "…"}` (+ echoed ids)."""

    code: int
    reason: str | None = None
    resource_id: str | None = None
    sid: str | None = None
    cname: str | None = None
    uid: str | None = None


class GatewayErrorBody(WireModel):
    """Error body from the API gateway (auth, routing, rate limit): `{"message": "…"}`."""

    message: str


AcquireClientRequest.model_rebuild()
