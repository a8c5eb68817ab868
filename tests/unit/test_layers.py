"""DESIGN.md's dependency direction: `model` and `engine` never import Flask, Peewee, Redis
or RQ (pure decisions, testable without I/O)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kestra_lite"
FORBIDDEN = ("flask", "peewee", "playhouse", "redis", "rq", "kestra_lite.store",
             "kestra_lite.services", "kestra_lite.web")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["model", "engine"])
def test_pure_layers_import_no_infrastructure(layer):
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert not offenders
