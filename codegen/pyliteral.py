"""Safe Python source for values taken from a spec.

Every string a spec supplies reaches generated code only through these functions, so no
description, name, enum value, default or example can change what the code does: literals come
from ``repr`` (always a valid, inert Python literal), docstrings are escaped, and comments lose
their line breaks.
"""

from __future__ import annotations

from typing import Any

__all__ = ["py_comment", "py_docstring", "py_literal"]


def py_literal(value: Any) -> str:
    """Python source of a JSON-compatible value (dict, list, str, int, float, bool, None).

    Dict key order is kept (deterministic output follows the spec's order).

    Raises:
        TypeError: for any other type.
    """
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"float({str(value)!r})"
        return repr(value)
    if isinstance(value, dict):
        items = ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def py_docstring(text: str | None, indent: str = "    ") -> str:
    """Body of a triple-quoted docstring for ``text`` (no surrounding quotes).

    Backslashes and quotes are escaped so that nothing in ``text`` can close the string;
    line breaks are kept and indented by ``indent``; any other non-printable character
    (NUL, ESC, U+2028, a lone surrogate ...) becomes an escape sequence, so the source stays
    valid, lint-clean UTF-8.
    """
    if not text:
        return ""
    body = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    body = body.replace("\\", "\\\\").replace('"', '\\"')
    body = "".join(c if c.isprintable() or c == "\n" else _escape_char(c) for c in body)
    lines = [line.rstrip() for line in body.split("\n")]
    return ("\n" + indent).join(lines)


def _escape_char(c: str) -> str:
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def py_comment(text: str) -> str:
    """``text`` on one line, safe after ``#`` (control characters become spaces)."""
    return "".join(c if c.isprintable() else " " for c in text)
