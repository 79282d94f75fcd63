"""Rendering of classified differences (``chanspec diff --format``): text, JSON, Markdown, GitHub.

Every renderer takes the findings of :func:`chanspec.codegen.diff_rules.classify`
(in pointer order, as :func:`~chanspec.codegen.diff.diff_documents` sorts them)
and returns deterministic text without a trailing newline.  Findings are
grouped (text, Markdown) by what they are about, groups in this order: the
``document`` (info, tags, root extensions, ``defaultContentType``,
``components``), each ``server``, each ``channel`` followed by its
``message`` groups, then each ``operation``; names sorted, findings inside a
group in pointer order.  Values are shown as ``json.dumps(sort_keys=True)``
text truncated to 120 characters (ending in ``...``).

Locations come from a :data:`Locator`: called once per difference, it returns
the ``file:line:col`` of the old and new side when known (spec files; an app
side has none).  The primary location, used where one place is needed (JSON
``location``, GitHub annotations), is the new side's when known, else the
old side's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .diff import Difference, split_pointer
from .diff_rules import LEVELS, Finding
from .problems import Position

__all__ = [
    "FORMATS",
    "Location",
    "Locator",
    "render",
    "render_github",
    "render_json",
    "render_markdown",
    "render_text",
]

#: Accepted values of ``--format``.
FORMATS: tuple[str, ...] = ("text", "json", "markdown", "github")

_TRUNCATE = 120
_GITHUB_COMMAND = {"breaking": "error", "warning": "warning", "info": "notice"}


@dataclass(frozen=True)
class Location:
    """Where a difference is written: on the old side, the new side, or both (or neither)."""

    old: Position | None = None
    new: Position | None = None

    @property
    def primary(self) -> Position | None:
        """The new side's position when known, else the old side's."""
        return self.new or self.old

    def __str__(self) -> str:
        """``"old:1:2, new:3:4"`` with the unknown ones left out (``""`` when none)."""
        return ", ".join(str(p) for p in (self.old, self.new) if p is not None)


#: Returns the :class:`Location` of a difference.
Locator = Callable[[Difference], Location]


def _nowhere(_: Difference) -> Location:
    return Location()


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= _TRUNCATE else text[: _TRUNCATE - 3] + "..."


def _body(d: Difference) -> str:
    if d.change == "changed":
        return f"{_short(d.old)} -> {_short(d.new)}"
    return _short(d.new if d.change == "added" else d.old)


def _summary(findings: Sequence[Finding]) -> str:
    total = len(findings)
    noun = "difference" if total == 1 else "differences"
    counts = ", ".join(
        f"{sum(f.rule.level == level for f in findings)} {level}" for level in reversed(LEVELS)
    )
    return f"{total} {noun} ({counts})"


# --------------------------------------------------------------------------- #
# Groups
# --------------------------------------------------------------------------- #

_GroupKey = tuple[Any, ...]


def _group(pointer: str) -> tuple[_GroupKey, tuple[str, ...]]:
    """(sort key, (kind, names...)) of the group a pointer belongs to."""
    segs = split_pointer(pointer)
    if len(segs) >= 2 and segs[0] == "channels":
        if len(segs) >= 4 and segs[2] == "messages":
            return (2, segs[1], 1, segs[3]), ("message", segs[3], segs[1])
        return (2, segs[1], 0, ""), ("channel", segs[1])
    if len(segs) >= 2 and segs[0] == "operations":
        return (3, segs[1]), ("operation", segs[1])
    if len(segs) >= 2 and segs[0] == "servers":
        return (1, segs[1]), ("server", segs[1])
    return (0,), ("document",)


def _groups(findings: Sequence[Finding]) -> list[tuple[tuple[str, ...], list[Finding]]]:
    grouped: dict[_GroupKey, tuple[tuple[str, ...], list[Finding]]] = {}
    for finding in findings:
        key, label = _group(finding.difference.pointer)
        grouped.setdefault(key, (label, []))[1].append(finding)
    return [grouped[key] for key in sorted(grouped)]


def _heading(label: tuple[str, ...], quote: Callable[[str], str]) -> str:
    kind, *names = label
    if kind == "message":
        return f"message {quote(names[0])} (channel {quote(names[1])})"
    return " ".join([kind, *(quote(n) for n in names)])


# --------------------------------------------------------------------------- #
# Renderers
# --------------------------------------------------------------------------- #


def render_text(
    findings: Sequence[Finding],
    *,
    old_label: str,
    new_label: str,
    locate: Locator | None = None,
) -> str:
    """Human-readable report.

    ``"No differences between A and B."`` when there are none, else::

        A -> B: 2 differences (1 breaking, 0 warning, 1 info)

        channel chat
          changed /channels/chat/address: "/ws/chat" -> "/ws/chat2"  (a.yaml:83:14)
            breaking address-changed: A channel's address changed; ...

    Each group has a heading line after a blank line; each finding two lines:
    the change (with ``"  (<locations>)"`` when known) and
    ``level rule-id: explanation``.
    """
    if not findings:
        return f"No differences between {old_label} and {new_label}."
    where = locate or _nowhere
    lines = [f"{old_label} -> {new_label}: {_summary(findings)}"]
    for label, items in _groups(findings):
        lines += ["", _heading(label, str)]
        for finding in items:
            d = finding.difference
            line = f"  {d.change} {d.pointer}: {_body(d)}"
            location = str(where(d))
            if location:
                line += f"  ({location})"
            rule = finding.rule
            lines += [line, f"    {rule.level} {rule.id}: {rule.summary}"]
    return "\n".join(lines)


def render_json(findings: Sequence[Finding], *, locate: Locator | None = None) -> str:
    """A JSON list, one object per finding in pointer order (``"[]"`` when none).

    Each object has ``pointer``, ``change`` (added/removed/changed), ``level``,
    ``rule`` (id), ``message`` (the rule's explanation), ``old`` and ``new``
    (canonical values, ``null`` when absent) and ``location`` (the primary
    ``"file:line:col"`` or ``null``).  Keys sorted, ``indent=2``, non-ASCII
    kept as is.
    """
    where = locate or _nowhere
    payload = []
    for finding in findings:
        d = finding.difference
        primary = where(d).primary
        payload.append(
            {
                "pointer": d.pointer,
                "change": d.change,
                "level": finding.rule.level,
                "rule": finding.rule.id,
                "message": finding.rule.summary,
                "old": d.old,
                "new": d.new,
                "location": str(primary) if primary is not None else None,
            }
        )
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False)


def _code(text: str) -> str:
    """A Markdown code span safe inside a table cell."""
    text = text.replace("|", "\\|")
    run = longest = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(
    findings: Sequence[Finding],
    *,
    old_label: str,
    new_label: str,
    locate: Locator | None = None,
) -> str:
    """A Markdown report: a title, a count line, then a table per group (for PR comments).

    Columns: level, rule, change, pointer, old, new, location, explanation;
    empty cells for absent values and unknown locations.  ``"No differences
    between `A` and `B`."`` when there are none.
    """
    if not findings:
        return f"No differences between {_code(old_label)} and {_code(new_label)}."
    where = locate or _nowhere
    lines = [
        f"## chanspec diff: {_code(old_label)} -> {_code(new_label)}",
        "",
        f"{_summary(findings)}.",
    ]
    for label, items in _groups(findings):
        lines += [
            "",
            f"### {_heading(label, _code)}",
            "",
            "| level | rule | change | pointer | old | new | location | explanation |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for finding in items:
            d = finding.difference
            location = where(d)
            places = ", ".join(_code(str(p)) for p in (location.old, location.new) if p)
            old = _code(_short(d.old)) if d.change != "added" else ""
            new = _code(_short(d.new)) if d.change != "removed" else ""
            cells = [
                finding.rule.level,
                _code(finding.rule.id),
                d.change,
                _code(d.pointer),
                old,
                new,
                places,
                finding.rule.summary.replace("|", "\\|"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], *, locate: Locator | None = None) -> str:
    """GitHub Actions workflow commands, one line per finding (``""`` when none).

    ``::error`` for breaking, ``::warning`` for warning and ``::notice`` for
    info, as ``::error file=F,line=L,col=C,title=RULE::MESSAGE`` where the
    ``file``/``line``/``col`` properties are given only when the primary
    location is known and MESSAGE is ``explanation (change pointer: values)``.
    Data and properties are escaped as the workflow-command syntax requires
    (``%``, CR, LF; plus ``:`` and ``,`` in properties).
    """
    where = locate or _nowhere
    lines = []
    for finding in findings:
        d = finding.difference
        rule = finding.rule
        props = []
        primary = where(d).primary
        if primary is not None:
            props += [
                f"file={_escape_property(primary.file)}",
                f"line={primary.line}",
                f"col={primary.col}",
            ]
        props.append(f"title={_escape_property(rule.id)}")
        message = f"{rule.summary} ({d.change} {d.pointer}: {_body(d)})"
        lines.append(f"::{_GITHUB_COMMAND[rule.level]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)


def render(
    findings: Sequence[Finding],
    fmt: str,
    *,
    old_label: str,
    new_label: str,
    locate: Locator | None = None,
) -> str:
    """Render in ``fmt`` (one of :data:`FORMATS`).

    Raises:
        ValueError: for an unknown format.
    """
    if fmt == "text":
        return render_text(findings, old_label=old_label, new_label=new_label, locate=locate)
    if fmt == "json":
        return render_json(findings, locate=locate)
    if fmt == "markdown":
        return render_markdown(findings, old_label=old_label, new_label=new_label, locate=locate)
    if fmt == "github":
        return render_github(findings, locate=locate)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
