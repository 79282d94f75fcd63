"""A spec as every command sees it: loaded, converted to AsyncAPI 3.0, traits applied."""

from __future__ import annotations

from pathlib import Path

from .convert import convert_document
from .load import LoadedDocument, load_document
from .schema_check import schema_problems
from .traits import apply_traits

__all__ = ["load_spec"]


def load_spec(
    path: str | Path, *, allow_remote: bool = False, check_schema: bool = False
) -> LoadedDocument:
    """Load ``path`` and bring it to the 3.0 model.

    2.0-2.6 documents are converted (:func:`~.convert.convert_document`, which applies their
    traits with 2.x precedence); 3.x documents get their operation and message traits merged
    with 3.0 precedence (:func:`~.traits.apply_traits`). A document that did not parse, or whose
    version is not supported, is returned as loaded, problems included.

    Args:
        path: the spec file.
        allow_remote: resolve ``http(s)`` ``$ref`` targets.
        check_schema: also validate the document, as written in its own version, against
            the official AsyncAPI JSON Schema (:func:`~.schema_check.schema_problems`, ``S``
            codes appended to ``problems``).

    Returns:
        The :class:`LoadedDocument`, ``version`` ``"3.x"`` when conversion succeeded.
    """
    doc = load_document(path, allow_remote=allow_remote)
    if not doc.resolved or any(p.code in ("L020", "L021") for p in doc.problems):
        return doc
    if check_schema:
        doc.problems.extend(schema_problems(doc))
    doc = convert_document(doc)
    if str(doc.version).startswith("3."):
        apply_traits(doc.resolved, str(doc.version), source=doc.source)
    return doc
