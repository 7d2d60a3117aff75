"""Who may use which backend: the host allow-list and ClusterRecordingBackend scoping."""

from __future__ import annotations

import pytest

from cloudrec_operator.api.v1alpha1.recordingbackend import ClusterRecordingBackendSpec
from cloudrec_operator.reconcile.scope import (
    cluster_backend_refusal,
    host_allowed,
    namespaced_backend_refusal,
)

ALLOWED = ("recorder.media.svc", "*.recorders.example.com", "10.20.0.0/16")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://recorder.media.svc:8080", True),
        ("http://RECORDER.media.svc.:8080/base", True),
        ("https://eu.recorders.example.com", True),
        ("https://recorders.example.com", False),
        ("https://evil-recorders.example.com", False),
        ("http://10.20.3.4:8080", True),
        ("http://10.21.0.1:8080", False),
        ("http://169.254.169.254/latest", False),
        ("http://[fd00:ec2::254]/", False),
        ("http://elasticsearch.logging.svc:9200", False),
    ],
)
def test_a_namespaced_backend_may_use_only_the_allowed_hosts(url: str, allowed: bool) -> None:
    assert host_allowed(url, ALLOWED) is allowed


def test_without_an_allow_list_every_host_is_allowed() -> None:
    assert host_allowed("http://10.0.0.7:9200", ())
    assert namespaced_backend_refusal("b", "team-a", "http://10.0.0.7:9200", ()) is None


def test_a_refused_host_is_named_with_the_setting_to_change() -> None:
    refusal = namespaced_backend_refusal("b", "team-a", "http://10.0.0.7:9200", ALLOWED)
    assert refusal is not None
    assert refusal.reason == "BackendHostNotAllowed"
    assert "RecordingBackend team-a/b: host 10.0.0.7" in refusal.message
    assert "--backend-host" in refusal.message


def cluster(**scope: object) -> ClusterRecordingBackendSpec:
    return ClusterRecordingBackendSpec.load(
        {"url": "https://api.example.com", "credentialsSecretRef": {"name": "c"}, **scope}
    )


@pytest.mark.parametrize(
    ("scope", "labels", "app_id", "reason"),
    [
        ({}, {}, "any", None),
        ({"allowedNamespaces": {}}, {"x": "y"}, "any", None),
        (
            {"allowedNamespaces": {"matchLabels": {"tier": "media"}}},
            {"tier": "media"},
            "a",
            None,
        ),
        (
            {"allowedNamespaces": {"matchLabels": {"tier": "media"}}},
            {"tier": "web"},
            "a",
            "BackendNotAllowed",
        ),
        (
            {
                "allowedNamespaces": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "In",
                            "values": ["team-a", "team-b"],
                        }
                    ]
                }
            },
            {"kubernetes.io/metadata.name": "team-c"},
            "a",
            "BackendNotAllowed",
        ),
        (
            {"allowedNamespaces": {"matchExpressions": [{"key": "t", "operator": "Exists"}]}},
            {"t": ""},
            "a",
            None,
        ),
        (
            {"allowedNamespaces": {"matchExpressions": [{"key": "t", "operator": "DoesNotExist"}]}},
            {"t": ""},
            "a",
            "BackendNotAllowed",
        ),
        (
            {
                "allowedNamespaces": {
                    "matchExpressions": [{"key": "t", "operator": "NotIn", "values": ["x"]}]
                }
            },
            {},
            "a",
            None,
        ),
        ({"allowedAppIds": ["app-a"]}, {}, "app-a", None),
        ({"allowedAppIds": ["app-a"]}, {}, "app-b", "AppIdNotAllowed"),
        ({"allowedAppIds": ["app-a"]}, {}, None, "AppIdNotAllowed"),
    ],
)
def test_a_cluster_backend_serves_only_its_namespaces_and_app_ids(
    scope: dict[str, object], labels: dict[str, str], app_id: str | None, reason: str | None
) -> None:
    refusal = cluster_backend_refusal("shared", cluster(**scope), "team-c", labels, app_id)
    assert (refusal.reason if refusal else None) == reason
    if refusal is not None:
        assert "ClusterRecordingBackend shared" in refusal.message
