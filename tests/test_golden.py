"""Golden tests of generated trees: exact bytes, idempotence, determinism, ruff, mypy, import,
round trip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .golden_cases import GOLDEN, cases, spec_of, tree
from .servers import REPO

UPDATE = os.environ.get("CHANSPEC_UPDATE_GOLDEN") == "1"


def generate(spec: Path, out: Path, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "generate", str(spec), "-o", str(out),
         "--package", "app"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


@pytest.fixture(params=cases())
def case(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_generated_tree_matches_expected(case: str, tmp_path: Path) -> None:
    out = tmp_path / "app"
    result = generate(spec_of(case), out)
    assert result.returncode == 0, result.stderr
    expected_dir = GOLDEN / case / "expected"
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
    assert tree(out) == tree(expected_dir)


def test_generation_is_idempotent_and_deterministic(case: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "app", tmp_path / "b" / "app"
    assert generate(spec_of(case), first, seed="1").returncode == 0
    assert generate(spec_of(case), second, seed="4242").returncode == 0
    assert tree(first) == tree(second)  # two hash seeds, same bytes
    before = tree(first)
    again = generate(spec_of(case), first, seed="7")
    assert again.returncode == 0
    assert "0 generated" in again.stdout and "0 scaffolds created" in again.stdout
    assert tree(first) == before


def test_expected_tree_passes_ruff_and_mypy_strict(case: str, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(GOLDEN / case / "expected", app)
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--extend-select", "I,UP,B",
         str(app)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--check", str(app)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert fmt.returncode == 0, fmt.stdout
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "app"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


def test_expected_tree_imports_and_round_trips(case: str, tmp_path: Path) -> None:
    shutil.copytree(GOLDEN / case / "expected", tmp_path / "app")
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(tmp_path)
    diff = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "diff", str(spec_of(case)), "app.main:app"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "No differences" in diff.stdout


def test_showcase_example_is_current() -> None:
    # the showcase ships with its typed client (examples/showcase/client_demo.py uses it)
    check = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "check", "specs/showcase.asyncapi.yaml",
         "-o", "examples/showcase", "--client"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
