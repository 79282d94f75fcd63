"""Conformance over the shared corpus: no real document may do worse than recorded.

Skipped, with the reason, when ``../shared/corpus`` is absent (a user's fresh clone); CI has it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conformance import CORPUS, Outcome, expected, run_all

pytestmark = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").exists(),
    reason=f"the shared corpus is absent ({CORPUS}); CI runs these tests with it",
)

RANK = {"roundtrip": 0, "drift": 1, "rejected": 2, "crash": 3}


@pytest.fixture(scope="module")
def results() -> Iterator[tuple[list[Outcome], Path]]:
    outcomes, root = run_all()
    try:
        yield outcomes, root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_no_document_does_worse_than_recorded(results: tuple[list[Outcome], Path]) -> None:
    outcomes, _ = results
    recorded = expected()
    assert {o.path for o in outcomes} == set(recorded), "corpus changed: regenerate the record"
    worse = [
        f"{o.path}: {recorded[o.path]} -> {o.status} {o.details}"
        for o in outcomes
        if RANK[o.status] > RANK[recorded[o.path]]
    ]
    assert not worse, "\n".join(worse)


def test_round_tripping_apps_pass_ruff_and_mypy_strict(
    results: tuple[list[Outcome], Path],
) -> None:
    outcomes, root = results
    packages = [o.package for o in outcomes if o.status == "roundtrip"]
    assert packages, "no document round-trips"
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--extend-select", "I,UP,B",
         *packages],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout[-3000:]
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *packages],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout[-3000:]
