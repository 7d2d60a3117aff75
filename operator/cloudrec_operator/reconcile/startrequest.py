"""The spec as the protocol's typed request bodies (protocol.md §3.2, §3.4, §3.5, §9.2, §9.3).

Each function builds the protocol's wire model (``cloudrec_protocol.models``) straight
from the typed spec; the client sends its ``to_wire()`` form. Secrets are passed in by
the caller and only ever placed in the returned model, where they stay ``SecretStr``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import SecretStr

from cloudrec_operator.api.enums import Layout, OutputFormat, RecordingMode, ServerSideEncryption
from cloudrec_operator.api.v1alpha1.cloudrecording import (
    CloudRecordingSpec,
    RecordingConfig,
    TranscodingConfig,
)
from cloudrec_protocol.enums import (
    AudioProfile,
    ChannelType,
    DecryptionMode,
    Mode,
    RenderMode,
    StorageVendor,
    StreamMode,
    StreamTypes,
    SubscribeUidGroup,
    VideoLayout,
    VideoStreamType,
)
from cloudrec_protocol.models import (
    ALL_STREAMS,
    AudioUidList,
    BackgroundConfig,
    ExtensionParams,
    FileType,
    LayoutRegion,
    RecordingFileConfig,
    SnapshotConfig,
    StartClientRequest,
    StorageConfig,
    StreamSubscribe,
    UpdateClientRequest,
    UpdateLayoutClientRequest,
    VideoUidList,
)
from cloudrec_protocol.models import RecordingConfig as WireRecordingConfig
from cloudrec_protocol.models import TranscodingConfig as WireTranscodingConfig


@dataclass(frozen=True)
class StartSecrets:
    """Secret values resolved from the referenced Secrets."""

    access_key: str
    secret_key: str
    token: str | None = None
    decryption_secret: str | None = None
    decryption_salt: str | None = None


def protocol_mode(spec: CloudRecordingSpec) -> Mode:
    """The ``mode`` path segment: ``mix`` or ``individual``."""
    return Mode.MIX if spec.recording_config.mode is RecordingMode.MIX else Mode.INDIVIDUAL


def _regions(transcoding: TranscodingConfig) -> list[LayoutRegion] | None:
    if transcoding.layout is not Layout.CUSTOM or not transcoding.regions:
        return None
    return [
        LayoutRegion(
            uid=region.uid,
            x_axis=region.x_axis,
            y_axis=region.y_axis,
            width=region.width,
            height=region.height,
            alpha=region.alpha,
            render_mode=RenderMode(region.render_mode.code),
        )
        for region in transcoding.regions
    ]


def layout_settings(transcoding: TranscodingConfig) -> UpdateLayoutClientRequest:
    """The layout part of transcodingConfig, also the whole updateLayout body."""
    return UpdateLayoutClientRequest(
        mixed_video_layout=VideoLayout(transcoding.layout.code),
        background_color=transcoding.background_color,
        max_resolution_uid=transcoding.max_resolution_uid,
        layout_config=_regions(transcoding),
        background_image=transcoding.background_image,
        default_user_background_image=transcoding.default_user_background_image,
        background_config=_user_backgrounds(transcoding),
    )


def _user_backgrounds(transcoding: TranscodingConfig) -> list[BackgroundConfig] | None:
    """``backgroundConfig``: the per-uid pictures, if any."""
    if not transcoding.user_background_images:
        return None
    return [
        BackgroundConfig(
            uid=item.uid,
            image_url=item.image_url,
            render_mode=RenderMode(item.render_mode.code),
        )
        for item in transcoding.user_background_images
    ]


def subscribe_lists(config: RecordingConfig) -> dict[str, list[str]]:
    """The four subscription lists that are set, with the protocol's key spelling (the
    digest of the live-changeable subscription)."""
    lists = {
        "subscribeAudioUids": config.subscribe_audio_uids,
        "unSubscribeAudioUids": config.unsubscribe_audio_uids,
        "subscribeVideoUids": config.subscribe_video_uids,
        "unSubscribeVideoUids": config.unsubscribe_video_uids,
    }
    return {key: list(value) for key, value in lists.items() if value is not None}


UID_GROUP_SIZES = {
    SubscribeUidGroup.UP_TO_2: 2,
    SubscribeUidGroup.UP_TO_7: 7,
    SubscribeUidGroup.UP_TO_12: 12,
    SubscribeUidGroup.UP_TO_17: 17,
    SubscribeUidGroup.UP_TO_32: 32,
    SubscribeUidGroup.UP_TO_49: 49,
}
"""The most uids each ``subscribeUidGroup`` covers (protocol.md §3.2.1)."""


def subscribe_uid_group(config: RecordingConfig) -> SubscribeUidGroup:
    """Individual mode's ``subscribeUidGroup``: the bucket of the number of uids subscribed
    (the union of the audio and video lists); the largest when everyone is subscribed (no
    list, a block list or ``#allstream#``), since how many will join is not known."""
    allow = [config.subscribe_audio_uids, config.subscribe_video_uids]
    named = {uid for uids in allow if uids for uid in uids}
    everyone = (
        ALL_STREAMS in named
        or config.unsubscribe_audio_uids is not None
        or config.unsubscribe_video_uids is not None
        or all(uids is None for uids in allow)
    )
    if everyone:
        return SubscribeUidGroup.UP_TO_49
    return next(group for group, most in UID_GROUP_SIZES.items() if len(named) <= most)


def _list(values: list[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def recording_config(spec: CloudRecordingSpec, secrets: StartSecrets) -> WireRecordingConfig:
    config = spec.recording_config
    mix = config.mode is RecordingMode.MIX
    transcoding = config.transcoding_config
    return WireRecordingConfig(
        channel_type=ChannelType(config.channel_type.code),
        stream_types=StreamTypes(config.stream_types.code),
        video_stream_type=VideoStreamType(config.video_stream_type.code),
        decryption_mode=DecryptionMode(config.decryption.mode.code),
        # 0 leaves it to the service, whose default the model carries.
        **({"max_idle_time": config.max_idle_time} if config.max_idle_time else {}),
        stream_mode=None if config.stream_mode is None else StreamMode(config.stream_mode.wire),
        secret=_secret(secrets.decryption_secret),
        salt=_secret(secrets.decryption_salt),
        audio_profile=AudioProfile(config.audio_profile.code) if mix else None,
        transcoding_config=WireTranscodingConfig(
            width=transcoding.width,
            height=transcoding.height,
            fps=transcoding.fps,
            bitrate=transcoding.bitrate,
            **dict(layout_settings(transcoding)),
        )
        if mix
        else None,
        subscribe_uid_group=None if mix else subscribe_uid_group(config),
        subscribe_audio_uids=_list(config.subscribe_audio_uids),
        un_subscribe_audio_uids=_list(config.unsubscribe_audio_uids),
        subscribe_video_uids=_list(config.subscribe_video_uids),
        un_subscribe_video_uids=_list(config.unsubscribe_video_uids),
    )


def _secret(value: str | None) -> SecretStr | None:
    return None if value is None else SecretStr(value)


def _file_types(spec: CloudRecordingSpec) -> list[FileType]:
    """``avFileType``: HLS first (the protocol's order), MP4 after it when asked for."""
    formats = spec.recording_config.output_formats
    types: list[FileType] = ["hls"] if OutputFormat.HLS in formats else []
    if OutputFormat.MP4 in formats:
        types.append("mp4")
    return types


def _snapshot_config(spec: CloudRecordingSpec) -> SnapshotConfig | None:
    """``snapshotConfig``: JPGs every ``captureInterval`` seconds (Individual mode)."""
    snapshots = spec.recording_config.snapshot_config
    if snapshots is None:
        return None
    return SnapshotConfig(capture_interval=snapshots.capture_interval, file_type=["jpg"])


def start_client_request(spec: CloudRecordingSpec, secrets: StartSecrets) -> StartClientRequest:
    """``start``'s ``clientRequest`` for the spec (SDK mapping in protocol.md §9)."""
    storage = spec.storage_config
    types = _file_types(spec)
    return StartClientRequest(
        token=_secret(secrets.token),
        recording_config=recording_config(spec, secrets),
        # no file types: a snapshot-only task, which has no recordingFileConfig (§3.2.3)
        recording_file_config=RecordingFileConfig(av_file_type=types) if types else None,
        snapshot_config=_snapshot_config(spec),
        storage_config=StorageConfig(
            vendor=StorageVendor(storage.vendor.code),
            region=storage.region,
            bucket=storage.bucket,
            access_key=SecretStr(secrets.access_key),
            secret_key=SecretStr(secrets.secret_key),
            file_name_prefix=list(storage.file_name_prefix) if storage.file_name_prefix else None,
            extension_params=_extension_params(spec),
        ),
    )


def _extension_params(spec: CloudRecordingSpec) -> ExtensionParams | None:
    """``storageConfig.extensionParams``: the endpoint, server-side encryption and tags."""
    storage = spec.storage_config
    sse = storage.server_side_encryption
    tags = storage.object_tags
    if storage.endpoint is None and sse is None and not tags:
        return None
    return ExtensionParams(
        endpoint=storage.endpoint,
        sse="kms" if sse is ServerSideEncryption.KMS else None if sse is None else "aes256",
        tag=urlencode([(tag.key, tag.value) for tag in tags]) if tags else None,
    )


def update_client_request(spec: CloudRecordingSpec) -> UpdateClientRequest:
    """``update``'s ``clientRequest``: the subscription lists (none means everyone)."""
    config = spec.recording_config
    audio = AudioUidList(
        subscribe_audio_uids=_list(config.subscribe_audio_uids),
        un_subscribe_audio_uids=_list(config.unsubscribe_audio_uids),
    )
    if audio.subscribe_audio_uids is None and audio.un_subscribe_audio_uids is None:
        audio = AudioUidList(subscribe_audio_uids=[ALL_STREAMS])
    video = VideoUidList(
        subscribe_video_uids=_list(config.subscribe_video_uids),
        un_subscribe_video_uids=_list(config.unsubscribe_video_uids),
    )
    if video.subscribe_video_uids is None and video.un_subscribe_video_uids is None:
        video = VideoUidList(subscribe_video_uids=[ALL_STREAMS])
    return UpdateClientRequest(
        stream_subscribe=StreamSubscribe(audio_uid_list=audio, video_uid_list=video)
    )


def _digest(value: object) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def layout_hash(spec: CloudRecordingSpec) -> str:
    """Digest of what updateLayout would change."""
    return _digest(layout_settings(spec.recording_config.transcoding_config).to_wire())


def subscribe_hash(spec: CloudRecordingSpec) -> str:
    """Digest of what update would change."""
    return _digest(subscribe_lists(spec.recording_config))
