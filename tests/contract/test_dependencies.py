"""Every third-party package the code imports is declared in pyproject.toml, where it belongs.

The operator image installs the base dependencies and the `operator` extra, the recorder image
the base dependencies and the `recorder` extra, so a package imported but only pulled in by
chance (another package's dependency) breaks an image the day that other package stops
bringing it.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
OWN = {"cloudrec_protocol", "cloudrec_operator", "cloudrec_recorder", "cloudrec_devenv"}

# Where each source root's imports must be declared: the base dependencies (every image) or
# its side's extra (that side's image); the local stack may use every extra.
ROOTS = {
    "protocol/cloudrec_protocol": ("base",),
    "operator/cloudrec_operator": ("base", "operator"),
    "recorder/cloudrec_recorder": ("base", "recorder"),
    "devenv/cloudrec_devenv": ("base", "operator", "recorder", "dev"),
}


def requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    assert match is not None, spec
    return match.group(0).lower().replace("_", "-")


def declared(groups: tuple[str, ...]) -> set[str]:
    project = PYPROJECT["project"]
    specs = list(project["dependencies"]) if "base" in groups else []
    for extra in groups:
        if extra != "base":
            specs += project["optional-dependencies"][extra]
    return {requirement_name(spec) for spec in specs}


def imported_top_levels(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in OWN and n not in sys.stdlib_module_names}


@functools.cache
def installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    found = installed().get(module, [])
    return {name.lower().replace("_", "-") for name in found}


@pytest.mark.parametrize("root", sorted(ROOTS))
def test_every_package_a_source_root_imports_is_declared_for_its_image(root: str) -> None:
    allowed = declared(ROOTS[root])
    undeclared = {
        module: sorted(distributions_of(module))
        for module in sorted(imported_top_levels(REPO / root))
        if module != "types_aiobotocore_s3"  # typing stubs, imported under TYPE_CHECKING only
        and not distributions_of(module) & allowed
    }
    assert not undeclared, f"{root} imports packages not declared for it: {undeclared}"
