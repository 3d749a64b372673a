"""Copies between parts that install apart stay copies (the diffusers way): every definition
marked ``# Copied from <module>.<name>`` must have the same source text as the original."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "inference", "pixelpainter_cli", "pixelpainter_common", "refine_server")
PACKAGES += ("training", "webapp", "benchmarks")
MARK = re.compile(r"^# Copied from ([\w.]+)\.(\w+)\b")


def _definitions(path: Path) -> dict[str, tuple[int, str]]:
    """Top-level functions and classes of ``path``: name → (first line, source text)."""
    text = path.read_text()
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = (first, "\n".join(text.splitlines()[first - 1 : node.end_lineno]))
    return found


def _copies() -> list[tuple[str, str, str, str]]:
    """(where, copy's source, original module, original name) for every marked copy."""
    copies = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = path.read_text().splitlines()
            definitions = {first: (name, src) for name, (first, src) in _definitions(path).items()}
            for number, line in enumerate(lines, start=1):
                found = MARK.match(line)
                if found:
                    assert number + 1 in definitions, f"{path}:{number}: no definition follows"
                    name, source = definitions[number + 1]
                    where = f"{path.relative_to(ROOT)}:{name}"
                    copies.append((where, source, found.group(1), found.group(2)))
    return copies


COPIES = _copies()


def test_the_known_copies_are_marked():
    marked = {where for where, *_ in COPIES}
    expected = {
        "refine_server/errors.py:ApiError",
        "refine_server/errors.py:error_response",
        "refine_server/errors.py:json_errors",
        "refine_server/images.py:encode_png",
        "benchmarks/samples.py:sketch",
        "benchmarks/samples.py:training_pair",
    }
    assert expected <= marked


@pytest.mark.parametrize(("where", "source", "module", "name"), COPIES, ids=[c[0] for c in COPIES])
def test_copy_matches_its_original(where, source, module, name):
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"{where}: no module {module}"
    original = _definitions(Path(spec.origin)).get(name)
    assert original is not None, f"{where}: {module} has no {name}"
    assert source == original[1], f"{where} differs from {module}.{name}"
