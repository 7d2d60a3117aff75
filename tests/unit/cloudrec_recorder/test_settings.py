"""Recorder settings from a file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cloudrec_recorder.settings import load_settings

REPO = Path(__file__).resolve().parents[3]


def test_the_sample_config_is_valid() -> None:
    settings = load_settings(REPO / "recorder" / "sample-config.yaml", environ={})
    assert settings.apps
    assert settings.customer_secret.get_secret_value()


def test_environment_overrides_the_file_and_reaches_nested_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\nport: 1\n"
        "apps: {myApp: {janus: {httpUrl: 'http://127.0.0.1:1/janus'}}}\n"
    )
    settings = load_settings(
        path,
        environ={
            "CLOUDREC_RECORDER_PORT": "9090",
            "CLOUDREC_RECORDER_APPS__myApp__JANUS__API_SECRET": "js",
            "CLOUDREC_RECORDER_MAX_CONCURRENT_RECORDINGS": "3",
        },
    )
    assert settings.port == 9090
    assert settings.max_concurrent_recordings == 3
    janus = settings.apps["myApp"].janus
    assert str(janus.http_url) == "http://127.0.0.1:1/janus"
    assert janus.api_secret is not None and janus.api_secret.get_secret_value() == "js"


def test_secrets_do_not_show_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        environ={
            "CLOUDREC_RECORDER_CUSTOMER_ID": "me",
            "CLOUDREC_RECORDER_CUSTOMER_SECRET": "hunter2",
            "CLOUDREC_RECORDER_APPS": "{}",
        },
    )
    assert "hunter2" not in repr(settings)


def test_an_unknown_field_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("customerId: me\ncustomerSecret: s\napps: {}\nmaxConcurent: 3\n")
    with pytest.raises(ValidationError, match="maxConcurent"):
        load_settings(path, environ={})


def test_per_app_callbacks_win_over_the_global_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\n"
        "callbacks: {urls: ['http://127.0.0.1:1/global']}\n"
        "apps:\n"
        "  a: {janus: {httpUrl: 'http://127.0.0.1:1/janus'}}\n"
        "  b: {janus: {httpUrl: 'http://127.0.0.1:1/janus'},"
        " callbacks: {urls: ['http://127.0.0.1:1/b']}}\n"
    )
    settings = load_settings(path, environ={})
    assert [str(u) for u in settings.callbacks_for("a").urls] == ["http://127.0.0.1:1/global"]
    assert [str(u) for u in settings.callbacks_for("b").urls] == ["http://127.0.0.1:1/b"]
