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
