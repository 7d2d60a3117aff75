"""The verify CLI's arguments: what a target names, and a clear error otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudrec_operator.verify import Target, main, parse_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://recordings/team/meetings/sid1", Target("recordings", "team/meetings/sid1")),
        ("s3://recordings/sid1", Target("recordings", "sid1")),
        ("s3://b/p/sid1_room.manifest.json", Target("b", "p/sid1_room.manifest.json")),
    ],
)
def test_a_target_is_a_bucket_and_the_key_or_prefix_after_it(text: str, expected: Target) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    "text", ["recordings/sid1", "s3://recordings", "s3://recordings/", "s3:///sid1", "http://x/y"]
)
def test_a_target_without_bucket_or_sid_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix/<sid>"):
        parse_target(text)


def test_without_a_secret_the_cli_exits_2_saying_where_the_secret_comes_from(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CLOUDREC_MANIFEST_SECRET", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["s3://recordings/sid1"])
    assert exited.value.code == 2
    assert "--secret-file or $CLOUDREC_MANIFEST_SECRET" in capsys.readouterr().err


def test_a_public_key_file_that_is_not_an_ed25519_pem_key_exits_2_naming_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CLOUDREC_MANIFEST_SECRET", raising=False)
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    with pytest.raises(SystemExit) as exited:
        main(["--public-key-file", str(bad), "s3://recordings/sid1"])
    assert exited.value.code == 2
    assert "--public-key-file: not a PEM public key" in capsys.readouterr().err
