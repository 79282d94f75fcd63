"""A self-contained HTML page documenting an AsyncAPI document (offline: no CDN, no network).

:func:`render_html` turns an AsyncAPI 3.0 document (2.x documents are shown too, their
``publish``/``subscribe`` read as ``receive``/``send``) into one HTML page with inline CSS and
vanilla JavaScript. The page shows the info block, servers, channel layers and, per channel, its
address, parameters, ``x-channel-layer`` and ``x-groups``, its operations grouped by direction
(``action: receive`` is client -> server, ``action: send`` server -> client) with their replies
and ``x-events``, and its messages with payload schemas as collapsible trees and examples as
pretty JSON. A search box filters channels, operations and messages as you type.

Safety: every string taken from the document is HTML-escaped and element ids are sanitised, so
a description containing ``<script>`` is shown as text. The page carries a Content Security
Policy that allows only its own inline style and script (by hash) and ``data:`` images, so it
loads nothing from the network even if opened from a hostile place.

The document may be already resolved (``$ref`` objects replaced by their targets, possibly
cyclic, as ``chanspec.codegen.load`` produces) or contain local ``#/...`` refs (as the emitted
document does); local refs are followed here with cycle guards. Other refs are shown as
unresolved. Output is deterministic: the same document gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

__all__ = ["render_html"]

#: Schema nodes rendered per payload tree before the rest is cut (guards shared-subtree blowup).
MAX_SCHEMA_NODES = 3000
#: Nesting depth of one schema tree before the rest is cut.
MAX_SCHEMA_DEPTH = 40
#: Tree levels that start expanded.
OPEN_DEPTH = 3
#: Longest pretty-JSON block shown (characters); longer ones are cut with a note.
MAX_JSON_CHARS = 40_000

_DOT = " \u00b7 "
RECEIVE = "receive"
SEND = "send"
DIRECTION_LABEL = {RECEIVE: "client \u2192 server", SEND: "server \u2192 client"}


# ---- small helpers ------------------------------------------------------------------------------


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def _str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


_CODE = re.compile(r"`([^`\n]+)`")
_URL = re.compile(r"\bhttps?://[^\s<>&\"']+(?:&amp;[^\s<>&\"']+)*")


def _linkify(match: re.Match[str]) -> str:
    url = match.group(0)
    tail = ""
    while url and url[-1] in ".,;:!?)":
        tail = url[-1] + tail
        url = url[:-1]
    return f'<a href="{url}" rel="noopener noreferrer">{url}</a>{tail}'


def _prose(value: object) -> str:
    """Escaped text; `code` spans and http(s) URLs become markup, line breaks kept by CSS."""
    text = _str(value)
    if text is None:
        return ""
    escaped = _esc(text)
    parts = _CODE.split(escaped)
    out = []
    for i, part in enumerate(parts):
        out.append(f"<code>{part}</code>" if i % 2 else _URL.sub(_linkify, part))
    return "".join(out)


def _safe_href(value: object) -> str | None:
    text = _str(value)
    if text is None:
        return None
    if re.match(r"(?i)(https?:|mailto:)", text.strip()):
        return _esc(text.strip())
    return None


def _plain(value: Any, stack: tuple[int, ...] = ()) -> Any:
    """A JSON-compatible copy of ``value``; a container inside itself becomes ``"<circular>"``."""
    if isinstance(value, Mapping | list | tuple):
        if id(value) in stack:
            return "<circular>"
        inner = (*stack, id(value))
        if isinstance(value, Mapping):
            return {str(k): _plain(v, inner) for k, v in value.items()}
        return [_plain(v, inner) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def _json(value: Any, indent: int | None = 2) -> str:
    return json.dumps(_plain(value), indent=indent, ensure_ascii=False)


_JSON_TOKEN = re.compile(
    r'(?P<str>"(?:\\.|[^"\\])*")(?P<colon>\s*:)?|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
)


def _json_block(value: Any) -> str:
    """Pretty JSON in a ``<pre>``, tokens coloured, every piece escaped."""
    text = _json(value)
    note = ""
    if len(text) > MAX_JSON_CHARS:
        text = text[:MAX_JSON_CHARS]
        note = '<p class="note">\u2026 cut: the value is longer than this page shows.</p>'
    out: list[str] = []
    pos = 0
    for m in _JSON_TOKEN.finditer(text):
        out.append(_esc(text[pos : m.start()]))
        if m.group("str") is not None:
            cls = "j-key" if m.group("colon") else "j-str"
            out.append(f'<span class="{cls}">{_esc(m.group("str"))}</span>')
            if m.group("colon"):
                out.append(_esc(m.group("colon")))
        elif m.group("lit") is not None:
            out.append(f'<span class="j-lit">{m.group("lit")}</span>')
        else:
            out.append(f'<span class="j-num">{m.group("num")}</span>')
        pos = m.end()
    out.append(_esc(text[pos:]))
    return f'<pre class="json"><code>{"".join(out)}</code></pre>{note}'


def _short_json(value: Any, limit: int = 80) -> str:
    text = _json(value, indent=None)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _unescape_token(token: str) -> str:
    return unquote(token).replace("~1", "/").replace("~0", "~")


def _ref_tokens(ref: str) -> list[str] | None:
    """Tokens of a local ``#/a/b`` ref (``[]`` for ``#``), or None for any other ref."""
    if not ref.startswith("#"):
        return None
    pointer = ref[1:]
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        return None
    return [_unescape_token(t) for t in pointer[1:].split("/")]


class _Ids:
    """Sanitised, unique element ids, handed out in document order (so deterministic)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, prefix: str, *parts: str) -> str:
        raw = "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", p).strip(".") or "_" for p in parts)
        base = f"{prefix}-{raw}"
        candidate, n = base, 2
        while candidate in self.taken:
            candidate = f"{base}-{n}"
            n += 1
        self.taken.add(candidate)
        return candidate


# ---- reference resolution -----------------------------------------------------------------------


class _Resolver:
    """Follows local ``$ref``s of one document (chains and cycles guarded)."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.active: set[str] = set()  # refs being resolved (a pointer through its own ref)
        self.cache: dict[str, Any] = {}

    def deref(self, node: Any) -> tuple[Any, str | None]:
        """``(target, ref name)``: the object behind a (chain of) local ref(s).

        The name is the last pointer token of the first ref followed (``None`` when ``node`` is
        not a ref). An unresolvable or non-local ref comes back as the ref object itself.
        """
        name: str | None = None
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            tokens = _ref_tokens(ref)
            if name is None:
                name = tokens[-1] if tokens else ref
            if tokens is None or ref in seen or ref in self.active:
                return node, name
            seen.add(ref)
            if ref in self.cache:
                target = self.cache[ref]
            else:
                self.active.add(ref)
                try:
                    target = self.walk(tokens)
                finally:
                    self.active.discard(ref)
                self.cache[ref] = target
            if target is None:
                return node, name
            node = target
        return node, name

    def walk(self, tokens: list[str]) -> Any:
        node: Any = self.root
        for token in tokens:
            node, _ = self.deref(node)
            if isinstance(node, Mapping):
                if token not in node:
                    return None
                node = node[token]
            elif isinstance(node, list | tuple) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node


def _identical(a: Any, b: Any) -> bool:
    return a is b


def _equal(a: Any, b: Any) -> bool:
    """``a == b`` for non-empty mappings; False when comparing would not end (cyclic data)."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping) or not a:
        return False
    try:
        return bool(a == b)
    except RecursionError:
        return False


def _is_unresolved(node: Any) -> bool:
    return isinstance(node, Mapping) and isinstance(node.get("$ref"), str)


# ---- the view model: channels, operations, messages ---------------------------------------------


@dataclass
class _Message:
    key: str
    obj: Mapping[str, Any]
    anchor: str
    declared: bool = True
    directions: list[str] = field(default_factory=list)
    used_by: list[tuple[str, str]] = field(default_factory=list)  # (operation id, anchor)


@dataclass
class _Link:
    label: str
    anchor: str | None
    message: _Message | None = None


@dataclass
class _Operation:
    op_id: str
    obj: Mapping[str, Any]
    action: str
    anchor: str
    messages: list[_Link] = field(default_factory=list)
    reply: Mapping[str, Any] | None = None
    reply_messages: list[_Link] = field(default_factory=list)
    reply_channel: str | None = None
    events: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)


@dataclass
class _Channel:
    cid: str
    obj: Mapping[str, Any]
    address: str | None
    anchor: str
    messages: list[_Message] = field(default_factory=list)
    operations: list[_Operation] = field(default_factory=list)

    def message(self, key: str) -> _Message | None:
        return next((m for m in self.messages if m.key == key), None)


class _View:
    """Reads the document into channels with their messages and operations."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.doc = document
        self.r = _Resolver(document)
        self.ids = _Ids()
        self.version = _str(document.get("asyncapi")) or ""
        self.v2 = self.version.startswith("2.")
        self.channels: list[_Channel] = []
        self.orphans: list[_Operation] = []
        channels, _ = self.r.deref(document.get("channels"))
        for cid, raw in _map(channels).items():
            obj, _ = self.r.deref(raw)
            obj = _map(obj)
            address = str(cid) if self.v2 else _str(obj.get("address"))
            self.channels.append(_Channel(str(cid), obj, address, self.ids.take("channel", cid)))
        for ch in self.channels:
            messages, _ = self.r.deref(ch.obj.get("messages"))
            for key, raw in _map(messages).items():
                self._add_message(ch, str(key), raw)
        if self.v2:
            self._read_v2_operations()
        else:
            operations, _ = self.r.deref(document.get("operations"))
            for op_id, raw in _map(operations).items():
                self._read_operation(str(op_id), raw)
        for ch in self.channels:
            for op in ch.operations:
                self._mark_use(op)

    # -- messages

    def _message_object(self, raw: Any) -> Mapping[str, Any]:
        obj, _ = self.r.deref(raw)
        obj = _map(obj)
        traits = _seq(obj.get("traits"))
        if not traits:
            return obj
        merged: dict[str, Any] = {}
        for trait in traits:
            merged.update(_map(self.r.deref(trait)[0]))
        if self.v2:  # 2.x: the trait's values win
            return {**obj, **merged}
        return {**merged, **obj}  # 3.0: the object's own values win

    def _add_message(self, ch: _Channel, key: str, raw: Any, declared: bool = True) -> _Message:
        msg = _Message(key, self._message_object(raw), "", declared)
        msg.anchor = self.ids.take("message", ch.cid, key)
        ch.messages.append(msg)
        return msg

    def _find_message(self, ch: _Channel | None, raw: Any) -> _Link:
        """The channel message ``raw`` (a ref or a resolved object) stands for."""
        ref = raw.get("$ref") if isinstance(raw, Mapping) else None
        if isinstance(ref, str):
            tokens = _ref_tokens(ref)
            if tokens and len(tokens) == 4 and tokens[0] == "channels" and tokens[2] == "messages":
                owner = self._channel(tokens[1])
                found = owner.message(tokens[3]) if owner else None
                if found is not None:
                    return _Link(tokens[3], found.anchor, found)
        target, name = self.r.deref(raw)
        candidates = ([ch] if ch else []) + [c for c in self.channels if c is not ch]
        for same in (_identical, _equal):
            for c in candidates:
                for m in c.messages:
                    source = self.r.deref(_map(c.obj.get("messages")).get(m.key))[0]
                    if same(source, target) or same(m.obj, target):
                        return _Link(m.key, m.anchor, m)
        if _is_unresolved(target) and not (isinstance(ref, str) and ref.startswith("#")):
            return _Link(str(name or "?"), None)
        obj = _map(target)
        key = name or _str(obj.get("name")) or _str(obj.get("messageId")) or "message"
        if ch is not None and target is not None and not _is_unresolved(target):
            existing = ch.message(key)
            if existing is not None and existing.obj is obj:
                return _Link(key, existing.anchor, existing)
            added = self._add_message(ch, key, obj, declared=False)
            return _Link(key, added.anchor, added)
        return _Link(key, None)

    # -- operations

    def _channel(self, cid: str) -> _Channel | None:
        return next((c for c in self.channels if c.cid == cid), None)

    def _channel_of(self, raw: Any) -> _Channel | None:
        ref = raw.get("$ref") if isinstance(raw, Mapping) else None
        if isinstance(ref, str):
            tokens = _ref_tokens(ref)
            if tokens and len(tokens) == 2 and tokens[0] == "channels":
                found = self._channel(tokens[1])
                if found is not None:
                    return found
        target, _ = self.r.deref(raw)
        if target is None:
            return None
        for same in (_identical, _equal):
            for c in self.channels:
                if same(c.obj, target):
                    return c
        return None

    def _read_operation(self, op_id: str, raw: Any) -> None:
        obj = _map(self.r.deref(raw)[0])
        traits = _seq(obj.get("traits"))
        if traits:
            merged: dict[str, Any] = {}
            for trait in traits:
                merged.update(_map(self.r.deref(trait)[0]))
            obj = {**merged, **obj}
        ch = self._channel_of(obj.get("channel"))
        action = _str(obj.get("action")) or "?"
        op = _Operation(op_id, obj, action, self.ids.take("operation", op_id))
        if "messages" in obj:
            op.messages = [self._find_message(ch, m) for m in _seq(obj.get("messages"))]
        elif ch is not None:
            op.messages = [_Link(m.key, m.anchor, m) for m in ch.messages if m.declared]
        reply = self.r.deref(obj.get("reply"))[0]
        if isinstance(reply, Mapping):
            op.reply = reply
            rch = self._channel_of(reply["channel"]) if "channel" in reply else ch
            if rch is not None and rch is not ch:
                op.reply_channel = rch.cid
            if "messages" in reply:
                op.reply_messages = [self._find_message(rch, m) for m in _seq(reply["messages"])]
            elif rch is not None and rch is not ch:
                op.reply_messages = [_Link(m.key, m.anchor, m) for m in rch.messages]
        for i, event in enumerate(_seq(obj.get("x-events"))):
            target, name = self.r.deref(event)
            body = _map(target)
            label = _str(body.get("name")) or name or f"event {i + 1}"
            op.events.append((label, body))
        (ch.operations if ch is not None else self.orphans).append(op)

    def _read_v2_operations(self) -> None:
        for ch in self.channels:
            for key, action in (("publish", RECEIVE), ("subscribe", SEND)):
                obj = _map(self.r.deref(ch.obj.get(key))[0])
                if not obj:
                    continue
                op_id = _str(obj.get("operationId")) or f"{ch.cid} {key}"
                op = _Operation(op_id, obj, action, self.ids.take("operation", op_id))
                message = self.r.deref(obj.get("message"))[0]
                options = _seq(_map(message).get("oneOf")) or ([message] if message else [])
                for i, raw in enumerate(options):
                    target, name = self.r.deref(raw)
                    body = _map(target)
                    mkey = (
                        _str(body.get("messageId"))
                        or _str(body.get("name"))
                        or name
                        or f"{op_id} message {i + 1}"
                    )
                    existing = next((m for m in ch.messages if m.obj is body), None)
                    if existing is None:
                        existing = self._add_message(ch, mkey, body)
                    op.messages.append(_Link(existing.key, existing.anchor, existing))
                ch.operations.append(op)

    def _mark_use(self, op: _Operation) -> None:
        back = SEND if op.action == RECEIVE else RECEIVE
        for links, direction in ((op.messages, op.action), (op.reply_messages, back)):
            for link in links:
                m = link.message
                if m is None:
                    continue
                if direction in (RECEIVE, SEND) and direction not in m.directions:
                    m.directions.append(direction)
                if (op.op_id, op.anchor) not in m.used_by:
                    m.used_by.append((op.op_id, op.anchor))


# ---- schema trees -------------------------------------------------------------------------------

_CHILD_ONE = (
    ("additionalProperties", "additional properties"),
    ("unevaluatedProperties", "unevaluated properties"),
    ("propertyNames", "property names"),
    ("items", "[item]"),
    ("additionalItems", "additional items"),
    ("contains", "contains"),
    ("not", "not"),
    ("if", "if"),
    ("then", "then"),
    ("else", "else"),
)
_UNIONS = (("oneOf", "one of"), ("anyOf", "any of"), ("allOf", "all of"))


def _is_null(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null" and len(schema) == 1


def _fmt_num(value: Any) -> str:
    return _short_json(value, 40)


class _SchemaTree:
    """Renders one schema as nested ``<details>``/``<div>`` nodes, recursion marked."""

    def __init__(self, resolver: _Resolver) -> None:
        self.r = resolver
        self.budget = MAX_SCHEMA_NODES

    def render(self, schema: Any) -> str:
        self.budget = MAX_SCHEMA_NODES
        return f'<div class="tree">{self.node(schema, None, False, 0, ())}</div>'

    def node(
        self,
        schema: Any,
        name: str | None,
        required: bool,
        depth: int,
        stack: tuple[int, ...],
        extra: Sequence[str] = (),
        outer_desc: object = None,
    ) -> str:
        head = self.head_name(name, required)

        def leaf(body: str, cls: str = "") -> str:
            return f'<div class="node leaf{cls}"><div class="line">{head}{body}</div></div>'

        self.budget -= 1
        if self.budget < 0 or depth > MAX_SCHEMA_DEPTH:
            return leaf('<span class="note">\u2026 cut</span>', " cut")
        target, refname = self.r.deref(schema)
        if target is True or target is False:
            label = "any value" if target else "no value allowed"
            return leaf(f'<span class="type t-any">{label}</span>')
        if _is_unresolved(target):
            ref = _esc(target["$ref"])
            return leaf(f'<span class="chip warn">unresolved $ref <code>{ref}</code></span>')
        if not isinstance(target, Mapping):
            return leaf('<span class="type t-any">any</span>')
        if id(target) in stack:
            what = refname or _str(target.get("title")) or "an enclosing schema"
            return leaf(
                '<span class="chip rec" title="recursive schema, not expanded again">'
                f"\u21bb recursive: {_esc(what)}</span>",
                " recursive",
            )
        inner = (*stack, id(target))
        single = self.nullable_single(target)
        if single is not None:
            desc = target.get("description") if _str(target.get("description")) else outer_desc
            return self.node(single, name, required, depth, inner, (*extra, "nullable"), desc)
        children = self.children(target, depth, inner)
        label = self.type_label(target, children)
        chips = [*(f'<span class="chip">{_esc(x)}</span>' for x in extra), *self.chips(target)]
        line = (
            head
            + label
            + (f'<span class="ref">{_esc(refname)}</span>' if refname else "")
            + "".join(chips)
        )
        desc = target.get("description") if _str(target.get("description")) else outer_desc
        desc_html = f'<div class="desc">{_prose(desc)}</div>' if _str(desc) else ""
        if not children:
            return f'<div class="node leaf"><div class="line">{line}</div>{desc_html}</div>'
        opened = " open" if depth < OPEN_DEPTH else ""
        return (
            f'<details class="node"{opened}><summary class="line">{line}</summary>{desc_html}'
            f'<div class="kids">{"".join(children)}</div></details>'
        )

    @staticmethod
    def head_name(name: str | None, required: bool) -> str:
        if name is None:
            return ""
        req = '<span class="req" title="required">required</span>' if required else ""
        return f'<span class="prop">{_esc(name)}</span>{req}'

    def nullable_single(self, target: Mapping[str, Any]) -> Any:
        """The one non-null branch of an ``anyOf``/``oneOf`` ``[X, null]`` schema, else None."""
        structural = {"properties", "items", "allOf", "type", "enum", "const", "$ref"}
        for key in ("anyOf", "oneOf"):
            branches = _seq(target.get(key))
            if len(branches) == 2 and not structural & set(target):
                resolved = [self.r.deref(b)[0] for b in branches]
                nulls = [i for i, b in enumerate(resolved) if _is_null(b)]
                if len(nulls) == 1:
                    return branches[1 - nulls[0]]
        return None

    def children(self, s: Mapping[str, Any], depth: int, stack: tuple[int, ...]) -> list[str]:
        out: list[str] = []
        required = {str(x) for x in _seq(s.get("required"))}
        for prop, sub in _map(self.r.deref(s.get("properties"))[0]).items():
            out.append(self.node(sub, str(prop), str(prop) in required, depth + 1, stack))
        for pattern, sub in _map(s.get("patternProperties")).items():
            out.append(self.node(sub, f"/{pattern}/", False, depth + 1, stack))
        for key, label in _CHILD_ONE:
            sub = s.get(key)
            if key == "items" and isinstance(sub, list | tuple):
                for i, item in enumerate(sub):
                    out.append(self.node(item, f"[{i}]", False, depth + 1, stack))
                continue
            if sub is None or isinstance(sub, bool) and key != "not":
                continue
            if key == "items" and self.simple_items(sub, stack):
                continue
            out.append(self.node(sub, label, False, depth + 1, stack))
        for i, item in enumerate(_seq(s.get("prefixItems"))):
            out.append(self.node(item, f"[{i}]", False, depth + 1, stack))
        for key, label in _UNIONS:
            branches = _seq(s.get(key))
            for i, sub in enumerate(branches):
                tag = f"{label} #{i + 1}" if len(branches) > 1 else label
                out.append(self.node(sub, tag, False, depth + 1, stack))
        return out

    def simple_items(self, items: Any, stack: tuple[int, ...]) -> bool:
        """True when an array's ``items`` is a bare type that fits in the label."""
        target, refname = self.r.deref(items)
        if not isinstance(target, Mapping) or refname or id(target) in stack:
            return False
        return set(target) <= {"type"} and isinstance(target.get("type"), str)

    def type_label(self, s: Mapping[str, Any], children: list[str]) -> str:
        kind = s.get("type")
        if isinstance(kind, list | tuple):
            names = [str(k) for k in kind]
        elif isinstance(kind, str):
            names = [kind]
        elif "properties" in s or "patternProperties" in s or "additionalProperties" in s:
            names = ["object"]
        elif "items" in s or "prefixItems" in s:
            names = ["array"]
        elif "const" in s:
            names = [_json_type(s["const"])]
        elif isinstance(s.get("enum"), list) and s["enum"]:
            names = sorted({_json_type(v) for v in s["enum"]})
        elif any(k in s for k, _ in _UNIONS):
            names = [next(label for k, label in _UNIONS if k in s)]
        else:
            names = ["any"]
        pieces = []
        for n in names:
            text = n
            if n == "array" and "items" in s and not isinstance(s["items"], list | tuple):
                items, _ = self.r.deref(s["items"])
                if isinstance(items, Mapping) and isinstance(items.get("type"), str):
                    text = f"array of {items['type']}"
            css = re.sub(r"[^a-z]", "", n.lower()) or "any"
            pieces.append(f'<span class="type t-{css}">{_esc(text)}</span>')
        return '<span class="types">' + '<span class="or">|</span>'.join(pieces) + "</span>"

    def chips(self, s: Mapping[str, Any]) -> list[str]:
        out: list[str] = []

        def chip(text: str, cls: str = "") -> None:
            out.append(f'<span class="chip{" " + cls if cls else ""}">{text}</span>')

        if "const" in s:
            chip(f"= <code>{_esc(_short_json(s['const']))}</code>", "val")
        enum = _seq(s.get("enum"))
        if enum:
            values = " ".join(f"<code>{_esc(_short_json(v, 40))}</code>" for v in enum[:30])
            more = f" +{len(enum) - 30}" if len(enum) > 30 else ""
            chip(f"one of {values}{more}", "val")
        if _str(s.get("format")):
            chip(f"format: {_esc(s['format'])}")
        if _str(s.get("pattern")):
            chip(f"pattern: <code>{_esc(s['pattern'])}</code>")
        for lo, hi, what in (
            ("minLength", "maxLength", "length"),
            ("minItems", "maxItems", "items"),
            ("minProperties", "maxProperties", "properties"),
        ):
            a, b = s.get(lo), s.get(hi)
            if a is not None and b is not None:
                chip(f"{what} {_esc(_fmt_num(a))}\u2026{_esc(_fmt_num(b))}")
            elif a is not None:
                chip(f"{what} \u2265 {_esc(_fmt_num(a))}")
            elif b is not None:
                chip(f"{what} \u2264 {_esc(_fmt_num(b))}")
        bounds = []
        low, high = s.get("minimum"), s.get("maximum")
        xlow, xhigh = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if isinstance(xlow, bool):  # draft-04 spelling
            xlow, low = (low, None) if xlow else (None, low)
        if isinstance(xhigh, bool):
            xhigh, high = (high, None) if xhigh else (None, high)
        if low is not None:
            bounds.append(f"\u2265 {_esc(_fmt_num(low))}")
        if xlow is not None:
            bounds.append(f"&gt; {_esc(_fmt_num(xlow))}")
        if high is not None:
            bounds.append(f"\u2264 {_esc(_fmt_num(high))}")
        if xhigh is not None:
            bounds.append(f"&lt; {_esc(_fmt_num(xhigh))}")
        if bounds:
            chip(", ".join(bounds))
        if s.get("multipleOf") is not None:
            chip(f"multiple of {_esc(_fmt_num(s['multipleOf']))}")
        if s.get("uniqueItems") is True:
            chip("unique items")
        if s.get("additionalProperties") is False:
            chip("no other properties", "muted")
        if "default" in s:
            chip(f"default <code>{_esc(_short_json(s['default']))}</code>", "def")
        examples = _seq(s.get("examples"))
        if examples:
            chip(f"e.g. <code>{_esc(_short_json(examples[0], 50))}</code>", "muted")
        elif "example" in s:
            chip(f"e.g. <code>{_esc(_short_json(s['example'], 50))}</code>", "muted")
        for flag, cls in (("deprecated", "warn"), ("readOnly", ""), ("writeOnly", "")):
            if s.get(flag) is True:
                chip(flag, cls)
        if s.get("nullable") is True:
            chip("nullable")
        if _str(s.get("contentMediaType")):
            chip(f"content: {_esc(s['contentMediaType'])}")
        if _str(s.get("contentEncoding")):
            chip(f"encoding: {_esc(s['contentEncoding'])}")
        disc = s.get("discriminator")
        disc_name = _str(disc) or _str(_map(disc).get("propertyName"))
        if disc_name:
            chip(f"discriminator: <code>{_esc(disc_name)}</code>", "val")
        return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list | tuple) else "object"


# ---- the page -----------------------------------------------------------------------------------


def _search_text(*values: object) -> str:
    return _esc(" ".join(t for t in (_str(v) for v in values) if t))


def _dir_badge(action: str) -> str:
    if action in DIRECTION_LABEL:
        return (
            f'<span class="badge {action}"><span class="verb">{action}</span>'
            f"{DIRECTION_LABEL[action]}</span>"
        )
    return f'<span class="badge other"><span class="verb">{_esc(action)}</span></span>'


def _kv_rows(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows if v)
    return f'<table class="kv">{body}</table>' if body else ""


class _Page:
    def __init__(self, document: Mapping[str, Any], title: str | None) -> None:
        self.view = _View(document)
        self.r = self.view.r
        self.doc = document
        self.info = _map(self.r.deref(document.get("info"))[0])
        doc_title = _str(self.info.get("title")) or "AsyncAPI document"
        self.heading = doc_title
        version = _str(self.info.get("version"))
        self.title = title if title is not None else f"{doc_title} {version or ''}".strip()
        self.tree = _SchemaTree(self.r)
        self.servers = _map(self.r.deref(document.get("servers"))[0])
        self.server_ids = {str(n): self.view.ids.take("server", str(n)) for n in self.servers}
        self.layers = _map(self.r.deref(document.get("x-channel-layers"))[0])
        self.layer_ids = {str(a): self.view.ids.take("layer", str(a)) for a in self.layers}

    # -- sections

    def info_section(self) -> str:
        info = self.info
        version = _str(info.get("version"))
        chips = []
        if version:
            chips.append(f'<span class="pill">v{_esc(version)}</span>')
        if self.view.version:
            chips.append(f'<span class="pill muted">AsyncAPI {_esc(self.view.version)}</span>')
        ct = _str(self.doc.get("defaultContentType"))
        if ct:
            chips.append(f'<span class="pill muted">{_esc(ct)}</span>')
        links = []
        lic = _map(info.get("license"))
        if _str(lic.get("name")):
            links.append(("License", self.link(lic.get("url"), lic.get("name"))))
        contact = _map(info.get("contact"))
        if contact:
            parts = [_esc(contact["name"])] if _str(contact.get("name")) else []
            if _str(contact.get("url")):
                parts.append(self.link(contact.get("url"), contact.get("url")))
            if _str(contact.get("email")):
                parts.append(self.link(f"mailto:{contact['email']}", contact.get("email")))
            links.append(("Contact", " \u00b7 ".join(parts)))
        if _str(info.get("termsOfService")):
            tos = info.get("termsOfService")
            links.append(("Terms of service", self.link(tos, tos)))
        ext = _map(info.get("externalDocs"))
        if _str(ext.get("url")):
            links.append(("Docs", self.link(ext.get("url"), ext.get("description") or ext["url"])))
        if _str(self.doc.get("id")):
            links.append(("Id", f"<code>{_esc(self.doc['id'])}</code>"))
        tags = self.tags(info.get("tags"))
        if tags:
            links.append(("Tags", tags))
        desc = info.get("description")
        return (
            '<header class="hero" id="overview">'
            f"<h1>{_esc(self.heading)}</h1>"
            f'<div class="pills">{"".join(chips)}</div>'
            + (f'<div class="desc lead">{_prose(desc)}</div>' if _str(desc) else "")
            + _kv_rows(links)
            + self.stats()
            + "</header>"
        )

    def stats(self) -> str:
        channels = self.view.channels
        ops = sum(len(c.operations) for c in channels) + len(self.view.orphans)
        msgs = sum(len(c.messages) for c in channels)
        items = (("channels", len(channels)), ("operations", ops), ("messages", msgs))
        cells = "".join(f"<div><b>{n}</b><span>{label}</span></div>" for label, n in items)
        return f'<div class="stats">{cells}</div>'

    def link(self, href: object, text: object) -> str:
        safe = _safe_href(href)
        label = _esc(_str(text) or _str(href) or "")
        if safe is None:
            return label
        return f'<a href="{safe}" rel="noopener noreferrer">{label}</a>'

    def tags(self, value: object) -> str:
        names = []
        for tag in _seq(value):
            tag = self.r.deref(tag)[0]
            name = _str(_map(tag).get("name")) or _str(tag)
            if name:
                names.append(f'<span class="tag">{_esc(name)}</span>')
        return "".join(names)

    def servers_section(self) -> str:
        if not self.servers:
            return ""
        cards = []
        for name, raw in self.servers.items():
            s = _map(self.r.deref(raw)[0])
            if self.view.v2:
                where = _str(s.get("url")) or ""
            else:
                where = (_str(s.get("host")) or "") + (_str(s.get("pathname")) or "")
            proto = _str(s.get("protocol")) or ""
            if _str(s.get("protocolVersion")):
                proto += f" {s['protocolVersion']}"
            variables = []
            for vname, vraw in _map(s.get("variables")).items():
                v = _map(self.r.deref(vraw)[0])
                bits = [f"<code>{{{_esc(vname)}}}</code>"]
                if "default" in v:
                    bits.append(f"default <code>{_esc(_short_json(v['default']))}</code>")
                if _seq(v.get("enum")):
                    bits.append("one of " + ", ".join(f"<code>{_esc(x)}</code>" for x in v["enum"]))
                if _str(v.get("description")):
                    bits.append(_prose(v["description"]))
                variables.append(" \u2014 ".join(bits))
            rows = [
                ("Protocol", _esc(proto)),
                ("Variables", "<br>".join(variables)),
                ("Security", self.security(s.get("security"))),
                ("Tags", self.tags(s.get("tags"))),
            ]
            desc = s.get("description")
            cards.append(
                f'<div class="card server" id="{self.server_ids[str(name)]}">'
                f'<div class="card-head"><h3>{_esc(name)}</h3>'
                f'<code class="addr">{_esc(where)}</code></div>'
                + (f'<div class="desc">{_prose(desc)}</div>' if _str(desc) else "")
                + _kv_rows(rows)
                + "</div>"
            )
        grid = "".join(cards)
        return f'<section id="servers"><h2>Servers</h2><div class="grid">{grid}</div></section>'

    def layers_section(self) -> str:
        if not self.layers:
            return ""
        specs = {str(alias): _map(self.r.deref(raw)[0]) for alias, raw in self.layers.items()}
        known = ("type", "prefix", "expiry", "capacity", "group_expiry")
        extra = sorted({str(k) for spec in specs.values() for k in spec} - set(known))
        keys = [k for k in (*known, *extra) if any(k in spec for spec in specs.values())]
        head = "".join(f"<th>{_esc(k)}</th>" for k in ("alias", *keys))
        rows = []
        for alias, spec in specs.items():
            cells = "".join(
                f"<td>{_esc(_str(spec.get(k)) or '') if k in spec else ''}</td>" for k in keys
            )
            rows.append(
                f'<tr id="{self.layer_ids[alias]}"><td><code>{_esc(alias)}</code></td>{cells}</tr>'
            )
        return (
            '<section id="layers"><h2>Channel layers</h2>'
            '<p class="muted">Declared in <code>x-channel-layers</code>; in memory unless Redis '
            "is configured.</p>"
            f'<div class="scroll"><table class="grid-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div></section>"
        )

    def security_schemes_section(self) -> str:
        comps = _map(self.r.deref(self.doc.get("components"))[0])
        schemes = _map(self.r.deref(comps.get("securitySchemes"))[0])
        if not schemes:
            return ""
        rows = []
        for name, raw in schemes.items():
            s = _map(self.r.deref(raw)[0])
            detail = " ".join(
                f"{k}: <code>{_esc(s[k])}</code>"
                for k in ("in", "name", "scheme", "bearerFormat", "openIdConnectUrl")
                if _str(s.get(k))
            )
            rows.append(
                f"<tr><td><code>{_esc(name)}</code></td><td>{_esc(_str(s.get('type')) or '')}</td>"
                f'<td>{detail}</td><td class="desc">{_prose(s.get("description"))}</td></tr>'
            )
        return (
            '<section id="security"><h2>Security schemes</h2><div class="scroll">'
            '<table class="grid-table"><thead><tr><th>name</th><th>type</th><th>details</th>'
            f"<th>description</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            "</section>"
        )

    def security(self, value: object) -> str:
        names: list[str] = []
        for req in _seq(value):
            target, name = self.r.deref(req)
            if name is None and isinstance(target, Mapping):
                names.extend(str(k) for k in target if not str(k).startswith("$"))
                continue
            label = name or _str(_map(target).get("name")) or "scheme"
            names.append(label)
        return " ".join(f'<span class="tag">{_esc(n)}</span>' for n in names)

    def parameters(self, ch: _Channel) -> str:
        params = _map(self.r.deref(ch.obj.get("parameters"))[0])
        if not params:
            return ""
        rows = []
        for name, raw in params.items():
            p = _map(self.r.deref(raw)[0])
            if self.view.v2 and "schema" in p:
                p = {**_map(self.r.deref(p["schema"])[0]), **p}
            bits = []
            if _seq(p.get("enum")):
                bits.append("one of " + " ".join(f"<code>{_esc(v)}</code>" for v in p["enum"]))
            if "default" in p:
                bits.append(f"default <code>{_esc(_short_json(p['default']))}</code>")
            if _seq(p.get("examples")):
                bits.append("e.g. " + " ".join(f"<code>{_esc(v)}</code>" for v in p["examples"]))
            if _str(p.get("location")):
                bits.append(f"location <code>{_esc(p['location'])}</code>")
            rows.append(
                f"<tr><th><code>{{{_esc(name)}}}</code></th><td>"
                f'<div class="desc">{_prose(p.get("description"))}</div>'
                f'<div class="meta">{_DOT.join(bits)}</div></td></tr>'
            )
        return f'<h4>Parameters</h4><table class="kv params">{"".join(rows)}</table>'

    def channel_section(self, ch: _Channel) -> str:
        obj = ch.obj
        meta = []
        layer = _str(obj.get("x-channel-layer"))
        if layer:
            meta.append(
                f'<span class="meta-item"><span class="k">layer</span>'
                f'<a class="tag layer" href="#{self.layer_anchor(layer)}">{_esc(layer)}</a></span>'
            )
        groups = [_str(g) for g in _seq(obj.get("x-groups"))]
        if groups:
            chips = "".join(f'<code class="tag group">{_esc(g)}</code>' for g in groups if g)
            meta.append(f'<span class="meta-item"><span class="k">groups</span>{chips}</span>')
        servers = []
        for s in _seq(obj.get("servers")):
            target, name = self.r.deref(s)
            servers.append(name or _str(target) or "server")
        if servers:
            chips = "".join(f'<span class="tag">{_esc(n)}</span>' for n in servers)
            meta.append(f'<span class="meta-item"><span class="k">servers</span>{chips}</span>')
        tags = self.tags(obj.get("tags"))
        if tags:
            meta.append(f'<span class="meta-item"><span class="k">tags</span>{tags}</span>')
        address = (
            f'<code class="addr">{_esc(ch.address)}</code>'
            if ch.address is not None
            else '<span class="addr muted">address decided at run time</span>'
        )
        title = _str(obj.get("title"))
        summary = obj.get("summary")
        desc = obj.get("description")
        search = _search_text(ch.cid, ch.address, title, summary, desc)
        parts = [
            f'<section class="channel" id="{ch.anchor}" data-channel data-search="{search}">',
            '<div class="channel-head">',
            f'<h2><span class="kind">channel</span>{_esc(ch.cid)}</h2>{address}</div>',
        ]
        if title:
            parts.append(f'<p class="title">{_esc(title)}</p>')
        if _str(summary):
            parts.append(f'<div class="desc summary">{_prose(summary)}</div>')
        if _str(desc):
            parts.append(f'<div class="desc">{_prose(desc)}</div>')
        if meta:
            parts.append(f'<div class="meta-row">{"".join(meta)}</div>')
        parts.append(self.parameters(ch))
        parts.append(self.bindings(obj.get("bindings")))
        for action in (RECEIVE, SEND):
            ops = [o for o in ch.operations if o.action == action]
            if ops:
                parts.append(self.op_group(action, ops))
        others = [o for o in ch.operations if o.action not in (RECEIVE, SEND)]
        if others:
            parts.append(self.op_group("other", others))
        if ch.messages:
            parts.append(
                '<div class="group" data-group><h3 class="group-title">Messages</h3>'
                + "".join(self.message_card(m) for m in ch.messages)
                + "</div>"
            )
        parts.append("</section>")
        return "".join(parts)

    def layer_anchor(self, alias: str) -> str:
        return self.layer_ids.get(alias, "layers")

    def op_group(self, action: str, ops: list[_Operation]) -> str:
        if action in DIRECTION_LABEL:
            title = f'{_dir_badge(action)}<span class="muted">{len(ops)} operation(s)</span>'
        else:
            title = "Other operations"
        cards = "".join(self.operation_card(o) for o in ops)
        return f'<div class="group" data-group><h3 class="group-title">{title}</h3>{cards}</div>'

    def msg_links(self, links: list[_Link]) -> str:
        out = []
        for link in links:
            label = _esc(link.label)
            if link.anchor:
                out.append(f'<a class="msg-link" href="#{link.anchor}">{label}</a>')
            else:
                out.append(f'<span class="msg-link missing" title="not found">{label}</span>')
        return "".join(out) or '<span class="muted">none</span>'

    def operation_card(self, op: _Operation) -> str:
        obj = op.obj
        title = _str(obj.get("title"))
        summary, desc = obj.get("summary"), obj.get("description")
        event_names = [name for name, _ in op.events]
        search = _search_text(op.op_id, title, summary, desc, *event_names)
        parts = [
            f'<article class="operation {_esc(op.action)}" id="{op.anchor}" data-item '
            f'data-search="{search}">',
            f'<div class="op-head">{_dir_badge(op.action)}<h4>{_esc(op.op_id)}</h4></div>',
        ]
        if title:
            parts.append(f'<p class="title">{_esc(title)}</p>')
        if _str(summary):
            parts.append(f'<div class="desc summary">{_prose(summary)}</div>')
        if _str(desc):
            parts.append(f'<div class="desc">{_prose(desc)}</div>')
        rows = [(("receives" if op.action == RECEIVE else "sends"), self.msg_links(op.messages))]
        if op.reply is not None:
            reply = ""
            if op.reply_channel:
                reply += f'<span class="muted">on <code>{_esc(op.reply_channel)}</code></span> '
            reply += self.msg_links(op.reply_messages)
            address = _map(self.r.deref(op.reply.get("address"))[0])
            if _str(address.get("location")):
                reply += f' <span class="muted">to <code>{_esc(address["location"])}</code></span>'
            rows.append(("\u21a9 reply", reply))
        security = self.security(obj.get("security"))
        if security:
            rows.append(("security", security))
        tags = self.tags(obj.get("tags"))
        if tags:
            rows.append(("tags", tags))
        parts.append(
            '<dl class="op-rows">'
            + "".join(f"<dt>{_esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
            + "</dl>"
        )
        if op.events:
            events = "".join(self.event_card(name, body) for name, body in op.events)
            parts.append(
                '<div class="events"><div class="events-title">triggered by channel-layer '
                f"event(s) <code>x-events</code></div>{events}</div>"
            )
        parts.append(self.bindings(obj.get("bindings")))
        parts.append("</article>")
        return "".join(parts)

    def event_card(self, name: str, body: Mapping[str, Any]) -> str:
        summary = body.get("summary")
        inner = self.payload_block(body) + self.examples(body)
        return (
            f'<details class="event"><summary><span class="evt">event</span>'
            f"<code>{_esc(name)}</code>"
            + (f'<span class="muted"> \u2014 {_prose(summary)}</span>' if _str(summary) else "")
            + f"</summary>{inner}</details>"
        )

    def payload_block(self, message: Mapping[str, Any]) -> str:
        parts = []
        if "headers" in message:
            parts.append(
                '<div class="block"><div class="block-title">Headers</div>'
                f"{self.schema(message['headers'], message.get('schemaFormat'))}</div>"
            )
        if "payload" in message:
            parts.append(
                '<div class="block"><div class="block-title">Payload</div>'
                f"{self.schema(message['payload'], message.get('schemaFormat'))}</div>"
            )
        return "".join(parts)

    def schema(self, value: Any, v2_format: object = None) -> str:
        target, _ = self.r.deref(value)
        fmt = _str(v2_format)
        if (
            not self.view.v2
            and isinstance(target, Mapping)
            and "schemaFormat" in target
            and "schema" in target
        ):
            fmt, value = _str(target.get("schemaFormat")), target["schema"]
        if fmt and not re.search(r"json|asyncapi|yaml", fmt, re.IGNORECASE):
            return (
                f'<p class="note">schema format <code>{_esc(fmt)}</code>, shown as written:</p>'
                + _json_block(self.r.deref(value)[0])
            )
        return self.tree.render(value)

    def examples(self, message: Mapping[str, Any]) -> str:
        items = _seq(message.get("examples"))
        if not items:
            return ""
        blocks = []
        for i, raw in enumerate(items):
            ex = _map(self.r.deref(raw)[0])
            name = _str(ex.get("name")) or f"example {i + 1}"
            summary = ex.get("summary")
            body = ""
            if "headers" in ex:
                body += '<div class="muted small">headers</div>' + _json_block(ex["headers"])
            if "payload" in ex:
                body += (
                    '<div class="muted small">payload</div>' if "headers" in ex else ""
                ) + _json_block(ex["payload"])
            if not ex:
                body = _json_block(raw)
            blocks.append(
                f'<details class="example" open><summary>{_esc(name)}'
                + (f'<span class="muted"> \u2014 {_prose(summary)}</span>' if _str(summary) else "")
                + f"</summary>{body}</details>"
            )
        return (
            '<div class="block"><div class="block-title">Examples</div>'
            + "".join(blocks)
            + "</div>"
        )

    def bindings(self, value: object) -> str:
        target = self.r.deref(value)[0]
        if not _map(target):
            return ""
        names = ", ".join(_esc(k) for k in _map(target))
        return (
            f'<details class="bindings"><summary>bindings: {names}</summary>'
            f"{_json_block(target)}</details>"
        )

    def message_card(self, m: _Message) -> str:
        obj = m.obj
        name = _str(obj.get("name"))
        title = _str(obj.get("title"))
        summary, desc = obj.get("summary"), obj.get("description")
        search = _search_text(m.key, name, title, summary, desc)
        badges = "".join(
            f'<span class="badge small {d}">{DIRECTION_LABEL[d]}</span>' for d in m.directions
        )
        parts = [
            f'<article class="message" id="{m.anchor}" data-item data-search="{search}">',
            f'<div class="msg-head"><span class="kind">message</span><h4>{_esc(m.key)}</h4>',
        ]
        if title:
            parts.append(f'<span class="title">{_esc(title)}</span>')
        parts.append(f'<span class="spacer"></span>{badges}</div>')
        if _str(summary):
            parts.append(f'<div class="desc summary">{_prose(summary)}</div>')
        if _str(desc):
            parts.append(f'<div class="desc">{_prose(desc)}</div>')
        rows = []
        if _is_unresolved(obj):
            ref = _esc(obj["$ref"])
            rows.append(("$ref", f'<span class="chip warn">unresolved <code>{ref}</code></span>'))
        if name and name != m.key:
            rows.append(("name", f"<code>{_esc(name)}</code>"))
        if _str(obj.get("contentType")):
            rows.append(("content type", f"<code>{_esc(obj['contentType'])}</code>"))
        if _str(obj.get("messageId")) and obj.get("messageId") != m.key:
            rows.append(("messageId", f"<code>{_esc(obj['messageId'])}</code>"))
        corr = _map(self.r.deref(obj.get("correlationId"))[0])
        if _str(corr.get("location")):
            rows.append(("correlation id", f"<code>{_esc(corr['location'])}</code>"))
        if m.used_by:
            used = "".join(
                f'<a class="op-link" href="#{anchor}">{_esc(op_id)}</a>'
                for op_id, anchor in m.used_by
            )
            rows.append(("used by", used))
        elif m.declared:
            rows.append(("used by", '<span class="muted">no operation</span>'))
        tags = self.tags(obj.get("tags"))
        if tags:
            rows.append(("tags", tags))
        if rows:
            parts.append(
                '<dl class="op-rows">'
                + "".join(f"<dt>{_esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
                + "</dl>"
            )
        parts.append(self.payload_block(obj))
        parts.append(self.examples(obj))
        parts.append(self.bindings(obj.get("bindings")))
        parts.append("</article>")
        return "".join(parts)

    def nav(self) -> str:
        items = []
        for ch in self.view.channels:
            addr = (
                f'<span class="nav-addr">{_esc(ch.address)}</span>'
                if ch.address is not None
                else ""
            )
            counts = {a: sum(o.action == a for o in ch.operations) for a in (RECEIVE, SEND)}
            dots = "".join(
                f'<span class="dot {a}" title="{n} {DIRECTION_LABEL[a]}">{n}</span>'
                for a, n in counts.items()
                if n
            )
            items.append(
                f'<li data-nav="{ch.anchor}"><a href="#{ch.anchor}"><span class="nav-id">'
                f'{_esc(ch.cid)}</span>{addr}</a><span class="dots">{dots}</span></li>'
            )
        return f'<ul class="nav">{"".join(items)}</ul>'

    def orphans_section(self) -> str:
        if not self.view.orphans:
            return ""
        cards = "".join(self.operation_card(o) for o in self.view.orphans)
        return (
            '<section class="channel" id="operations-without-channel" data-channel '
            'data-search="operations without a channel">'
            '<div class="channel-head"><h2>Operations without a known channel</h2></div>'
            f'<div class="group" data-group>{cards}</div></section>'
        )

    def render(self) -> str:
        channels = "".join(self.channel_section(c) for c in self.view.channels)
        total = len(self.view.channels)
        body = (
            '<a class="skip" href="#main">Skip to content</a>'
            '<div class="layout">'
            '<aside class="sidebar" aria-label="Navigation">'
            f'<a class="brand" href="#overview">{_esc(self.heading)}</a>'
            '<div class="searchbox">'
            '<input id="search" type="search" placeholder="Search  (press /)"'
            ' autocomplete="off" spellcheck="false" aria-label="Search">'
            f'<div class="counter" id="counter" aria-live="polite">{total} channel(s)</div>'
            "</div>"
            '<div class="sidebar-links"><a href="#overview">Overview</a>'
            + ('<a href="#servers">Servers</a>' if self.servers else "")
            + ('<a href="#layers">Layers</a>' if self.layers else "")
            + '<a href="#channels">Channels</a></div>'
            + self.nav()
            + '<div class="tools"><button type="button" id="expand-all">Expand all</button>'
            '<button type="button" id="collapse-all">Collapse all</button></div>'
            "</aside>"
            '<main id="main">'
            + self.info_section()
            + self.servers_section()
            + self.layers_section()
            + self.security_schemes_section()
            + '<div id="channels" class="channels-title"><h2>Channels</h2>'
            '<div class="legend">'
            + _dir_badge(RECEIVE)
            + _dir_badge(SEND)
            + "</div></div>"
            + channels
            + self.orphans_section()
            + '<p id="no-results" class="no-results" hidden>Nothing matches the search.</p>'
            "<footer>Generated by chanspec from the AsyncAPI document. "
            "Works offline; nothing is loaded from the network.</footer>"
            "</main></div>"
        )
        csp = (
            "default-src 'none'; img-src data:; "
            f"style-src '{_STYLE_HASH}'; script-src '{_SCRIPT_HASH}'; "
            "base-uri 'none'; form-action 'none'"
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="chanspec">'
            '<link rel="icon" href="data:,">'
            f"<title>{_esc(self.title)}</title>"
            f"<style>{_CSS}</style></head>"
            f"<body>{body}<script>{_JS}</script></body></html>\n"
        )


def render_html(document: Mapping[str, Any], *, title: str | None = None) -> str:
    """One self-contained HTML page documenting an AsyncAPI document.

    Args:
        document: an AsyncAPI 3.0 document as a mapping (2.x is shown too), either resolved
            (refs replaced by their targets; shared and cyclic objects allowed) or with local
            ``#/...`` refs, which are followed here. Anything missing or malformed is shown as
            far as it goes; nothing raises for a strange document.
        title: the page's ``<title>``; default ``"<info.title> <info.version>"``.

    Returns:
        The page as text (UTF-8 ``<!DOCTYPE html>`` document, ending in a newline): inline CSS
        and JavaScript only, deterministic for the same document. Element ids: channels
        ``channel-<id>``, operations ``operation-<id>``, messages ``message-<channel>-<key>``
        (characters outside ``[A-Za-z0-9_.-]`` become ``_``; a repeated id gets ``-2``, ``-3``).
    """
    return _Page(document, title).render()


# ---- inline style and script --------------------------------------------------------------------

_CSS = """
:root{--bg:#f6f7f9;--panel:#fff;--text:#1d2330;--muted:#5d6877;--border:#e2e5ea;
--soft:#f0f2f5;--accent:#2456d3;--accent-soft:#e8eefc;--code:#f2f4f7;
--recv:#08794a;--recv-bg:#dff5e9;--send:#6a3fd1;--send-bg:#ede7fd;--reply:#9a5a00;
--warn:#a33a1c;--warn-bg:#fdebe5;--evt:#0c6a87;--evt-bg:#dff1f7;
--t-string:#0b7d5b;--t-number:#1f5fbf;--t-boolean:#b35900;--t-object:#7b3fc4;--t-array:#0c7489;
--t-null:#6b7280;--shadow:0 1px 2px rgba(16,24,40,.05),0 1px 3px rgba(16,24,40,.06);
--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0f131a;--panel:#161b24;--text:#e4e8ef;
--muted:#9aa5b5;--border:#2a313d;--soft:#1c222d;--accent:#7ea6ff;--accent-soft:#1f2a44;
--code:#1d2430;--recv:#4cd394;--recv-bg:#12301f;--send:#b79bff;--send-bg:#261d42;
--reply:#f0b35a;--warn:#ff9b7e;--warn-bg:#3b1d16;--evt:#6fd0ef;--evt-bg:#10303b;
--t-string:#5fd3a7;--t-number:#82b1ff;--t-boolean:#ffb366;--t-object:#c39bff;--t-array:#5ccfe6;
--t-null:#9aa5b5;--shadow:none}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.55 var(--sans)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre{font-family:var(--mono);font-size:.86em}
code{background:var(--code);padding:.08em .35em;border-radius:4px;overflow-wrap:anywhere}
h1,h2,h3,h4{line-height:1.25;margin:0}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;z-index:9;
  background:var(--panel);padding:6px}
.layout{display:grid;grid-template-columns:290px minmax(0,1fr);min-height:100vh}
.sidebar{position:sticky;top:0;height:100vh;overflow:auto;padding:20px 16px;
border-right:1px solid var(--border);background:var(--panel)}
.brand{display:block;font-weight:700;font-size:17px;color:var(--text);margin-bottom:14px}
.searchbox input{width:100%;padding:9px 12px;border:1px solid var(--border);border-radius:8px;
background:var(--bg);color:var(--text);font:inherit;outline:none}
.searchbox input:focus{border-color:var(--accent);box-shadow:0 0 0 3px var(--accent-soft)}
.counter{font-size:12px;color:var(--muted);margin:6px 2px 10px}
.sidebar-links{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:13px;margin:0 2px 10px}
.nav{list-style:none;margin:0;padding:0}
.nav li{display:flex;align-items:center;gap:6px;border-radius:6px}
.nav li:hover{background:var(--soft)}
.nav a{flex:1;min-width:0;display:block;padding:6px 8px;color:var(--text)}
.nav a:hover{text-decoration:none}
.nav-id{display:block;font-weight:600;font-size:14px;overflow-wrap:anywhere}
.nav-addr{display:block;font:12px var(--mono);color:var(--muted);overflow:hidden;
  text-overflow:ellipsis;white-space:nowrap}
.dots{display:flex;gap:3px;padding-right:6px}
.dot{font-size:11px;min-width:20px;text-align:center;border-radius:10px;padding:0 5px;
  font-weight:600}
.dot.receive{background:var(--recv-bg);color:var(--recv)}.dot.send{background:var(--send-bg);
  color:var(--send)}
.tools{display:flex;gap:6px;margin-top:14px}
.tools button{flex:1;font:12px var(--sans);padding:6px;border:1px solid var(--border);
border-radius:6px;background:var(--soft);color:var(--text);cursor:pointer}
.tools button:hover{border-color:var(--accent)}
main{padding:28px 36px 60px;max-width:1100px;width:100%}
.hero{background:var(--panel);border:1px solid var(--border);border-radius:12px;
  padding:24px 26px;box-shadow:var(--shadow)}
.hero h1{overflow-wrap:anywhere;font-size:28px;letter-spacing:-.01em}
.pills{display:flex;flex-wrap:wrap;gap:6px;margin:10px 0 4px}
.pill{font-size:12px;font-weight:600;padding:2px 9px;border-radius:999px;
  background:var(--accent-soft);color:var(--accent)}
.pill.muted{background:var(--soft);color:var(--muted)}
.desc{white-space:pre-line;overflow-wrap:anywhere}
.lead{font-size:15.5px;margin:12px 0 6px}
.stats{display:flex;gap:12px;margin-top:16px;flex-wrap:wrap}
.stats div{background:var(--soft);border-radius:10px;padding:8px 16px;min-width:110px}
.stats b{display:block;font-size:22px}.stats span{font-size:12px;color:var(--muted)}
section{margin-top:28px}
section>h2,.channels-title h2{font-size:20px;margin-bottom:12px}
.channels-title{display:flex;align-items:center;justify-content:space-between;gap:12px;
  margin-top:32px;flex-wrap:wrap}
.legend{display:flex;gap:8px;flex-wrap:wrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.card{background:var(--panel);border:1px solid var(--border);border-radius:10px;
  padding:14px 16px;box-shadow:var(--shadow)}
.card-head{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
.card h3{font-size:16px}
.kv{border-collapse:collapse;margin-top:8px;font-size:14px}
.kv th{text-align:left;color:var(--muted);font-weight:500;padding:3px 14px 3px 0;
  vertical-align:top;white-space:nowrap}
.kv td{padding:3px 0;vertical-align:top}
.scroll{overflow-x:auto}
.grid-table{border-collapse:collapse;width:100%;background:var(--panel);
  border:1px solid var(--border);border-radius:10px;font-size:14px}
.grid-table th,.grid-table td{text-align:left;padding:7px 12px;
  border-bottom:1px solid var(--border)}
.grid-table th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
  background:var(--soft)}
.muted{color:var(--muted)}.small{font-size:12px}
.channel{background:var(--panel);border:1px solid var(--border);border-radius:12px;
  padding:20px 22px;margin-top:18px;box-shadow:var(--shadow);scroll-margin-top:12px}
.channel-head{display:flex;align-items:baseline;gap:12px;flex-wrap:wrap}
.channel-head h2{font-size:21px;min-width:0;overflow-wrap:anywhere}
.kind{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.06em;
  color:var(--muted);margin-right:8px;vertical-align:middle}
.addr{overflow-wrap:anywhere;font-size:14px;background:var(--accent-soft);color:var(--accent);
  padding:3px 8px;
  border-radius:6px}
.title{margin:6px 0 0;font-weight:600}
.summary{margin-top:6px}
.channel>.desc{margin-top:6px;color:var(--muted)}
.meta-row{display:flex;flex-wrap:wrap;gap:8px 18px;margin-top:12px;font-size:13px}
.meta-item{display:inline-flex;align-items:center;gap:6px;flex-wrap:wrap}
.meta-item .k{color:var(--muted)}
.tag{display:inline-block;font-size:12px;padding:1px 8px;border-radius:999px;
  background:var(--soft);border:1px solid var(--border);color:var(--text);margin-right:4px}
code.tag{font-family:var(--mono)}
.tag.layer{background:var(--evt-bg);color:var(--evt);border-color:transparent}
h4{font-size:14px;margin:16px 0 6px}
.params{width:100%}.params th{width:1%}.meta{font-size:13px;color:var(--muted)}
.group{margin-top:18px}
.group-title{display:flex;align-items:center;gap:10px;font-size:14px;font-weight:600;
  margin-bottom:8px;padding-bottom:6px;border-bottom:1px solid var(--border)}
.badge{display:inline-flex;align-items:center;gap:6px;font-size:12px;font-weight:600;
  padding:2px 10px 2px 3px;border-radius:999px;white-space:nowrap}
.badge .verb{font-size:10.5px;text-transform:uppercase;letter-spacing:.05em;padding:1px 7px;
  border-radius:999px;color:#fff}
.badge.receive{background:var(--recv-bg);
  color:var(--recv)}.badge.receive .verb{background:var(--recv)}
.badge.send{background:var(--send-bg);
  color:var(--send)}.badge.send .verb{background:var(--send)}
.badge.other{background:var(--soft);
  color:var(--muted)}.badge.other .verb{background:var(--muted)}
.badge.small{padding:1px 8px;font-size:11px}
@media (prefers-color-scheme:dark){.badge .verb{color:#0f131a}}
.operation,.message{border:1px solid var(--border);border-radius:10px;padding:12px 14px;
  margin-top:10px;scroll-margin-top:12px}
.operation.receive{border-left:4px solid var(--recv)}
.operation.send{border-left:4px solid var(--send)}
.op-head,.msg-head{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.op-head h4,.msg-head h4{margin:0;font:600 15px var(--mono);min-width:0;overflow-wrap:anywhere}
.msg-head .title{margin:0;color:var(--muted);font-weight:500}
.spacer{flex:1}
.op-rows{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:10px 0 0;
  font-size:14px}
.op-rows dt{color:var(--muted)}.op-rows dd{margin:0;display:flex;flex-wrap:wrap;gap:6px;
  align-items:center}
.msg-link,.op-link{overflow-wrap:anywhere;font:13px var(--mono);padding:1px 8px;
  border-radius:6px;
  background:var(--accent-soft)}
.msg-link.missing{background:var(--warn-bg);color:var(--warn)}
.message{background:var(--bg)}
.message:target,.operation:target,.channel:target{outline:3px solid var(--accent);
  outline-offset:2px;animation:flash 1.6s ease-out}
@keyframes flash{from{box-shadow:0 0 0 10px var(--accent-soft)}to{box-shadow:none}}
.events{margin-top:10px;padding:8px 10px;border-radius:8px;background:var(--evt-bg)}
.events-title{font-size:12px;color:var(--evt);font-weight:600;margin-bottom:4px}
.event{margin-top:4px}.event>summary{cursor:pointer;font-size:13px}
.evt{font-size:10.5px;text-transform:uppercase;font-weight:700;color:var(--evt);
  margin-right:6px;letter-spacing:.05em}
.block{margin-top:12px}
.block-title{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.06em;
  color:var(--muted);margin-bottom:4px}
.tree{font-size:13.5px;background:var(--panel);border:1px solid var(--border);border-radius:8px;
  padding:8px 10px;overflow-x:auto}
.node{margin:0}
.node .kids{margin-left:9px;padding-left:12px;border-left:1px dashed var(--border)}
.line{display:flex;flex-wrap:wrap;align-items:center;gap:4px 7px;padding:2px 0}
details.node>summary{cursor:pointer;list-style:none}
details.node>summary::-webkit-details-marker{display:none}
details.node>summary::before{content:"\\25b8";color:var(--muted);font-size:11px;width:10px;
  display:inline-block;transition:transform .12s}
details.node[open]>summary::before{transform:rotate(90deg)}
.leaf>.line{padding-left:14px}
.node .desc{color:var(--muted);font-size:13px;padding-left:14px;margin-bottom:2px}
.prop{overflow-wrap:anywhere;font:600 13.5px var(--mono)}
.req{font-size:10.5px;font-weight:700;color:var(--warn);background:var(--warn-bg);padding:0 6px;
  border-radius:4px;text-transform:uppercase;letter-spacing:.03em}
.types{font:13px var(--mono)}.or{color:var(--muted);margin:0 3px}
.type{font-weight:600}.t-string{color:var(--t-string)}.t-integer,.t-number{color:var(--t-number)}
.t-boolean{color:var(--t-boolean)}.t-object{color:var(--t-object)}.t-array{color:var(--t-array)}
.t-null,.t-any,.t-oneof,.t-anyof,.t-allof{color:var(--t-null)}
.ref{font:12px var(--mono);color:var(--muted);border:1px solid var(--border);border-radius:4px;
  padding:0 5px}
.chip{font-size:12px;padding:0 7px;border-radius:5px;background:var(--soft);color:var(--text)}
.chip code{background:none;padding:0}
.chip.val{background:var(--accent-soft);color:var(--accent)}.chip.def{background:var(--evt-bg);
  color:var(--evt)}
.chip.muted{color:var(--muted)}.chip.warn{background:var(--warn-bg);color:var(--warn)}
.chip.rec{background:var(--send-bg);color:var(--send)}
.note{font-size:12px;color:var(--muted);margin:4px 0}
pre.json{margin:6px 0 0;padding:10px 12px;background:var(--code);border-radius:8px;
  overflow-x:auto;line-height:1.45}
pre.json code{background:none;padding:0;font-size:12.5px}
.j-key{color:var(--t-object)}.j-str{color:var(--t-string)}.j-num{color:var(--t-number)}.j-lit{color:var(--t-boolean)}
.example>summary,.bindings>summary{cursor:pointer;font-size:13px;color:var(--muted)}
.bindings{margin-top:10px}
.no-results{margin:30px 0;text-align:center;color:var(--muted)}
footer{margin-top:40px;font-size:12px;color:var(--muted);text-align:center}
@media (max-width:860px){
.layout{display:block}
.sidebar{position:sticky;top:0;z-index:5;height:auto;max-height:none;border-right:0;
  border-bottom:1px solid var(--border);padding:10px 12px}
.brand{margin-bottom:8px;font-size:15px}
.nav,.tools,.sidebar-links{display:none}
.counter{margin-bottom:0}
main{padding:14px 12px 40px}
.hero{padding:16px}.hero h1{overflow-wrap:anywhere;font-size:22px}
.channel{padding:14px}
.channel,.operation,.message{scroll-margin-top:110px}
.op-rows{grid-template-columns:1fr}.op-rows dt{margin-top:4px}
.stats div{min-width:0;flex:1}
}
"""

_JS = """
(function () {
  "use strict";
  var input = document.getElementById("search");
  var counter = document.getElementById("counter");
  var none = document.getElementById("no-results");
  var channels = Array.prototype.slice.call(document.querySelectorAll("[data-channel]"));
  var total = channels.length;
  function text(el) { return (el.getAttribute("data-search") || "").toLowerCase(); }
  function filter() {
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    channels.forEach(function (ch) {
      var own = q === "" || text(ch).indexOf(q) >= 0;
      var any = false;
      ch.querySelectorAll("[data-group]").forEach(function (group) {
        var groupAny = false;
        group.querySelectorAll("[data-item]").forEach(function (item) {
          var hit = own || text(item).indexOf(q) >= 0;
          item.hidden = !hit;
          if (hit) { groupAny = true; }
        });
        group.hidden = !groupAny && !own;
        if (groupAny) { any = true; }
      });
      var visible = own || any;
      ch.hidden = !visible;
      var nav = document.querySelector('[data-nav="' + ch.id + '"]');
      if (nav) { nav.hidden = !visible; }
      if (visible) { shown += 1; }
    });
    counter.textContent = q === "" ? total + " channel(s)" : shown + " of " + total + " channel(s)";
    none.hidden = shown > 0;
  }
  function hiddenByFilter(el) {
    for (var node = el; node; node = node.parentElement) {
      if (node.hidden) { return true; }
    }
    return false;
  }
  function reveal() {
    var id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (err) { return; }
    if (!id) { return; }
    var el = document.getElementById(id);
    if (!el) { return; }
    if (hiddenByFilter(el)) { input.value = ""; filter(); }
    for (var node = el; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    el.scrollIntoView({block: "start"});
  }
  input.addEventListener("input", filter);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { input.value = ""; filter(); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && document.activeElement !== input) { ev.preventDefault(); input.focus(); }
  });
  function setAll(open) {
    document.querySelectorAll("main details").forEach(function (d) { d.open = open; });
  }
  document.getElementById("expand-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAll(false); });
  window.addEventListener("hashchange", reveal);
  if (input.value) { filter(); }
  reveal();
})();
"""


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


_STYLE_HASH = _csp_hash(_CSS)
_SCRIPT_HASH = _csp_hash(_JS)
