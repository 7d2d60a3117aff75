"""The customer's bucket (``StorageTarget``) and how it is kept on disk, encrypted.

A restarted recorder must finish uploads it had started, so it needs the
storage credentials again; the start request that carried them is gone. The
target is therefore written next to the spool and the backup, **encrypted**
with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key from
the recorder's configuration (``storageEncryptionKey`` /
``CLOUDREC_RECORDER_STORAGE_ENCRYPTION_KEY``). The key is either a Fernet key
(``Fernet.generate_key()``) or any passphrase, which HKDF-SHA256 turns into one.
Without the key the sealed file is useless; credentials are never written in
clear and never appear in ``repr``, logs or exceptions (``SecretStr``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from cloudrec_protocol.vendors import StorageConfigError, resolve_endpoint

_PREFIX_PART = re.compile(r"^[A-Za-z0-9]+$")

SSE_HEADER_VALUES = {"aes256": "AES256", "kms": "aws:kms"}
"""``extensionParams.sse`` -> the S3 ``x-amz-server-side-encryption`` value."""
MAX_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def object_tags(tag: str) -> tuple[tuple[str, str], ...]:
    """``extensionParams.tag`` as S3 object tags (pure).

    The tag is an S3 tag set in its header form, ``key1=value1&key2=value2`` (URL-encoded);
    a word without ``=`` is one tag with an empty value. At most 10 tags, keys of 1-128 and
    values of at most 256 characters (S3's limits); otherwise :class:`StorageConfigError`.
    """
    pairs = parse_qsl(tag, keep_blank_values=True) if "=" in tag else [(tag, "")]
    keys = [key for key, _ in pairs]
    if (
        not pairs
        or len(pairs) > MAX_TAGS
        or len(set(keys)) != len(keys)
        or any(not 1 <= len(key) <= MAX_TAG_KEY for key in keys)
        or any(len(value) > MAX_TAG_VALUE for _, value in pairs)
    ):
        raise StorageConfigError(
            "storageConfig.extensionParams.tag must be key=value pairs joined by & (at most 10, "
            "unique keys of 1-128 characters, values of at most 256)"
        )
    return tuple(pairs)


@dataclass(frozen=True)
class StorageTarget:
    """Everything needed to put objects into the customer's bucket."""

    endpoint: str
    """S3 endpoint URL with scheme."""
    region: str
    """Signing region."""
    bucket: str
    access_key: SecretStr
    secret_key: SecretStr
    prefix: tuple[str, ...] = ()
    """``fileNamePrefix`` path segments."""
    session_token: SecretStr | None = None
    """``stsToken`` (temporary credentials), if any."""
    addressing_style: str = "path"
    extra: Mapping[str, str] = field(default_factory=dict)
    """``extensionParams`` besides the endpoint: ``sse`` (``aes256``/``kms``) and ``tag``,
    applied to every object uploaded (:meth:`object_params`)."""

    def object_params(self) -> dict[str, str]:
        """S3 parameters of every PUT and multipart upload: server-side encryption, tags."""
        params: dict[str, str] = {}
        sse = self.extra.get("sse")
        if sse:
            params["ServerSideEncryption"] = SSE_HEADER_VALUES[sse]
        tag = self.extra.get("tag")
        if tag:
            params["Tagging"] = urlencode(object_tags(tag))
        return params

    def secrets(self) -> tuple[str, ...]:
        """The secret strings, for scrubbing text before it leaves the process."""
        values = [self.access_key.get_secret_value(), self.secret_key.get_secret_value()]
        if self.session_token is not None:
            values.append(self.session_token.get_secret_value())
        return tuple(v for v in values if v)

    def scrub(self, text: str) -> str:
        """``text`` with every credential replaced by ``***``."""
        for value in self.secrets():
            text = text.replace(value, "***")
        return text


def validate_prefix(parts: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``fileNamePrefix`` checked as protocol.md §3.2.5 says (alnum parts, <= 128 chars)."""
    if not parts:
        return ()
    for part in parts:
        if not isinstance(part, str) or not _PREFIX_PART.match(part):
            raise StorageConfigError(
                "storageConfig.fileNamePrefix parts may hold only letters and digits"
            )
    if len("/".join(parts)) + 1 > 128:
        raise StorageConfigError("storageConfig.fileNamePrefix is longer than 128 characters")
    return tuple(parts)


def target_from_storage_config(
    *,
    vendor: int,
    region: int,
    bucket: str,
    access_key: str,
    secret_key: str,
    file_name_prefix: list[str] | tuple[str, ...] | None = None,
    extension_params: Mapping[str, str] | None = None,
    sts_token: str | None = None,
) -> StorageTarget:
    """A :class:`StorageTarget` from the start request's ``storageConfig`` fields.

    Raises :class:`StorageConfigError` (code 2) for an unusable configuration.
    """
    params = dict(extension_params or {})
    endpoint = resolve_endpoint(vendor, region, params.pop("endpoint", None))
    if params.get("sse") and params["sse"] not in SSE_HEADER_VALUES:
        raise StorageConfigError("storageConfig.extensionParams.sse must be 'kms' or 'aes256'")
    if params.get("tag"):
        object_tags(params["tag"])
    if not bucket:
        raise StorageConfigError("storageConfig.bucket is empty")
    if not access_key or not secret_key:
        raise StorageConfigError("storageConfig.accessKey and secretKey are required")
    return StorageTarget(
        endpoint=endpoint.url,
        region=endpoint.signing_region,
        bucket=bucket,
        access_key=SecretStr(access_key),
        secret_key=SecretStr(secret_key),
        prefix=validate_prefix(file_name_prefix),
        session_token=SecretStr(sts_token) if sts_token else None,
        addressing_style=endpoint.addressing_style,
        extra=params,
    )


def fernet_for(key: str | bytes | SecretStr) -> Fernet:
    """A Fernet for a configured key: a Fernet key as is, any other passphrase via HKDF."""
    raw = key.get_secret_value() if isinstance(key, SecretStr) else key
    data = raw.encode() if isinstance(raw, str) else raw
    if not data:
        raise ValueError("the storage encryption key is empty")
    try:
        if len(base64.urlsafe_b64decode(data)) == 32:
            return Fernet(data)
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cloudrec storage target"
    ).derive(data)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal_target(target: StorageTarget, fernet: Fernet) -> bytes:
    """The target as an encrypted token (safe to write to disk)."""
    plain = {
        "endpoint": target.endpoint,
        "region": target.region,
        "bucket": target.bucket,
        "accessKey": target.access_key.get_secret_value(),
        "secretKey": target.secret_key.get_secret_value(),
        "prefix": list(target.prefix),
        "sessionToken": (target.session_token.get_secret_value() if target.session_token else None),
        "addressingStyle": target.addressing_style,
        "extra": dict(target.extra),
    }
    return fernet.encrypt(json.dumps(plain).encode())


class SealedTargetError(ValueError):
    """A sealed target that this key cannot open (wrong key or damaged file)."""


def open_target(token: bytes, fernet: Fernet) -> StorageTarget:
    """The target a :func:`seal_target` token holds."""
    try:
        plain = json.loads(fernet.decrypt(token))
    except (InvalidToken, ValueError) as error:
        raise SealedTargetError(
            "cannot decrypt the stored storage target (wrong storage encryption key?)"
        ) from error
    token_value = plain.get("sessionToken")
    return StorageTarget(
        endpoint=plain["endpoint"],
        region=plain["region"],
        bucket=plain["bucket"],
        access_key=SecretStr(plain["accessKey"]),
        secret_key=SecretStr(plain["secretKey"]),
        prefix=tuple(plain.get("prefix", ())),
        session_token=SecretStr(token_value) if token_value else None,
        addressing_style=plain.get("addressingStyle", "path"),
        extra=dict(plain.get("extra", {})),
    )


__all__ = [
    "SSE_HEADER_VALUES",
    "SealedTargetError",
    "StorageTarget",
    "fernet_for",
    "object_tags",
    "open_target",
    "seal_target",
    "target_from_storage_config",
    "validate_prefix",
]
