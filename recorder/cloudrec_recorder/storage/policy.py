"""The uploader's knobs (:class:`UploadPolicy`), shared by the object store and the uploader."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UploadPolicy"]


@dataclass(frozen=True)
class UploadPolicy:
    """Knobs of the uploader; the defaults suit a recording on a normal network."""

    concurrency: int = 4
    """Uploads in flight at once."""
    attempts: int = 3
    """Tries per file before it goes to the backup (transient failures only)."""
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    multipart_threshold: int = 16 * 1024 * 1024
    """Files larger than this go up in parts (MP4s)."""
    part_size: int = 8 * 1024 * 1024
    """Part size of multipart uploads (S3 wants at least 5 MiB but for the last)."""
    progress_interval: float = 10.0
    """Seconds between progress events (event 33)."""
    event_batch_interval: float = 1.0
    """Seconds over which backuped / re-uploaded files are gathered into one event."""
    reupload_interval: float = 2.0
    """First wait before probing a bucket that failed; doubles up to the maximum."""
    reupload_interval_max: float = 30.0
