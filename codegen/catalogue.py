"""The catalogue of diagnostics, rendered as Markdown for ``docs/diagnostics.md``.

Regenerate the page with ``python -m chanspec.codegen.catalogue > docs/diagnostics.md``;
``tests/test_docs.py`` fails when it is out of date.
"""

from __future__ import annotations

from .convert import CONVERT_CODES
from .normalise import NORMALISE_CODES
from .problems import CODES
from .removed import REMOVED_CODES
from .scaffold import SCAFFOLD_CODES
from .schema_check import SCHEMA_CODES

__all__ = ["ALL_CODES", "diagnostics_markdown"]

ALL_CODES: dict[str, str] = {
    **CODES,
    **SCHEMA_CODES,
    **CONVERT_CODES,
    **NORMALISE_CODES,
    **SCAFFOLD_CODES,
    **REMOVED_CODES,
}


def diagnostics_markdown() -> str:
    """The Markdown page listing every problem code with its meaning."""
    lines = [
        "# Diagnostics",
        "",
        "`chanspec validate` and `generate` print every problem as",
        "`file:line:col: error[CODE] message (at /json/pointer)` with a hint where one helps.",
        "Errors exit 1 and nothing is written; warnings do not stop generation.",
        "`L` codes come from loading, `S` from validating against the official AsyncAPI JSON",
        "Schema of the document's version, `C` from converting AsyncAPI 2.x, `N` from normalising,",
        "`G` from updating your consumer modules on regeneration.",
        "",
        "Generated from the code: `python -m chanspec.codegen.catalogue > docs/diagnostics.md`.",
        "",
        "| code | meaning |",
        "|---|---|",
    ]
    lines += [f"| {code} | {title} |" for code, title in ALL_CODES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(diagnostics_markdown(), end="")
