"""Source text to positioned Python trees: YAML 1.2 core-schema parsing and a SourceMap.

The loader turns YAML/JSON into plain ``dict``/``list`` trees.  Those carry no
positions, so :class:`SourceMap` records them on the side: a container's own
position under ``id(container)`` and the position of each member value under
``(id(container), key_or_index)``.  Scalars are located through their container.

:func:`compose` and :func:`convert` parse with PyYAML's node composer (no implicit
typing at all) and type plain scalars by the YAML 1.2 core schema themselves.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import Any, Literal

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .problems import Position, Problem, Severity

__all__ = ["MAX_DEPTH", "SourceMap", "compose", "convert", "decode", "unescape_token"]

#: Deepest nesting of mappings/sequences accepted in one file (deeper gives L002).
MAX_DEPTH = 200


def unescape_token(token: str) -> str:
    """Unescape one RFC 6901 reference token: ``~1`` -> ``/`` first, then ``~0`` -> ``~``."""
    return token.replace("~1", "/").replace("~0", "~")


class SourceMap:
    """Positions of containers and of their members, by object identity.

    ``node_pos[id(container)]`` is where the mapping/sequence starts;
    ``key_pos[(id(container), key_or_index)]`` is where the member's value starts.
    Every recorded container is kept alive by the map, so its ``id`` cannot be reused
    while the map exists.  Mutating a container (e.g. replacing a ``$ref``) keeps the
    recorded position of the slot: it still says where that member was written.
    """

    def __init__(self) -> None:
        self.node_pos: dict[int, Position] = {}
        self.key_pos: dict[tuple[int, object], Position] = {}
        self._alive: dict[int, object] = {}

    def record_node(self, container: object, pos: Position) -> None:
        """Record where ``container`` starts (first record wins, e.g. for YAML aliases)."""
        self._alive.setdefault(id(container), container)
        self.node_pos.setdefault(id(container), pos)

    def record_key(self, container: object, key: object, pos: Position) -> None:
        """Record where the value of ``container[key]`` starts."""
        self._alive.setdefault(id(container), container)
        self.key_pos[(id(container), key)] = pos

    def position_of(self, container: object, key: object = None) -> Position | None:
        """Position of ``container`` itself (``key`` None) or of ``container[key]``.

        Returns None when nothing was recorded (e.g. an object built after loading).
        """
        if key is None:
            return self.node_pos.get(id(container))
        return self.key_pos.get((id(container), key))

    def position_at(self, root: object, pointer: str) -> Position | None:
        """Position of the node at RFC 6901 JSON ``pointer`` below ``root``.

        ``pointer`` is ``""`` (the root) or ``"/a/b~1c/0"`` (a leading ``#`` is
        accepted).  Walks as far as the pointer matches and returns the position of the
        deepest node found, so a pointer into a missing member still lands near the
        problem.  Returns None when not even ``root`` has a recorded position.
        """
        pointer = pointer.removeprefix("#")
        node: Any = root
        best = self.position_of(root)
        tokens = [unescape_token(t) for t in pointer.split("/")[1:]] if pointer else []
        for token in tokens:
            key: object
            if isinstance(node, dict) and token in node:
                key = token
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                key = int(token)
            else:
                break
            best = self.position_of(node, key) or best
            node = node[key]
        return best


# -- YAML 1.2 core schema -----------------------------------------------------------------

_PLAIN = "tag:chanspec,2025:plain"  # marks plain (unquoted, untagged) scalars
_Y = "tag:yaml.org,2002:"
_NO = object()  # "does not match this type"
_NULLS = frozenset({"~", "null", "Null", "NULL", ""})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")


def _as_null(s: str) -> object:
    return None if s in _NULLS else _NO


def _as_bool(s: str) -> object:
    return _BOOLS.get(s, _NO)


def _as_int(s: str) -> object:
    if _INT.match(s):
        return int(s)
    if _OCT.match(s):
        return int(s[2:], 8)
    return int(s[2:], 16) if _HEX.match(s) else _NO


def _as_float(s: str) -> object:
    if _FLOAT.match(s):
        return float(s)
    if _INF.match(s):
        return float("-inf") if s.startswith("-") else float("inf")
    return float("nan") if _NAN.match(s) else _NO


_TYPED: dict[str, Callable[[str], object]] = {
    _Y + "null": _as_null,
    _Y + "bool": _as_bool,
    _Y + "int": _as_int,
    _Y + "float": _as_float,
}


class _CoreResolver(BaseResolver):
    """No implicit resolvers: plain scalars get the :data:`_PLAIN` tag, typed later."""

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _Y + "str"
        return _Y + ("seq" if kind is SequenceNode else "map")


class _NodeLoader(Reader, Scanner, Parser, Composer, _CoreResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


def _at(file: str, text: str, index: int) -> Position:
    line_start = text.rfind("\n", 0, index) + 1
    return Position(file, text.count("\n", 0, index) + 1, index - line_start + 1)


def _detab(text: str) -> str:
    """Tabs outside double-quoted strings -> spaces (same columns): JSON allows them."""
    out, in_str, esc = [], False, False
    for ch in text:
        if in_str:
            esc, in_str = (False, True) if esc else (ch == "\\", ch != '"')
        elif ch == '"':
            in_str = True
        elif ch == "\t":
            ch = " "
        out.append(ch)
    return "".join(out)


def decode(data: bytes, file: str, problems: list[Problem]) -> str | None:
    """Decode file bytes: UTF-8 (BOM optional) or UTF-16 with a BOM.

    Returns None after appending problem L006 (located) when the bytes do not decode.
    """
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"{file} is not UTF-8 text: {exc.reason} (byte 0x{data[exc.start]:02x})"
        problems.append(Problem("L006", msg, position=Position(file, line, col)))
        return None


def compose(text: str, file: str, problems: list[Problem]) -> Node | None | Literal[False]:
    """Parse one YAML 1.2 / JSON document into a PyYAML node tree (with marks).

    Returns the root node, None for an empty document, or False after appending a
    located problem L002 (syntax error, several documents in one file, nesting too
    deep).  JSON indented with tabs is accepted.
    """
    try:
        try:
            return _compose_checked(text)
        except yaml.MarkedYAMLError as exc:
            if "'\\t'" not in str(exc.problem) or text.lstrip()[:1] not in ("{", "["):
                raise
            return _compose_checked(_detab(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else None
        parts = [p for p in (exc.context, exc.problem) if p]
        if exc.context_mark and exc.problem_mark and exc.context:
            parts[0] += f" (line {exc.context_mark.line + 1})"
        problems.append(Problem("L002", "YAML syntax error: " + ", ".join(parts), position=pos))
    except yaml.reader.ReaderError as exc:
        msg = f"YAML syntax error: unacceptable character #x{exc.character:04x}"
        problems.append(Problem("L002", msg, position=_at(file, text, exc.position)))
    except yaml.YAMLError as exc:
        problems.append(Problem("L002", f"YAML error: {exc}", position=Position(file, 1, 1)))
    except RecursionError:
        msg = f"YAML syntax error: nested deeper than {MAX_DEPTH} levels"
        problems.append(Problem("L002", msg, position=Position(file, 1, 1)))
    return False


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _CNodeLoader(CParser, _CoreResolver):
        """libyaml's parser and composer with our resolver: the same nodes and marks as
        :class:`_NodeLoader` (checked on every corpus document), about ten times faster."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CoreResolver.__init__(self)


def _fast_compose(text: str) -> Node | None | Literal[False]:
    """Compose with libyaml when it is there and the text is well-formed and not nested
    deeper than :data:`MAX_DEPTH`; ``False`` otherwise (then the pure-Python loader runs and
    reports any problem exactly as it always has). libyaml's composer recurses in C, so the
    depth is measured first on its (iterative) event stream."""
    if not yaml.__with_libyaml__:
        return False
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_CNodeLoader):  # type: ignore[arg-type]
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth >= MAX_DEPTH:
                    return False
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        root: Node | None = yaml.compose(text, Loader=_CNodeLoader)  # type: ignore[arg-type]
    except yaml.YAMLError:
        return False
    return root


def _compose_checked(text: str) -> Node | None:
    """``yaml.compose`` with our resolver; raises a located ``MarkedYAMLError`` past
    :data:`MAX_DEPTH` levels (keeps conversion far from Python's recursion limit)."""
    fast = _fast_compose(text)
    if fast is not False:
        return fast
    root: Node | None = yaml.compose(text, Loader=_NodeLoader)  # type: ignore[arg-type]
    stack: list[tuple[Node | None, int]] = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, MappingNode | SequenceNode) or id(node) in seen:
            continue
        if depth >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", node.start_mark
            )
        seen.add(id(node))
        children = (
            [n for pair in node.value for n in pair]
            if isinstance(node, MappingNode)
            else node.value
        )
        stack.extend((child, depth + 1) for child in children)
    return root


def convert(
    node: Node, file: str, smap: SourceMap, problems: list[Problem], containers: list[object]
) -> Any:
    """Convert a :func:`compose` node tree into plain Python, recording positions.

    Plain scalars are typed by the YAML 1.2 core schema (null, bool, int, float; all
    else, timestamps and ``yes``/``on`` included, stays ``str``); quoted scalars are
    ``str``; explicit ``!!str !!int !!float !!bool !!null`` are honoured (L005 when the
    value does not fit, kept as ``str``); other tags warn L004.  Mapping keys are the
    key scalar's text as written (always ``str``).  Aliases give the same object (so
    recursive anchors give cycles); merge keys ``<<`` follow the YAML merge-key spec;
    duplicate keys give L003 and the last value wins.  Every created container is
    appended to ``containers`` and its position, and its members', recorded in ``smap``.
    """
    found: list[Problem] = []
    out = _Converter(file, smap, found, containers).convert(node, "")
    problems.extend(
        sorted(found, key=lambda p: (p.position.line, p.position.col) if p.position else (0, 0))
    )
    return out


class _Converter:
    def __init__(
        self, file: str, smap: SourceMap, problems: list[Problem], containers: list[object]
    ) -> None:
        self.file, self.smap, self.problems, self.containers = file, smap, problems, containers
        self.memo: dict[int, Any] = {}

    def pos(self, node: Node) -> Position:
        return Position(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def warn(self, code: str, message: str, node: Node, ptr: str) -> None:
        sev = Severity.WARNING if code == "L004" else Severity.ERROR
        self.problems.append(Problem(code, message, sev, ptr, self.pos(node)))

    def convert(self, node: Node, ptr: str) -> Any:
        if id(node) in self.memo:
            return self.memo[id(node)]
        if isinstance(node, ScalarNode):
            return self.scalar(node, ptr)
        if node.tag not in (_Y + "map", _Y + "seq"):
            self.warn("L004", f"unsupported YAML tag {node.tag!r}; used as plain", node, ptr)
        out: Any = [] if isinstance(node, SequenceNode) else {}
        self.memo[id(node)] = out
        self.containers.append(out)
        self.smap.record_node(out, self.pos(node))
        if isinstance(out, list):
            for i, child in enumerate(node.value):
                out.append(self.convert(child, f"{ptr}/{i}"))
                self.smap.record_key(out, i, self.pos(child))
        elif isinstance(node, MappingNode):
            self.mapping(node, out, ptr)
        return out

    def scalar(self, node: ScalarNode, ptr: str) -> Any:
        text = _join_surrogates(node.value) if node.style == '"' else node.value
        if node.tag == _PLAIN:
            for typed in _TYPED.values():
                value = typed(text)
                if value is not _NO:
                    return value
            return text
        if node.tag == _Y + "str":
            return text
        parse = _TYPED.get(node.tag)
        if parse is None:
            self.warn("L004", f"unsupported YAML tag {node.tag!r}; value kept as text", node, ptr)
            return text
        value = parse(text)
        if value is _NO:
            short = node.tag.replace(_Y, "!!")
            self.warn("L005", f"{text!r} is not a valid {short} (YAML 1.2 core schema)", node, ptr)
            return text
        return value

    def key(self, node: Node) -> str:
        if isinstance(node, ScalarNode):
            return _join_surrogates(node.value) if node.style == '"' else str(node.value)
        return str(self.convert(node, ""))

    def mapping(self, node: MappingNode, out: dict[str, Any], ptr: str) -> None:
        merged: list[dict[str, Any]] = []
        pairs: list[tuple[str, Node, Node]] = []
        first: dict[str, Node] = {}
        for knode, vnode in node.value:
            if knode.tag == _Y + "merge" or (knode.tag == _PLAIN and knode.value == "<<"):
                merged.extend(self.merge_sources(vnode, ptr))
                continue
            key = self.key(knode)
            if key in first:
                line = first[key].start_mark.line + 1
                msg = f"duplicate key {key!r} (first at line {line}); the last value is kept"
                self.warn("L003", msg, knode, f"{ptr}/{_esc(key)}")
            first[key] = knode
            pairs.append((key, knode, vnode))
        for src in reversed(merged):  # earlier sources win over later ones
            for key, value in src.items():
                out[key] = value
                pos = self.smap.position_of(src, key)
                if pos is not None:
                    self.smap.record_key(out, key, pos)
        for key, _, vnode in pairs:  # explicit keys win over merged ones
            out[key] = self.convert(vnode, f"{ptr}/{_esc(key)}")
            self.smap.record_key(out, key, self.pos(vnode))

    def merge_sources(self, node: Node, ptr: str) -> list[dict[str, Any]]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        out: list[dict[str, Any]] = []
        for n in nodes:
            value = self.convert(n, ptr) if isinstance(n, MappingNode) else None
            if isinstance(value, dict):
                out.append(value)
            else:
                msg = "merge key '<<' needs a mapping or a sequence of mappings"
                self.warn("L005", msg, n, ptr)
        return out


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _join_surrogates(text: str) -> str:
    """JSON ``\\ud83d\\ude00`` escapes arrive as two surrogates: join them into one."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return text
