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


def test_runtime_api_reference_is_current() -> None:
    from chanspec.codegen.api_reference import api_markdown

    page = (REPO / "docs" / "runtime-api.md").read_text(encoding="utf-8")
    assert page == api_markdown(), (
        "run: python -m chanspec.codegen.api_reference > docs/runtime-api.md"
    )


def test_runtime_api_reference_covers_every_export() -> None:
    import chanspec.runtime
    import chanspec.runtime.testing
    from chanspec.codegen.api_reference import api_markdown

    page = api_markdown()
    exported = [*chanspec.runtime.__all__, *chanspec.runtime.testing.__all__]
    missing = [name for name in exported if f"### `{name}`" not in page]
    assert not missing, f"add to SECTIONS in codegen/api_reference.py: {missing}"


def test_docstring_conversion() -> None:
    from chanspec.codegen.api_reference import docstring_markdown

    doc = """Do it with :class:`~a.b.Thing` and ``x``.

    Example::

        run(1)

    =====  ===========
    key    meaning
    =====  ===========
    ``a``  first
           continued
    =====  ===========

    Args:
        first: the first
            argument.
        second (int): the second.

    Raises:
        ValueError: when bad.
    """
    assert docstring_markdown(doc) == (
        "Do it with `Thing` and `x`.\n\nExample:\n\n```python\nrun(1)\n```\n\n"
        "| key | meaning |\n|---|---|\n| `a` | first continued |\n\n"
        "**Args:**\n\n- `first`: the first argument.\n- `second` (int): the second.\n\n"
        "**Raises:**\n\n- `ValueError`: when bad.\n"
    )
