"""Located diagnostics shared by every chanspec stage.

A :class:`Problem` is data, not an exception: stages collect them and keep going.
Only :class:`ProblemsError` (raised by convenience wrappers such as
``chanspec.codegen.load.load_or_raise``) turns a list of problems into an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CODES", "Position", "Problem", "ProblemsError", "Severity"]

#: Stable problem codes -> short title (the documentation table).
#: ``L`` codes come from the loader (``chanspec.codegen.load``).
CODES: dict[str, str] = {
    "L001": "file not found",
    "L002": "YAML/JSON syntax error",
    "L003": "duplicate mapping key",
    "L004": "unsupported YAML tag",
    "L005": "value does not match its explicit YAML tag",
    "L006": "file cannot be read or decoded",
    "L007": "empty document",
    "L008": "top level is not a mapping",
    "L010": "unresolvable $ref (JSON pointer not found)",
    "L011": "$ref pointer not escaped ('/' in a key must be written '~1')",
    "L012": "external $ref file not found",
    "L013": "remote $ref not allowed",
    "L014": "remote $ref could not be fetched",
    "L015": "unsupported $ref URI",
    "L016": "circular $ref chain with no object",
    "L020": "not an AsyncAPI document (no 'asyncapi' key)",
    "L021": "unsupported AsyncAPI version",
}


@dataclass(frozen=True)
class Position:
    """A place in a source file: 1-based ``line`` and ``col`` (characters, not bytes).

    ``str(pos)`` is ``"file:line:col"``, the form editors and CI annotate.
    """

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(StrEnum):
    """How bad a :class:`Problem` is; errors stop generation, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One diagnostic.

    ``code`` is a key of :data:`CODES`; ``pointer`` is the RFC 6901 JSON pointer of the
    offending node inside its file ("" when not applicable); ``position`` locates it in
    the source when known; ``hint`` suggests a fix.
    """

    code: str
    message: str
    severity: Severity = Severity.ERROR
    pointer: str = ""
    position: Position | None = None
    hint: str | None = None

    def format(self) -> str:
        """Render as ``"file:line:col: error[L010] message (at /pointer)"``.

        The location prefix is omitted when ``position`` is None, the ``(at ...)``
        suffix when ``pointer`` is empty; a hint goes on a second line indented by
        four spaces (``"    hint: ..."``).
        """
        head = f"{self.position}: " if self.position is not None else ""
        text = f"{head}{self.severity.value}[{self.code}] {self.message}"
        if self.pointer:
            text += f" (at {self.pointer})"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ProblemsError(Exception):
    """Raised when a caller asked for an exception instead of a problem list.

    ``.problems`` holds every :class:`Problem` (a tuple); ``str()`` lists them, one
    :meth:`Problem.format` block per line.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))
