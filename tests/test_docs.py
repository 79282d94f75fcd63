"""Docs generated from code stay true."""

from __future__ import annotations

from chanspec.codegen.catalogue import diagnostics_markdown

from .servers import REPO


def test_diagnostics_page_is_current() -> None:
    page = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert page == diagnostics_markdown(), (
        "run: python -m chanspec.codegen.catalogue > docs/diagnostics.md"
    )


def test_cli_reference_is_current() -> None:
    from chanspec.codegen.cli_reference import cli_markdown

    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == cli_markdown(), "run: python -m chanspec.codegen.cli_reference > docs/cli.md"
