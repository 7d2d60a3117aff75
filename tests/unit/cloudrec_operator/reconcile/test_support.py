"""Which fields a SelfHosted backend refuses before anything is sent, named by field."""

from __future__ import annotations

from typing import Any

import pytest

from cloudrec_operator.api.enums import ServiceKind
from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.reconcile.support import unsupported

DECRYPTING = {"decryption": {"mode": "AES128XTS", "secretRef": {"name": "dec"}}}


def spec(recording: dict[str, Any], vendor: str = "S3Compatible") -> CloudRecordingSpec:
    return CloudRecordingSpec.load(
        {
            "backendRef": {"name": "local"},
            "channelName": "room1",
            "uid": "527",
            "recordingConfig": recording,
            "storageConfig": {
                "vendor": vendor,
                "region": 0,
                "bucket": "b",
                "endpoint": "http://127.0.0.1:7070",
                "credentialsSecretRef": {"name": "s3"},
            },
        }
    )


@pytest.mark.parametrize(
    ("recording", "vendor", "kind", "field", "words"),
    [
        ({}, "S3Compatible", ServiceKind.SELF_HOSTED, None, None),
        ({"decryption": {"mode": "None"}}, "AmazonS3", ServiceKind.SELF_HOSTED, None, None),
        (
            DECRYPTING,
            "S3Compatible",
            ServiceKind.SELF_HOSTED,
            "spec.recordingConfig.decryption.mode",
            "cannot decrypt channels (AES128XTS)",
        ),
        (
            {},
            "MicrosoftAzure",
            ServiceKind.SELF_HOSTED,
            "spec.storageConfig.vendor",
            "Microsoft Azure Blob",
        ),
        # the hosted service implements both: nothing is refused
        (DECRYPTING, "MicrosoftAzure", ServiceKind.HOSTED, None, None),
    ],
    ids=["plain", "no-decryption", "decryption", "azure", "hosted-does-both"],
)
def test_a_self_hosted_backend_refuses_by_name_only_what_its_recorder_cannot_do(
    recording: dict[str, Any],
    vendor: str,
    kind: ServiceKind,
    field: str | None,
    words: str | None,
) -> None:
    found = unsupported(spec(recording, vendor), kind)
    if field is None:
        assert found is None
        return
    assert found is not None
    assert found.field == field
    assert words is not None and words in found.why
    message = found.message("RecordingBackend/local")
    assert message.startswith(f"{field}: ")
    assert "RecordingBackend/local is SelfHosted" in message
