"""The example specs in ``specs/``: each is a golden case and is clean under ``--strict``."""

from __future__ import annotations

from pathlib import Path

import pytest
from chanspec.codegen.pipeline import analyse

from .golden_cases import cases, spec_of
from .servers import REPO

SPECS = sorted((REPO / "specs").glob("*.asyncapi.yaml"))


def test_there_are_example_specs() -> None:
    names = {p.name for p in SPECS}
    assert {"showcase.asyncapi.yaml", "trading-feed.asyncapi.yaml"} <= names
    assert "smart-building.asyncapi.yaml" in names  # the AsyncAPI 2.6 example


def test_every_spec_is_a_golden_case() -> None:
    golden = {spec_of(case).resolve() for case in cases()}
    assert [p.name for p in SPECS if p.resolve() not in golden] == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_spec_is_valid_with_no_warnings(spec: Path) -> None:
    service, problems = analyse(spec, strict=True)
    assert [p.format() for p in problems] == []
    assert service is not None and service.channels
