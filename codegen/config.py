"""``[tool.chanspec]`` in the user's ``pyproject.toml``: defaults for ``generate`` and ``check``.

The nearest ``pyproject.toml`` in the current directory or one of its parents is read (the
first one found, whether or not it has a ``[tool.chanspec]`` table, like ruff and black).
Keys:

- ``spec``: the AsyncAPI document, relative to the ``pyproject.toml``;
- ``output``: the app package directory, relative to the ``pyproject.toml``;
- ``package``: the import name of that package;
- ``allow-remote``: resolve ``http(s)`` ``$ref`` targets (bool);
- ``client``: also generate ``generated/client.py``, typed WebSocket clients (bool); unset,
  an existing one is kept current and none is created; ``false`` removes an existing one.

Command-line arguments and flags override every key. An unknown key, a value of the wrong
type or a file that is not valid TOML is a usage error (exit 2) naming the key and the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["KEYS", "Config", "ConfigError", "find_pyproject", "load_config"]

#: Every key ``[tool.chanspec]`` accepts -> the type of its value.
KEYS: dict[str, type] = {
    "spec": str,
    "output": str,
    "package": str,
    "allow-remote": bool,
    "strict": bool,
    "mark-stale": bool,
    "client": bool,
}


class ConfigError(click.UsageError):
    """``[tool.chanspec]`` cannot be used (exit 2, like any usage error)."""


@dataclass(frozen=True)
class Config:
    """Settings from ``[tool.chanspec]``; ``None`` where the file does not set a key."""

    source: Path | None = None
    spec: Path | None = None
    output: Path | None = None
    package: str | None = None
    allow_remote: bool | None = None
    strict: bool | None = None
    mark_stale: bool | None = None
    client: bool | None = None


def find_pyproject(start: Path | None = None) -> Path | None:
    """The ``pyproject.toml`` in ``start`` (default: the current directory) or nearest parent."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _relative(path: Path) -> Path:
    """``path`` relative to the current directory when it lies inside it (shorter messages)."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def load_config(start: Path | None = None) -> Config:
    """Read ``[tool.chanspec]`` from the nearest ``pyproject.toml`` (see :func:`find_pyproject`).

    Returns:
        A :class:`Config`; empty (every field ``None``) when there is no ``pyproject.toml`` or
        it has no ``[tool.chanspec]`` table. Paths are resolved against the file's directory.

    Raises:
        ConfigError: the file is not valid TOML, ``[tool.chanspec]`` is not a table, or it has
            an unknown key or a value of the wrong type.
    """
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Config()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot be read as TOML: {exc}") from exc
    tool = data.get("tool", {})
    table: Any = tool.get("chanspec") if isinstance(tool, dict) else None
    if table is None:
        return Config(source=pyproject)
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.chanspec] must be a table")
    for key, value in table.items():
        expected = KEYS.get(key)
        if expected is None:
            known = ", ".join(KEYS)
            raise ConfigError(
                f"{pyproject}: unknown key {key!r} in [tool.chanspec] (known keys: {known})"
            )
        if not isinstance(value, expected) or (expected is str and not value):
            kind = "a non-empty string" if expected is str else "true or false"
            raise ConfigError(f"{pyproject}: [tool.chanspec] {key} must be {kind}, got {value!r}")
    base = pyproject.parent

    def path(key: str) -> Path | None:
        value = table.get(key)
        return None if value is None else _relative(base / Path(value))

    return Config(
        source=pyproject,
        spec=path("spec"),
        output=path("output"),
        package=table.get("package"),
        allow_remote=table.get("allow-remote"),
        strict=table.get("strict"),
        mark_stale=table.get("mark-stale"),
        client=table.get("client"),
    )
