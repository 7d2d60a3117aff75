"""Fields a self-hosted backend cannot honour, found before anything is sent (pure).

The CRD's schema cannot refuse them: it validates a CloudRecording alone, and whether its
``spec.backendRef`` names a Hosted or a SelfHosted backend (or a backend that does not exist
yet, or one whose ``serviceKind`` changes later) is only known when the operator resolves
the backend. So the operator refuses them at reconcile, naming the field, and never starts
the recording: the Ready condition is False with reason ``UnsupportedByBackend`` and a
Warning Event says the same. The self-hosted recorder itself answers such a start with
400 code 2 naming the field, for every other client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cloudrec_operator.api.enums import DecryptionMode, ServiceKind, StorageVendor
from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec

UNSUPPORTED_REASON = "UnsupportedByBackend"
"""Ready's reason (and the Warning Event's) for a field the backend cannot honour."""


@dataclass(frozen=True)
class Unsupported:
    """A field of the spec that the backend cannot honour, and why."""

    field: str
    why: str

    def message(self, backend: str) -> str:
        return (
            f"{self.field}: {self.why}; the backend {backend} is SelfHosted "
            "(a Hosted backend supports it)"
        )


def _decryption(spec: CloudRecordingSpec) -> Unsupported | None:
    mode = spec.recording_config.decryption.mode
    if mode is DecryptionMode.NONE:
        return None
    return Unsupported(
        "spec.recordingConfig.decryption.mode",
        f"the self-hosted recorder cannot decrypt channels ({mode.value})",
    )


def _azure(spec: CloudRecordingSpec) -> Unsupported | None:
    if spec.storage_config.vendor is not StorageVendor.MICROSOFT_AZURE:
        return None
    return Unsupported(
        "spec.storageConfig.vendor",
        "the self-hosted recorder uploads over the S3 API, which Microsoft Azure Blob "
        "does not speak",
    )


SELF_HOSTED_CHECKS: tuple[Callable[[CloudRecordingSpec], Unsupported | None], ...] = (
    _decryption,
    _azure,
)
"""One check per CRD field the self-hosted recorder refuses (its 400 code 2 answers)."""


def unsupported(spec: CloudRecordingSpec, kind: ServiceKind) -> Unsupported | None:
    """The first field of ``spec`` a backend of ``kind`` cannot honour, or None."""
    if kind is not ServiceKind.SELF_HOSTED:
        return None
    for check in SELF_HOSTED_CHECKS:
        found = check(spec)
        if found is not None:
            return found
    return None


__all__ = ["SELF_HOSTED_CHECKS", "UNSUPPORTED_REASON", "Unsupported", "unsupported"]
