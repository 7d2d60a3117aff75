"""No class in the recorder, the operator, the protocol or the local stack is over 300 lines
(issue 16: "the recorder's big rooms").

A class that grows past that holds several concerns; split it into small modules named after
what they hold. Run this file with ``-s`` to see the largest classes measured, first.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ("recorder", "operator", "protocol", "devenv")
HELD = SOURCE_ROOTS
"""The source roots whose classes must stay within the limit."""
MAX_CLASS_LINES = 300


@dataclass(frozen=True)
class ClassSize:
    where: str
    name: str
    lines: int


def class_sizes(root: Path = REPO_ROOT) -> list[ClassSize]:
    """Every class under the source roots with its length in lines (decorators excluded),
    largest first."""
    sizes: list[ClassSize] = []
    for source_root in SOURCE_ROOTS:
        for path in sorted((root / source_root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    sizes.append(ClassSize(where, node.name, node.end_lineno - node.lineno + 1))
    return sorted(sizes, key=lambda size: (-size.lines, size.where))


def test_the_measure_sees_the_recorder_operator_protocol_and_local_stack_classes() -> None:
    names = {size.name for size in class_sizes()}
    assert {"ChannelRecording", "JanusChannel", "Stack", "Runtime", "RecordingConfig"} <= names


def test_no_recorder_protocol_or_local_stack_class_is_over_300_lines() -> None:
    sizes = class_sizes()
    for size in sizes[:15]:
        print(f"{size.lines:5d}  {size.name:<28} {size.where}")
    too_big = [
        f"{s.name} ({s.where}): {s.lines} lines"
        for s in sizes
        if s.lines > MAX_CLASS_LINES and s.where.startswith(HELD)
    ]
    assert not too_big, f"classes over {MAX_CLASS_LINES} lines: split them: {too_big}"
