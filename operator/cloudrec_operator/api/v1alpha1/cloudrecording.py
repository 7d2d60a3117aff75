"""The CloudRecording resource: one recording task of one channel.

The spec carries the seed's ``StartCloudRecording(appId, channel, token, uid,
RecordingConfig, CloudStorageConfig)`` arguments plus what the REST protocol adds
(mode, subscription lists, output formats). Defaults are the seed's and are schema
defaults, so ``kubectl get -o yaml`` shows them. Every rule the API server enforces
with CEL is also checked by the models' validators (except immutability, which
needs the old object).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from cloudrec_operator.api.base import ApiObject, CrdModel, cel, validations
from cloudrec_operator.api.conditions import Condition, conditions_field
from cloudrec_operator.api.enums import (
    AudioProfile,
    BackendKind,
    ChannelType,
    DecryptionMode,
    DesiredState,
    Layout,
    OutputFormat,
    Phase,
    RecordingErrorCode,
    RecordingMode,
    ReleasePolicy,
    RenderMode,
    RestartPolicy,
    ServerSideEncryption,
    StorageVendor,
    StreamMode,
    StreamTypes,
    TrackType,
    UploadState,
    Verification,
    VideoStreamType,
)
from cloudrec_operator.api.names import CLOUDRECORDINGS
from cloudrec_operator.api.v1alpha1.common import (
    DNS_SUBDOMAIN_PATTERN,
    SECRET_KEY_PATTERN,
    UID_MAX,
    UID_PATTERN,
    uid_in_range,
)
from cloudrec_protocol.canvas import (
    MAX_CANVAS_HEIGHT,
    MAX_CANVAS_PIXELS,
    MAX_CANVAS_WIDTH,
    MIN_CANVAS_SIDE,
    canvas_problem,
)

__all__ = [
    "BackendRef",
    "CloudRecording",
    "CloudRecordingSpec",
    "CloudRecordingStatus",
    "Decryption",
    "DecryptionSecretRef",
    "LayoutRegion",
    "ObjectTag",
    "RecordedFile",
    "RecordingConfig",
    "RecordingError",
    "StorageConfig",
    "StorageCredentialsRef",
    "TokenSecretRef",
    "TranscodingConfig",
    "UploadStatus",
]

CHANNEL_NAME_PATTERN = r"^[A-Za-z0-9 !#$%&()+:;<=.>?@\[\]^_{}~,|-]+$"
"""The protocol's 89-character set for channel names (protocol.md §2)."""
SUBSCRIBE_UID_PATTERN = r"^([1-9][0-9]{0,9}|#allstream#)$"
"""A uid in a subscription list, or ``#allstream#`` for everyone."""
FILE_NAME_PREFIX_PART_PATTERN = r"^[A-Za-z0-9]+$"
"""One directory of ``fileNamePrefix``: letters and digits only."""
FPS_VALUES = (1, 7, 10, 15, 24, 30, 60)
"""Frame rates the protocol supports."""
MAX_PIXELS = MAX_CANVAS_PIXELS
"""The largest canvas, in pixels (width x height): the encoder's bound
(``cloudrec_protocol.canvas``, the one definition the recorder uses too)."""
MAX_SUBSCRIBE_UIDS = 32
MAX_REGIONS = 17
MAX_FILE_NAME_PREFIX = 128
MAX_STATUS_FILES = 1024
"""Files listed in the status at most (``filesOmitted`` counts the rest)."""
MAX_STATUS_FILE_NAME = 1024
"""Characters of a file name listed in the status at most."""

Fps = Literal[1, 7, 10, 15, 24, 30, 60]
SubscribeUid = Annotated[str, Field(min_length=1, max_length=11, pattern=SUBSCRIBE_UID_PATTERN)]
PrefixPart = Annotated[
    str, Field(min_length=1, max_length=128, pattern=FILE_NAME_PREFIX_PART_PATTERN)
]


def _immutable(path: str) -> dict[str, Any]:
    return validations(cel("self == oldSelf", f"{path} is immutable"))


def _subscribe_list() -> Any:
    return Field(
        default=None,
        max_length=MAX_SUBSCRIBE_UIDS,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )


# ------------------------------------------------------------------------ spec


class BackendRef(CrdModel):
    """The backend (recording service) that records this channel."""

    kind: BackendKind = BackendKind.RECORDING_BACKEND
    """RecordingBackend (in this namespace) or ClusterRecordingBackend (cluster-wide)."""
    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the backend object."""


class TokenSecretRef(CrdModel):
    """A Secret key holding the channel token for the recorder's uid."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret, in the CloudRecording's namespace."""
    key: str = Field(default="token", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN)
    """Key in the Secret's data that holds the token."""


class DecryptionSecretRef(CrdModel):
    """A Secret holding the channel's decryption secret (and salt for the GCM2 modes)."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret, in the CloudRecording's namespace."""
    key: str = Field(default="secret", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN)
    """Key in the Secret's data that holds the decryption secret."""
    salt_key: str = Field(default="salt", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN)
    """Key holding the Base64 32-byte salt; read only for AES128GCM2 and AES256GCM2."""


class Decryption(CrdModel):
    """Decryption of an encrypted channel; must match the clients' encryption."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.mode) || self.mode == 'None' || has(self.secretRef)",
                "spec.recordingConfig.decryption.secretRef is required when "
                "decryption.mode is not None",
            )
        )
    )

    mode: DecryptionMode = DecryptionMode.NONE
    """Decryption mode: None, AES128XTS, AES128ECB, AES256XTS, SM4128ECB, AES128GCM,
    AES256GCM, AES128GCM2 or AES256GCM2."""
    secret_ref: DecryptionSecretRef | None = None
    """The Secret holding the decryption secret; required unless mode is None."""

    @model_validator(mode="after")
    def _secret_needed(self) -> Self:
        if self.mode is not DecryptionMode.NONE and self.secret_ref is None:
            raise ValueError(
                "spec.recordingConfig.decryption.secretRef is required when "
                "decryption.mode is not None"
            )
        return self


class LayoutRegion(CrdModel):
    """One region of a custom layout, in fractions of the canvas."""

    uid: str | None = Field(default=None, max_length=10, pattern=UID_PATTERN)
    """The uid shown here; without it regions are filled in the order users join."""
    x_axis: float = Field(ge=0, le=1)
    """Left edge, as a fraction of the canvas width (0..1)."""
    y_axis: float = Field(ge=0, le=1)
    """Top edge, as a fraction of the canvas height (0..1)."""
    width: float = Field(ge=0, le=1)
    """Width, as a fraction of the canvas width (0..1)."""
    height: float = Field(ge=0, le=1)
    """Height, as a fraction of the canvas height (0..1)."""
    alpha: float = Field(default=1.0, ge=0, le=1)
    """Opacity of the video: 0 transparent, 1 opaque."""
    render_mode: RenderMode = RenderMode.CROPPED
    """Cropped fills the region and crops the video; Fit shows all of it, letterboxed."""


IMAGE_URL_PATTERN = r"^https?://[^\s]+$"
MAX_USER_BACKGROUNDS = 32


def _image_url() -> Any:
    return Field(default=None, min_length=8, max_length=2048, pattern=IMAGE_URL_PATTERN)


class UserBackgroundImage(CrdModel):
    """The picture shown in one uid's region while that uid sends no video."""

    uid: str = Field(max_length=10, pattern=UID_PATTERN)
    """The uid whose region shows the picture."""
    image_url: str = Field(min_length=8, max_length=2048, pattern=IMAGE_URL_PATTERN)
    """http:// or https:// URL of a JPG or PNG picture (the self-hosted recorder fetches only
    from the hosts its backgroundImages.allowedHosts setting names)."""
    render_mode: RenderMode = RenderMode.CROPPED
    """Cropped fills the region and crops the picture; Fit shows all of it, letterboxed."""

    @field_validator("uid")
    @classmethod
    def _uid_range(cls, value: str) -> str:
        return uid_in_range(value)


class TranscodingConfig(CrdModel):
    """The mixed video (Mix mode only; ignored in Individual mode)."""

    # The CEL rules guard every field with has(): the API server also checks them
    # against the schema default {}, before nested defaults are filled in.

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.width) || !has(self.height) || "
                f"self.width * self.height <= {MAX_CANVAS_PIXELS}",
                "spec.recordingConfig.transcodingConfig: width x height must not exceed "
                f"1920x1080 ({MAX_CANVAS_PIXELS} pixels)",
            ),
            cel(
                "!has(self.maxResolutionUid) || (has(self.layout) && self.layout == 'Vertical')",
                "spec.recordingConfig.transcodingConfig.maxResolutionUid is allowed only "
                "with the Vertical layout",
            ),
            cel(
                "!has(self.regions) || (has(self.layout) && self.layout == 'Custom')",
                "spec.recordingConfig.transcodingConfig.regions is allowed only with the "
                "Custom layout",
            ),
            cel(
                "!has(self.layout) || self.layout != 'Custom' || "
                "(has(self.regions) && size(self.regions) > 0)",
                "spec.recordingConfig.transcodingConfig.regions is required with the Custom layout",
            ),
        )
    )

    width: int = Field(default=360, ge=MIN_CANVAS_SIDE, le=MAX_CANVAS_WIDTH, multiple_of=2)
    """Canvas width in pixels: even, 2..1920 (default 360; width x height at most
    1920x1080)."""
    height: int = Field(default=640, ge=MIN_CANVAS_SIDE, le=MAX_CANVAS_HEIGHT, multiple_of=2)
    """Canvas height in pixels: even, 2..1920 (default 640; width x height at most
    1920x1080)."""
    fps: Fps = 15
    """Frame rate: 1, 7, 10, 15 (default), 24, 30 or 60."""
    bitrate: int = Field(default=500, ge=1, le=6500)
    """Video bitrate in Kbps (default 500, at most 6500)."""
    max_resolution_uid: str | None = Field(default=None, max_length=10, pattern=UID_PATTERN)
    """The uid shown large on the left in the Vertical layout (Vertical only)."""
    layout: Layout = Layout.FLOAT
    """Float (first user fills the canvas, others float in small tiles), BestFit (grid),
    Vertical (maxResolutionUid large, others in columns on the right) or Custom (regions)."""
    background_color: str = Field(default="#000000", max_length=7, pattern=r"^#[0-9A-Fa-f]{6}$")
    """Canvas background colour as #RRGGBB."""
    regions: list[LayoutRegion] | None = Field(default=None, max_length=MAX_REGIONS)
    """Regions of the Custom layout (at most 17; Custom only)."""
    background_image: str | None = _image_url()
    """http:// or https:// URL of a JPG or PNG picture filling the canvas (cropped) under the
    videos, shown once it is downloaded; the backgroundColor shows until then or if it fails
    (a warning). The self-hosted recorder fetches only from the hosts its
    backgroundImages.allowedHosts setting names."""
    default_user_background_image: str | None = _image_url()
    """URL of the picture shown in the region of a uid that sends no video (or whose video
    stopped more than 3.5 s ago), unless userBackgroundImages gives that uid its own."""
    user_background_images: list[UserBackgroundImage] | None = Field(
        default=None, max_length=MAX_USER_BACKGROUNDS
    )
    """Per-uid pictures shown while the uid sends no video (at most 32; protocol
    backgroundConfig)."""

    @field_validator("max_resolution_uid")
    @classmethod
    def _uid_range(cls, value: str | None) -> str | None:
        return None if value is None else uid_in_range(value)

    @model_validator(mode="after")
    def _layout_rules(self) -> Self:
        path = "spec.recordingConfig.transcodingConfig"
        if self.width * self.height > MAX_CANVAS_PIXELS:
            raise ValueError(
                f"{path}: width x height must not exceed 1920x1080 ({MAX_CANVAS_PIXELS} pixels)"
            )
        problem = canvas_problem(self.width, self.height)  # the encoder's own check
        if problem is not None:
            raise ValueError(f"{path}: {problem}")
        if self.max_resolution_uid is not None and self.layout is not Layout.VERTICAL:
            raise ValueError(f"{path}.maxResolutionUid is allowed only with the Vertical layout")
        if self.regions is not None and self.layout is not Layout.CUSTOM:
            raise ValueError(f"{path}.regions is allowed only with the Custom layout")
        if self.layout is Layout.CUSTOM and not self.regions:
            raise ValueError(f"{path}.regions is required with the Custom layout")
        return self


def _needs_media(media: str, without: str) -> dict[str, str]:
    return cel(
        f"!(has(self.subscribe{media}Uids) || has(self.unsubscribe{media}Uids)) || "
        f"!has(self.streamTypes) || self.streamTypes != '{without}'",
        f"spec.recordingConfig.subscribe{media}Uids and unsubscribe{media}Uids need "
        f"{media.lower()}: streamTypes is {without}",
    )


def _exclusive(media: str) -> dict[str, str]:
    return cel(
        f"!(has(self.subscribe{media}Uids) && has(self.unsubscribe{media}Uids))",
        f"spec.recordingConfig.subscribe{media}Uids and unsubscribe{media}Uids are "
        "mutually exclusive",
    )


class SnapshotConfig(CrdModel):
    """JPG snapshots of each uid's video (Individual mode only)."""

    capture_interval: int = Field(default=10, ge=1, le=3600)
    """Seconds between two snapshots of a uid: 1..3600 (default 10). The hosted service's
    current documentation allows 5..3600; the self-hosted recorder takes 1..3600."""


class RecordingConfig(CrdModel):
    """What is recorded and how (the seed's RecordingConfig plus the protocol's additions)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            _exclusive("Audio"),
            _exclusive("Video"),
            _needs_media("Audio", "VideoOnly"),
            _needs_media("Video", "AudioOnly"),
            cel(
                "!has(self.outputFormats) || !('MP4' in self.outputFormats) || "
                "'HLS' in self.outputFormats",
                "spec.recordingConfig.outputFormats: MP4 is allowed only together with HLS",
            ),
            cel(
                "!has(self.outputFormats) || !('MP4' in self.outputFormats) || "
                "!has(self.mode) || self.mode == 'Mix'",
                "spec.recordingConfig.outputFormats: MP4 is allowed only in Mix mode",
            ),
            cel(
                "!has(self.streamMode) || (has(self.mode) && self.mode == 'Individual')",
                "spec.recordingConfig.streamMode is allowed only in Individual mode",
            ),
            cel(
                "!has(self.streamMode) || self.streamMode != 'Original' || "
                "(has(self.streamTypes) && self.streamTypes == 'AudioOnly')",
                "spec.recordingConfig.streamMode Original needs streamTypes AudioOnly",
            ),
            cel(
                "!has(self.snapshotConfig) || (has(self.mode) && self.mode == 'Individual')",
                "spec.recordingConfig.snapshotConfig is allowed only in Individual mode",
            ),
            cel(
                "!has(self.snapshotConfig) || !has(self.streamTypes) || "
                "self.streamTypes != 'AudioOnly'",
                "spec.recordingConfig.snapshotConfig needs video: streamTypes is AudioOnly",
            ),
            cel(
                "!has(self.outputFormats) || size(self.outputFormats) > 0 || "
                "has(self.snapshotConfig)",
                "spec.recordingConfig.outputFormats may be empty only with snapshotConfig",
            ),
        )
    )

    mode: RecordingMode = Field(
        default=RecordingMode.MIX,
        json_schema_extra=_immutable("spec.recordingConfig.mode"),
    )
    """Mix records one composite of the channel; Individual records each uid separately.
    Immutable."""
    stream_types: StreamTypes = StreamTypes.AUDIO_VIDEO
    """Which streams are recorded: AudioVideo (default), AudioOnly or VideoOnly."""
    stream_mode: StreamMode | None = None
    """Individual mode only: what is written per uid. Default (when unset): an audio and a
    video playlist. Standard: those and a merged audio+video playlist (...__uid_e_av.m3u8)
    that plays both. Original: audio kept as sent, Opus not transcoded, in TS slices
    (streamTypes AudioOnly)."""
    decryption: Decryption = Field(default_factory=Decryption, json_schema_extra={"default": {}})
    """Decryption of an encrypted channel (default: none)."""
    channel_type: ChannelType = ChannelType.COMMUNICATION
    """Channel profile, as the clients use it: Communication (default) or Live."""
    audio_profile: AudioProfile = AudioProfile.MUSIC_STANDARD
    """Mixed audio profile: MusicStandard (default), MusicHighQuality or
    MusicHighQualityStereo. Mix mode only."""
    video_stream_type: VideoStreamType = VideoStreamType.HIGH
    """Which stream of dual-stream senders is recorded: High (default) or Low."""
    max_idle_time: int = Field(
        default=30,
        ge=0,
        le=2592000,
        json_schema_extra=validations(
            cel(
                "self == 0 || self >= 5",
                "spec.recordingConfig.maxIdleTime must be 0 (the default, 30 s) "
                "or between 5 and 2592000",
            )
        ),
    )
    """Seconds the channel may stay empty before the recorder leaves: 5..2592000;
    0 means the default, 30."""
    transcoding_config: TranscodingConfig = Field(
        default_factory=TranscodingConfig, json_schema_extra={"default": {}}
    )
    """Canvas, frame rate, bitrate and layout of the mixed video (Mix mode only)."""
    subscribe_audio_uids: list[SubscribeUid] | None = _subscribe_list()
    """Record audio only from these uids (at most 32; "#allstream#" means everyone).
    Excludes unsubscribeAudioUids."""
    unsubscribe_audio_uids: list[SubscribeUid] | None = _subscribe_list()
    """Record audio from everyone but these uids (at most 32). Excludes subscribeAudioUids."""
    subscribe_video_uids: list[SubscribeUid] | None = _subscribe_list()
    """Record video only from these uids (at most 32; "#allstream#" means everyone).
    Excludes unsubscribeVideoUids."""
    unsubscribe_video_uids: list[SubscribeUid] | None = _subscribe_list()
    """Record video from everyone but these uids (at most 32). Excludes subscribeVideoUids."""
    output_formats: list[OutputFormat] = Field(
        default_factory=lambda: [OutputFormat.HLS],
        max_length=2,
        json_schema_extra={"default": ["HLS"], "x-kubernetes-list-type": "set"},
    )
    """Files to write: HLS (default), or HLS and MP4 (MP4 only with HLS, in Mix mode);
    empty with snapshotConfig for snapshots only."""
    snapshot_config: SnapshotConfig | None = Field(
        default=None, json_schema_extra=_immutable("spec.recordingConfig.snapshotConfig")
    )
    """JPG snapshots of each uid's video every captureInterval seconds, uploaded next to the
    recording (Individual mode only; not with streamTypes AudioOnly). With outputFormats
    empty the task takes snapshots only. Immutable."""
    hls_segment_seconds: int | None = Field(default=None, ge=1, le=60)
    """Length of an HLS segment in seconds (self-hosted recorder; the service's own
    default when unset)."""

    @field_validator(
        "subscribe_audio_uids",
        "unsubscribe_audio_uids",
        "subscribe_video_uids",
        "unsubscribe_video_uids",
    )
    @classmethod
    def _uid_list(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for uid in value:
            if uid != "#allstream#":
                uid_in_range(uid)
        if len(set(value)) != len(value):
            raise ValueError("uids in a subscription list must be unique")
        return value

    @field_validator("max_idle_time")
    @classmethod
    def _idle(cls, value: int) -> int:
        if 0 < value < 5:
            raise ValueError(
                "spec.recordingConfig.maxIdleTime must be 0 (the default, 30 s) "
                "or between 5 and 2592000"
            )
        return value

    @field_validator("output_formats")
    @classmethod
    def _unique_formats(cls, value: list[OutputFormat]) -> list[OutputFormat]:
        if len(set(value)) != len(value):
            raise ValueError("spec.recordingConfig.outputFormats must not repeat a format")
        return value

    @model_validator(mode="after")
    def _combination_rules(self) -> Self:
        if self.stream_mode is not None and self.mode is not RecordingMode.INDIVIDUAL:
            raise ValueError("spec.recordingConfig.streamMode is allowed only in Individual mode")
        if self.stream_mode is StreamMode.ORIGINAL and self.stream_types is not (
            StreamTypes.AUDIO_ONLY
        ):
            raise ValueError("spec.recordingConfig.streamMode Original needs streamTypes AudioOnly")
        for media in ("audio", "video"):
            sub = getattr(self, f"subscribe_{media}_uids")
            unsub = getattr(self, f"unsubscribe_{media}_uids")
            if sub is not None and unsub is not None:
                cap = media.capitalize()
                raise ValueError(
                    f"spec.recordingConfig.subscribe{cap}Uids and unsubscribe{cap}Uids "
                    "are mutually exclusive"
                )
        without = {"audio": StreamTypes.VIDEO_ONLY, "video": StreamTypes.AUDIO_ONLY}
        for media, excluded in without.items():
            listed = getattr(self, f"subscribe_{media}_uids") is not None
            listed = listed or getattr(self, f"unsubscribe_{media}_uids") is not None
            if listed and self.stream_types is excluded:
                cap = media.capitalize()
                raise ValueError(
                    f"spec.recordingConfig.subscribe{cap}Uids and unsubscribe{cap}Uids need "
                    f"{media}: streamTypes is {excluded.value}"
                )
        if OutputFormat.MP4 in self.output_formats:
            if OutputFormat.HLS not in self.output_formats:
                raise ValueError(
                    "spec.recordingConfig.outputFormats: MP4 is allowed only together with HLS"
                )
            if self.mode is not RecordingMode.MIX:
                raise ValueError(
                    "spec.recordingConfig.outputFormats: MP4 is allowed only in Mix mode"
                )
        return self

    @model_validator(mode="after")
    def _snapshot_rules(self) -> Self:
        path = "spec.recordingConfig"
        if self.snapshot_config is not None:
            if self.mode is not RecordingMode.INDIVIDUAL:
                raise ValueError(f"{path}.snapshotConfig is allowed only in Individual mode")
            if self.stream_types is StreamTypes.AUDIO_ONLY:
                raise ValueError(f"{path}.snapshotConfig needs video: streamTypes is AudioOnly")
        elif not self.output_formats:
            raise ValueError(f"{path}.outputFormats may be empty only with snapshotConfig")
        return self

    @property
    def effective_max_idle_time(self) -> int:
        """``maxIdleTime`` with 0 replaced by the default, 30 seconds."""
        return self.max_idle_time or 30


class StorageCredentialsRef(CrdModel):
    """A Secret holding the storage access key and secret key."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret, in the CloudRecording's namespace."""
    access_key_key: str = Field(
        default="accessKey", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN
    )
    """Key in the Secret's data that holds the access key."""
    secret_key_key: str = Field(
        default="secretKey", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN
    )
    """Key in the Secret's data that holds the secret key."""


TAG_KEY_PATTERN = r"^[A-Za-z0-9 +\-=._:/@]+$"
"""Characters S3 allows in object tag keys and values."""


class ObjectTag(CrdModel):
    """One tag put on every uploaded object."""

    key: str = Field(min_length=1, max_length=128, pattern=TAG_KEY_PATTERN)
    """Tag key (1..128 characters: letters, digits, space and + - = . _ : / @)."""
    value: str = Field(default="", max_length=256, pattern=r"^[A-Za-z0-9 +\-=._:/@]*$")
    """Tag value (at most 256 characters, same set; may be empty)."""


class StorageConfig(CrdModel):
    """Where the recorded files are uploaded (the seed's CloudStorageConfig)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.vendor != 'S3Compatible' || has(self.endpoint)",
                "spec.storageConfig.endpoint is required when vendor is S3Compatible",
            ),
            cel(
                "!has(self.fileNamePrefix) || size(self.fileNamePrefix.join('/')) <= 128",
                "spec.storageConfig.fileNamePrefix must be at most 128 characters "
                "including the slashes",
            ),
        )
    )

    vendor: StorageVendor
    """Storage vendor: Qiniu, AmazonS3, AlibabaCloud, TencentCloud, KingsoftCloud,
    MicrosoftAzure, GoogleCloud, HuaweiCloud, BaiduCloud or S3Compatible."""
    region: int = Field(default=0, ge=0, le=255)
    """The vendor's region number (protocol.md section 4); 0 for S3Compatible, Azure and
    Google."""
    bucket: str = Field(min_length=1, max_length=255)
    """Bucket name, following the vendor's naming rules."""
    endpoint: str | None = Field(default=None, min_length=1, max_length=512)
    """Endpoint of an S3-compatible store (host name or URL); required for S3Compatible."""
    credentials_secret_ref: StorageCredentialsRef
    """The Secret holding the access key and secret key."""
    file_name_prefix: list[PrefixPart] | None = Field(default=None, max_length=16)
    """Directories the files go under, e.g. [team, meetings] -> team/meetings/<file>.
    Letters and digits only; at most 128 characters including the slashes."""
    server_side_encryption: ServerSideEncryption | None = None
    """Have the store encrypt every uploaded object: AES256 (keys managed by the store) or
    KMS (the store's key management service). S3-compatible stores; none when unset."""
    object_tags: list[ObjectTag] | None = Field(
        default=None,
        max_length=10,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )
    """Tags put on every uploaded object (at most 10, unique keys), e.g. to drive the
    bucket's lifecycle rules. S3-compatible stores and Alibaba Cloud."""

    @field_validator("file_name_prefix")
    @classmethod
    def _prefix(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len("/".join(value)) > MAX_FILE_NAME_PREFIX:
            raise ValueError(
                "spec.storageConfig.fileNamePrefix must be at most 128 characters "
                "including the slashes"
            )
        return value

    @field_validator("object_tags")
    @classmethod
    def _unique_tag_keys(cls, value: list[ObjectTag] | None) -> list[ObjectTag] | None:
        keys = [tag.key for tag in value or ()]
        if len(set(keys)) != len(keys):
            raise ValueError("spec.storageConfig.objectTags must not repeat a key")
        return value

    @model_validator(mode="after")
    def _endpoint(self) -> Self:
        if self.vendor is StorageVendor.S3_COMPATIBLE and self.endpoint is None:
            raise ValueError("spec.storageConfig.endpoint is required when vendor is S3Compatible")
        return self


class CloudRecordingSpec(CrdModel):
    """The desired recording: which channel, how, and where the files go."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.appId) == has(oldSelf.appId) && "
                "(!has(self.appId) || self.appId == oldSelf.appId)",
                "spec.appId is immutable",
            )
        )
    )

    backend_ref: BackendRef = Field(json_schema_extra=_immutable("spec.backendRef"))
    """The RecordingBackend or ClusterRecordingBackend that records this channel.
    Immutable."""
    app_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    """App ID of the channel; the backend's defaultAppId when unset. Immutable."""
    channel_name: str = Field(
        min_length=1,
        max_length=63,
        pattern=CHANNEL_NAME_PATTERN,
        json_schema_extra=_immutable("spec.channelName"),
    )
    """Name of the channel to record: 1..63 characters from a-z A-Z 0-9, space and
    !#$%&()+-:;<=.>?@[]^_{}|~, . Immutable."""
    uid: str = Field(
        min_length=1,
        max_length=10,
        pattern=UID_PATTERN,
        json_schema_extra=validations(
            cel("self == oldSelf", "spec.uid is immutable"),
            cel("int(self) <= 4294967295", "spec.uid must be at most 4294967295"),
        ),
    )
    """The recorder's own uid in the channel, a string holding an integer in
    1..4294967295; must not collide with any user. Immutable."""
    token_secret_ref: TokenSecretRef | None = None
    """The Secret holding the channel token for the recorder's uid (never inline);
    none when the channel needs no token."""
    recording_config: RecordingConfig = Field(
        default_factory=RecordingConfig, json_schema_extra={"default": {}}
    )
    """What is recorded and how (the seed's RecordingConfig)."""
    storage_config: StorageConfig = Field(json_schema_extra=_immutable("spec.storageConfig"))
    """Where the files are uploaded (the seed's CloudStorageConfig). Immutable."""
    state: DesiredState = DesiredState.RECORDING
    """Desired state: Recording (default), Paused or Stopped. Set Stopped to stop the
    recording and keep the resource. Paused keeps the recording (the same recording id,
    playlist and MP4 series) but captures no media until Recording again; the playlist
    marks the gap with #EXT-X-DISCONTINUITY and the MP4 goes on in a new numbered part.
    Self-hosted backends only (a hosted backend answers Ready False, reason
    PauseUnsupported)."""
    release_policy: ReleasePolicy = ReleasePolicy.STOP
    """What deleting the resource does: Stop (default) stops the recording;
    KeepInBackground leaves it running until the channel goes idle."""
    restart_policy: RestartPolicy = RestartPolicy.NEVER
    """What to do after a fatal error: Never (default) or OnFailure (start a new
    recording)."""
    verification: Verification = Verification.SIZE
    """How the bucket is checked against the recording's signed manifest once it completes
    (condition Verified): Size (default; every listed object is there with its size), Hash
    (and its SHA-256, reading every object) or None. Self-hosted backends only; a hosted
    backend writes no manifest (Verified Unknown). Annotate the resource with
    verify.cloudrecording.io/request (any new value) to check again."""
    priority: int = Field(default=0, ge=-1000000, le=1000000)
    """Place in the backend's queue while the backend is at capacity (phase Queued):
    higher starts first, then the older resource (creationTimestamp, then name). Default 0;
    -1000000..1000000. May be changed while queued."""

    @field_validator("uid")
    @classmethod
    def _uid_range(cls, value: str) -> str:
        if int(value) > UID_MAX:
            raise ValueError("spec.uid must be at most 4294967295")
        return value


# ---------------------------------------------------------------------- status


class UploadStatus(CrdModel):
    """Progress of the upload to the bucket."""

    progress: int | None = Field(default=None, ge=0, le=100)
    """Percent of the recorded data uploaded so far (0..100)."""
    status: UploadState | None = None
    """Pending, Uploading, Uploaded, Backuped (some files went to the backup store)
    or Unknown."""


class RecordedFile(CrdModel):
    """One file (playlist, MP4 or snapshot JPG) the recording produced."""

    file_name: str = Field(min_length=1, max_length=MAX_STATUS_FILE_NAME)
    """Object key of the file in the bucket (an .m3u8 playlist, an .mp4 or a snapshot .jpg)."""
    track_type: TrackType | None = None
    """What the file holds: Audio, Video or AudioAndVideo (Video for a snapshot)."""
    uid: str | None = Field(default=None, max_length=10, pattern=r"^[0-9]{1,10}$")
    """The uid recorded in the file (Individual mode: whose playlist or snapshot it is);
    "0" for a mix of every user."""
    mixed_all_user: bool | None = None
    """True when the file mixes every user (Mix mode)."""
    is_playable: bool | None = None
    """True when the file can be played on its own (false for a snapshot)."""
    slice_start_time: int | None = Field(default=None, ge=0)
    """When the first slice of the file started (a snapshot: when it was captured), in Unix
    milliseconds."""


class RecordingError(CrdModel):
    """An error reported by the recording service, with the seed's error code."""

    code: RecordingErrorCode
    """The seed's error code: 0 or 430..442."""
    reason: str = Field(default="", max_length=64, pattern=r"^([A-Z][A-Za-z]*)?$")
    """The code's CamelCase name, e.g. RecorderInitFailed (filled in from code)."""
    message: str = Field(default="", max_length=4096)
    """What went wrong, in words."""
    time: datetime | None = None
    """When the error was reported."""

    @model_validator(mode="after")
    def _reason_matches_code(self) -> Self:
        if not self.reason:
            self.reason = self.code.reason
        elif self.reason != self.code.reason:
            raise ValueError(f"reason {self.reason!r} does not match code {int(self.code)}")
        return self


class CloudRecordingStatus(CrdModel):
    """The observed state of the recording, written by the operator."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The .metadata.generation the operator last acted on."""
    phase: Phase | None = None
    """Pending, Queued, Connecting, Recording, Paused, Stopping, Uploading, Completed,
    Failed or Released."""
    queue_position: int | None = Field(default=None, ge=1)
    """While Queued: the place in the backend's queue (1 starts next)."""
    recording_id: str | None = Field(default=None, max_length=1024)
    """The recording id (the protocol's sid)."""
    resource_id: str | None = Field(default=None, max_length=4096)
    """The resource id the recording was acquired with."""
    resource_acquired_at: datetime | None = None
    """When the resource id was acquired."""
    started_at: datetime | None = None
    """When the recording started."""
    stopped_at: datetime | None = None
    """When the recording stopped."""
    upload: UploadStatus | None = None
    """Progress of the upload to the bucket."""
    files: list[RecordedFile] | None = Field(default=None, max_length=MAX_STATUS_FILES)
    """The files the recording produced, first reported first: playlists and MP4s, and each
    snapshot JPG once it is in the bucket (at most 1024 names of at most 1024 characters;
    snapshots take at most 960 places, so the playlists stay listed; filesOmitted counts the
    rest)."""
    files_omitted: int | None = Field(default=None, ge=0)
    """How many more files the recording produced than files lists."""
    last_error: RecordingError | None = None
    """The last error the recording service reported."""
    restarts: int | None = Field(default=None, ge=0)
    """How many times the recording was restarted after a fatal error."""
    applied_callbacks: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=32
    )
    """Notice ids of the last signed callbacks applied (newest last), so one delivered
    again, even after an operator restart, is not applied twice."""
    conditions: list[Condition] = conditions_field()
    """Ready (first), Recording, Uploaded, Degraded, Stalled and Verified."""


# -------------------------------------------------------------------- resource


class CloudRecording(ApiObject):
    """A recording of one channel by a recording service, uploaded to cloud storage."""

    KIND: ClassVar[str] = "CloudRecording"
    PLURAL: ClassVar[str] = CLOUDRECORDINGS
    SINGULAR: ClassVar[str] = "cloudrecording"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("crec",)
    NAMESPACED: ClassVar[bool] = True

    api_version: Literal["cloudrecording.io/v1alpha1"] = "cloudrecording.io/v1alpha1"
    """APIVersion of the object."""
    kind: Literal["CloudRecording"] = "CloudRecording"
    """Kind of the object."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object metadata."""
    spec: CloudRecordingSpec
    """The desired recording."""
    status: CloudRecordingStatus | None = None
    """The observed state, written by the operator."""
