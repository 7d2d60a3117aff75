"""Every benchmark's shared set-up: options, the work directory, the stack stopped in reverse."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.harness import Stack, option, require_netns, work_directory


def test_an_option_is_read_from_name_equals_value_and_defaults_when_absent() -> None:
    argv = ["recorder", "--seconds=12", "--publishers=1,4"]
    assert option(argv, "seconds", "30") == "12"
    assert option(argv, "publishers", "9") == "1,4"
    assert option(argv, "warmup", "6") == "6"


def test_outside_the_network_namespace_the_benchmark_exits_naming_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLOUDREC_NETNS", raising=False)
    with pytest.raises(SystemExit, match=r"hack/netns-run .* -m benchmarks memory"):
        require_netns("memory")


def test_a_kept_work_directory_stays_and_a_temporary_one_is_removed(tmp_path: Path) -> None:
    with work_directory("bench-", str(tmp_path / "kept")) as kept:
        (kept / "log").write_text("x")
    assert (tmp_path / "kept" / "log").read_text() == "x"
    with work_directory("bench-") as temporary:
        assert temporary.is_dir()
    assert not temporary.exists()


class Part:
    def __init__(self, name: str, stopped: list[str], fails: bool = False) -> None:
        self.name, self.stopped, self.fails = name, stopped, fails

    def stop(self) -> None:
        self.stopped.append(self.name)
        if self.fails:
            raise RuntimeError("cannot stop")


def test_the_stack_stops_in_reverse_and_past_a_part_that_fails_to_stop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stopped: list[str] = []
    with pytest.raises(ValueError, match="measured"), Stack() as stack:
        stack.push(Part("plane", stopped))
        stack.push(Part("backend", stopped, fails=True))
        stack.push(Part("operator", stopped))
        raise ValueError("measured")
    assert stopped == ["operator", "backend", "plane"]
    assert "failed: cannot stop" in capsys.readouterr().err
