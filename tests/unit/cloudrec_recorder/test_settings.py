"""Recorder settings from a file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.cloudrec_protocol.test_manifest import pem_pair

from cloudrec_recorder.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[3]


def test_the_sample_config_is_valid() -> None:
    settings = load_settings(REPO / "recorder" / "sample-config.yaml", environ={})
    assert settings.apps
    assert settings.customer_secret is not None and settings.customer_secret.get_secret_value()


def test_environment_overrides_the_file_and_reaches_nested_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\nport: 1\n"
        "apps: {myApp: {janus: {wsUrl: 'ws://127.0.0.1:1/'}}}\n"
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
    assert str(janus.ws_url) == "ws://127.0.0.1:1/"
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
    with pytest.raises(SettingsError, match="maxConcurent"):
        load_settings(path, environ={})


def test_per_app_callbacks_win_over_the_global_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\n"
        "callbacks: {urls: ['http://127.0.0.1:1/global']}\n"
        "apps:\n"
        "  a: {janus: {wsUrl: 'ws://127.0.0.1:1/'}}\n"
        "  b: {janus: {wsUrl: 'ws://127.0.0.1:1/'},"
        " callbacks: {urls: ['http://127.0.0.1:1/b']}}\n"
    )
    settings = load_settings(path, environ={})
    assert [str(u) for u in settings.callbacks_for("a").urls] == ["http://127.0.0.1:1/global"]
    assert [str(u) for u in settings.callbacks_for("b").urls] == ["http://127.0.0.1:1/b"]


SECRET_DIGITS = "8675309123"


@pytest.mark.parametrize(
    "environ",
    [
        # a numeric secret is a string, not a number that fails validation (and is echoed)
        {"CLOUDREC_RECORDER_PORT": SECRET_DIGITS},
        {"CLOUDREC_RECORDER_APPS": f"{{a: {{janus: {{wsUrl: {SECRET_DIGITS}}}}}}}"},
        {"CLOUDREC_RECORDER_CREDENTIALS": f"[{{customerId: t, customerSecret: {SECRET_DIGITS}}}]"},
        {"CLOUDREC_RECORDER_CREDENTIALS": f"[{{customerId: t, customerSecret: '{SECRET_DIGITS}"},
        {"CLOUDREC_RECORDER_EGRESS__ALLOW_CIDRS": f"[{SECRET_DIGITS}.1]"},
    ],
    ids=["number field", "url field", "missing field", "broken yaml", "network field"],
)
def test_a_settings_error_names_the_field_and_never_the_value(environ: dict[str, str]) -> None:
    base = {
        "CLOUDREC_RECORDER_CUSTOMER_ID": "me",
        "CLOUDREC_RECORDER_CUSTOMER_SECRET": "s",
        "CLOUDREC_RECORDER_APPS": "{}",
    }
    with pytest.raises(SettingsError) as refused:
        load_settings(None, environ=base | environ)
    assert SECRET_DIGITS not in str(refused.value)
    name = next(iter(environ)).removeprefix("CLOUDREC_RECORDER_").split("__")[0].lower()
    assert name.replace("_", "") in str(refused.value).lower().replace("_", "")


def test_a_secret_of_digits_from_the_environment_stays_the_string_it_is() -> None:
    settings = load_settings(
        None,
        environ={
            "CLOUDREC_RECORDER_CUSTOMER_ID": "me",
            "CLOUDREC_RECORDER_CUSTOMER_SECRET": SECRET_DIGITS,
            "CLOUDREC_RECORDER_APPS": "{}",
        },
    )
    assert settings.customer_secret is not None
    assert settings.customer_secret.get_secret_value() == SECRET_DIGITS


def test_a_broken_settings_file_is_reported_by_place_not_by_content(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"customerId: me\ncustomerSecret: '{SECRET_DIGITS}\napps: {{}}\n")
    with pytest.raises(SettingsError) as refused:
        load_settings(path, environ={})
    assert SECRET_DIGITS not in str(refused.value)
    assert "line" in str(refused.value)


def test_per_app_credentials_and_quotas_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "credentials: [{customerId: a, customerSecret: sa, appIds: [appA]}]\n"
        "apps: {appA: {janus: {wsUrl: 'ws://127.0.0.1:1/'},"
        " maxConcurrentRecordings: 2, acquiresPerMinute: 30}}\n"
        "egress: {allowCidrs: [10.20.0.0/16], allowHosts: [minio.storage.svc]}\n"
    )
    settings = load_settings(path, environ={})
    assert settings.customer_id is None
    assert settings.credentials[0].app_ids == ["appA"]
    assert settings.apps["appA"].max_concurrent_recordings == 2
    assert settings.max_request_body_bytes == 1024 * 1024
    assert [str(n) for n in settings.egress.allow_cidrs] == ["10.20.0.0/16"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apps: {}\n", "give customerId and customerSecret, or credentials"),
        ("customerId: me\napps: {}\n", "customerId and customerSecret go together"),
        (
            "customerId: a\ncustomerSecret: s\napps: {}\n"
            "credentials: [{customerId: a, customerSecret: t, appIds: [x]}]\n",
            "every customerId must be different",
        ),
    ],
)
def test_credentials_that_cannot_work_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(path, environ={})


BASE_ENV = {
    "CLOUDREC_RECORDER_CUSTOMER_ID": "me",
    "CLOUDREC_RECORDER_CUSTOMER_SECRET": "s",
    "CLOUDREC_RECORDER_APPS": "{}",
}


def test_a_manifest_signing_key_from_the_environment_is_an_ed25519_key() -> None:
    private_pem, _ = pem_pair()
    settings = load_settings(
        None, environ=BASE_ENV | {"CLOUDREC_RECORDER_MANIFEST_SIGNING_KEY": private_pem}
    )
    assert settings.manifest_private_key() is not None
    assert "PRIVATE KEY" not in repr(settings)
    assert load_settings(None, environ=BASE_ENV).manifest_private_key() is None


def test_a_manifest_signing_key_that_is_not_ed25519_pem_is_refused_by_name_never_quoted() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(
            None, environ=BASE_ENV | {"CLOUDREC_RECORDER_MANIFEST_SIGNING_KEY": SECRET_DIGITS}
        )
    assert "manifestsigningkey" in str(refused.value).lower().replace("_", "")
    assert "not a PEM private key" in str(refused.value)
    assert SECRET_DIGITS not in str(refused.value)


def test_an_old_http_url_setting_is_refused_with_a_message_naming_ws_url(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\n"
        "apps: {a: {janus: {httpUrl: 'http://127.0.0.1:1/janus'}}}\n"
    )
    with pytest.raises(SettingsError, match="wsUrl") as refused:
        load_settings(path, environ={})
    assert "apps.a.janus" in str(refused.value)


def test_a_janus_url_that_is_not_a_websocket_url_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\napps: {a: {janus: {wsUrl: 'http://127.0.0.1:1/'}}}\n"
    )
    with pytest.raises(SettingsError, match="wsUrl"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("forward_host", "forward_srtp", "srtp"),
    [
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("10.20.0.7", None, True),
        ("fd00::7", None, True),
        ("127.0.0.1", "Always", True),
        ("10.20.0.7", "Never", False),
        ("10.20.0.7", "Auto", True),
    ],
)
def test_forwarders_send_srtp_unless_the_media_stays_on_loopback_or_it_is_turned_off(
    tmp_path: Path, forward_host: str, forward_srtp: str | None, srtp: bool
) -> None:
    janus = f"wsUrl: 'ws://127.0.0.1:1/', forwardHost: '{forward_host}'"
    if forward_srtp is not None:
        janus += f", forwardSrtp: {forward_srtp}"
    path = tmp_path / "c.yaml"
    path.write_text(f"customerId: me\ncustomerSecret: s\napps: {{a: {{janus: {{{janus}}}}}}}\n")
    assert load_settings(path, environ={}).apps["a"].janus.srtp_forwarding is srtp


def test_an_unknown_forward_srtp_value_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "customerId: me\ncustomerSecret: s\n"
        "apps: {a: {janus: {wsUrl: 'ws://127.0.0.1:1/', forwardSrtp: Sometimes}}}\n"
    )
    with pytest.raises(SettingsError, match=r"forward_?[sS]rtp"):
        load_settings(path, environ={})
