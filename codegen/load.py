"""Load an AsyncAPI document: YAML 1.2 core-schema parsing with positions, then ``$ref``s.

Parsing uses PyYAML's ``compose`` (a node tree with marks) and converts nodes itself,
so scalars follow the YAML 1.2 core schema (``on``/``yes``/``2024-01-01`` stay strings)
and every container and member value gets a :class:`~chanspec.codegen.source.SourceMap`
position.  JSON is parsed by the same code (JSON is YAML 1.2).

``$ref`` resolution follows RFC 3986 (URI resolution against the referring file),
RFC 6901 (JSON pointers, with percent-decoding of the URI fragment) and the AsyncAPI
3.0 Reference Object (a ``$ref`` with sibling keys resolves to its target, the
siblings are ignored).  Nothing here raises for a bad document: every defect becomes a
:class:`~chanspec.codegen.problems.Problem` with an ``L`` code.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from .problems import Position, Problem, ProblemsError, Severity
from .source import SourceMap, compose, convert, decode, unescape_token

__all__ = ["LoadedDocument", "SUPPORTED_VERSION", "load_document", "load_or_raise", "load_text"]

#: AsyncAPI versions this loader accepts (2.0.0 to 2.6.x, 3.0.x, 3.1.x, pre-releases too).
SUPPORTED_VERSION = re.compile(r"(2\.[0-6]|3\.[01])\.[0-9]+(-[0-9A-Za-z.-]+)?\Z")
#: Files parsed as YAML/JSON when referenced without a fragment; others become text.
STRUCTURED_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".avsc"})
REMOTE_TIMEOUT_S = 15.0
_INDEX = re.compile(r"(0|[1-9][0-9]*)\Z")


@dataclass
class LoadedDocument:
    """The result of loading one AsyncAPI document (never raised, always returned).

    - ``raw``: the root document as written (``$ref``s untouched); ``{}`` when the file
      could not be read or parsed or its top level is not a mapping.
    - ``resolved``: a separate copy of the same tree in which every resolvable ``$ref``
      object is replaced by its target object itself: two refs to one target give the
      same Python object, circular refs give cyclic structures.  Unresolvable refs stay
      ``{"$ref": ...}`` dicts (with a problem recorded).
    - ``source``: positions of the containers of ``raw``, ``resolved`` and every
      referenced file.
    - ``version``: the ``asyncapi`` value as a string (``""`` when missing).
    - ``problems``: every loader problem (``L`` codes): parsing, then version, then
      ``$ref`` problems in source order (root file first).
    """

    raw: dict[str, Any]
    resolved: dict[str, Any]
    source: SourceMap
    path: Path
    version: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem has severity ``error``."""
        return all(p.severity is not Severity.ERROR for p in self.problems)

    def position_at(self, pointer: str) -> Position | None:
        """Position in the root file of RFC 6901 ``pointer`` in ``raw`` (deepest match)."""
        return self.source.position_at(self.raw, pointer)


def load_document(path: str | Path, *, allow_remote: bool = False) -> LoadedDocument:
    """Read, parse and resolve the AsyncAPI document at ``path``.

    Relative ``$ref`` files resolve against the directory of the file holding the ref;
    http(s) refs are fetched only when ``allow_remote`` is True (else problem L013).
    Never raises for a bad document: a missing file gives L001, unreadable or
    undecodable bytes L006; see :data:`~chanspec.codegen.problems.CODES`.
    """
    session = _Session(allow_remote)
    display, p = str(path), Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        session.add("L001", f"file not found: {display}")
        return session.result(p, None, "")
    except (OSError, ValueError) as exc:
        session.add("L006", f"cannot read {display}: {exc}")
        return session.result(p, None, "")
    text = decode(data, display, session.problems)
    if text is None:
        return session.result(p, None, "")
    return session.load_root(text, display, p)


def load_text(text: str, name: str, *, allow_remote: bool = False) -> LoadedDocument:
    """Parse and resolve a document given as ``text``; ``name`` is its file name.

    ``name`` is used in positions and relative ``$ref`` files resolve against its
    directory (the current directory for a bare name).  Same rules as
    :func:`load_document`; never raises for a bad document.
    """
    session = _Session(allow_remote)
    return session.load_root(text.removeprefix("\ufeff"), name, Path(name))


def load_or_raise(path: str | Path, *, allow_remote: bool = False) -> LoadedDocument:
    """:func:`load_document`, raising :class:`ProblemsError` if any problem is an error.

    The exception carries every problem (warnings too); warnings alone do not raise.
    """
    doc = load_document(path, allow_remote=allow_remote)
    if not doc.ok:
        raise ProblemsError(doc.problems)
    return doc


@dataclass
class _Doc:
    key: str  # absolute path or URL: what relative refs resolve against
    display: str  # file name used in positions
    tree: Any = None  # the resolved tree, or the text of a non-YAML file
    is_text: bool = False


@dataclass(frozen=True)
class _Fail:
    code: str
    message: str
    hint: str | None = None
    report: bool = True  # False: already reported elsewhere


@dataclass(frozen=True)
class _Miss:
    index: int  # index of the first pointer token that did not match


_CYCLE = _Fail("L016", "circular $ref chain: the $ref leads back to itself, never to an object")


def _is_ref(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("$ref"), str)


def _escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _line_col(p: Problem) -> tuple[int, int]:
    return (p.position.line, p.position.col) if p.position else (0, 0)


def _pointer(tokens: list[str]) -> str:
    return "".join("/" + _escape(t) for t in tokens)


class _Session:
    """One load: positions, problems, the cache of referenced files, resolution state."""

    def __init__(self, allow_remote: bool) -> None:
        self.allow_remote = allow_remote
        self.smap = SourceMap()
        self.problems: list[Problem] = []
        self.docs: dict[tuple[str, bool], _Doc | _Fail] = {}
        self.to_walk: list[_Doc] = []
        self.owner: dict[int, _Doc] = {}  # id(container of a resolved tree) -> its file
        self.memo: dict[int, Any] = {}  # id(ref dict) -> target or _Fail
        self.active: set[int] = set()
        self.visited: set[int] = set()

    def add(self, code: str, message: str, pos: Position | None = None, **kw: Any) -> None:
        self.problems.append(Problem(code, message, position=pos, **kw))

    def result(self, path: Path, raw: dict[str, Any] | None, version: str) -> LoadedDocument:
        resolved = self.docs.get((os.path.abspath(path), True))
        tree = resolved.tree if isinstance(resolved, _Doc) else None
        return LoadedDocument(
            raw=raw if raw is not None else {},
            resolved=tree if isinstance(tree, dict) else {},
            source=self.smap,
            path=path,
            version=version,
            problems=self.problems,
        )

    def load_root(self, text: str, display: str, path: Path) -> LoadedDocument:
        node = compose(text, display, self.problems)
        if node is False:
            return self.result(path, None, "")
        if node is None:
            self.add("L007", f"{display} is empty", Position(display, 1, 1))
            return self.result(path, None, "")
        raw = convert(node, display, self.smap, self.problems, [])
        if not isinstance(raw, dict):
            kind = "a sequence" if isinstance(raw, list) else "a scalar"
            pos = Position(display, node.start_mark.line + 1, node.start_mark.column + 1)
            self.add("L008", f"the top level of {display} must be a mapping, not {kind}", pos)
            return self.result(path, None, "")
        containers: list[object] = []
        tree = convert(node, display, self.smap, [], containers)
        self.register(_Doc(os.path.abspath(path), display, tree), containers, structured=True)
        version = self.check_version(raw, display)
        self.resolve_all()
        return self.result(path, raw, version)

    def check_version(self, raw: dict[str, Any], display: str) -> str:
        value = raw.get("asyncapi")
        if value is None:
            self.add(
                "L020",
                f"{display} is not an AsyncAPI document: no 'asyncapi' version at the top level",
                self.smap.position_of(raw),
                hint="start the file with `asyncapi: 3.0.0`",
            )
            return ""
        version = str(value)
        if not SUPPORTED_VERSION.match(version):
            self.add(
                "L021",
                f"AsyncAPI version {version!r} is not supported (2.0.0 to 2.6.0, 3.0.0, 3.1.0)",
                self.smap.position_of(raw, "asyncapi"),
                pointer="/asyncapi",
                hint=None if isinstance(value, str) else "quote it: `asyncapi: '3.0.0'`",
            )
        return version

    def register(self, doc: _Doc, containers: list[object], *, structured: bool) -> _Doc:
        self.docs[(doc.key, structured)] = doc
        for c in containers:
            self.owner[id(c)] = doc
        if structured:
            self.to_walk.append(doc)
        return doc

    # -- resolution -------------------------------------------------------------------

    def resolve_all(self) -> None:
        """Replace every ``$ref`` in every loaded file (files found on the way included)."""
        i, start = 0, len(self.problems)
        while i < len(self.to_walk):
            self.walk(self.to_walk[i])
            i += 1
        # source order: the root file first, then other files in order of first problem
        rank = {self.to_walk[0].display: 0} if self.to_walk else {}
        for p in self.problems[start:]:
            rank.setdefault(p.position.file if p.position else "", len(rank))
        self.problems[start:] = sorted(
            self.problems[start:],
            key=lambda p: (rank[p.position.file if p.position else ""], *_line_col(p)),
        )

    def walk(self, doc: _Doc) -> None:
        """Replace the refs of one file; its problems are added in source order."""
        found: list[Problem] = []
        stack: list[tuple[Any, str]] = [(doc.tree, "")]
        while stack:
            node, ptr = stack.pop()
            if not isinstance(node, dict | list) or id(node) in self.visited:
                continue
            self.visited.add(id(node))
            items = list(node.items() if isinstance(node, dict) else enumerate(node))
            children: list[tuple[Any, str]] = []
            for key, value in items:
                where = f"{ptr}/{_escape(key)}"
                if not _is_ref(value):
                    children.append((value, where))
                    continue
                target = self.resolve(value)
                if not isinstance(target, _Fail):
                    node[key] = target
                elif target.report:
                    pos = self.smap.position_of(value, "$ref")
                    found.append(
                        Problem(
                            target.code, target.message, Severity.ERROR, where, pos, target.hint
                        )
                    )
            stack.extend(reversed(children))
        self.problems.extend(found)

    def resolve(self, ref: dict[str, Any]) -> Any:
        """Target object of a ``{"$ref": ...}`` dict, or a :class:`_Fail` (memoised).

        A chain of refs (a ref whose target is a ref) is followed iteratively; only its
        last link reports a failure, the others get a quiet copy.
        """
        if id(ref) in self.memo:
            return self.memo[id(ref)]
        if id(ref) in self.active:
            return _CYCLE
        chain: list[dict[str, Any]] = []
        node, inherited = ref, False
        try:
            while True:
                chain.append(node)
                self.active.add(id(node))
                out = self.lookup(node["$ref"], self.owner[id(node)])
                if not _is_ref(out):
                    break
                if id(out) in self.memo:
                    out, inherited = self.memo[id(out)], True
                    break
                if id(out) in self.active:
                    out = _Fail(_CYCLE.code, _CYCLE.message)
                    break
                node = out
        finally:
            for link in chain:
                self.active.discard(id(link))
        for i, link in enumerate(chain):
            quiet = isinstance(out, _Fail) and (inherited or i < len(chain) - 1)
            self.memo[id(link)] = _Fail(out.code, out.message, report=False) if quiet else out
        return self.memo[id(ref)]

    def deref(self, node: Any) -> Any:
        if not _is_ref(node):
            return node
        out = self.resolve(node)
        if out is _CYCLE:
            return _Fail(_CYCLE.code, _CYCLE.message)
        if isinstance(out, _Fail):
            return _Fail(out.code, out.message, report=False)
        return out

    def lookup(self, ref: str, base: _Doc) -> Any:
        uri, _, fragment = ref.partition("#")
        if not uri:
            return self.follow(base, fragment, ref)
        try:
            suffix = Path(urlsplit(uri).path).suffix.lower()
            doc = self.open(uri, base, structured=bool(fragment) or suffix in STRUCTURED_SUFFIXES)
        except ValueError as exc:  # malformed URI, e.g. a bad IPv6 host
            return _Fail("L015", f"invalid $ref URI {uri!r}: {exc}")
        if isinstance(doc, _Fail) or doc.is_text:
            return doc if isinstance(doc, _Fail) else doc.tree
        return self.follow(doc, fragment, ref)

    def follow(self, doc: _Doc, fragment: str, ref: str) -> Any:
        """Walk the RFC 6901 pointer ``fragment`` (percent-decoded first) in ``doc``."""
        first: tuple[list[str], _Miss] | None = None
        for frag in dict.fromkeys((unquote(fragment), fragment)):
            if frag and not frag.startswith("/"):
                return _Fail("L010", f"$ref {ref!r}: fragment '#{frag}' is not a JSON pointer")
            tokens = [unescape_token(t) for t in frag.split("/")[1:]] if frag else []
            out = self.walk_pointer(doc.tree, tokens)
            if not isinstance(out, _Miss):
                return out
            first = first or (tokens, out)
        assert first is not None
        return self.missing(doc, ref, *first)

    def walk_pointer(self, node: Any, tokens: list[str]) -> Any:
        for i, token in enumerate(tokens):
            node = self.deref(node)
            if isinstance(node, _Fail):
                return node
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and _INDEX.match(token) and int(token) < len(node):
                node = node[int(token)]
            else:
                return _Miss(i)
        return node

    def missing(self, doc: _Doc, ref: str, tokens: list[str], miss: _Miss) -> _Fail:
        uri = ref.partition("#")[0]
        fixed = self.fix(doc.tree, tokens)
        if fixed is not None:
            good = f"{uri}#{_pointer(fixed)}"
            return _Fail(
                "L011",
                f"$ref {ref!r} does not resolve: a key containing '/' must be escaped",
                hint=f"escape '/' in the key as '~1': {good}",
            )
        prefix = _pointer(tokens[: miss.index])
        where = f"{uri}#{prefix}" if prefix else f"the top level of {uri or 'the document'}"
        token = tokens[miss.index]
        return _Fail("L010", f"$ref {ref!r} does not resolve: no {token!r} in {where}")

    def fix(self, node: Any, tokens: list[str]) -> list[str] | None:
        """``tokens`` with runs joined by '/' so that keys containing '/' match, or None."""
        if not tokens:
            return []
        if _is_ref(node):
            target = self.resolve(node)
            node = node if isinstance(target, _Fail) else target
        if isinstance(node, list) and _INDEX.match(tokens[0]) and int(tokens[0]) < len(node):
            rest = self.fix(node[int(tokens[0])], tokens[1:])
            return None if rest is None else [tokens[0], *rest]
        if isinstance(node, dict):
            for j in range(len(tokens), 0, -1):
                key = "/".join(tokens[:j])
                rest = self.fix(node[key], tokens[j:]) if key in node else None
                if rest is not None:
                    return [key, *rest]
        return None

    # -- referenced files -------------------------------------------------------------

    def open(self, uri: str, base: _Doc, *, structured: bool) -> _Doc | _Fail:
        scheme = urlsplit(uri).scheme.lower()
        base_remote = urlsplit(base.key).scheme in ("http", "https")
        if scheme in ("http", "https") or (base_remote and not scheme):
            return self.remote(urljoin(base.key, uri), structured)
        if scheme == "file":
            path = Path(urllib.request.url2pathname(urlsplit(uri).path))
            display = str(path)
        elif len(scheme) > 1:
            return _Fail("L015", f"unsupported $ref URI {uri!r} (only files and http(s))")
        else:
            raw, here = urlsplit(uri).path, Path(base.key).parent
            rel = unquote(raw)  # percent-decoded, unless only the name as written exists
            if rel != raw and not (here / rel).exists() and (here / raw).exists():
                rel = raw
            path = here / rel
            display = os.path.normpath(os.path.join(os.path.dirname(base.display), rel))
        key = (os.path.abspath(path), structured)
        if key not in self.docs:
            try:
                if path.exists() and not path.is_file():  # never read directories, devices
                    raise IsADirectoryError(f"not a regular file: {display}")
                data = path.read_bytes()
            except FileNotFoundError:
                self.docs[key] = _Fail("L012", f"$ref file not found: {display}")
            except (OSError, ValueError) as exc:
                self.docs[key] = _Fail("L012", f"cannot read $ref file {display}: {exc}")
            else:
                self.docs[key] = self.parse(key[0], display, data, structured)
        return self.docs[key]

    def remote(self, url: str, structured: bool) -> _Doc | _Fail:
        if not self.allow_remote:
            return _Fail(
                "L013",
                f"remote $ref not allowed: {url}",
                hint="pass allow_remote=True (CLI: --allow-remote), or copy the file "
                "next to the document and use a relative $ref",
            )
        key = (url, structured)
        if key not in self.docs:
            try:
                with urllib.request.urlopen(url, timeout=REMOTE_TIMEOUT_S) as resp:
                    data: bytes = resp.read()
            except (OSError, ValueError, http.client.HTTPException) as exc:
                self.docs[key] = _Fail("L014", f"cannot fetch remote $ref {url}: {exc}")
            else:
                self.docs[key] = self.parse(url, url, data, structured)
        return self.docs[key]

    def parse(self, key: str, display: str, data: bytes, structured: bool) -> _Doc | _Fail:
        text = decode(data, display, self.problems)
        if text is None:
            return _Fail("L006", f"cannot decode {display}", report=False)
        if not structured:
            return self.register(_Doc(key, display, text, is_text=True), [], structured=False)
        node = compose(text, display, self.problems)
        if node is False:
            return _Fail("L002", f"syntax error in {display}", report=False)
        containers: list[object] = []
        tree = None
        if node is not None:
            tree = convert(node, display, self.smap, self.problems, containers)
        return self.register(_Doc(key, display, tree), containers, structured=True)
