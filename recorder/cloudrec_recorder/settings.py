"""Typed settings of the self-hosted recorder, read once at start-up.

Sources, later ones winning:

1. a YAML or JSON file (``python -m cloudrec_recorder --config FILE``);
2. environment variables ``CLOUDREC_RECORDER_<FIELD>``, with ``__`` between the
   levels of nested fields, e.g. ``CLOUDREC_RECORDER_CUSTOMER_SECRET`` or
   ``CLOUDREC_RECORDER_APPS__myapp__JANUS__HTTP_URL``. Values are parsed as
   YAML scalars/lists (``8080`` is a number, ``[a, b]`` a list).

Field names are camelCase in files (snake_case is accepted too). Secrets are
``SecretStr``: they never show in ``repr`` or logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

ENV_PREFIX = "CLOUDREC_RECORDER_"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


class JanusSettings(_Model):
    """How to reach the Janus server that holds an app's channels (VideoRoom rooms)."""

    http_url: AnyHttpUrl
    """Janus HTTP API base, e.g. ``http://127.0.0.1:8088/janus``."""

    api_secret: SecretStr | None = None
    """Janus ``api_secret`` sent with every request, if the server demands one."""

    token_auth: bool = False
    """Janus core ``token_auth`` is on. The start request's ``token`` is always sent, as the
    Janus API token and as the VideoRoom join token; with this on, a start without a token is
    refused at once (400, code 2 naming ``clientRequest.token``)."""

    string_ids: bool = True
    """The VideoRoom plugin's ``string_ids`` setting on this server. True: room and participant
    ids are strings (any cname and uid). False (a stock Janus): they are integers, sent as JSON
    numbers, so cname and uid must be positive integers without leading zeros; a start with
    another cname or uid is refused at once (400, code 2 naming ``cname`` or ``uid``)."""


class CallbackSettings(_Model):
    """Where signed event notifications (productId 3) go."""

    urls: list[AnyHttpUrl] = Field(default_factory=list)
    """Every notification is POSTed to each of these URLs."""

    secret: SecretStr | None = None
    """HMAC key for the ``Agora-Signature`` / ``Agora-Signature-V2`` headers."""

    timeout_seconds: float = Field(default=10.0, gt=0)
    """A delivery counts as failed if no 200 arrives within this time."""

    retries: int = Field(default=3, ge=0)
    """Resends after the first attempt (immediately, then at growing intervals)."""

    queue_size: int = Field(default=1000, ge=1)
    """Notifications waiting for delivery; when full the oldest is dropped (and counted)."""


class AppSettings(_Model):
    """One app id: its channel server and, optionally, its own callbacks."""

    janus: JanusSettings
    """The Janus server whose VideoRoom rooms are this app's channels."""

    callbacks: CallbackSettings | None = None
    """Callbacks for this app's recordings; the global ``callbacks`` when absent."""


class RecorderSettings(_Model):
    """Everything the recorder process needs."""

    host: str = "127.0.0.1"
    """Address the HTTP API listens on."""

    port: int = Field(default=8080, ge=0, le=65535)
    """Port the HTTP API listens on."""

    customer_id: str
    """Basic-auth user name every API request must carry (the protocol's Customer ID)."""

    customer_secret: SecretStr
    """Basic-auth password (the protocol's Customer Secret)."""

    apps: dict[str, AppSettings]
    """App id -> channel server. Requests for other app ids get 400 ``invalid appid``."""

    callbacks: CallbackSettings = Field(default_factory=CallbackSettings)
    """Default callbacks for apps without their own."""

    spool_dir: Path = Path("/var/spool/cloudrec")
    """Where segments are written as they are produced (the hand-over to the uploader)."""

    keep_delivered_spool: bool = False
    """Keep a recording's spool directory after all its files are in the bucket. By default
    it is removed then (and delivered spools an earlier run left are removed at start-up)."""

    backup_dir: Path = Path("/var/lib/cloudrec/backup")
    """Where files go when the storage target refuses them."""

    storage_encryption_key: SecretStr | None = None
    """Key for storage targets on this machine's disk (backup copies kept at rest)."""

    max_concurrent_recordings: int = Field(default=8, ge=1)
    """Recordings this process runs at once; more get code 406 ``vendor_over_load``."""

    hls_segment_seconds: float = Field(default=4.0, gt=0)
    """Target length of an HLS segment."""

    mp4_max_seconds: float = Field(default=7200.0, gt=0)
    """A recording's MP4 is split (``_0.mp4``, ``_1.mp4``...) at the next segment boundary
    once the current file is this long (the service: about 2 hours)..."""

    mp4_max_bytes: int = Field(default=2 * 1024**3, gt=0)
    """...or this large (the service: about 2 GB)."""

    progress_interval_seconds: float = Field(default=60.0, gt=0)
    """How often the uploader reports ``uploading_progress`` (event 33)."""

    resource_id_ttl_seconds: float = Field(default=300.0, gt=0)
    """How long a resource id may wait for ``start`` (the protocol says 5 minutes)."""

    sync_stop_timeout_seconds: float = Field(default=20.0, gt=0)
    """A synchronous ``stop`` waits this long for the upload before answering code 50."""

    drain_timeout_seconds: float = Field(default=60.0, gt=0)
    """On SIGTERM, how long running recordings get to stop and finish their files."""

    replica_id: str = Field(default="r0", pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    """This replica's name (e.g. the pod name), encoded in every resource id: a request for
    another replica's resource id is forwarded to that replica."""

    peers: dict[str, AnyHttpUrl] = Field(default_factory=dict)
    """Replica id -> base URL of that replica, for forwarding (wins over the template)."""

    peer_url_template: str | None = None
    """Base URL of any replica, ``{replica}`` standing for its id, e.g.
    ``http://{replica}.cloudrec-recorder-headless:8080`` (StatefulSet pods)."""

    def peer_url(self, replica: str) -> str | None:
        """Where replica ``replica`` answers, or None when this process cannot tell."""
        if replica in self.peers:
            return str(self.peers[replica]).rstrip("/")
        if self.peer_url_template:
            return self.peer_url_template.format(replica=replica).rstrip("/")
        return None

    def app(self, appid: str) -> AppSettings | None:
        return self.apps.get(appid)

    def callbacks_for(self, appid: str) -> CallbackSettings:
        app = self.apps.get(appid)
        return app.callbacks if app is not None and app.callbacks is not None else self.callbacks


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def _env_key(part: str) -> str:
    """``HTTP_URL`` -> ``http_url``; other parts (app ids) keep their spelling."""
    return part.lower() if part.isupper() or part.replace("_", "").isupper() else part


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The nested mapping that ``CLOUDREC_RECORDER_*`` variables describe."""
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        path = [_env_key(p) for p in name[len(ENV_PREFIX) :].split("__") if p]
        if path:
            _set_path(tree, path, yaml.safe_load(raw) if raw else raw)
    return tree


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        # Match an existing key written in another spelling (camelCase vs snake_case).
        target = next((k for k in out if _norm(k) == _norm(key)), key)
        if isinstance(value, Mapping) and isinstance(out.get(target), Mapping):
            out[target] = _merge(dict(out[target]), value)
        else:
            out[target] = value
    return out


def _norm(key: str) -> str:
    return key.replace("_", "").lower()


def load_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> RecorderSettings:
    """Read the file (if any) and overlay the environment; raises ``ValueError`` when invalid."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is None and environ.get(ENV_PREFIX + "CONFIG"):
        path = Path(environ[ENV_PREFIX + "CONFIG"])
    if path is not None:
        loaded = yaml.safe_load(path.read_text())  # JSON is YAML too
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError(f"{path}: the top level must be a mapping")
        data = loaded or {}
    return RecorderSettings.model_validate(_merge(data, env_overrides(environ)))
