"""Uploader error and warning codes (protocol.md §7.6) and how S3 failures map to them.

============  =====  =================================================
kind          code   meaning
============  =====  =================================================
error         32     third-party storage configuration wrong
                     (wrong credentials, missing bucket, access denied)
error         47     file upload failed (after the retry budget)
error         51     uploader file-processing error (spool file unreadable)
warning       31     slice re-uploaded to your storage
warning       32     slice re-uploaded to the backup store
============  =====  =================================================

:func:`failure_kind` sorts an exception from the S3 client into ``config``
(retrying will not help until someone fixes the storage configuration) and
``transient`` (connection refused, timeouts, 5xx, throttling, a digest
mismatch): both end in the backup store; only transient ones are retried first.
"""

from __future__ import annotations

from typing import Literal

from cloudrec_protocol.events import UploaderErrorCode, UploaderWarningCode

ERROR_STORAGE_CONFIG = UploaderErrorCode.STORAGE_CONFIG
ERROR_UPLOAD_FAILED = UploaderErrorCode.UPLOAD_FAILED
ERROR_FILE_PROCESSING = UploaderErrorCode.FILE_PROCESSING
WARNING_REUPLOADED = UploaderWarningCode.REUPLOADED
WARNING_BACKUPED = UploaderWarningCode.BACKUPED

FailureKind = Literal["config", "transient"]

CONFIG_ERROR_CODES = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "AuthorizationHeaderMalformed",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidBucketName",
        "InvalidToken",
        "NoSuchBucket",
        "SignatureDoesNotMatch",
        "TokenRefreshRequired",
        "403",
        "404",
    }
)
"""S3 error codes (and bare HTTP statuses, which HEAD requests give) that say the
storage configuration is wrong."""


def failure_kind(error_code: str | None, http_status: int | None) -> FailureKind:
    """``config`` or ``transient`` for an S3 error response (pure).

    ``error_code`` is the S3 ``Code`` (``None`` for failures without a response,
    e.g. connection refused), ``http_status`` the HTTP status if there was one.
    """
    if error_code in CONFIG_ERROR_CODES:
        return "config"
    if http_status in (401, 403):
        return "config"
    return "transient"


def backoff_delays(attempts: int, initial: float, maximum: float) -> list[float]:
    """Sleeps between ``attempts`` tries: doubling from ``initial``, capped (pure)."""
    return [min(maximum, initial * 2**i) for i in range(max(0, attempts - 1))]


__all__ = [
    "ERROR_FILE_PROCESSING",
    "ERROR_STORAGE_CONFIG",
    "ERROR_UPLOAD_FAILED",
    "WARNING_BACKUPED",
    "WARNING_REUPLOADED",
    "FailureKind",
    "backoff_delays",
    "failure_kind",
]
