"""The seed's enums as CamelCase strings, plus the operator's own state enums.

Enum *values* are what users write in manifests (Kubernetes convention:
CamelCase strings). Where the cloud recording REST protocol uses numbers, the
member's ``code`` gives the wire number; for the seed's ordinal enums that is
the declaration order, which matches the protocol exactly (protocol.md §9.2).
"""

from __future__ import annotations

from enum import StrEnum

from cloudrec_protocol.codes import RecordingErrorCode

__all__ = [
    "AudioProfile",
    "BackendKind",
    "ChannelType",
    "ConditionStatus",
    "DecryptionMode",
    "DesiredState",
    "Layout",
    "OutputFormat",
    "Phase",
    "RecordingErrorCode",
    "RecordingMode",
    "ReleasePolicy",
    "RenderMode",
    "RestartPolicy",
    "ServerSideEncryption",
    "ServiceKind",
    "StorageVendor",
    "StreamMode",
    "StreamTypes",
    "TrackType",
    "UploadState",
    "Verification",
    "VideoStreamType",
]


class _Ordinal(StrEnum):
    """A string enum whose protocol number is its position in the declaration."""

    @property
    def code(self) -> int:
        """The number the REST protocol uses for this value."""
        return list(type(self)).index(self)


class StreamTypes(_Ordinal):
    """Which media streams are recorded (protocol ``streamTypes`` 0/1/2)."""

    AUDIO_ONLY = "AudioOnly"
    VIDEO_ONLY = "VideoOnly"
    AUDIO_VIDEO = "AudioVideo"


class DecryptionMode(_Ordinal):
    """How the channel's media is encrypted (protocol ``decryptionMode`` 0..8)."""

    NONE = "None"
    AES128XTS = "AES128XTS"
    AES128ECB = "AES128ECB"
    AES256XTS = "AES256XTS"
    SM4128ECB = "SM4128ECB"
    AES128GCM = "AES128GCM"
    AES256GCM = "AES256GCM"
    AES128GCM2 = "AES128GCM2"
    AES256GCM2 = "AES256GCM2"

    @property
    def needs_salt(self) -> bool:
        """True for the GCM2 modes, which also need a 32-byte Base64 salt."""
        return self in (DecryptionMode.AES128GCM2, DecryptionMode.AES256GCM2)


class ChannelType(_Ordinal):
    """The channel profile; must match the clients (protocol ``channelType`` 0/1)."""

    COMMUNICATION = "Communication"
    LIVE = "Live"


class AudioProfile(_Ordinal):
    """Sample rate, bitrate and channels of the mixed audio (protocol ``audioProfile`` 0/1/2)."""

    MUSIC_STANDARD = "MusicStandard"
    MUSIC_HIGH_QUALITY = "MusicHighQuality"
    MUSIC_HIGH_QUALITY_STEREO = "MusicHighQualityStereo"


class VideoStreamType(_Ordinal):
    """Which stream of a dual-stream sender is recorded (protocol ``videoStreamType`` 0/1)."""

    HIGH = "High"
    LOW = "Low"


class Layout(_Ordinal):
    """The mixed video layout (protocol ``mixedVideoLayout`` 0..3)."""

    FLOAT = "Float"
    BEST_FIT = "BestFit"
    VERTICAL = "Vertical"
    CUSTOM = "Custom"


class StreamMode(StrEnum):
    """What individual mode writes per uid (protocol ``streamMode``)."""

    DEFAULT = "Default"
    """An audio playlist and a video playlist."""
    STANDARD = "Standard"
    """Those two and a merged audio+video playlist."""
    ORIGINAL = "Original"
    """Audio kept as sent, not transcoded (AudioOnly)."""

    @property
    def wire(self) -> str:
        """The protocol's spelling (``default``, ``standard``, ``original``)."""
        return self.value.lower()


class ServerSideEncryption(StrEnum):
    """How the store encrypts the uploaded objects (protocol ``extensionParams.sse``)."""

    AES256 = "AES256"
    """Keys managed by the store (S3 ``AES256``)."""
    KMS = "KMS"
    """Keys in the store's key management service (S3 ``aws:kms``)."""

    @property
    def wire(self) -> str:
        """The protocol's spelling (``aes256`` or ``kms``)."""
        return self.value.lower()


class RenderMode(_Ordinal):
    """How a video fills its custom layout region (protocol ``render_mode`` 0/1)."""

    CROPPED = "Cropped"
    FIT = "Fit"


class RecordingMode(StrEnum):
    """Mix: one composite recording; Individual: one recording per uid (protocol path ``mode``)."""

    MIX = "Mix"
    INDIVIDUAL = "Individual"

    @property
    def path_segment(self) -> str:
        """The protocol's ``mode`` path segment (``mix`` or ``individual``)."""
        return self.value.lower()


class OutputFormat(StrEnum):
    """A recorded file type (protocol ``avFileType``: ``hls``, ``mp4``)."""

    HLS = "HLS"
    MP4 = "MP4"

    @property
    def wire(self) -> str:
        """The protocol's spelling (``hls`` or ``mp4``)."""
        return self.value.lower()


class DesiredState(StrEnum):
    """What the user wants: a running recording, a paused one or a stopped one."""

    RECORDING = "Recording"
    PAUSED = "Paused"
    """Keep the recording but capture no media until Recording again (self-hosted
    backends; the same sid and files go on)."""
    STOPPED = "Stopped"


class ReleasePolicy(StrEnum):
    """What deleting the resource does (the seed's ``Release(keepRecordingInBackground)``)."""

    STOP = "Stop"
    KEEP_IN_BACKGROUND = "KeepInBackground"


class RestartPolicy(StrEnum):
    """What to do after a fatal error."""

    NEVER = "Never"
    ON_FAILURE = "OnFailure"


class Phase(StrEnum):
    """Where a CloudRecording is in its life."""

    PENDING = "Pending"
    QUEUED = "Queued"
    """The backend is at capacity: waiting in its queue (``status.queuePosition``)."""
    CONNECTING = "Connecting"
    RECORDING = "Recording"
    PAUSED = "Paused"
    """The recorder stays in the channel but captures no media (``spec.state: Paused``)."""
    STOPPING = "Stopping"
    UPLOADING = "Uploading"
    COMPLETED = "Completed"
    FAILED = "Failed"
    RELEASED = "Released"


class UploadState(StrEnum):
    """Where the recorded files are (protocol ``uploadingStatus`` in CamelCase)."""

    PENDING = "Pending"
    UPLOADING = "Uploading"
    UPLOADED = "Uploaded"
    BACKUPED = "Backuped"
    UNKNOWN = "Unknown"


class TrackType(StrEnum):
    """What a recorded file holds (protocol ``trackType``: audio, video, audio_and_video)."""

    AUDIO = "Audio"
    VIDEO = "Video"
    AUDIO_AND_VIDEO = "AudioAndVideo"

    @classmethod
    def from_wire(cls, value: str) -> TrackType:
        """Parse the protocol's snake_case spelling."""
        return {"audio": cls.AUDIO, "video": cls.VIDEO, "audio_and_video": cls.AUDIO_AND_VIDEO}[
            value
        ]


class BackendKind(StrEnum):
    """The kind of backend a CloudRecording refers to."""

    RECORDING_BACKEND = "RecordingBackend"
    CLUSTER_RECORDING_BACKEND = "ClusterRecordingBackend"


class KeySource(StrEnum):
    """Where a public key is kept: a Secret or, since it is no secret, a ConfigMap."""

    SECRET = "Secret"
    CONFIG_MAP = "ConfigMap"


class ServiceKind(StrEnum):
    """Which service speaks the protocol behind a backend."""

    HOSTED = "Hosted"
    SELF_HOSTED = "SelfHosted"


class Verification(StrEnum):
    """How the operator checks the bucket against the recording's manifest once it completes."""

    SIZE = "Size"
    """Every object the manifest lists is there with its size (one HEAD per object)."""
    HASH = "Hash"
    """As Size, and every object is read whole and its SHA-256 compared."""
    NONE = "None"
    """No verification (no Verified condition)."""


class ConditionStatus(StrEnum):
    """A condition's status, as in metav1.Condition."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class StorageVendor(StrEnum):
    """Third-party cloud storage vendors (protocol.md §4.1)."""

    QINIU = "Qiniu"
    AMAZON_S3 = "AmazonS3"
    ALIBABA_CLOUD = "AlibabaCloud"
    TENCENT_CLOUD = "TencentCloud"
    KINGSOFT_CLOUD = "KingsoftCloud"
    MICROSOFT_AZURE = "MicrosoftAzure"
    GOOGLE_CLOUD = "GoogleCloud"
    HUAWEI_CLOUD = "HuaweiCloud"
    BAIDU_CLOUD = "BaiduCloud"
    S3_COMPATIBLE = "S3Compatible"

    @property
    def code(self) -> int:
        """The protocol's ``vendor`` number."""
        return _VENDOR_CODES[self]


_VENDOR_CODES: dict[StorageVendor, int] = {
    StorageVendor.QINIU: 0,
    StorageVendor.AMAZON_S3: 1,
    StorageVendor.ALIBABA_CLOUD: 2,
    StorageVendor.TENCENT_CLOUD: 3,
    StorageVendor.KINGSOFT_CLOUD: 4,
    StorageVendor.MICROSOFT_AZURE: 5,
    StorageVendor.GOOGLE_CLOUD: 6,
    StorageVendor.HUAWEI_CLOUD: 7,
    StorageVendor.BAIDU_CLOUD: 8,
    StorageVendor.S3_COMPATIBLE: 11,
}
