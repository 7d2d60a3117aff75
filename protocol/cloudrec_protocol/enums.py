"""Numeric and string enumerations of the cloud recording REST protocol (protocol.md §2-§4).

Every value is the number (or string) sent on the wire; the member names are ours. The seed SDK's
C enums line up with these ordinals exactly (protocol.md §9.2).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "AudioProfile",
    "ChannelType",
    "DecryptionMode",
    "Mode",
    "RenderMode",
    "Scene",
    "StorageVendor",
    "StreamMode",
    "StreamTypes",
    "SubscribeUidGroup",
    "VideoLayout",
    "VideoStreamType",
]


class Mode(StrEnum):
    """The `mode` path segment of start/query/update/updateLayout/stop (§2)."""

    INDIVIDUAL = "individual"
    MIX = "mix"
    WEB = "web"


class Scene(IntEnum):
    """`acquire.clientRequest.scene` (§3.1)."""

    REALTIME = 0
    WEB = 1
    POSTPONED_TRANSCODING = 2


class ChannelType(IntEnum):
    """`recordingConfig.channelType`: must match the RTC clients' profile."""

    COMMUNICATION = 0
    LIVE = 1


class StreamTypes(IntEnum):
    """`recordingConfig.streamTypes`."""

    AUDIO_ONLY = 0
    VIDEO_ONLY = 1
    AUDIO_AND_VIDEO = 2

    @property
    def has_audio(self) -> bool:
        return self is not StreamTypes.VIDEO_ONLY

    @property
    def has_video(self) -> bool:
        return self is not StreamTypes.AUDIO_ONLY


class StreamMode(StrEnum):
    """`recordingConfig.streamMode` (individual mode only)."""

    DEFAULT = "default"
    STANDARD = "standard"
    ORIGINAL = "original"


class DecryptionMode(IntEnum):
    """`recordingConfig.decryptionMode`."""

    NONE = 0
    AES_128_XTS = 1
    AES_128_ECB = 2
    AES_256_XTS = 3
    SM4_128_ECB = 4
    AES_128_GCM = 5
    AES_256_GCM = 6
    AES_128_GCM2 = 7
    AES_256_GCM2 = 8


class VideoStreamType(IntEnum):
    """`recordingConfig.videoStreamType`: the high (big) or low (small) simulcast stream."""

    HIGH = 0
    LOW = 1


class AudioProfile(IntEnum):
    """`recordingConfig.audioProfile` (mix only).

    48 kHz: mono ~48 kbps, mono ~128 kbps, stereo ~192 kbps.
    """

    MUSIC_STANDARD = 0
    MUSIC_HIGH_QUALITY = 1
    MUSIC_HIGH_QUALITY_STEREO = 2


class SubscribeUidGroup(IntEnum):
    """`recordingConfig.subscribeUidGroup` (individual mode): how many uids are subscribed."""

    UP_TO_2 = 0
    UP_TO_7 = 1
    UP_TO_12 = 2
    UP_TO_17 = 3
    UP_TO_32 = 4
    UP_TO_49 = 5


class VideoLayout(IntEnum):
    """`transcodingConfig.mixedVideoLayout` / updateLayout `mixedVideoLayout` (§3.2.2)."""

    FLOAT = 0
    BEST_FIT = 1
    VERTICAL = 2
    CUSTOM = 3


class RenderMode(IntEnum):
    """`layoutConfig[].render_mode` and `backgroundConfig[].render_mode`."""

    CROP = 0
    FIT = 1


class StorageVendor(IntEnum):
    """`storageConfig.vendor` (§4.1)."""

    QINIU = 0
    AMAZON_S3 = 1
    ALIBABA = 2
    TENCENT = 3
    KINGSOFT = 4
    AZURE = 5
    GOOGLE = 6
    HUAWEI = 7
    BAIDU = 8
    S3_COMPATIBLE = 11
