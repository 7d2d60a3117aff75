"""Unit tests of the RecordingBackend and ClusterRecordingBackend models."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cloudrec_operator.api.enums import ServiceKind
from cloudrec_operator.api.v1alpha1 import (
    ClusterRecordingBackend,
    RecordingBackend,
    RecordingBackendSpec,
)

SPEC: dict[str, Any] = {
    "url": "http://127.0.0.1:8080",
    "credentialsSecretRef": {"name": "recorder-credentials"},
}


def test_backend_defaults() -> None:
    spec = RecordingBackendSpec.model_validate(SPEC)
    assert spec.service_kind is ServiceKind.SELF_HOSTED
    assert spec.request_timeout_seconds == 10
    assert spec.credentials_secret_ref.customer_id_key == "customerId"
    assert spec.credentials_secret_ref.customer_secret_key == "customerSecret"
    assert spec.callback_secret_ref is None and spec.default_app_id is None


def test_callback_secret_key_defaults_to_callback_secret() -> None:
    spec = RecordingBackendSpec.model_validate({**SPEC, "callbackSecretRef": {"name": "cb"}})
    assert spec.callback_secret_ref is not None
    assert spec.callback_secret_ref.key == "callbackSecret"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"url": "ftp://example"}, "url"),
        ({"url": "http://has space"}, "url"),
        ({"serviceKind": "hosted"}, "serviceKind"),
        ({"requestTimeoutSeconds": 0}, "greater than or equal to 1"),
        ({"requestTimeoutSeconds": 301}, "less than or equal to 300"),
        ({"credentialsSecretRef": {"name": "Upper_Case"}}, "name"),
        ({"credentialsSecretRef": None}, "credentialsSecretRef"),
    ],
    ids=[
        "ftp-url",
        "url-with-space",
        "lower-case-kind",
        "zero-timeout",
        "long-timeout",
        "bad-secret-name",
        "no-credentials",
    ],
)
def test_invalid_backend_spec_is_refused(changes: dict[str, Any], fragment: str) -> None:
    data = {k: v for k, v in {**SPEC, **changes}.items() if v is not None}
    with pytest.raises(ValidationError, match=fragment):
        RecordingBackendSpec.model_validate(data)


@pytest.mark.parametrize(
    ("model", "kind", "namespaced"),
    [
        (RecordingBackend, "RecordingBackend", True),
        (ClusterRecordingBackend, "ClusterRecordingBackend", False),
    ],
    ids=["namespaced", "cluster"],
)
def test_backend_kinds_and_scopes(
    model: type[RecordingBackend], kind: str, namespaced: bool
) -> None:
    obj = model.model_validate({"kind": kind, "metadata": {"name": "b"}, "spec": SPEC})
    assert obj.dump()["kind"] == kind
    assert model.KIND == kind
    assert model.NAMESPACED is namespaced


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7:9200/_security/user/admin?x=",
        "http://10.0.0.7:9200/_security/user/admin#",
        "http://admin:secret@10.0.0.7:9200/",
        "http://admin@10.0.0.7/",
        "http://10.0.0.7:99999/",
        "http://[not:an:address]/",
        "http://10.0.0.7/a\\b",
    ],
)
def test_a_backend_url_carries_no_query_fragment_or_user_information(url: str) -> None:
    with pytest.raises(ValidationError, match="url"):
        RecordingBackendSpec.model_validate({**SPEC, "url": url})


@pytest.mark.parametrize(
    "url",
    [
        "https://api.agora.io",
        "http://recorder.media.svc:8080",
        "http://recorder.media.svc.cluster.local:8080/base/path",
        "http://[fd00::1]:8080/",
        "https://api.sd-rtn.com/v1;edge=eu/",
    ],
)
def test_ordinary_backend_urls_are_accepted(url: str) -> None:
    assert RecordingBackendSpec.model_validate({**SPEC, "url": url}).url == url
