"""Command line and environment of ``python -m cloudrec_operator``."""

from __future__ import annotations

from pathlib import Path

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


def test_the_security_settings_and_a_state_key_that_never_shows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = tmp_path / "state.key"
    key.write_text("k" * 40 + "\n")
    monkeypatch.setenv("CLOUDREC_BACKEND_HOSTS", "a.example, *.b.example,10.0.0.0/8")
    settings = parse(["--state-key-file", str(key), "--callback-window", "60"])
    assert settings.state_key == b"k" * 40
    assert settings.backend_hosts == ("a.example", "*.b.example", "10.0.0.0/8")
    assert settings.callback_window == 60.0
    assert "kkkk" not in repr(settings)
    assert parse(["--backend-host", "only.example"]).backend_hosts == ("only.example",)


def test_a_short_state_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDREC_STATE_KEY", "short")
    with pytest.raises(SystemExit, match="at least 16 bytes"):
        parse([])


def test_the_state_key_secret_is_named_by_flag_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert parse([]).state_key_secret is None
    assert parse(["--state-key-secret", "rec-state-key"]).state_key_secret == "rec-state-key"
    monkeypatch.setenv("CLOUDREC_STATE_KEY_SECRET", "from-env")
    assert parse([]).state_key_secret == "from-env"
