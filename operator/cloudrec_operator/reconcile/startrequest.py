"""The spec as the protocol's request bodies (protocol.md §3.2, §3.4, §3.5, §9.2, §9.3).

These functions build the JSON ``clientRequest`` objects (camelCase keys,
numbers for enums, uids as strings); the handlers validate them into the
protocol's wire models. Secrets are passed in by the caller and only ever
placed in the returned body.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cloudrec_operator.api.enums import Layout, OutputFormat, RecordingMode
from cloudrec_operator.api.v1alpha1.cloudrecording import (
    CloudRecordingSpec,
    RecordingConfig,
    TranscodingConfig,
)
from cloudrec_protocol.models import ALL_STREAMS


@dataclass(frozen=True)
class StartSecrets:
    """Secret values resolved from the referenced Secrets."""

    access_key: str
    secret_key: str
    token: str | None = None
    decryption_secret: str | None = None
    decryption_salt: str | None = None


def protocol_mode(spec: CloudRecordingSpec) -> str:
    """The ``mode`` path segment: ``mix`` or ``individual``."""
    return "mix" if spec.recording_config.mode is RecordingMode.MIX else "individual"


def layout_settings(transcoding: TranscodingConfig) -> dict[str, Any]:
    """The layout part of transcodingConfig, also the whole updateLayout body."""
    body: dict[str, Any] = {
        "mixedVideoLayout": transcoding.layout.code,
        "backgroundColor": transcoding.background_color,
    }
    if transcoding.max_resolution_uid is not None:
        body["maxResolutionUid"] = transcoding.max_resolution_uid
    if transcoding.layout is Layout.CUSTOM and transcoding.regions:
        regions = []
        for region in transcoding.regions:
            item: dict[str, Any] = {
                "x_axis": region.x_axis,
                "y_axis": region.y_axis,
                "width": region.width,
                "height": region.height,
                "alpha": region.alpha,
                "render_mode": region.render_mode.code,
            }
            if region.uid is not None:
                item["uid"] = region.uid
            regions.append(item)
        body["layoutConfig"] = regions
    return body


def subscribe_lists(config: RecordingConfig) -> dict[str, list[str]]:
    """The four subscription lists that are set, with the protocol's key spelling."""
    lists = {
        "subscribeAudioUids": config.subscribe_audio_uids,
        "unSubscribeAudioUids": config.unsubscribe_audio_uids,
        "subscribeVideoUids": config.subscribe_video_uids,
        "unSubscribeVideoUids": config.unsubscribe_video_uids,
    }
    return {key: list(value) for key, value in lists.items() if value is not None}


UID_GROUP_SIZES = (2, 7, 12, 17, 32, 49)
"""The most uids each ``subscribeUidGroup`` (0-5) covers (protocol.md §3.2.1)."""


def subscribe_uid_group(config: RecordingConfig) -> int:
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
    count = UID_GROUP_SIZES[-1] if everyone else len(named)
    return next(group for group, most in enumerate(UID_GROUP_SIZES) if count <= most)


def recording_config(spec: CloudRecordingSpec, secrets: StartSecrets) -> dict[str, Any]:
    config = spec.recording_config
    body: dict[str, Any] = {
        "channelType": config.channel_type.code,
        "streamTypes": config.stream_types.code,
        "videoStreamType": config.video_stream_type.code,
        "decryptionMode": config.decryption.mode.code,
    }
    if config.max_idle_time:
        body["maxIdleTime"] = config.max_idle_time
    if config.stream_mode is not None:
        body["streamMode"] = config.stream_mode.wire
    if secrets.decryption_secret is not None:
        body["secret"] = secrets.decryption_secret
    if secrets.decryption_salt is not None:
        body["salt"] = secrets.decryption_salt
    if config.mode is RecordingMode.MIX:
        body["audioProfile"] = config.audio_profile.code
        transcoding = config.transcoding_config
        body["transcodingConfig"] = {
            "width": transcoding.width,
            "height": transcoding.height,
            "fps": transcoding.fps,
            "bitrate": transcoding.bitrate,
            **layout_settings(transcoding),
        }
    else:
        body["subscribeUidGroup"] = subscribe_uid_group(config)
    body.update(subscribe_lists(config))
    return body


def start_client_request(spec: CloudRecordingSpec, secrets: StartSecrets) -> dict[str, Any]:
    """``start``'s ``clientRequest`` for the spec (SDK mapping in protocol.md §9)."""
    storage = spec.storage_config
    storage_body: dict[str, Any] = {
        "vendor": storage.vendor.code,
        "region": storage.region,
        "bucket": storage.bucket,
        "accessKey": secrets.access_key,
        "secretKey": secrets.secret_key,
    }
    if storage.file_name_prefix:
        storage_body["fileNamePrefix"] = list(storage.file_name_prefix)
    extension: dict[str, str] = {}
    if storage.endpoint is not None:
        extension["endpoint"] = storage.endpoint
    if storage.server_side_encryption is not None:
        extension["sse"] = storage.server_side_encryption.wire
    if storage.object_tags:
        extension["tag"] = urlencode([(tag.key, tag.value) for tag in storage.object_tags])
    if extension:
        storage_body["extensionParams"] = extension
    config = spec.recording_config
    file_types = [fmt.value.lower() for fmt in config.output_formats]
    if OutputFormat.HLS.value.lower() in file_types:
        file_types.remove("hls")
        file_types.insert(0, "hls")
    body: dict[str, Any] = {
        "recordingConfig": recording_config(spec, secrets),
        "recordingFileConfig": {"avFileType": file_types},
        "storageConfig": storage_body,
    }
    if secrets.token is not None:
        body["token"] = secrets.token
    return body


def update_client_request(spec: CloudRecordingSpec) -> dict[str, Any]:
    """``update``'s ``clientRequest``: the subscription lists (empty means everyone)."""
    lists = subscribe_lists(spec.recording_config)
    audio = {k: v for k, v in lists.items() if "Audio" in k} or {
        "subscribeAudioUids": ["#allstream#"]
    }
    video = {k: v for k, v in lists.items() if "Video" in k} or {
        "subscribeVideoUids": ["#allstream#"]
    }
    return {"streamSubscribe": {"audioUidList": audio, "videoUidList": video}}


def _digest(value: object) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def layout_hash(spec: CloudRecordingSpec) -> str:
    """Digest of what updateLayout would change."""
    return _digest(layout_settings(spec.recording_config.transcoding_config))


def subscribe_hash(spec: CloudRecordingSpec) -> str:
    """Digest of what update would change."""
    return _digest(subscribe_lists(spec.recording_config))
