"""The two kinds of document ``diff`` and ``emit`` work on: a spec file or a live app.

A side is given as a path to a spec, or as ``module:attribute`` naming an ASGI app made with
``chanspec.runtime.create_app`` (the module is imported with the current directory first on
``sys.path``, as ``uvicorn`` does). Either way the result is a :class:`LoadedDocument` with refs
resolved, so both sides of a comparison are alike.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from chanspec.runtime.app import document_of
from chanspec.runtime.asyncapi import build_document, dump_json

from .load import LoadedDocument, load_text
from .spec import load_spec

__all__ = ["AppLoadError", "app_document", "is_app_reference", "load_side"]


class AppLoadError(Exception):
    """``module:attribute`` could not be imported or is not a chanspec app."""


def is_app_reference(value: str) -> bool:
    """True for ``pkg.module:attr`` (and not an existing file path)."""
    if Path(value).exists():
        return False
    module, sep, attr = value.partition(":")
    return bool(sep) and all(p.isidentifier() for p in module.split(".")) and attr.isidentifier()


def app_document(reference: str) -> dict[str, Any]:
    """Import ``module:attribute`` and build the app's AsyncAPI 3.0 document.

    Raises:
        AppLoadError: the module cannot be imported, the attribute is missing, or it has no
            routes.
    """
    module_name, _, attr = reference.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AppLoadError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from exc
    app = getattr(module, attr, None)
    if app is None:
        raise AppLoadError(f"module {module_name!r} has no attribute {attr!r}")
    if hasattr(app, "state") and hasattr(app, "routes"):
        return document_of(app)
    routes = getattr(app, "routes", None)
    if routes is None:
        raise AppLoadError(f"{reference} is not a Starlette app")
    return build_document(routes)


def load_side(value: str) -> LoadedDocument:
    """Load a diff/emit side: a spec path, or ``module:attribute`` of an app.

    Raises:
        AppLoadError: for an app reference that cannot be loaded.
    """
    if is_app_reference(value):
        # PyYAML reads raw U+0085/U+2028/U+2029 as (YAML 1.1) line breaks and folds the spaces
        # around them; in this JSON text they only occur inside strings, where escapes are exact
        text = dump_json(app_document(value))
        for char in "\x85\u2028\u2029":
            text = text.replace(char, f"\\u{ord(char):04x}")
        return load_text(text, value)
    return load_spec(value)
