"""Bring a user's consumer module up to date with the spec, without touching their code.

A consumer scaffold belongs to the user once written. When the spec gains operations,
:func:`update_consumer` appends a stub for each new operation to the consumer class and adds the
imports the stubs need as new lines after the existing imports (libcst keeps every other byte as
it was). Operations the code handles but the spec no longer has, and handlers whose signature no
longer matches the spec, are reported, never changed. A final check guarantees that every line
of the user's file is still present, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .problems import Position, Problem, Severity

__all__ = ["ScaffoldUpdate", "update_consumer"]

HANDLER_DECORATORS = ("ws_handler", "event_handler")

SCAFFOLD_CODES = {
    "G001": "consumer class not found in the module: stubs for new operations not added",
    "G002": "handler for an operation the spec no longer has",
    "G003": "handler signature differs from the spec",
    "G004": "consumer module cannot be parsed: not updated",
    "G005": "handler of an operation the spec renamed: no second handler added for its message",
}


@dataclass
class ScaffoldUpdate:
    """Result of :func:`update_consumer`.

    Attributes:
        content: the new module text (equal to the input when nothing was added).
        added: operation ids that got a stub.
        marked: methods that got a ``# chanspec G002/G003`` comment (``mark=True`` only).
        notes: warnings located in the user's file (codes ``G001``-``G004``).
    """

    content: str
    added: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


#: How a marking comment starts; a method whose comments already include one for the same
#: code is not marked again.
MARK_PREFIX = "# chanspec "


def _mark(node: cst.FunctionDef, code: str, text: str) -> cst.FunctionDef | None:
    """``node`` with a ``# chanspec <code>: <text>`` comment line above it (above its
    decorators), or None when it already carries a comment for ``code``."""
    tag = f"{MARK_PREFIX}{code}:"
    if any(line.comment is not None and line.comment.value.startswith(tag)
           for line in node.leading_lines):  # fmt: skip
        return None
    comment = cst.EmptyLine(comment=cst.Comment(f"{tag} {text}"))
    return node.with_changes(leading_lines=[*node.leading_lines, comment])


@dataclass(frozen=True)
class _Handler:
    operation: str
    node: cst.FunctionDef
    signature: tuple[str, str]


def _decorator_operation(decorator: cst.Decorator, method: str) -> str | None:
    expr = decorator.decorator
    func = expr.func if isinstance(expr, cst.Call) else expr
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    if name not in HANDLER_DECORATORS:
        return None
    if isinstance(expr, cst.Call) and expr.args and expr.args[0].keyword is None:
        value = expr.args[0].value
        if isinstance(value, cst.SimpleString):
            evaluated = value.evaluated_value
            return evaluated if isinstance(evaluated, str) else method
    return method


def _signature(module: cst.Module, node: cst.FunctionDef) -> tuple[str, str]:
    params = node.params.params
    annotation = params[1].annotation if len(params) > 1 else None
    param = module.code_for_node(annotation.annotation) if annotation else ""
    returns = module.code_for_node(node.returns.annotation) if node.returns else ""
    return param, returns


def _handlers(module: cst.Module, cls: cst.ClassDef) -> dict[str, _Handler]:
    out: dict[str, _Handler] = {}
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                op = _decorator_operation(decorator, stmt.name.value)
                if op is not None:
                    out[op] = _Handler(op, stmt, _signature(module, stmt))
    return out


def _find_class(module: cst.Module, name: str) -> cst.ClassDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
            return stmt
    return None


def _imported_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        target = alias.asname.name if alias.asname else alias.name
                        if isinstance(target, cst.Name):
                            names.add(target.value)
        elif isinstance(stmt, cst.ClassDef | cst.FunctionDef):
            names.add(stmt.name.value)
    return names


def _import_sources(module: cst.Module) -> dict[str, str]:
    """``{imported name: "from X import"}`` of the rendered module, to copy imports from."""
    sources: dict[str, str] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and small.module is not None:
                    dots = "." * len(small.relative)
                    origin = dots + module.code_for_node(small.module)
                    if not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            if isinstance(alias.name, cst.Name):
                                sources[alias.name.value] = origin
    return sources


def names_in(node: cst.CSTNode) -> set[str]:
    """Every ``Name`` used anywhere in ``node`` (identifiers, not attributes after a dot)."""
    found: set[str] = set()

    class Collector(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Collector())
    return found


def parse_user_module(existing: str, path: str, result: ScaffoldUpdate) -> cst.Module | None:
    """The user's module, or None after noting G004 (located) when it does not parse."""
    try:
        return cst.parse_module(existing)
    except cst.ParserSyntaxError as exc:
        result.notes.append(
            Problem("G004", f"{path}: {exc.message}", Severity.WARNING,
                    position=Position(path, exc.raw_line, exc.raw_column + 1))
        )  # fmt: skip
        return None


def insert_imports(
    module: cst.Module, target: cst.Module, nodes: list[cst.CSTNode], body: list[Any]
) -> None:
    """Insert into ``body`` (the user's module statements), after its last import, the
    ``from X import Y`` lines that ``nodes`` (taken from ``target``) need and ``module`` lacks."""
    sources = _import_sources(target)
    known = _imported_names(module)
    needed: dict[str, list[str]] = {}
    for node in nodes:
        for name in sorted(names_in(node)):
            if name not in known and name in sources:
                needed.setdefault(sources[name], []).append(name)
                known.add(name)
    imports = [
        cst.parse_statement(f"from {origin} import {', '.join(sorted(names))}\n")
        for origin, names in sorted(needed.items())
    ]
    last_import = max(
        (i for i, s in enumerate(body)
         if isinstance(s, cst.SimpleStatementLine)
         and any(isinstance(x, cst.Import | cst.ImportFrom) for x in s.body)),
        default=-1,
    )  # fmt: skip
    body[last_import + 1 : last_import + 1] = imports


def _is_subsequence(old: str, new: str) -> bool:
    lines = iter(new.splitlines())
    return all(any(line == candidate for candidate in lines) for line in old.splitlines())


def update_consumer(
    existing: str, rendered: str, class_name: str, path: str, *, mark: bool = False
) -> ScaffoldUpdate:
    """Add stubs for operations missing from the user's consumer module.

    Args:
        existing: the user's module text.
        rendered: the scaffold chanspec would write today for this channel.
        class_name: the consumer class (``ChatConsumer``).
        path: the file's display path, for located notes.
        mark: also put a ``# chanspec G002: ...`` / ``# chanspec G003: ...`` comment line
            above each handler of a removed operation or with a changed signature (once: a
            method already marked for that code is left alone). Comments are only ever added.

    Returns:
        A :class:`ScaffoldUpdate`; ``content`` keeps every line of ``existing``, in order.

    Raises:
        RuntimeError: the edit would lose a user line (a bug; nothing is written then).
    """
    result = ScaffoldUpdate(existing)
    module = parse_user_module(existing, path, result)
    if module is None:
        return result
    target = cst.parse_module(rendered)
    wanted_cls = _find_class(target, class_name)
    if wanted_cls is None:
        return result
    wanted = _handlers(target, wanted_cls)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    cls = _find_class(module, class_name)
    if cls is None:
        result.notes.append(
            Problem("G001", f"class {class_name} not found in {path}", Severity.WARNING,
                    position=Position(path, 1, 1),
                    hint="stubs for new operations were not added: " + ", ".join(wanted))
        )  # fmt: skip
        return result
    have = _handlers(module, cls)
    replaced: dict[cst.FunctionDef, cst.FunctionDef] = {}
    # a renamed operation: the spec has a new operation taking exactly the message a handler
    # of a vanished operation takes; a stub for it would be a second handler of that message
    # (the class could not be defined), so the user is told to rename the operation id
    renamed: dict[str, str] = {}  # new operation -> old operation
    for op, handler in have.items():
        if op in wanted or not handler.signature[0]:
            continue
        for new_op, stub in wanted.items():
            if (
                new_op not in have
                and new_op not in renamed
                and (stub.signature[0] == handler.signature[0])
            ):
                renamed[new_op] = op
                break
    old_to_new = {old: new for new, old in renamed.items()}
    located: list[tuple[str, int]] = []  # (operation, index of its note) to relocate
    for op, handler in have.items():
        pos = positions[handler.node].start
        where = Position(path, pos.line, pos.column + 1)
        if op in old_to_new:
            located.append((op, len(result.notes)))
            result.notes.append(
                Problem("G005", f"{class_name}.{handler.node.name.value} handles operation "
                        f"{op!r}, which the spec now calls {old_to_new[op]!r}", Severity.WARNING,
                        position=where,
                        hint=f"change @ws_handler({op!r}) to @ws_handler({old_to_new[op]!r})")
            )  # fmt: skip
            marked = _mark(handler.node, "G005", f"the spec renamed {op!r} to {old_to_new[op]!r}")
            if mark and marked is not None:
                replaced[handler.node] = marked
        elif op not in wanted:
            located.append((op, len(result.notes)))
            result.notes.append(
                Problem("G002", f"{class_name}.{handler.node.name.value} handles operation "
                        f"{op!r}, which the spec no longer has", Severity.WARNING,
                        position=where, hint="remove the handler or restore the operation")
            )  # fmt: skip
            marked = _mark(handler.node, "G002", f"operation {op!r} is no longer in the spec")
            if mark and marked is not None:
                replaced[handler.node] = marked
        elif handler.signature != wanted[op].signature:
            located.append((op, len(result.notes)))
            exp, act = wanted[op].signature, handler.signature
            result.notes.append(
                Problem("G003", f"{class_name}.{handler.node.name.value}: spec says "
                        f"({exp[0]}) -> {exp[1]}, code has ({act[0]}) -> {act[1]}",
                        Severity.WARNING, position=where)
            )  # fmt: skip
            marked = _mark(handler.node, "G003", f"the spec says ({exp[0]}) -> {exp[1]}")
            if mark and marked is not None:
                replaced[handler.node] = marked
    missing = [h for op, h in wanted.items() if op not in have and op not in renamed]
    if not missing and not replaced:
        return result
    new_methods = [h.node for h in missing]
    body = list(module.body)
    members = [replaced.get(m, m) if isinstance(m, cst.FunctionDef) else m for m in cls.body.body]
    body[body.index(cls)] = cls.with_changes(
        body=cls.body.with_changes(body=[*members, *new_methods])
    )
    insert_imports(module, target, list(new_methods), body)
    content = module.with_changes(body=body).code
    if not _is_subsequence(existing, content):
        raise RuntimeError(f"refusing to update {path}: the edit would change a user line")
    result.content = content
    result.added = [h.operation for h in missing]
    result.marked = [node.name.value for node in replaced]
    _relocate(result.notes, located, content, class_name, path)
    return result


def _relocate(
    notes: list[Problem], located: list[tuple[str, int]], content: str, class_name: str, path: str
) -> None:
    """Point the notes about handlers at their lines in the module as written (imports and
    comments added above a handler in the same run move it down)."""
    if not located:
        return
    module = cst.parse_module(content)
    cls = _find_class(module, class_name)
    if cls is None:
        return
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    handlers = _handlers(module, cls)
    for op, index in located:
        handler = handlers.get(op)
        if handler is not None:
            pos = positions[handler.node].start
            notes[index] = replace(notes[index], position=Position(path, pos.line, pos.column + 1))
