"""``python -m cloudrec_recorder`` refuses a bad configuration with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudrec_recorder.__main__ import main


def test_an_invalid_configuration_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("CLOUDREC_RECORDER_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "bad.yaml"
    config.write_text("customerId: me\ncustomerSecret: s\napps: {}\nport: nope\n")
    assert main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "invalid configuration" in err
    assert "port" in err
    assert "customerSecret: s" not in err


def test_a_numeric_secret_in_a_wrong_place_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("CLOUDREC_RECORDER_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "c.yaml"
    config.write_text("customerId: me\napps: {}\n")
    monkeypatch.setenv("CLOUDREC_RECORDER_CUSTOMER_SECRET", "4242424242")
    monkeypatch.setenv("CLOUDREC_RECORDER_CREDENTIALS", "[{customerId: t, customerSecret: 987654}]")
    assert main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "credentials[0].appIds: Field required" in err
    assert "4242424242" not in err and "987654" not in err
