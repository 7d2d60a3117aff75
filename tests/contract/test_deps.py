"""Every command the demo, the tests and the benchmarks run is installed by ``hack/deps.sh``.

The commands are read from the code, not from a second list: the names given to
``system_tool(...)`` and ``shutil.which(...)``, the literal first word of every argv
handed to ``subprocess``, ``asyncio.create_subprocess_exec`` or ``ManagedProcess``,
and every ``command -v NAME`` in the scripts under ``hack/`` that the Makefile runs.
Go-built tools (``tool(...)``) must instead be ones ``hack/tools.sh`` builds.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cloudrec_devenv import tools as devenv_tools
from cloudrec_devenv.tools import REPO_ROOT, TOOLS

DEPS = REPO_ROOT / "hack" / "deps.sh"
SCANNED = [
    Path(devenv_tools.__file__).parent,  # the demo and the local stack
    REPO_ROOT / "tests",
    REPO_ROOT / "benchmarks",
]
SCRIPTS = [REPO_ROOT / "hack" / "tools.sh", REPO_ROOT / "hack" / "netns-run"]
SUBPROCESS_CALLS = {"run", "Popen", "check_output", "check_call", "call", "create_subprocess_exec"}


@dataclass(frozen=True)
class Use:
    name: str
    where: str


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _argv0(node: ast.expr | None, lists: dict[str, str]) -> str | None:
    """The literal first word of an argv: a list literal, or a name bound to one in the file."""
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        return _literal(node.elts[0])
    if isinstance(node, ast.Name):
        return lists.get(node.id)
    return None


def _argv_names(tree: ast.AST) -> dict[str, str]:
    """``name = ["cmd", ...]`` assignments in a file: name -> cmd."""
    lists: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            first = _argv0(node.value, {})
            if isinstance(target, ast.Name) and first is not None:
                lists[target.id] = first
    return lists


def python_uses(path: Path) -> Iterator[tuple[str, Use]]:
    """(kind, use) for each command a Python file runs: kind is "system" or "go"."""
    tree = ast.parse(path.read_text(), str(path))
    lists = _argv_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
        called = _called(node)
        first = node.args[0]
        name: str | None = None
        kind = "system"
        if called in {"system_tool", "which"}:
            name = _literal(first)
        elif called == "tool":
            name, kind = _literal(first), "go"
        elif called == "create_subprocess_exec":
            name = _literal(first)
        elif called in SUBPROCESS_CALLS:
            name = _argv0(first, lists)
        elif called == "ManagedProcess" and len(node.args) > 1:
            name = _argv0(node.args[1], lists)
        if name is not None:
            yield kind, Use(name, where)


def script_uses(path: Path) -> Iterator[Use]:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for name in re.findall(r"command -v ([\w.+-]+)", line):
            yield Use(name, f"{path.relative_to(REPO_ROOT)}:{number}")


def needed() -> tuple[list[Use], list[Use]]:
    system: list[Use] = []
    go: list[Use] = []
    for root in SCANNED:
        for path in sorted(root.rglob("*.py")):
            for kind, use in python_uses(path):
                (go if kind == "go" else system).append(use)
    for script in SCRIPTS:
        system.extend(script_uses(script))
    return system, go


def deps_table() -> dict[str, tuple[str, str, str]]:
    out = subprocess.run(
        ["bash", str(DEPS), "--list"], capture_output=True, text=True, check=True
    ).stdout
    table = {}
    for line in out.splitlines():
        command, package, profiles, why = line.split("\t")
        table[command] = (package, profiles, why)
    return table


def test_the_code_is_scanned_and_finds_the_commands_it_is_known_to_run() -> None:
    system, go = needed()
    names = {u.name for u in system}
    # One of each way of running a command, so a scanner that finds nothing fails here.
    assert {"janus", "chromium", "lua5.4", "ffprobe", "ip", "flock", "bash"} <= names, names
    assert {"helm", "kubectl", "kstatus"} <= {u.name for u in go}


def test_every_command_the_demo_and_the_tests_run_is_installed_by_hack_deps_sh() -> None:
    system, _ = needed()
    table = deps_table()
    missing = sorted({f"{u.name} ({u.where})" for u in system if u.name not in table})
    assert not missing, f"add these to hack/deps.sh: {missing}"


def test_every_line_of_hack_deps_sh_names_a_package_and_says_why() -> None:
    for command, (package, profiles, why) in deps_table().items():
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]*|-", package), (command, package)
        assert set(profiles.split(",")) <= {"demo", "test", "bench"}, (command, profiles)
        assert len(why.split()) >= 4, (command, why)


def test_the_demo_profile_holds_every_command_of_the_demo_package() -> None:
    table = deps_table()
    demo_dir = Path(devenv_tools.__file__).parent
    for path in sorted(demo_dir.rglob("*.py")):
        for kind, use in python_uses(path):
            # The browser publisher is used by tests only (simulcast), not by `make demo`.
            if kind == "system" and path.name != "browser_publisher.py":
                assert "demo" in table[use.name][1].split(","), use


def test_every_go_built_tool_the_code_asks_for_is_built_by_hack_tools_sh() -> None:
    _, go = needed()
    script = (REPO_ROOT / "hack" / "tools.sh").read_text()
    assert {u.name for u in go} <= set(TOOLS), go
    for name in TOOLS:
        assert re.search(rf"(^|\s){re.escape(name)}(\s|$)", script, re.MULTILINE), name


def _path_with(tmp_path: Path, *commands: str, stubs: tuple[str, ...] = ()) -> str:
    """A PATH holding only ``commands`` (links to the real ones) and ``stubs`` (no-op scripts)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in commands:
        real = subprocess.run(
            ["bash", "-c", f"command -v {command}"], capture_output=True, text=True, check=True
        ).stdout.strip()
        (bin_dir / command).symlink_to(real)
    for command in stubs:
        stub = bin_dir / command
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return str(bin_dir)


def _deps(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEBIAN_FRONTEND"} | {"PATH": path}
    return subprocess.run(
        ["bash", str(DEPS), *args], capture_output=True, text=True, env=env, timeout=60
    )


BASICS = ("bash", "sed", "id")


def test_hack_deps_sh_names_the_package_of_each_missing_command_and_dry_run_installs_nothing(
    tmp_path: Path,
) -> None:
    path = _path_with(tmp_path, *BASICS, stubs=("go", "flock", "unshare", "ip"))
    result = _deps(path, "--dry-run", "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "deps: janus is missing -> Debian package janus: " in out
    assert "deps: ffprobe is missing -> Debian package ffmpeg: " in out
    assert "deps: python3's ensurepip module is missing -> Debian package python3-venv: " in out
    assert "deps: would run: apt-get update && apt-get install " in out
    assert out.rstrip().endswith(" python3-venv janus ffmpeg"), out
    # Test-only commands are not part of the demo profile.
    assert "chromium" not in out and "buildah" not in out


def test_hack_deps_sh_check_fails_on_a_missing_command_and_passes_when_all_are_there(
    tmp_path: Path,
) -> None:
    table = deps_table()
    present = [c for c in table if not c.startswith("py:") and c not in BASICS]
    everything = _path_with(tmp_path, *BASICS, stubs=tuple(present))
    (Path(everything) / "python3").symlink_to(Path(sys.executable).resolve())
    assert _deps(everything, "--check").returncode == 0
    (Path(everything) / "ip").unlink()
    result = _deps(everything, "--check", "demo")
    assert result.returncode == 1
    assert result.stdout == (
        "deps: ip is missing -> Debian package iproute2: " + table["ip"][2] + "\n"
    )


def test_hack_deps_sh_says_how_to_get_go_which_debian_does_not_provide(tmp_path: Path) -> None:
    path = _path_with(tmp_path, *BASICS)
    result = _deps(path, "--dry-run", "demo")
    assert result.returncode == 1
    assert "deps: go is missing and is not installed from Debian: " in result.stderr
    assert "Go 1.26 toolchain" in result.stderr


def test_hack_deps_sh_installs_the_missing_packages_with_apt_get_saying_what_and_why(
    tmp_path: Path,
) -> None:
    calls = tmp_path / "apt-get.calls"
    table = deps_table()
    demo = [c for c, row in table.items() if "demo" in row[1].split(",") and c not in BASICS]
    present = [c for c in demo if not c.startswith("py:") and c not in {"janus", "ffprobe"}]
    path = _path_with(tmp_path, *BASICS, "env", stubs=tuple(present))
    (Path(path) / "python3").symlink_to(Path(sys.executable).resolve())
    apt_get = Path(path) / "apt-get"
    apt_get.write_text(f'#!/bin/sh\necho "$* | $DEBIAN_FRONTEND" >> {calls}\n')
    apt_get.chmod(0o755)
    result = _deps(path, "demo")
    assert result.returncode == 0, result.stderr
    assert "deps: installing janus ffmpeg (apt-get; first time only)" in result.stdout
    update, install = calls.read_text().splitlines()
    assert update.startswith("update ")
    assert install.startswith("install -y ")
    assert install.endswith(" janus ffmpeg | noninteractive")
