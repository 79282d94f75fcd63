"""Layering: the runtime (shipped inside users' apps) never reaches into build-time code.

``chanspec.runtime`` may use pydantic, fast-channels, redis, starlette and PyYAML; it must not
import ``chanspec.codegen`` or the generator's libraries (click, jinja2,
datamodel-code-generator, libcst), neither statically nor as a side effect of being imported.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import chanspec.runtime
import pytest

RUNTIME = Path(chanspec.runtime.__file__).resolve().parent
FORBIDDEN = ("chanspec.codegen", "codegen", "click", "jinja2", "datamodel_code_generator", "libcst")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def violations(source: str, package_depth: int, filename: str = "<src>") -> list[str]:
    """Forbidden imports in ``source``, a module ``package_depth`` packages below ``runtime``.

    Relative imports may climb to ``runtime`` itself (level ``package_depth + 1``) but no
    further; ``importlib.import_module("...")`` / ``__import__("...")`` with a constant name
    count as imports too.
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
                names += [f"{node.module}.{a.name}" for a in node.names if node.module]
            elif node.level > package_depth + 1:
                found.append(f"{filename}:{node.lineno}: relative import leaves runtime")
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                names = [str(first.value)]
        found += [f"{filename}:{node.lineno}: imports {n}" for n in names if _forbidden(n)]
    return found


def runtime_files() -> list[Path]:
    return sorted(p for p in RUNTIME.rglob("*.py") if "__pycache__" not in p.parts)


def test_runtime_sources_exist() -> None:
    names = {p.relative_to(RUNTIME).as_posix() for p in runtime_files()}
    assert {"__init__.py", "consumer.py", "asyncapi/emit.py"} <= names


@pytest.mark.parametrize(
    ("source", "depth", "expected"),
    [
        ("import click", 0, "imports click"),
        ("from jinja2 import Environment", 0, "imports jinja2"),
        ("import datamodel_code_generator.format as f", 0, "imports datamodel_code_generator"),
        ("from libcst import parse_module", 0, "imports libcst"),
        ("from chanspec.codegen.load import load_document", 0, "imports chanspec.codegen"),
        ("from chanspec import codegen", 0, "imports chanspec.codegen"),
        ("import codegen.render", 0, "imports codegen.render"),
        ("from .. import codegen", 0, "relative import leaves runtime"),
        ("from ...codegen import render", 1, "relative import leaves runtime"),
        ("import importlib\nimportlib.import_module('jinja2')", 0, "imports jinja2"),
        ("__import__('click')", 0, "imports click"),
    ],
)
def test_scanner_catches(source: str, depth: int, expected: str) -> None:
    found = violations(source, depth)
    assert found and expected in found[0]


@pytest.mark.parametrize(
    ("source", "depth"),
    [
        ("from .consumer import Consumer", 0),
        ("from ..layers import LayerSpec", 1),
        ("import pydantic, yaml, starlette.routing", 0),
        ("from fast_channels.layers import get_channel_layer", 0),
        ("import clicker", 0),  # a prefix of a forbidden name is not that name
    ],
)
def test_scanner_allows(source: str, depth: int) -> None:
    assert violations(source, depth) == []


@pytest.mark.parametrize("path", runtime_files(), ids=lambda p: p.relative_to(RUNTIME).as_posix())
def test_runtime_module_imports_no_build_time_code(path: Path) -> None:
    depth = len(path.relative_to(RUNTIME).parts) - 1
    assert violations(path.read_text(encoding="utf-8"), depth, str(path)) == []


_PROBE = """
import importlib, json, pkgutil, sys
import chanspec.runtime
if {walk!r}:
    for info in pkgutil.walk_packages(chanspec.runtime.__path__, "chanspec.runtime."):
        if info.name.split(".")[2] != "testing":
            importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("walk", [False, True], ids=["package", "every-submodule"])
def test_importing_runtime_loads_no_build_time_module(walk: bool) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(walk=walk)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout)
    assert "chanspec.runtime" in loaded
    if walk:
        assert "chanspec.runtime.asyncapi.emit" in loaded
    assert [m for m in loaded if _forbidden(m)] == []
