"""Command line and environment of ``python -m cloudrec_operator``."""

from __future__ import annotations

import pytest

from cloudrec_operator.settings import parse


def test_defaults_watch_every_namespace_standalone_with_probes() -> None:
    settings = parse([])
    assert settings.namespaces == ()
    assert settings.peering is None
    assert settings.liveness == "http://0.0.0.0:8080/healthz"
    assert settings.callback_port == 8443


def test_namespaces_and_peering_from_the_command_line() -> None:
    settings = parse(["-n", "a", "-n", "b", "--peering", "cloudrec", "--liveness", "none"])
    assert settings.namespaces == ("a", "b")
    assert settings.peering == "cloudrec"
    assert settings.liveness is None


def test_environment_sets_what_the_command_line_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDREC_NAMESPACES", "x,y")
    monkeypatch.setenv("CLOUDREC_CALLBACK_PORT", "9000")
    monkeypatch.setenv("CLOUDREC_STEADY_QUERY", "45")
    settings = parse([])
    assert settings.namespaces == ("x", "y")
    assert settings.callback_port == 9000
    assert settings.steady_query == 45.0
    assert parse(["-A"]).namespaces == ()


def test_the_resource_id_lifetime_follows_the_backend() -> None:
    assert parse([]).resource_id_lifetime == 300.0
    assert parse(["--resource-id-lifetime", "30"]).resource_id_lifetime == 30.0
