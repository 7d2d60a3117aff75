"""Typed settings of the self-hosted recorder, read once at start-up.

Sources, later ones winning:

1. a YAML or JSON file (``python -m cloudrec_recorder --config FILE``);
2. environment variables ``CLOUDREC_RECORDER_<FIELD>``, with ``__`` between the
   levels of nested fields, e.g. ``CLOUDREC_RECORDER_CUSTOMER_SECRET`` or
   ``CLOUDREC_RECORDER_APPS__myapp__JANUS__WS_URL``. A value that starts with
   ``[`` or ``{`` is parsed as YAML (``[a, b]`` is a list); any other value stays the
   string it is (``8080`` becomes a number where the field is a number, and a secret of
   digits stays a string).

Field names are camelCase in files (snake_case is accepted too). Secrets are
``SecretStr``: they never show in ``repr`` or logs, and an invalid configuration is
reported by :class:`SettingsError`, which names fields and never quotes a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    WebsocketUrl,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from cloudrec_protocol.manifest import load_private_key

ENV_PREFIX = "CLOUDREC_RECORDER_"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


class ForwardSrtp(StrEnum):
    """When Janus' RTP forwarders to the recorder send SRTP (``janus.forwardSrtp``)."""

    AUTO = "Auto"
    """SRTP unless ``forwardHost`` is a loopback address (the media never leaves the host)."""
    ALWAYS = "Always"
    NEVER = "Never"
    """Plain RTP: only where the path between Janus and the recorder is trusted."""


class JanusSettings(_Model):
    """How to reach the Janus server that holds an app's channels (VideoRoom rooms)."""

    ws_url: WebsocketUrl
    """Janus WebSockets API (its ``janus.transport.websockets`` transport), e.g.
    ``ws://127.0.0.1:8188/``. The recorder process keeps one WebSocket to it, which carries
    every recording's Janus session."""

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

    forward_host: IPvAnyAddress = IPv4Address("127.0.0.1")
    """The recorder's media address: Janus RTP-forwards every subscribed stream to UDP ports
    the recorder binds on it. The default suits a Janus on the same host (or pod); for a
    Janus elsewhere give an address of this recorder that Janus reaches (the media then
    crosses that network as SRTP: ``forwardSrtp``; docs/architecture.md: forwarded media)."""

    forward_srtp: ForwardSrtp = ForwardSrtp.AUTO
    """Whether the forwarders send SRTP, each stream under a fresh random key that only Janus
    and the recorder's libavformat see: ``Auto`` (SRTP unless ``forwardHost`` is a loopback
    address), ``Always``, or ``Never`` (plain RTP, which anyone on the path can read and
    inject into; only for a path both ends trust)."""

    admin_key: SecretStr | None = None
    """The VideoRoom plugin's ``admin_key``, needed when the server sets ``lock_rtp_forward``
    (then only holders of the key may create RTP forwarders)."""

    @property
    def srtp_forwarding(self) -> bool:
        """Whether the forwarders to ``forwardHost`` send SRTP (``forwardSrtp`` decided)."""
        if self.forward_srtp is ForwardSrtp.AUTO:
            return not self.forward_host.is_loopback
        return self.forward_srtp is ForwardSrtp.ALWAYS

    @model_validator(mode="before")
    @classmethod
    def _no_http_url(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and ("httpUrl" in data or "http_url" in data):
            raise ValueError(
                "httpUrl is no longer read: the recorder speaks Janus' WebSockets API; "
                "set wsUrl (e.g. ws://127.0.0.1:8188/) and enable Janus' WebSockets transport"
            )
        return data


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
    """One app id: its channel server, optionally its own callbacks, and its quotas."""

    janus: JanusSettings
    """The Janus server whose VideoRoom rooms are this app's channels."""

    callbacks: CallbackSettings | None = None
    """Callbacks for this app's recordings; the global ``callbacks`` when absent."""

    max_concurrent_recordings: int | None = Field(default=None, ge=1)
    """Recordings of this app at once on this process, counting resource ids acquired and
    not yet started; more get 400 / code 406 ``vendor_over_load`` naming the app. Unset: only
    the process limit applies (one app can then take every slot)."""

    acquires_per_minute: int | None = Field(default=None, ge=1)
    """``acquire`` requests of this app per minute on this process (a bucket refilled
    evenly); more get the gateway's 429 ``API rate limit exceeded``. Unset: no limit."""


class Credential(_Model):
    """A Basic-auth credential that may act on some app ids only (one per tenant)."""

    customer_id: str = Field(min_length=1)
    customer_secret: SecretStr
    app_ids: list[str] = Field(min_length=1)
    """The app ids this credential may use; requests for any other get 401."""

    @model_validator(mode="after")
    def _secret_not_empty(self) -> Credential:
        if not self.customer_secret.get_secret_value():
            raise ValueError("customerSecret must not be empty")
        return self


class TakeoverSettings(_Model):
    """Take-over of a lost replica's recordings (takeover.py): beats between the replicas."""

    enabled: bool = True
    """Off: a replica that dies without draining loses its recordings (the operator starts
    new ones), as before. Needs ``handover.enabled`` too."""

    heartbeat_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often each replica tells its peers what it records (also at every new segment)."""

    dead_after_seconds: float = Field(default=3.0, gt=0, le=600)
    """A replica not heard from for this long is lost: the next live replica in ring order
    takes its recordings over."""

    @model_validator(mode="after")
    def _beats_fit(self) -> TakeoverSettings:
        if self.dead_after_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("deadAfterSeconds must be at least twice heartbeatSeconds")
        return self


class HandoverSettings(_Model):
    """Hand-over of running recordings to another replica when this one drains."""

    enabled: bool = True
    """Off: a draining replica stops its recordings (the files end there) as before."""

    replicas: list[str] = Field(default_factory=list)
    """Replica ids that may take recordings over (this one is skipped); empty: the keys of
    ``peers``. With ``peerUrlTemplate`` (a StatefulSet) list the pod names here."""

    timeout_seconds: float = Field(default=30.0, gt=0)
    """How long one hand-over may take, offer to the taker's first complete segment; then
    the recording is stopped here instead."""

    cut_margin_seconds: float = Field(default=1.5, ge=0)
    """The taker's files begin at the first segment boundary at least this long after its
    first media (time for every publisher's picture to arrive)."""

    takeover: TakeoverSettings = Field(default_factory=TakeoverSettings)
    """A replica lost without draining: its recordings go on on another (docs/operations.md)."""

    test_fault_taker_stalls: bool = False
    """Test only (fault injection), never set in production: as a hand-over's taker this
    replica records but never reports a complete segment, as a taker too slow for its giver
    would; the giver gives up after ``timeoutSeconds`` (or at a ``stop``)."""

    test_fault_taker_forgets: bool = False
    """Test only (fault injection), never set in production: as a hand-over's taker this
    replica gives the recording up when the giver's done comes (as if its taking had been
    abandoned meanwhile) and answers it ``404``."""


class EgressSettings(_Model):
    """Where the recorder may connect on a tenant's behalf (storage endpoints, image URLs).

    By default only public addresses: loopback, link-local, private, metadata and other
    special-purpose addresses are refused (400 / code 2 at ``start``, and on every
    connection, after DNS resolution)."""

    allow_cidrs: list[IPvAnyNetwork] = Field(default_factory=list)
    """Networks allowed although not public, e.g. ``10.20.0.0/16`` for an in-cluster
    MinIO. An IPv4 network also covers its IPv4-mapped IPv6 forms."""

    allow_hosts: list[str] = Field(default_factory=list)
    """Host names (``minio.storage.svc``) or ``host:port`` allowed whatever they resolve
    to: their DNS is trusted."""


class BackgroundImageSettings(_Model):
    """Where a mix's background pictures (``backgroundImage``, ``defaultUserBackgroundImage``,
    ``backgroundConfig[].image_url``) may be fetched from."""

    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names (or IP addresses) pictures may come from, over HTTP or HTTPS;
    ``*.example.com`` allows every name under ``example.com``. Empty (the default): a
    request naming a picture is refused (400, code 2: background images are not allowed)."""

    allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    """Loopback, link-local, private or other non-public networks an allowed host may
    resolve to. By default none: such an address is refused when the picture is fetched
    (a warning event; the recording shows the colour)."""

    max_bytes: int = Field(default=6 * 1024 * 1024, ge=1024)
    """Largest picture file fetched (the protocol's 6 MB); a bigger one is not shown."""

    max_pixels: int = Field(default=4096 * 4096, ge=4)
    """Largest picture (width x height) decoded; a bigger one is not shown."""

    timeout_seconds: float = Field(default=10.0, gt=0)
    """A picture that has not arrived within this time is not shown."""


class RecorderSettings(_Model):
    """Everything the recorder process needs."""

    host: str = "127.0.0.1"
    """Address the HTTP API listens on."""

    port: int = Field(default=8080, ge=0, le=65535)
    """Port the HTTP API listens on."""

    customer_id: str | None = None
    """Basic-auth user name of the credential that may use every app id (the protocol's
    Customer ID); optional when ``credentials`` names every tenant's own."""

    customer_secret: SecretStr | None = None
    """Basic-auth password of that credential (the protocol's Customer Secret)."""

    credentials: list[Credential] = Field(default_factory=list)
    """More credentials, each for some app ids only (per-tenant credentials)."""

    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body accepted; a larger one gets 413 before it is read (and only
    after the credentials were checked: an unauthenticated body is never read)."""

    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """When set, Prometheus metrics are also served on this port, on ``host``, without
    credentials (and nothing else is). Unset: only ``/metrics`` on the API port, which needs
    the credential of every app id. Restrict who reaches this port (NetworkPolicy)."""

    egress: EgressSettings = Field(default_factory=EgressSettings)
    """Non-public networks and hosts the recorder may send tenants' data to."""

    apps: dict[str, AppSettings]
    """App id -> channel server. Requests for other app ids get 400 ``invalid appid``."""

    callbacks: CallbackSettings = Field(default_factory=CallbackSettings)
    """Default callbacks for apps without their own."""

    background_images: BackgroundImageSettings = Field(default_factory=BackgroundImageSettings)
    """Where mix background pictures may come from (by default nowhere: none are allowed)."""

    spool_dir: Path = Path("/var/spool/cloudrec")
    """Where segments are written as they are produced (the hand-over to the uploader)."""

    keep_delivered_spool: bool = False
    """Keep a recording's spool directory after all its files are in the bucket. By default
    it is removed then (and delivered spools an earlier run left are removed at start-up)."""

    backup_dir: Path = Path("/var/lib/cloudrec/backup")
    """Where files go when the storage target refuses them."""

    storage_encryption_key: SecretStr | None = None
    """Key for storage targets on this machine's disk (backup copies kept at rest)."""

    manifest_signing_key: SecretStr | None = None
    """An Ed25519 private key in PEM (PKCS #8: ``openssl genpkey -algorithm ed25519``) that
    signs every recording's manifest (docs/verification.md), e.g. from a Secret through
    ``CLOUDREC_RECORDER_MANIFEST_SIGNING_KEY``. Without it the manifest is signed with the
    callback secret (HMAC-SHA256)."""

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

    handover: HandoverSettings = Field(default_factory=HandoverSettings)
    """Draining hands running recordings to another replica (docs/operations.md)."""

    @field_validator("manifest_signing_key")
    @classmethod
    def _signing_key_usable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            load_private_key(value.get_secret_value())  # ValueError saying what it is instead
        return value

    def manifest_private_key(self) -> Ed25519PrivateKey | None:
        """The parsed :attr:`manifest_signing_key`, or None."""
        key = self.manifest_signing_key
        return None if key is None else load_private_key(key.get_secret_value())

    @model_validator(mode="after")
    def _credentials_usable(self) -> RecorderSettings:
        if (self.customer_id is None) != (self.customer_secret is None):
            raise ValueError("customerId and customerSecret go together")
        if self.customer_secret is not None and not self.customer_secret.get_secret_value():
            raise ValueError("customerSecret must not be empty")
        if self.customer_id is None and not self.credentials:
            raise ValueError("give customerId and customerSecret, or credentials")
        ids = [c.customer_id for c in self.credentials] + [self.customer_id or ""]
        if len(set(ids)) != len(ids):
            raise ValueError("credentials: every customerId must be different")
        return self

    def peer_url(self, replica: str) -> str | None:
        """Where replica ``replica`` answers, or None when this process cannot tell."""
        if replica in self.peers:
            return str(self.peers[replica]).rstrip("/")
        if self.peer_url_template:
            return self.peer_url_template.format(replica=replica).rstrip("/")
        return None

    def handover_replicas(self) -> list[str]:
        """The replicas a draining one offers its recordings to, in ring order from the one
        after it (itself left out): among equals the next one takes, so successive drains
        (a rolling restart) pass recordings around the ring rather than back and forth."""
        names = list(dict.fromkeys(self.handover.replicas or list(self.peers)))
        if self.replica_id in names:
            at = names.index(self.replica_id)
            names = names[at + 1 :] + names[:at]
        return names

    def credential_for(self, appid: str) -> tuple[str, str] | None:
        """Basic credentials (id, secret) that may act on ``appid`` (peer hand-over calls)."""
        if self.customer_id is not None and self.customer_secret is not None:
            return self.customer_id, self.customer_secret.get_secret_value()
        for credential in self.credentials:
            if appid in credential.app_ids:
                return credential.customer_id, credential.customer_secret.get_secret_value()
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
    """``WS_URL`` -> ``ws_url``; other parts (app ids) keep their spelling."""
    return part.lower() if part.isupper() or part.replace("_", "").isupper() else part


class SettingsError(ValueError):
    """An invalid configuration; the message names fields and places, never a value."""


def _env_value(name: str, raw: str) -> Any:
    """A collection (``[...]``, ``{...}``) parsed as YAML; anything else stays a string."""
    if not raw.lstrip().startswith(("[", "{")):
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        raise SettingsError(f"{name}: not a valid YAML list or mapping") from None


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The nested mapping that ``CLOUDREC_RECORDER_*`` variables describe."""
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        path = [_env_key(p) for p in name[len(ENV_PREFIX) :].split("__") if p]
        if path:
            _set_path(tree, path, _env_value(name, raw))
    return tree


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_errors(error: ValidationError) -> str:
    """``field: message`` lines of a validation error, without the offending values.

    Pydantic's own text quotes each input (``input_value=...``): a secret given where a
    number or a string of another shape was expected would be printed.
    """
    lines = [
        f"{_location(tuple(e['loc']))}: {e['msg'] if e['type'] != 'value_error' else _plain(e)}"
        for e in error.errors(include_url=False, include_input=False, include_context=False)
    ]
    return "; ".join(lines)


def _plain(error: Any) -> str:
    """A custom validator's message (ours never quote values) without pydantic's prefix."""
    return str(error["msg"]).removeprefix("Value error, ")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())  # JSON is YAML too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SettingsError(f"{path}: not valid YAML{where}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise SettingsError(f"{path}: the top level must be a mapping")
    return loaded or {}


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
    """Read the file (if any) and overlay the environment.

    Raises :class:`SettingsError` (a ``ValueError``) when invalid: its message names each
    wrong field and never quotes a value (secrets stay out of logs and terminals).
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is None and environ.get(ENV_PREFIX + "CONFIG"):
        path = Path(environ[ENV_PREFIX + "CONFIG"])
    if path is not None:
        data = _read_file(path)
    try:
        return RecorderSettings.model_validate(_merge(data, env_overrides(environ)))
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
