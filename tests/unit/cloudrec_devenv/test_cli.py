"""The devenv command line: what it does without a running control plane."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cloudrec_devenv import cli


def test_down_without_a_state_file_reports_that_nothing_is_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["down", "--workdir", str(tmp_path)]) == 0

    assert capsys.readouterr().out.strip() == f"no control plane is up in {tmp_path.resolve()}"


def test_down_with_a_stale_state_file_removes_it_and_kills_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Our own pid: alive, but its command line is not `up`'s, so it is left alone.
    stale = {"pid": os.getpid(), "workdir": str(tmp_path), "components": {"etcd": os.getpid()}}
    (tmp_path / cli.STATE_FILE).write_text(json.dumps(stale))

    assert cli.main(["down", "--workdir", str(tmp_path)]) == 0

    assert not (tmp_path / cli.STATE_FILE).exists()
    assert "is down" in capsys.readouterr().out


def test_read_state_ignores_a_missing_or_torn_file(tmp_path: Path) -> None:
    assert cli.read_state(tmp_path) is None
    (tmp_path / cli.STATE_FILE).write_text('{"pid": ')
    assert cli.read_state(tmp_path) is None


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])

    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_the_default_workdir_is_per_user() -> None:
    assert cli.default_workdir().name == f"cloudrec-devenv-{os.getuid()}"
