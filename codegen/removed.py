"""User code that still refers to what the spec removed.

Regeneration never rewrites or deletes a user line, so after a spec edit the user's modules may
still refer to things chanspec no longer generates. Two cases are found here, from the files as
they are (nothing is remembered between runs, so ``chanspec check`` sees the same):

- **G006**: a user module imports from a ``generated/`` module a name that module no longer
  defines (an event class of a removed ``x-events`` operation, a message the spec dropped).
  When the name is a class of the previous ``generated/messages.py``, that class (and the
  classes it needs that the spec no longer has) is kept in the new ``generated/messages.py``,
  its docstring starting with :data:`DEPRECATED`, so the app still imports; it is dropped by
  the first run after no user module imports it any more.
- **G007**: a module in ``consumers/`` holding a ``@channel(...)`` consumer class that no channel
  of the spec renders any more: the channel was removed (or renamed). The module is never
  deleted; ``generated/routing.py`` no longer imports it, so its route is gone.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import libcst as cst

from .problems import Position, Problem, Severity
from .pyliteral import py_literal
from .render import format_python

__all__ = [
    "DEPRECATED",
    "REMOVED_CODES",
    "Leftovers",
    "find_leftovers",
    "keep_classes",
    "user_modules",
]

REMOVED_CODES = {
    "G006": "a module imports a generated name the spec no longer defines: a message class is "
    "kept, deprecated, in generated/messages.py while imported",
    "G007": "consumer module of a channel the spec no longer has: its route is gone, the module "
    "is kept",
}

#: First line of the docstring of a class kept in ``generated/messages.py`` only because user
#: code imports it (G006).
DEPRECATED = "Deprecated: no longer in the spec; kept while your code imports it (chanspec G006)."

MESSAGES = "generated/messages.py"


@dataclass
class Leftovers:
    """What :func:`find_leftovers` found.

    Attributes:
        owned: ``{generated file: new content}`` replacing rendered content (a
            ``generated/messages.py`` that keeps deprecated classes).
        kept: classes kept in ``generated/messages.py`` (sorted): those user modules import
            and those they need.
        notes: G006/G007 warnings, located in the user's modules.
    """

    owned: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def user_modules(out_dir: Path, planned: dict[str, str]) -> dict[str, str]:
    """Every ``*.py`` of the package outside ``generated/`` as ``{POSIX path: text}``.

    The walk enters only subdirectories that are packages (they have an ``__init__.py``), so
    a virtualenv or data directory inside the output directory is not read; hidden
    directories and ``__pycache__`` are skipped, and so are files that cannot be read as
    UTF-8. ``planned`` (scaffolds about to be created or updated) wins over the file on disk.
    Sorted by path, so what is derived from it is deterministic.
    """
    found: dict[str, str] = {}
    for root, dirs, names in os.walk(out_dir):
        here = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d != "__pycache__"
            and not (here == out_dir and d == "generated")
            and (here / d / "__init__.py").is_file()
        )
        for name in names:
            if not name.endswith(".py"):
                continue
            path = here / name
            try:
                found[path.relative_to(out_dir).as_posix()] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    found.update({p: t for p, t in planned.items() if not p.startswith("generated/")})
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class _Import:
    target: str  # generated module imported from, as "generated/<name>.py"
    name: str
    line: int
    col: int


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _dotted(node.value) + "." + node.attr.value
    return ""


def _resolve(path: str, node: ast.ImportFrom, package_dir: str) -> str | None:
    """The package-relative POSIX path (``generated/messages``) an import names, or None."""
    module = node.module or ""
    if node.level:
        parts = list(PurePosixPath(path).parent.parts)
        up = node.level - 1
        if up > len(parts):
            return None
        base = parts[: len(parts) - up]
        return "/".join([*base, *(module.split(".") if module else [])])
    dotted = module.split(".")
    if package_dir in dotted:  # `app.generated.messages`, `examples.showcase.generated...`
        at = len(dotted) - 1 - dotted[::-1].index(package_dir)
        return "/".join(dotted[at + 1 :])
    return None


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None  # a consumer module that does not parse is reported as G004


def _column(text: str, line: int, offset: int) -> int:
    """1-based character column of the UTF-8 byte ``offset`` (``ast``'s) on ``line``."""
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(source.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1


def _generated_imports(path: str, text: str, package_dir: str) -> list[_Import]:
    """Names ``text`` imports (anywhere in the module) from the package's ``generated/``."""
    if "generated" not in text:
        return []
    tree = _parse(text)
    if tree is None:
        return []
    found: list[_Import] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        target = _resolve(path, node, package_dir)
        if target is None or not target.startswith("generated/"):
            continue
        for alias in node.names:
            if alias.name != "*":
                col = _column(text, alias.lineno, alias.col_offset)
                found.append(_Import(target + ".py", alias.name, alias.lineno, col))
    return sorted(found, key=lambda i: (i.line, i.col))


def _bound(tree: ast.Module) -> set[str]:
    """Names a module binds at top level (classes, functions, assignments, imports)."""
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        elif isinstance(stmt, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    return names


def _defined(module: cst.Module) -> set[str]:
    """Names a module binds at top level (classes, functions, assignments, imports)."""
    names: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef | cst.FunctionDef):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            names.add(target.target.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
                elif isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name):
                            names.add(bound.value)
    return names


def _names_in(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class Collector(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Collector())
    return found


def _is_all(stmt: cst.BaseStatement) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in small.targets
        ):
            return True
        if (
            isinstance(small, cst.AnnAssign)
            and isinstance(small.target, cst.Name)
            and small.target.value == "__all__"
        ):
            return True
    return False


def _is_import(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body
    )


def _rebuilds(stmt: cst.BaseStatement, carried: set[str]) -> bool:
    """``X.model_rebuild()`` (or another call on a kept class) at module level."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
        return False
    func = small.value.func
    return (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value in carried
    )


def _deprecate(cls: cst.ClassDef) -> cst.ClassDef:
    """``cls`` whose docstring starts with :data:`DEPRECATED` (added once)."""
    body = list(cls.body.body)
    first = body[0] if body else None
    if (
        isinstance(first, cst.SimpleStatementLine)
        and len(first.body) == 1
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, cst.SimpleString)
    ):
        string = first.body[0].value
        raw = string.value
        prefix = raw[: len(raw) - len(raw.lstrip("rRbBuUfF"))]
        quote = string.quote
        inner = raw[len(prefix) + len(quote) : len(raw) - len(quote)]
        lead, _, rest = inner.partition("\n\n")
        if inner.startswith("Deprecated:") and "chanspec G006" in lead:  # kept before
            if lead == DEPRECATED:
                return cls
            inner = rest.lstrip()
        sep = ""
        if len(quote) == 3 and inner.strip():
            inner = inner.lstrip("\n")  # datamodel-code-generator opens with a line break
            sep = "\n\n" if inner.startswith((" ", "\t")) else "\n\n    "  # a top-level class
        elif inner:
            sep = " "
        merged = prefix + quote + DEPRECATED + sep + inner + quote
        body[0] = first.with_changes(body=[cst.Expr(cst.SimpleString(merged))])
    else:
        doc = cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{DEPRECATED}"""'))])
        body.insert(0, doc)
    return cls.with_changes(body=cls.body.with_changes(body=body))


def keep_classes(old: str, new: str, names: set[str]) -> tuple[str, list[str]]:
    """``new`` (a rendered ``generated/messages.py``) keeping ``names`` from ``old``.

    Each name that ``old`` defines as a class and ``new`` does not is appended to ``new`` with
    the classes of ``old`` it refers to that ``new`` lacks (in ``old``'s order, which is
    dependency order), their ``X.model_rebuild()`` lines and the ``from ... import`` lines they
    need; every kept class gets the :data:`DEPRECATED` docstring line and ``__all__`` lists
    them. The result is not formatted (the caller runs ruff on it).

    Args:
        old: the ``generated/messages.py`` on disk (the previous run's).
        new: the one rendered from the spec now.
        names: class names user modules import from it.

    Returns:
        The new module text (``new`` itself when nothing is kept) and the kept class names
        (sorted). Raises ``libcst.ParserSyntaxError`` when either text is not Python.
    """
    old_mod, new_mod = cst.parse_module(old), cst.parse_module(new)
    have = _defined(new_mod)
    classes = {s.name.value: s for s in old_mod.body if isinstance(s, cst.ClassDef)}
    stack = sorted(n for n in names if n in classes and n not in have)
    carried: set[str] = set()
    while stack:
        name = stack.pop()
        if name in carried:
            continue
        carried.add(name)
        stack.extend(sorted(r for r in _names_in(classes[name]) if r in classes and r not in have))
    if not carried:
        return new, []
    kept = [
        _deprecate(s) if isinstance(s, cst.ClassDef) else s
        for s in old_mod.body
        if (isinstance(s, cst.ClassDef) and s.name.value in carried) or _rebuilds(s, carried)
    ]
    used = set().union(*(_names_in(s) for s in kept)) - have - carried
    imports: dict[str, list[str]] = {}
    for stmt in old_mod.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and not isinstance(small.names, cst.ImportStar)
            ):
                origin = "." * len(small.relative) + _dotted(small.module)
                for alias in small.names:
                    if isinstance(alias.name, cst.Name) and alias.asname is None:
                        if alias.name.value in used:
                            imports.setdefault(origin, []).append(alias.name.value)
    import_lines = [
        cst.parse_statement(f"from {origin} import {', '.join(sorted(set(found)))}\n")
        for origin, found in sorted(imports.items())
    ]
    body = [s for s in new_mod.body if not _is_all(s)]
    at = max((i for i, s in enumerate(body) if _is_import(s)), default=-1) + 1
    if at == 0 and body and _is_docstring(body[0]):
        at = 1
    body[at:at] = import_lines
    own = {n for n in have - _imported(new_mod) if not n.startswith("__")}
    exports = sorted((_exports(new_mod) or own) | carried)
    body += [*kept, cst.parse_statement(f"__all__ = {py_literal(exports)}\n")]
    return new_mod.with_changes(body=body).code, sorted(carried)


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _imported(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for stmt in module.body:
        if _is_import(stmt):
            names |= _defined(cst.Module(body=[stmt]))
    return names


def _exports(module: cst.Module) -> set[str]:
    """The string items of ``module``'s ``__all__`` list."""
    for stmt in module.body:
        if _is_all(stmt) and isinstance(stmt, cst.SimpleStatementLine):
            small = stmt.body[0]
            value = small.value if isinstance(small, cst.Assign | cst.AnnAssign) else None
            if isinstance(value, cst.List | cst.Tuple):
                return {
                    e.value.evaluated_value
                    for e in value.elements
                    if isinstance(e.value, cst.SimpleString)
                    and isinstance(e.value.evaluated_value, str)
                }
    return set()


def _channel_class(tree: ast.Module) -> tuple[ast.ClassDef, str] | None:
    """The first top-level class decorated ``@channel("<id>")`` and its channel id."""
    for stmt in tree.body:
        if not isinstance(stmt, ast.ClassDef):
            continue
        for decorator in stmt.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            func = decorator.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name != "channel":
                continue
            first = decorator.args[0] if decorator.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return stmt, first.value
            return stmt, stmt.name
    return None


def find_leftovers(
    out_dir: Path,
    rendered: dict[str, str],
    consumer_paths: set[str],
    planned: dict[str, str],
    removed: Sequence[str] = (),
) -> Leftovers:
    """Find user code that refers to what the spec removed (G006, G007); keep imported classes.

    Args:
        out_dir: the app package directory (read, never written here).
        rendered: ``{path: content}`` of the rendered ``generated/`` files.
        consumer_paths: the consumer modules the spec renders (``consumers/<channel>.py``).
        planned: user files about to be created or updated, ``{path: new content}``: they
            are read instead of the disk, so notes point at lines as they will be written.
        removed: generated files this run deletes (``generated/client.py`` with
            ``--no-client``): every import from them is reported.

    Returns:
        :class:`Leftovers`; positions are ``out_dir / path`` (display paths, like G002's).
    """
    found = Leftovers()
    modules = user_modules(out_dir, planned)
    package_dir = out_dir.resolve().name
    orphans: dict[str, tuple[int, int, str]] = {}
    for path, text in modules.items():
        parts = PurePosixPath(path).parts
        if len(parts) != 2 or parts[0] != "consumers" or path in consumer_paths:
            continue
        if parts[1] == "__init__.py":
            continue
        tree = _parse(text)
        hit = _channel_class(tree) if tree is not None else None
        if hit is None:
            continue
        cls, channel_id = hit
        line, col = cls.lineno, _column(text, cls.lineno, cls.col_offset)
        orphans[path] = (line, col, channel_id)
        found.notes.append(
            Problem(
                "G007",
                f"{path} serves channel {channel_id!r}, which the spec no longer has: its route "
                "and contract are gone and the app no longer imports the module",
                Severity.WARNING,
                position=Position(str(out_dir / path), line, col),
                hint=f"delete {path} (chanspec never deletes it), or move its handlers to the "
                "module of the channel that replaces it",
            )
        )
    rendered_names: dict[str, set[str]] = {p: set() for p in removed if p not in rendered}

    def names_of(target: str) -> set[str] | None:
        """What a generated module defines; None for a module this run does not render."""
        if target not in rendered_names and target in rendered:
            tree = _parse(rendered[target])
            rendered_names[target] = _bound(tree) if tree is not None else set()
        return rendered_names.get(target)

    missing: list[tuple[str, _Import]] = []
    for path, text in modules.items():
        if path in orphans:
            continue  # its own note says to delete it
        for imp in _generated_imports(path, text, package_dir):
            names = names_of(imp.target)
            if names is not None and imp.name not in names:
                missing.append((path, imp))
    wanted = {imp.name for _, imp in missing if imp.target == MESSAGES}
    kept: list[str] = []
    old_path = out_dir / MESSAGES
    if wanted and MESSAGES in rendered and old_path.is_file():
        try:
            old = old_path.read_text(encoding="utf-8")
            text, kept = keep_classes(old, rendered[MESSAGES], wanted)
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
            kept = []
        if kept:
            found.owned[MESSAGES] = format_python(text)  # ruff, as every rendered module
            found.kept = kept
    for path, imp in missing:
        where = Position(str(out_dir / path), imp.line, imp.col)
        if imp.target in removed and imp.target not in rendered:
            found.notes.append(
                Problem(
                    "G006",
                    f"{path} imports {imp.name} from {imp.target}, which this run removes "
                    "(not generated any more): the module fails to import",
                    Severity.WARNING,
                    position=where,
                    hint=f"generate with --client to keep {imp.target}, or delete this import",
                )
            )
        elif imp.name in kept:
            found.notes.append(
                Problem(
                    "G006",
                    f"{path} imports {imp.name} from {imp.target}, which the spec no longer "
                    f"defines (its operation or message was removed); {imp.target} keeps it, "
                    "deprecated, while a module imports it",
                    Severity.WARNING,
                    position=where,
                    hint=f"delete the code that uses {imp.name} (the handler G002 points at) "
                    "and this import; the next chanspec generate drops the class",
                )
            )
        else:
            found.notes.append(
                Problem(
                    "G006",
                    f"{path} imports {imp.name} from {imp.target}, which does not define it "
                    "(any more): the module fails to import",
                    Severity.WARNING,
                    position=where,
                    hint=f"delete the code that uses {imp.name} and this import, or restore "
                    "it in the spec",
                )
            )
    return found
