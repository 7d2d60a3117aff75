"""Shared table of bad CloudRecording manifests and the samples they start from.

Each :class:`BadCase` starts from the minimal sample, changes a few fields
(``changes`` maps a dotted path to a new value, or to :data:`DELETE`), and names
the text the API server must answer with. The contract tier checks that the
pydantic models reject the same manifests (with the same words for CEL rules);
the cluster tier checks the real API server.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CRDS_DIR = REPO / "crds"
SAMPLES_DIR = CRDS_DIR / "samples"
MINIMAL_SAMPLE = SAMPLES_DIR / "10-minimal.yaml"

DELETE = object()
"""Marker: remove the field at this path."""


def sample_files() -> list[Path]:
    """Every sample manifest, in apply order."""
    return sorted(SAMPLES_DIR.glob("*.yaml"))


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of one file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def minimal() -> dict[str, Any]:
    """A fresh copy of the minimal CloudRecording sample."""
    return load_documents(MINIMAL_SAMPLE)[0]


def with_changes(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with each dotted path set to its value (or removed)."""
    obj = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = obj
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = copy.deepcopy(value)
    return obj


@dataclass(frozen=True)
class BadCase:
    """A manifest the API server must reject, and the words it must use."""

    id: str
    changes: dict[str, Any]
    message: str
    """A fragment of the API server's error."""
    cel: bool = False
    """True when a CEL rule rejects it: the model validators use the same message."""
    extra_messages: tuple[str, ...] = field(default_factory=tuple)

    def manifest(self, name: str = "bad") -> dict[str, Any]:
        """The bad manifest, named ``name``."""
        return with_changes(minimal(), {"metadata.name": name, **self.changes})


TC = "spec.recordingConfig.transcodingConfig"
RC = "spec.recordingConfig"
REGION = {"xAxis": 0, "yAxis": 0, "width": 0.5, "height": 0.5}

BAD_CASES: tuple[BadCase, ...] = (
    BadCase("uid-zero", {"spec.uid": "0"}, "spec.uid in body should match"),
    BadCase("uid-with-leading-zero", {"spec.uid": "0123"}, "spec.uid in body should match"),
    BadCase(
        "uid-above-2^32-1",
        {"spec.uid": "4294967296"},
        "spec.uid must be at most 4294967295",
        cel=True,
    ),
    BadCase("uid-as-a-number", {"spec.uid": 1234}, ".spec.uid: expected string"),
    BadCase("channel-name-missing", {"spec.channelName": DELETE}, "spec.channelName: Required"),
    BadCase("channel-name-too-long", {"spec.channelName": "c" * 64}, "spec.channelName: Too long"),
    BadCase(
        "channel-name-with-a-slash",
        {"spec.channelName": "room/1"},
        "spec.channelName in body should match",
    ),
    BadCase(
        "storage-config-missing", {"spec.storageConfig": DELETE}, "spec.storageConfig: Required"
    ),
    BadCase(
        "backend-ref-of-an-unknown-kind",
        {"spec.backendRef.kind": "Issuer"},
        'spec.backendRef.kind: Unsupported value: "Issuer"',
    ),
    BadCase(
        "width-above-1920",
        {f"{TC}.width": 1922},
        f"{TC}.width in body should be less than or equal to 1920",
    ),
    BadCase(
        "odd-canvas-width",
        {f"{TC}.width": 321},
        f"{TC}.width in body should be a multiple of 2",
    ),
    BadCase(
        "a-canvas-the-encoder-cannot-hold",
        {f"{TC}.width": 16, f"{TC}.height": 129600},
        f"{TC}.height in body should be less than or equal to 1920",
    ),
    BadCase(
        "canvas-above-1920x1080-pixels",
        {f"{TC}.width": 1920, f"{TC}.height": 1200},
        f"{TC}: width x height must not exceed 1920x1080",
        cel=True,
    ),
    BadCase("fps-not-supported", {f"{TC}.fps": 12}, f"{TC}.fps: Unsupported value: 12"),
    BadCase(
        "bitrate-above-6500",
        {f"{TC}.bitrate": 6501},
        f"{TC}.bitrate in body should be less than or equal to 6500",
    ),
    BadCase(
        "background-colour-by-name",
        {f"{TC}.backgroundColor": "red"},
        f"{TC}.backgroundColor in body should match",
    ),
    BadCase(
        "max-resolution-uid-without-vertical-layout",
        {f"{TC}.layout": "BestFit", f"{TC}.maxResolutionUid": "2001"},
        f"{TC}.maxResolutionUid is allowed only with the Vertical layout",
        cel=True,
    ),
    BadCase(
        "regions-without-custom-layout",
        {f"{TC}.regions": [REGION]},
        f"{TC}.regions is allowed only with the Custom layout",
        cel=True,
    ),
    BadCase(
        "custom-layout-without-regions",
        {f"{TC}.layout": "Custom"},
        f"{TC}.regions is required with the Custom layout",
        cel=True,
    ),
    BadCase(
        "region-outside-the-canvas",
        {f"{TC}.layout": "Custom", f"{TC}.regions": [{**REGION, "xAxis": 1.5}]},
        f"{TC}.regions[0].xAxis in body should be less than or equal to 1",
    ),
    BadCase(
        "eighteen-regions",
        {f"{TC}.layout": "Custom", f"{TC}.regions": [REGION] * 18},
        f"{TC}.regions: Too many: 18: must have at most 17 items",
    ),
    BadCase(
        "max-idle-time-below-5",
        {f"{RC}.maxIdleTime": 3},
        f"{RC}.maxIdleTime must be 0 (the default, 30 s) or between 5 and 2592000",
        cel=True,
    ),
    BadCase(
        "max-idle-time-above-30-days",
        {f"{RC}.maxIdleTime": 2592001},
        f"{RC}.maxIdleTime in body should be less than or equal to 2592000",
    ),
    BadCase(
        "decryption-without-secret",
        {f"{RC}.decryption": {"mode": "AES128XTS"}},
        f"{RC}.decryption.secretRef is required when decryption.mode is not None",
        cel=True,
    ),
    BadCase(
        "decryption-mode-unknown",
        {f"{RC}.decryption": {"mode": "AES512", "secretRef": {"name": "k"}}},
        f'{RC}.decryption.mode: Unsupported value: "AES512"',
    ),
    BadCase(
        "stream-types-in-lower-camel-case",
        {f"{RC}.streamTypes": "audioVideo"},
        f'{RC}.streamTypes: Unsupported value: "audioVideo"',
    ),
    BadCase(
        "audio-subscribe-and-unsubscribe-lists",
        {f"{RC}.subscribeAudioUids": ["1"], f"{RC}.unsubscribeAudioUids": ["2"]},
        f"{RC}.subscribeAudioUids and unsubscribeAudioUids are mutually exclusive",
        cel=True,
    ),
    BadCase(
        "video-subscribe-and-unsubscribe-lists",
        {f"{RC}.subscribeVideoUids": ["1"], f"{RC}.unsubscribeVideoUids": ["2"]},
        f"{RC}.subscribeVideoUids and unsubscribeVideoUids are mutually exclusive",
        cel=True,
    ),
    BadCase(
        "audio-list-for-a-video-only-recording",
        {f"{RC}.streamTypes": "VideoOnly", f"{RC}.unsubscribeAudioUids": ["1"]},
        f"{RC}.subscribeAudioUids and unsubscribeAudioUids need audio: streamTypes is VideoOnly",
        cel=True,
    ),
    BadCase(
        "video-list-for-an-audio-only-recording",
        {f"{RC}.streamTypes": "AudioOnly", f"{RC}.subscribeVideoUids": ["1"]},
        f"{RC}.subscribeVideoUids and unsubscribeVideoUids need video: streamTypes is AudioOnly",
        cel=True,
    ),
    BadCase(
        "thirty-three-subscribed-uids",
        {f"{RC}.subscribeVideoUids": [str(n) for n in range(1, 34)]},
        f"{RC}.subscribeVideoUids: Too many: 33: must have at most 32 items",
    ),
    BadCase(
        "subscribed-uid-not-a-number",
        {f"{RC}.subscribeAudioUids": ["alice"]},
        f"{RC}.subscribeAudioUids[0] in body should match",
    ),
    BadCase(
        "mp4-without-hls",
        {f"{RC}.outputFormats": ["MP4"]},
        f"{RC}.outputFormats: MP4 is allowed only together with HLS",
        cel=True,
    ),
    BadCase(
        "mp4-in-individual-mode",
        {f"{RC}.mode": "Individual", f"{RC}.outputFormats": ["HLS", "MP4"]},
        f"{RC}.outputFormats: MP4 is allowed only in Mix mode",
        cel=True,
    ),
    BadCase(
        "snapshots-in-mix-mode",
        {f"{RC}.snapshotConfig": {"captureInterval": 5}},
        f"{RC}.snapshotConfig is allowed only in Individual mode",
        cel=True,
    ),
    BadCase(
        "snapshots-without-video",
        {f"{RC}.mode": "Individual", f"{RC}.streamTypes": "AudioOnly", f"{RC}.snapshotConfig": {}},
        f"{RC}.snapshotConfig needs video: streamTypes is AudioOnly",
        cel=True,
    ),
    BadCase(
        "no-output-and-no-snapshots",
        {f"{RC}.outputFormats": []},
        f"{RC}.outputFormats may be empty only with snapshotConfig",
        cel=True,
    ),
    BadCase(
        "snapshot-interval-above-3600",
        {f"{RC}.mode": "Individual", f"{RC}.snapshotConfig": {"captureInterval": 3601}},
        f"{RC}.snapshotConfig.captureInterval in body should be less than or equal to 3600",
    ),
    BadCase(
        "background-image-not-http",
        {f"{TC}.backgroundImage": "file:///etc/passwd"},
        f"{TC}.backgroundImage in body should match",
    ),
    BadCase(
        "user-background-image-without-uid",
        {f"{TC}.userBackgroundImages": [{"imageUrl": "https://img.example.com/a.png"}]},
        f"{TC}.userBackgroundImages[0].uid: Required",
    ),
    BadCase(
        "s3-compatible-storage-without-endpoint",
        {"spec.storageConfig.endpoint": DELETE},
        "spec.storageConfig.endpoint is required when vendor is S3Compatible",
        cel=True,
    ),
    BadCase(
        "file-name-prefix-with-a-dash",
        {"spec.storageConfig.fileNamePrefix": ["team-a"]},
        "spec.storageConfig.fileNamePrefix[0] in body should match",
    ),
    BadCase(
        "file-name-prefix-above-128-characters",
        {"spec.storageConfig.fileNamePrefix": ["d" * 20] * 7},
        "spec.storageConfig.fileNamePrefix must be at most 128 characters including the slashes",
        cel=True,
    ),
    BadCase(
        "unknown-storage-vendor",
        {"spec.storageConfig.vendor": "Dropbox"},
        'spec.storageConfig.vendor: Unsupported value: "Dropbox"',
    ),
    BadCase(
        "state-suspended",
        {"spec.state": "Suspended"},
        'spec.state: Unsupported value: "Suspended"',
    ),
    BadCase(
        "release-policy-cancel",
        {"spec.releasePolicy": "Cancel"},
        'spec.releasePolicy: Unsupported value: "Cancel"',
    ),
    BadCase(
        "stream-mode-in-mix",
        {"spec.recordingConfig.streamMode": "Standard"},
        "spec.recordingConfig.streamMode is allowed only in Individual mode",
        cel=True,
    ),
    BadCase(
        "stream-mode-original-with-video",
        {"spec.recordingConfig.mode": "Individual", "spec.recordingConfig.streamMode": "Original"},
        "spec.recordingConfig.streamMode Original needs streamTypes AudioOnly",
        cel=True,
    ),
    BadCase(
        "stream-mode-unknown",
        {"spec.recordingConfig.mode": "Individual", "spec.recordingConfig.streamMode": "Raw"},
        'spec.recordingConfig.streamMode: Unsupported value: "Raw"',
    ),
    BadCase(
        "server-side-encryption-unknown",
        {"spec.storageConfig.serverSideEncryption": "aes256"},
        'spec.storageConfig.serverSideEncryption: Unsupported value: "aes256"',
    ),
    BadCase(
        "eleven-object-tags",
        {"spec.storageConfig.objectTags": [{"key": f"k{n}", "value": "v"} for n in range(11)]},
        "spec.storageConfig.objectTags: Too many: 11: must have at most 10 items",
    ),
    BadCase(
        "object-tag-key-repeated",
        {"spec.storageConfig.objectTags": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]},
        '.spec.storageConfig.objectTags: duplicate entries for key [key="a"]',
    ),
    BadCase(
        "misspelt-field",
        {"spec.channel": "demo-room"},
        ".spec.channel: field not declared in schema",
    ),
)


@dataclass(frozen=True)
class ImmutableCase:
    """An update the API server must refuse because it changes an identity field."""

    id: str
    before: dict[str, Any]
    after: dict[str, Any]
    message: str


IMMUTABLE_CASES: tuple[ImmutableCase, ...] = (
    ImmutableCase(
        "channel-name", {}, {"spec.channelName": "other-room"}, "spec.channelName is immutable"
    ),
    ImmutableCase("uid", {}, {"spec.uid": "200001"}, "spec.uid is immutable"),
    ImmutableCase(
        "app-id-changed", {"spec.appId": "one"}, {"spec.appId": "two"}, "spec.appId is immutable"
    ),
    ImmutableCase("app-id-added", {}, {"spec.appId": "two"}, "spec.appId is immutable"),
    ImmutableCase(
        "app-id-removed", {"spec.appId": "one"}, {"spec.appId": DELETE}, "spec.appId is immutable"
    ),
    ImmutableCase(
        "mode",
        {},
        {"spec.recordingConfig.mode": "Individual"},
        "spec.recordingConfig.mode is immutable",
    ),
    ImmutableCase(
        "storage-bucket",
        {},
        {"spec.storageConfig.bucket": "elsewhere"},
        "spec.storageConfig is immutable",
    ),
    ImmutableCase(
        "backend",
        {},
        {"spec.backendRef.name": "other-backend"},
        "spec.backendRef is immutable",
    ),
)
