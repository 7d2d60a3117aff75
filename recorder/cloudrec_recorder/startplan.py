"""What a start request asks of this recorder, checked and turned into settings (pure).

:func:`plan_start` is the recorder's whole judgement of a start ``clientRequest`` beyond the
wire model's own rules: what it cannot do is refused with 400 / code 2 naming the field
(decryption, web page recording, postponed transcoding, Azure, vendors or regions it cannot
reach), and the rest becomes a :class:`StartPlan`: the storage target (with the server-side
encryption and object tags of ``extensionParams``), the media pipeline's configuration (the
documented fallbacks applied), the individual ``streamMode`` and snapshots. A mix naming a
background picture the recorder may not fetch (``backgroundImages.allowedHosts``) is refused
here too. No I/O happens here; the recording (:mod:`cloudrec_recorder.recording`) joins the
channel with the plan.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cloudrec_protocol.enums import DecryptionMode, StreamMode
from cloudrec_protocol.models import LayoutSettings, RecordingConfig, StartClientRequest
from cloudrec_protocol.vendors import StorageConfigError
from cloudrec_recorder import errors
from cloudrec_recorder.backgrounds import layout_refusal
from cloudrec_recorder.channel.room import janus_id
from cloudrec_recorder.media import config as media
from cloudrec_recorder.media.snapshot import SnapshotConfig
from cloudrec_recorder.sessions import Resource
from cloudrec_recorder.settings import RecorderSettings
from cloudrec_recorder.storage.target import StorageTarget, target_from_storage_config

__all__ = [
    "NO_DECRYPTION",
    "MixLayout",
    "StartPlan",
    "media_layout",
    "mix_config",
    "plan_start",
    "storage_target",
]

NO_DECRYPTION = "the self-hosted recorder cannot decrypt channels yet"


@dataclass(frozen=True)
class StartPlan:
    """A start request as this recorder will carry it out."""

    config: RecordingConfig
    """``recordingConfig`` (defaults filled in)."""
    target: StorageTarget
    mp4: bool
    """MP4 files besides HLS (mix mode)."""
    media: media.MixConfig | media.IndividualConfig
    """The pipeline's configuration for the mode."""
    individual: bool
    records_media: bool = True
    """Playable files are written (false: a snapshot-only task)."""
    snapshots: SnapshotConfig | None = None
    """JPG snapshots (individual mode's ``snapshotConfig``)."""
    endpoint_field: str = "storageConfig.region"
    """The request field that gave the bucket's endpoint (what an egress refusal names)."""


@dataclass(frozen=True)
class MixLayout:
    """A mix's layout as the pipeline takes it (``set_layout`` / ``check_layout``)."""

    layout: media.VideoLayout
    max_resolution_uid: str | None
    regions: tuple[media.RegionSpec, ...]
    background_color: str


def media_layout(layout: LayoutSettings) -> MixLayout:
    """The pipeline's layout for a transcodingConfig / updateLayout body."""
    regions = tuple(
        media.RegionSpec(
            x=r.x_axis,
            y=r.y_axis,
            width=r.width,
            height=r.height,
            uid=r.uid,
            alpha=r.alpha,
            render_mode=media.RenderMode(int(r.render_mode)),
        )
        for r in layout.layout_config or ()
    )
    return MixLayout(
        layout=media.VideoLayout(int(layout.mixed_video_layout)),
        max_resolution_uid=layout.max_resolution_uid,
        regions=regions,
        background_color=layout.background_color,
    )


def mix_config(config: RecordingConfig, mp4: bool, settings: RecorderSettings) -> media.MixConfig:
    """The canvas and audio of a mix recording; ``ValueError`` (code 2) when unusable."""
    files = media.MixConfig(
        stream_types=config.stream_types,
        audio_profile=media.AudioProfile(config.audio_profile or 0),
        segment_seconds=settings.hls_segment_seconds,
        mp4=mp4,
        mp4_max_seconds=settings.mp4_max_seconds,
        mp4_max_bytes=settings.mp4_max_bytes,
    )
    tc = config.transcoding_config
    if tc is None:
        return files
    layout = media_layout(tc)
    return dataclasses.replace(
        files,
        width=tc.width,
        height=tc.height,
        fps=media.effective_fps(tc.fps),
        bitrate_kbps=tc.bitrate,
        layout=layout.layout,
        max_resolution_uid=tc.max_resolution_uid,
        regions=layout.regions,
        background_color=tc.background_color,
    )


def individual_config(
    config: RecordingConfig, settings: RecorderSettings
) -> media.IndividualConfig:
    """One audio and one video HLS per uid, plus what ``streamMode`` adds; the video stored
    as received unless ``streamMode`` standard needs it re-encoded."""
    stream_mode = config.stream_mode or StreamMode.DEFAULT
    return media.IndividualConfig(
        stream_types=config.stream_types,
        segment_seconds=settings.hls_segment_seconds,
        stream_mode=stream_mode,
        # stored as received (protocol.md §8 slices); standard's merged playlist needs TS
        video_as_sent=stream_mode is not StreamMode.STANDARD,
    )


def storage_target(request: StartClientRequest) -> StorageTarget:
    """The customer's bucket; :class:`StorageConfigError` (code 2) when unusable."""
    sc = request.storage_config
    params = sc.extension_params.model_dump(exclude_none=True) if sc.extension_params else None
    return target_from_storage_config(
        vendor=int(sc.vendor),
        region=sc.region,
        bucket=sc.bucket,
        access_key=sc.access_key.get_secret_value(),
        secret_key=sc.secret_key.get_secret_value(),
        file_name_prefix=sc.file_name_prefix,
        extension_params=params,
        sts_token=sc.sts_token.get_secret_value() if sc.sts_token else None,
    )


def _refuse_unsupported(request: StartClientRequest, config: RecordingConfig) -> None:
    """400 / 2 naming each field whose feature the self-hosted recorder does not have."""
    if config.decryption_mode != DecryptionMode.NONE:
        raise errors.invalid_parameter(f"recordingConfig.decryptionMode: {NO_DECRYPTION}")
    if request.extension_service_config:
        raise errors.invalid_parameter(
            "clientRequest.extensionServiceConfig: extension services (web page recording, "
            "CDN push, VoD) are not supported by the self-hosted recorder"
        )
    apps = request.apps_collection
    if apps is not None and apps.combination_policy == "postpone_transcoding":
        raise errors.invalid_parameter(
            "clientRequest.appsCollection.combinationPolicy: postponed transcoding is not "
            "supported by the self-hosted recorder"
        )
    if request.transcode_options:
        raise errors.invalid_parameter(
            "clientRequest.transcodeOptions: postponed transcoding and audio mixing are not "
            "supported by the self-hosted recorder"
        )


def plan_start(
    settings: RecorderSettings,
    *,
    appid: str,
    resource: Resource,
    individual: bool,
    request: StartClientRequest,
) -> StartPlan:
    """The plan for ``request``, or :class:`~cloudrec_recorder.errors.ApiError` (400)."""
    config = request.recording_config or RecordingConfig()
    _refuse_unsupported(request, config)
    try:
        target = storage_target(request)
    except StorageConfigError as exc:
        raise errors.ApiError(400, exc.code, str(exc)) from None
    app = settings.app(appid)
    if app is None:
        raise errors.invalid_appid()
    if app.janus.token_auth and request.token is None:
        raise errors.invalid_parameter(
            "clientRequest.token: the channel server of this app requires a token"
        )
    for what, value in (("cname", resource.cname), ("uid", resource.uid)):
        try:
            janus_id(value, string_ids=app.janus.string_ids, what=what)
        except ValueError as exc:
            raise errors.invalid_parameter(str(exc)) from None
    mp4 = bool(request.recording_file_config and request.recording_file_config.mp4)
    try:
        pipeline: media.MixConfig | media.IndividualConfig = (
            individual_config(config, settings) if individual else mix_config(config, mp4, settings)
        )
    except ValueError as exc:
        raise errors.invalid_parameter(f"recordingConfig.transcodingConfig: {exc}") from None
    tc = config.transcoding_config
    where = "clientRequest.recordingConfig.transcodingConfig"
    if not individual and tc is not None:
        refused = layout_refusal(tc, settings.background_images, where)
        if refused is not None:
            raise errors.invalid_parameter(refused)
    snapshot = request.snapshot_config
    explicit = request.storage_config.extension_params
    return StartPlan(
        config=config,
        target=target,
        mp4=mp4,
        media=pipeline,
        individual=individual,
        records_media=not individual or request.recording_file_config is not None,
        snapshots=SnapshotConfig(interval_seconds=snapshot.capture_interval) if snapshot else None,
        endpoint_field=(
            "storageConfig.extensionParams.endpoint"
            if explicit is not None and explicit.endpoint
            else "storageConfig.region"
        ),
    )
