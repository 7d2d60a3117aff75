"""docs/reference/ is generated from crds/ by hack/gen_reference.py and never drifts."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
STALE = "run python hack/gen_reference.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_reference", REPO_ROOT / "hack" / "gen_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _paths(schema: Mapping[str, Any], path: str) -> Iterator[str]:
    """Every field path below ``schema`` (lists as ``[]``)."""
    for name, child in schema.get("properties", {}).items():
        child_path = f"{path}.{name}"
        yield child_path
        yield from _paths(child, child_path)
    items = schema.get("items")
    if isinstance(items, Mapping):
        yield from _paths(items, f"{path}[]")


def _crd(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load_all((REPO_ROOT / "crds" / name).read_text()).__next__())


@pytest.mark.parametrize("page", sorted(GEN.PAGES))
def test_each_reference_page_matches_what_the_generator_renders(page: str) -> None:
    target = REPO_ROOT / "docs" / "reference" / page
    assert target.exists(), f"{target.relative_to(REPO_ROOT)} is missing: {STALE}"
    expected = GEN.render_page(GEN.PAGES[page])
    assert target.read_text() == expected, f"docs/reference/{page} is stale: {STALE}"


@pytest.mark.parametrize("crd_file", sorted(f for files in GEN.PAGES.values() for f in files))
def test_every_field_path_and_rule_message_of_each_crd_is_documented(crd_file: str) -> None:
    page = next(p for p, files in GEN.PAGES.items() if crd_file in files)
    text = (REPO_ROOT / "docs" / "reference" / page).read_text()
    root = _crd(crd_file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    missing = [
        path
        for top in ("spec", "status")
        if top in root["properties"]
        for path in _paths(root["properties"][top], top)
        if f"| `{path}` |" not in text
    ]
    assert not missing, f"undocumented fields {missing}: {STALE}"
    messages = [
        GEN._cell(rule["message"])
        for _, sub, _ in GEN._walk(root, "", True)
        for rule in sub.get("x-kubernetes-validations", [])
    ]
    assert all(m in text for m in messages), f"a rule message is missing: {STALE}"


def test_every_crd_file_has_a_reference_page() -> None:
    documented = {f for files in GEN.PAGES.values() for f in files}
    crds = {p.name for p in (REPO_ROOT / "crds").glob("*.yaml")}
    assert crds == documented, f"CRDs without a page: {sorted(crds - documented)}"


def test_the_check_mode_fails_on_a_stale_page_and_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GEN, "REFERENCE_DIR", tmp_path)
    monkeypatch.setattr(GEN, "REPO_ROOT", tmp_path.parent)
    for page, text in GEN.render_all().items():
        (tmp_path / page).write_text(text)
    assert GEN.main(["--check"]) == 0
    (tmp_path / "cloudrecording.md").write_text("edited by hand\n")
    assert GEN.main(["--check"]) == 1
    assert STALE in capsys.readouterr().err
