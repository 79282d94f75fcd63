"""Semantic diff of two AsyncAPI 3.0 documents (``chanspec diff A B``).

Both inputs are *resolved* document trees: every ``$ref`` has been replaced by
its target object with identity sharing (``op["channel"] is
doc["channels"]["room"]``), circular schemas are cyclic Python structures and
unresolvable references remain as ``{"$ref": "..."}`` dicts.  Each document is
first reduced to a *canonical view* (:func:`canonical_document`); the two views
are then compared (:func:`diff_documents`).  Two documents are equivalent
exactly when their canonical views are equal, so the rules below are the
contract of the spec -> app -> spec round trip.

Canonical view
==============

Root (AsyncAPI 3.0 "AsyncAPI Object")
    Kept: ``info``, ``servers``, ``defaultContentType``, ``tags``,
    ``externalDocs``, root ``x-*`` extensions, ``channels``, ``operations`` and
    ``components.securitySchemes``.  Dropped: ``asyncapi`` (version string),
    ``id``, every other component (components only matter through references,
    which are already resolved) and unknown root keys.  ``channels``,
    ``operations``, ``servers`` and ``components.securitySchemes`` are always
    present (``{}`` when absent) so that one added channel is reported at
    ``/channels/<id>``.  ``defaultContentType: null`` equals a missing one.

Servers ("Server Object")
    Keyed by server key; generic values, except ``security`` (see operations),
    ``tags`` and the ``enum`` of each server variable (sets).

Channels ("Channel Object")
    Keyed by channel id.  ``address`` is always present (``None`` when missing
    or null).  ``parameters`` (omitted when empty) keyed by name, each parameter
    generic except ``enum`` (a set).  ``messages`` is always present, keyed by
    the channel's message key, each a canonical message.  ``servers`` becomes
    the sorted list of server keys (the key of ``doc["servers"]`` whose object
    ``is`` the element); absent or empty means "all servers" (AsyncAPI 3.0
    section "Channel Object") and is expanded to every server key, omitted
    when that is empty.  ``bindings`` generic, except ``bindings.ws.query`` and
    ``bindings.ws.headers`` which are schemas.  ``tags`` a set; ``title``,
    ``summary``, ``description``, ``externalDocs``, ``x-*`` and unknown keys
    generic.

Messages ("Message Object")
    All fields except ``messageId`` and ``traits`` (already applied).
    ``schemaFormat`` is dropped when absent or one of the AsyncAPI default
    forms ``application/vnd.aai.asyncapi[+json|+yaml];version=<v>``; other
    formats are kept and make ``payload``/``headers`` opaque (generic).
    ``payload`` and ``headers`` are canonical schemas.  A Multi Format Schema
    Object payload ``{schemaFormat, schema}`` whose format is AsyncAPI or JSON
    Schema (``application/schema+json|yaml;version=draft-07``) is replaced by its
    canonical ``schema``; with any other format it is kept as such, generic.
    In schemas, OpenAPI-style ``example: v`` equals ``examples: [v]``.
    ``tags`` a set; everything else generic.

Operations ("Operation Object")
    Keyed by operation id.  ``channel`` becomes the channel id (the key of
    ``doc["channels"]`` whose object ``is`` ``op["channel"]``; otherwise the
    channel's canonical address).  ``messages`` becomes the sorted list of
    message keys within that channel (the key under which the same object
    appears in ``channel["messages"]``, falling back to the message ``name``,
    then to the canonical message); a missing ``messages`` means all messages
    of the channel and is expanded to all its keys.  ``reply`` becomes
    ``{channel, messages, address}`` with the same rules; a missing reply
    channel means the operation's channel, missing reply messages mean all
    messages of the reply channel.  ``security`` (and server ``security``)
    becomes a sorted list of scheme names (the key of
    ``components.securitySchemes`` whose object ``is`` the element, else the
    canonical object); empty equals absent.  ``traits`` is dropped (already
    applied).  ``x-events`` (a chanspec extension: list of message objects) is
    canonicalised message by message and sorted by ``name`` then payload JSON.
    ``action``, ``title``, ``summary``, ``description``, ``tags`` (a set),
    ``bindings``, ``externalDocs``, other ``x-*`` and unknown keys are kept.

Generic values
    Dicts compare regardless of key order (the canonical view is emitted with
    sorted keys), non-string keys become strings, integral floats become ints
    (``1 == 1.0`` but ``True != 1``), YAML dates become ISO strings.

Sets
    ``required``, ``enum``, schema ``type`` lists, tag lists (sorted by
    ``name``), message-key lists, channel ``servers`` and ``security`` lists
    are sorted and de-duplicated; a difference in a set is reported once, as
    ``changed`` of the whole list.

JSON Schemas (draft-07 plus the AsyncAPI/OpenAPI spellings seen in the wild)
    * dropped: ``title``, ``$schema``, ``$id``, ``$comment``, ``$defs`` and
      ``definitions`` (references into them are already resolved);
    * ``additionalProperties: true`` / ``{}``, ``items: true`` / ``{}``,
      ``properties: {}``, ``patternProperties: {}``, ``required: []``,
      ``deprecated: false``, ``readOnly: false``, ``writeOnly: false`` and
      ``nullable: false`` equal absent;
    * ``type: [x]`` equals ``type: x``; list types are sorted and
      de-duplicated; ``enum: [v]`` equals ``const: v``; with ``const`` present
      ``enum`` is dropped and a ``type`` matching the const's JSON type too;
      likewise a ``type`` that admits every ``enum`` value is dropped
      (``{type: [string, "null"], enum: [a, null]}`` equals ``{enum: [a, null]}``);
    * ``nullable: true`` and a list ``type`` containing ``"null"`` become
      ``{<annotations>, anyOf: [{<assertions>}, {"type": "null"}]}`` where the
      annotations are ``description``, ``default``, ``examples``, ``example``,
      ``deprecated``, ``readOnly``, ``writeOnly``, ``externalDocs`` and
      ``x-*`` (the pydantic ``Optional[...]`` spelling);
    * ``anyOf`` and ``allOf`` are flattened (a member that only holds the same
      keyword is spliced in) and de-duplicated; ``anyOf``, ``oneOf`` and
      ``allOf`` are sorted by canonical JSON, except that ``{"type": "null"}``
      goes last (so changing the type of an optional value is one change);
    * with a single ``type`` other than ``object``, the object keywords
      (``properties``, ``additionalProperties``, ``required`` ...) are dropped,
      and with one other than ``array`` the array keywords (``items``,
      ``uniqueItems`` ...): they constrain nothing an instance can be;
    * several ``allOf`` members are merged into the schema when no keyword
      appears twice with different values (``properties`` may hold different
      names, ``required`` lists add up), none is a ``$ref``/``$recursive``
      marker and no sibling-dependent keyword (``additionalProperties``,
      ``additionalItems``, ``unevaluated*``, ``if``/``then``/``else``, a nested
      ``allOf``) is involved: ``allOf: [{type: string}, {description: d}]``
      equals ``{type: string, description: d}``;
    * ``properties``/``required`` (with ``type`` and the other assertions)
      beside a ``oneOf``/``anyOf`` are written into each member when that
      means the same (codegen/schema_merge.py): ``{properties: {a}, oneOf:
      [B, C]}`` equals ``{oneOf: [{properties: {a}} and B, ... and C]}``;
    * a single-member ``anyOf``/``oneOf``/``allOf`` is the member itself when
      it is the only key, and is merged into the parent when the member's keys
      do not conflict with the parent's (and it is not a ``$ref`` or
      ``$recursive`` marker, nor the target of one);
    * ``default: null`` on a property that is not ``required`` and whose
      schema allows null equals absent;
    * a property whose schema is ``{}`` equals an absent one when no
      ``additionalProperties``/``patternProperties``/``unevaluatedProperties``
      reads the property names (``required`` still says it must be there);
    * ``{type: null}`` in an ``anyOf`` beside a member whose ``enum``/``const``
      already lists ``null`` is dropped;
    * ``oneOf: [X.., {type: null}]`` whose other members all reject ``null``
      equals ``anyOf: [X (or oneOf [X..]), {type: null}]``;
    * cycles: a schema (or any object) reached again while it is on the
      current path becomes ``{"$recursive": "<canonical pointer of that
      ancestor>"}``, so identical recursive structures compare equal.
    * unresolved references ``{"$ref": ...}`` are kept as they are.

Comparison (:func:`diff_documents`)
    Dicts key by key and plain lists index by index, down to the deepest
    differing value.  At a position that is a JSON Schema on both sides (see
    :func:`schema_path`):

    * ``anyOf``/``oneOf``/``allOf`` members are matched as sets: equal members
      pair up; when as many members are left on each side they are compared
      pairwise in order (pointer with B's index), otherwise each is reported
      ``removed`` (A's index) or ``added`` (B's index);
    * a nullability change is reported once, as the null branch
      ``<schema>/anyOf/<last>`` ``removed`` or ``added`` (value
      ``{"type": "null"}``); the rest of the nullable side (its annotations
      merged with its single non-null member when their keys do not overlap,
      else with ``anyOf`` of the non-null members) is then compared with the
      other side, so a simultaneous type change is a second difference whose
      pointer follows the side without the null branch;
    * a ``const`` facing an ``enum`` is compared as the one-value ``enum``
      (one ``changed`` at ``<schema>/enum``), and a ``const`` whose ``type``
      the canonical view dropped gets the other side's ``type`` back when
      that type admits the const, so introducing a const is one ``added`` at
      ``<schema>/const``.

Known limitations: shared (non-cyclic) sub-objects are canonicalised once per
occurrence, so pathological DAG-shaped schemas cost time exponential in their
sharing depth; a message's ``contentType`` is not defaulted from
``defaultContentType``.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .schema_merge import distribute, shared_part

__all__ = [
    "Difference",
    "SchemaPath",
    "canonical_document",
    "diff_documents",
    "format_json",
    "format_text",
    "join_pointer",
    "lookup",
    "schema_path",
    "split_pointer",
]

ChangeKind = Literal["added", "removed", "changed"]
Origin = tuple[Any, Any]

_TRUNCATE = 120
_OMIT: Any = object()

_DEFAULT_SCHEMA_FORMAT = re.compile(
    r"^application/vnd\.aai\.asyncapi(\+json|\+yaml)?;\s*version=[0-9A-Za-z.\-]+$"
)
_JSON_SCHEMA_FORMAT = re.compile(r"^application/schema(\+json|\+yaml);\s*version=draft-0?7$")

_SCHEMA_DROP = frozenset({"title", "$schema", "$id", "$comment", "$defs", "definitions"})
_SCHEMA_MAP_KEYS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_SCHEMA_ONE_KEYS = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "not",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contentSchema",
    }
)
_SCHEMA_LIST_KEYS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_COMBINATORS = ("allOf", "anyOf", "oneOf")
# keywords that only constrain objects / arrays (JSON Schema draft-07, section 6.4 / 6.5)
_OBJECT_ONLY = (
    "properties", "patternProperties", "additionalProperties", "required", "minProperties",
    "maxProperties", "propertyNames", "dependencies", "dependentRequired", "dependentSchemas",
)  # fmt: skip
_ARRAY_ONLY = (
    "items", "additionalItems", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains",
)  # fmt: skip
# keywords whose meaning depends on sibling keywords of the same schema object
_SIBLING_DEPENDENT = frozenset(
    {"additionalProperties", "additionalItems", "unevaluatedProperties", "unevaluatedItems",
     "if", "then", "else", "allOf"}
)  # fmt: skip
_NULL_SCHEMA = {"type": "null"}
_ANNOTATIONS = frozenset(
    {
        "description",
        "default",
        "examples",
        "example",
        "deprecated",
        "readOnly",
        "writeOnly",
        "externalDocs",
    }
)


# --------------------------------------------------------------------------- #
# Public data type
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Difference:
    """One change between two canonical AsyncAPI views.

    Attributes:
        pointer: RFC 6901 JSON pointer into the *canonical* view (see the module
            docstring), e.g. ``"/operations/room_chat/reply/messages"``.
        change: ``"added"`` (only in B), ``"removed"`` (only in A) or
            ``"changed"`` (in both, different).
        old: canonical JSON value on side A; ``None`` when added.
        new: canonical JSON value on side B; ``None`` when removed.
        old_origin: ``(container, key)`` in the resolved input tree A that
            holds the value (or, for synthesised values, the nearest enclosing
            object), for looking up ``file:line`` by object identity; ``None``
            when added.  Excluded from equality and ``repr``.
        new_origin: the same for side B; ``None`` when removed.
    """

    pointer: str
    change: ChangeKind
    old: Any = None
    new: Any = None
    old_origin: Any = field(default=None, compare=False, repr=False)
    new_origin: Any = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


class _SetList(list[Any]):
    """A canonical list with set semantics (sorted, de-duplicated)."""


class _Anchor:
    """Identity of a source object while it is on the canonicalisation path."""

    __slots__ = ("referenced", "target")

    def __init__(self) -> None:
        self.target: Any = None
        self.referenced = False


class _Rec:
    """Placeholder for a cycle; replaced by ``{"$recursive": ptr}`` at the end."""

    __slots__ = ("anchor",)

    def __init__(self, anchor: _Anchor) -> None:
        self.anchor = anchor


def _json_key(value: Any, *, identity: bool = False) -> str:
    """Canonical JSON text of a canonical value, for sorting and equality."""

    def default(obj: object) -> Any:
        if isinstance(obj, _Rec):
            return {"$recursive": id(obj.anchor) if identity else ""}
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    )


def _skey(key: Any) -> str:
    """JSON object key for a (possibly YAML non-string) mapping key."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    return str(key)


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _items(node: dict[Any, Any]) -> list[tuple[str, Any, Any]]:
    """``(canonical key, source key, value)`` triples sorted by canonical key."""
    return sorted(((_skey(k), k, v) for k, v in node.items()), key=lambda t: t[0])


def _is_ref(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("$ref"), str)


def _is_ext(key: str) -> bool:
    return key.startswith("x-")


def _plain(value: Any) -> Any:
    """Deep copy of a canonical value as plain JSON types with sorted keys."""
    if isinstance(value, dict):
        return {k: _plain(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _json_types(value: Any) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, list):
        return {"array"}
    if isinstance(value, dict):
        return {"object"}
    return set()


def _allows_null(schema: Any) -> bool:
    """Whether a canonical schema accepts ``null`` (conservative: False if unsure)."""
    if schema is True:
        return True
    if not isinstance(schema, dict) or "$ref" in schema or "$recursive" in schema:
        return False
    if "not" in schema:
        return False
    if "const" in schema:
        return schema["const"] is None
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(v is None for v in enum):
        return False
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            return False
    for keyword in ("anyOf", "oneOf"):
        members = schema.get(keyword)
        if isinstance(members, list) and not any(_allows_null(m) for m in members):
            return False
    members = schema.get("allOf")
    return not (isinstance(members, list) and not all(_allows_null(m) for m in members))


def _names_null(schema: Any) -> bool:
    """Whether a canonical schema lists ``null`` as a value (``enum`` or ``const``)."""
    if not isinstance(schema, dict) or "type" in schema:
        return False
    enum = schema.get("enum")
    return (isinstance(enum, list) and None in enum) or (
        "const" in schema and schema["const"] is None
    )


def _excludes_null(schema: Any) -> bool:
    """Whether a canonical schema certainly rejects ``null`` (a ``type``, ``const`` or ``enum``
    that does not admit it; False when unsure)."""
    if not isinstance(schema, dict):
        return schema is False
    kind = schema.get("type")
    if isinstance(kind, str) or isinstance(kind, list):
        kinds = kind if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            return True
    if "const" in schema and schema["const"] is not None:
        return True
    enum = schema.get("enum")
    if isinstance(enum, list) and None not in enum:
        return True
    members = schema.get("anyOf") or schema.get("oneOf")
    return isinstance(members, list) and bool(members) and all(map(_excludes_null, members))


# --------------------------------------------------------------------------- #
# Canonicaliser
# --------------------------------------------------------------------------- #


class _Canonicaliser:
    """Builds the canonical view of one resolved document and remembers origins."""

    def __init__(self, doc: dict[Any, Any]) -> None:
        self.doc = doc
        self._path: dict[int, _Anchor] = {}
        self._anchors: list[_Anchor] = []  # of the schemas being normalised, innermost last
        self._protected: dict[int, Any] = {}
        self._origins: dict[tuple[int, Any], Origin] = {}
        self._alive: dict[int, Any] = {}
        self._channel_ids = self._index(doc.get("channels"))
        self._server_ids = self._index(doc.get("servers"))
        components = doc.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        self._scheme_ids = self._index(schemes)
        servers = doc.get("servers")
        self._all_servers = sorted(_skey(k) for k in servers) if isinstance(servers, dict) else []

    # -- bookkeeping -------------------------------------------------------- #

    @staticmethod
    def _index(mapping: Any) -> dict[int, str]:
        """``id(object) -> key`` for a mapping (first key in sorted order wins)."""
        index: dict[int, str] = {}
        if isinstance(mapping, dict):
            for key, _src, value in _items(mapping):
                index.setdefault(id(value), key)
        return index

    def _set_origin(self, container: Any, key: Any, origin: Origin | None) -> None:
        if origin is None:
            return
        self._origins[(id(container), key)] = origin
        self._alive[id(container)] = container

    def origin(self, container: Any, key: Any) -> Origin | None:
        """Source ``(container, key)`` of canonical ``container[key]``, if known."""
        return self._origins.get((id(container), key))

    def _put(self, out: dict[str, Any], key: str, value: Any, src: Any, skey: Any) -> None:
        if value is _OMIT:
            return
        out[key] = value
        self._set_origin(out, key, (src, skey))

    def _move(self, dst: Any, dkey: Any, src: Any, skey: Any) -> None:
        self._set_origin(dst, dkey, self.origin(src, skey))

    def _enter(self, node: Any) -> _Anchor | _Rec:
        anchor = self._path.get(id(node))
        if anchor is not None:
            anchor.referenced = True
            return _Rec(anchor)
        anchor = _Anchor()
        self._path[id(node)] = anchor
        return anchor

    def _leave(self, anchor: _Anchor, result: Any) -> Any:
        anchor.target = result
        if anchor.referenced and isinstance(result, dict | list):
            self._protected[id(result)] = result
        return result

    def _new_list(self, entries: Iterable[tuple[Any, Origin | None]]) -> list[Any]:
        out: list[Any] = []
        for value, origin in entries:
            self._set_origin(out, len(out), origin)
            out.append(value)
        return out

    # -- document ----------------------------------------------------------- #

    def run(self) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {}
        for key, skey, value in _items(doc):
            if key == "info":
                self._put(out, key, self._info(value), doc, skey)
            elif key == "servers" and isinstance(value, dict):
                servers: dict[str, Any] = {}
                for name, sname, server in _items(value):
                    self._put(servers, name, self._server(server), value, sname)
                self._put(out, key, servers, doc, skey)
            elif key == "defaultContentType":
                if value is not None:
                    self._put(out, key, self._generic(value), doc, skey)
            elif key == "tags":
                self._put(out, key, self._tags(value), doc, skey)
            elif key == "externalDocs" or _is_ext(key):
                self._put(out, key, self._generic(value), doc, skey)
            elif key == "channels" and isinstance(value, dict):
                channels: dict[str, Any] = {}
                for cid, scid, channel in _items(value):
                    self._put(channels, cid, self._channel(channel), value, scid)
                self._put(out, key, channels, doc, skey)
            elif key == "operations" and isinstance(value, dict):
                operations: dict[str, Any] = {}
                for oid, soid, op in _items(value):
                    self._put(operations, oid, self._operation(op), value, soid)
                self._put(out, key, operations, doc, skey)
            elif key == "components" and isinstance(value, dict):
                schemes = value.get("securitySchemes")
                comp: dict[str, Any] = {}
                if isinstance(schemes, dict):
                    canon: dict[str, Any] = {}
                    for name, sname, scheme in _items(schemes):
                        self._put(canon, name, self._generic(scheme), schemes, sname)
                    self._put(comp, "securitySchemes", canon, value, "securitySchemes")
                self._put(out, key, comp, doc, skey)
            # asyncapi, id and unknown root keys are not part of the view.
        for key in ("channels", "operations", "servers"):
            out.setdefault(key, {})
        out.setdefault("components", {}).setdefault("securitySchemes", {})
        self._resolve_markers(out)
        return out

    def _info(self, info: Any) -> Any:
        if not isinstance(info, dict):
            return self._generic(info)
        out: dict[str, Any] = {}
        for key, skey, value in _items(info):
            value = self._tags(value) if key == "tags" else self._generic(value)
            self._put(out, key, value, info, skey)
        return out

    def _server(self, server: Any) -> Any:
        if not isinstance(server, dict) or _is_ref(server):
            return self._generic(server)
        out: dict[str, Any] = {}
        for key, skey, value in _items(server):
            if key == "security":
                value = self._security(value)
            elif key == "tags":
                value = self._tags(value)
            elif key == "variables" and isinstance(value, dict):
                variables: dict[str, Any] = {}
                for name, sname, var in _items(value):
                    self._put(variables, name, self._with_enum_set(var), value, sname)
                value = variables
            else:
                value = self._generic(value)
            self._put(out, key, value, server, skey)
        return out

    def _with_enum_set(self, node: Any) -> Any:
        """Generic object whose ``enum`` (if a list) is a set."""
        if not isinstance(node, dict) or _is_ref(node):
            return self._generic(node)
        out: dict[str, Any] = {}
        for key, skey, value in _items(node):
            if key == "enum" and isinstance(value, list):
                value = self._set([self._generic(v) for v in value])
            elif key == "schema":
                value = self._schema(value)
            else:
                value = self._generic(value)
            self._put(out, key, value, node, skey)
        return out

    # -- channels ------------------------------------------------------------ #

    def _channel(self, channel: Any) -> Any:
        if not isinstance(channel, dict) or _is_ref(channel):
            return self._generic(channel)
        out: dict[str, Any] = {"address": None}
        for key, skey, value in _items(channel):
            if key == "address":
                value = self._generic(value)
            elif key == "parameters" and isinstance(value, dict):
                params: dict[str, Any] = {}
                for name, sname, param in _items(value):
                    self._put(params, name, self._with_enum_set(param), value, sname)
                value = params if params else _OMIT
            elif key == "messages" and isinstance(value, dict):
                messages: dict[str, Any] = {}
                for name, sname, message in _items(value):
                    self._put(messages, name, self._message(message), value, sname)
                value = messages
            elif key == "servers" and isinstance(value, list) and value:
                value = self._set([self._server_ids.get(id(s)) or self._generic(s) for s in value])
            elif key == "servers" and not value:
                continue
            elif key == "bindings":
                value = self._channel_bindings(value)
            elif key == "tags":
                value = self._tags(value)
            else:
                value = self._generic(value)
            self._put(out, key, value, channel, skey)
        out.setdefault("messages", {})
        if "servers" not in out and self._all_servers:
            out["servers"] = _SetList(self._all_servers)
        return out

    def _channel_bindings(self, bindings: Any) -> Any:
        if not isinstance(bindings, dict) or _is_ref(bindings):
            return self._generic(bindings)
        ws = bindings.get("ws")
        if not isinstance(ws, dict) or _is_ref(ws):
            return self._generic(bindings)
        out: dict[str, Any] = {}
        for key, skey, value in _items(bindings):
            if key == "ws":
                canon_ws: dict[str, Any] = {}
                for wkey, swkey, wvalue in _items(value):
                    wvalue = (
                        self._schema(wvalue)
                        if wkey in ("query", "headers")
                        else self._generic(wvalue)
                    )
                    self._put(canon_ws, wkey, wvalue, value, swkey)
                value = canon_ws
            else:
                value = self._generic(value)
            self._put(out, key, value, bindings, skey)
        return out

    # -- messages ------------------------------------------------------------ #

    def _message(self, message: Any) -> Any:
        if not isinstance(message, dict) or _is_ref(message):
            return self._generic(message)
        anchor = self._enter(message)
        if isinstance(anchor, _Rec):
            return anchor
        try:
            fmt = message.get("schemaFormat")
            json_schema = fmt is None or (
                isinstance(fmt, str) and bool(_DEFAULT_SCHEMA_FORMAT.match(fmt))
            )
            out: dict[str, Any] = {}
            for key, skey, value in _items(message):
                if key in ("messageId", "traits"):
                    continue
                if key == "schemaFormat" and json_schema:
                    continue
                if key in ("payload", "headers"):
                    value = self._payload(value, json_schema)
                elif key == "tags":
                    value = self._tags(value)
                else:
                    value = self._generic(value)
                self._put(out, key, value, message, skey)
            return self._leave(anchor, out)
        finally:
            del self._path[id(message)]

    def _payload(self, payload: Any, json_schema: bool) -> Any:
        if isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:
            fmt = payload["schemaFormat"]
            inner_json = isinstance(fmt, str) and bool(
                _DEFAULT_SCHEMA_FORMAT.match(fmt) or _JSON_SCHEMA_FORMAT.match(fmt)
            )
            if inner_json:  # a JSON Schema in a Multi Format Schema Object: just the schema
                return self._schema(payload["schema"])
            out: dict[str, Any] = {}
            for key, skey, value in _items(payload):
                if key == "schema" and inner_json:
                    value = self._schema(value)
                else:
                    value = self._generic(value)
                self._put(out, key, value, payload, skey)
            return out
        return self._schema(payload) if json_schema else self._generic(payload)

    # -- operations ---------------------------------------------------------- #

    def _operation(self, op: Any) -> Any:
        if not isinstance(op, dict) or _is_ref(op):
            return self._generic(op)
        channel = op.get("channel")
        channel_id = self._channel_ref(channel)
        out: dict[str, Any] = {}
        for key, skey, value in _items(op):
            if key == "traits":
                continue
            if key == "channel":
                value = channel_id
            elif key == "messages":
                value = self._message_keys(value, channel)
            elif key == "reply":
                value = self._reply(value, channel, channel_id)
            elif key == "security":
                value = self._security(value)
            elif key == "tags":
                value = self._tags(value)
            elif key == "x-events":
                value = self._events(value)
            else:
                value = self._generic(value)
            self._put(out, key, value, op, skey)
        out.setdefault("channel", channel_id)
        if "messages" not in op:
            out["messages"] = self._all_message_keys(channel)
        return out

    def _channel_ref(self, channel: Any) -> Any:
        if channel is None:
            return None
        cid = self._channel_ids.get(id(channel))
        if cid is not None:
            return cid
        if isinstance(channel, dict) and not _is_ref(channel):
            return self._generic(channel.get("address"))
        return self._generic(channel)

    def _message_keys(self, messages: Any, channel: Any) -> Any:
        if not isinstance(messages, list):
            return self._generic(messages)
        chan_messages = channel.get("messages") if isinstance(channel, dict) else None
        index = self._index(chan_messages)
        keys: list[Any] = []
        for message in messages:
            key: Any = index.get(id(message))
            if key is None:
                name = message.get("name") if isinstance(message, dict) else None
                key = name if isinstance(name, str) else self._message(message)
            keys.append(key)
        return self._set(keys)

    @staticmethod
    def _all_message_keys(channel: Any) -> _SetList:
        messages = channel.get("messages") if isinstance(channel, dict) else None
        if not isinstance(messages, dict):
            return _SetList()
        return _SetList(sorted({_skey(k) for k in messages}))

    def _reply(self, reply: Any, op_channel: Any, op_channel_id: Any) -> Any:
        if not isinstance(reply, dict) or _is_ref(reply):
            return self._generic(reply)
        reply_channel = reply.get("channel")
        if reply_channel is None:
            channel, channel_id = op_channel, op_channel_id
        else:
            channel, channel_id = reply_channel, self._channel_ref(reply_channel)
        out: dict[str, Any] = {}
        for key, skey, value in _items(reply):
            if key == "channel":
                value = channel_id
            elif key == "messages":
                value = self._message_keys(value, channel)
            else:
                value = self._generic(value)
            self._put(out, key, value, reply, skey)
        out.setdefault("channel", channel_id)
        if "messages" not in reply:
            out["messages"] = self._all_message_keys(channel)
        return out

    def _security(self, security: Any) -> Any:
        if not isinstance(security, list):
            return self._generic(security)
        if not security:
            return _OMIT
        return self._set([self._scheme_ids.get(id(s)) or self._generic(s) for s in security])

    def _events(self, events: Any) -> Any:
        if not isinstance(events, list):
            return self._generic(events)
        entries = [(self._message(m), (events, i)) for i, m in enumerate(events)]

        def sort_key(entry: tuple[Any, Origin]) -> tuple[str, str]:
            message = entry[0]
            if not isinstance(message, dict):
                return ("", _json_key(message))
            name = message.get("name")
            return (name if isinstance(name, str) else "", _json_key(message.get("payload")))

        entries.sort(key=sort_key)
        return self._new_list(entries)

    def _tags(self, tags: Any) -> Any:
        if not isinstance(tags, list):
            return self._generic(tags)
        if not tags:
            return _OMIT
        canon = [self._generic(t) for t in tags]

        def name(tag: Any) -> str:
            value = tag.get("name") if isinstance(tag, dict) else None
            return value if isinstance(value, str) else ""

        unique = {_json_key(t, identity=True): t for t in canon}
        return _SetList(sorted(unique.values(), key=lambda t: (name(t), _json_key(t))))

    @staticmethod
    def _set(values: Sequence[Any]) -> _SetList:
        unique = {_json_key(v, identity=True): v for v in values}
        return _SetList(sorted(unique.values(), key=_json_key))

    # -- generic values ------------------------------------------------------ #

    def _generic(self, node: Any) -> Any:
        if node is None or isinstance(node, bool | str | int):
            return node
        if isinstance(node, float):
            return int(node) if node.is_integer() else node
        if isinstance(node, dict | list | tuple):
            anchor = self._enter(node)
            if isinstance(anchor, _Rec):
                return anchor
            try:
                result: Any
                if isinstance(node, dict):
                    result = {}
                    for key, skey, value in _items(node):
                        self._put(result, key, self._generic(value), node, skey)
                else:
                    result = self._new_list(
                        (self._generic(v), (node, i)) for i, v in enumerate(node)
                    )
                return self._leave(anchor, result)
            finally:
                del self._path[id(node)]
        if isinstance(node, _dt.date | _dt.time):
            return node.isoformat()
        return str(node)

    # -- JSON Schema --------------------------------------------------------- #

    def _schema(self, node: Any) -> Any:
        if not isinstance(node, dict) or _is_ref(node):
            return self._generic(node)
        anchor = self._enter(node)
        if isinstance(anchor, _Rec):
            return anchor
        try:
            out: dict[str, Any] = {}
            for key, skey, value in _items(node):
                if key in _SCHEMA_DROP:
                    continue
                if key == "example" and "examples" not in node:
                    # OpenAPI-style `example: v` is draft-07's `examples: [v]`
                    key, value = "examples", [value]
                if key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
                    sub: dict[str, Any] = {}
                    for name, sname, schema in _items(value):
                        self._put(sub, name, self._schema(schema), value, sname)
                    value = sub
                elif key in _SCHEMA_ONE_KEYS or (key == "items" and not isinstance(value, list)):
                    value = self._schema(value)
                elif (key in _SCHEMA_LIST_KEYS or key == "items") and isinstance(value, list):
                    value = self._new_list(
                        (self._schema(v), (value, i)) for i, v in enumerate(value)
                    )
                elif key == "dependencies" and isinstance(value, dict):
                    deps: dict[str, Any] = {}
                    for name, sname, dep in _items(value):
                        dep = (
                            self._set([self._generic(v) for v in dep])
                            if isinstance(dep, list)
                            else self._schema(dep)
                        )
                        self._put(deps, name, dep, value, sname)
                    value = deps
                else:
                    value = self._generic(value)
                self._put(out, key, value, node, skey)
            self._anchors.append(anchor)
            try:
                return self._leave(anchor, self._normalise(out))
            finally:
                self._anchors.pop()
        finally:
            del self._path[id(node)]

    def _normalise(self, s: dict[str, Any]) -> Any:
        """Apply the equivalence rules to a schema whose children are canonical."""
        nullable = False
        for key in ("deprecated", "readOnly", "writeOnly"):
            if s.get(key) is False:
                del s[key]
        if "nullable" in s and (s["nullable"] is None or isinstance(s["nullable"], bool)):
            nullable = s.pop("nullable") is True

        kind = s.get("type")
        if isinstance(kind, list):
            kinds = self._set(kind)
            s["type"] = kinds[0] if len(kinds) == 1 else kinds

        enum = s.get("enum")
        if isinstance(enum, list):
            values = self._set(enum)
            if len(values) == 1 and "const" not in s:
                del s["enum"]
                s["const"] = values[0]
                self._move(s, "const", s, "enum")
            else:
                s["enum"] = values
                kind = s.get("type")
                allowed = kind if isinstance(kind, list) else [kind]
                if kind is not None and all(
                    any(k in _json_types(v) for k in allowed) for v in values
                ):
                    del s["type"]  # every value has an allowed type: `type` adds nothing
        if "const" in s:
            s.pop("enum", None)
            kind = s.get("type")
            types = _json_types(s["const"])
            if (isinstance(kind, str) and kind in types) or (
                isinstance(kind, list) and any(k in types for k in kind)
            ):
                del s["type"]

        kind = s.get("type")
        if isinstance(kind, list) and "null" in kind and len(kind) >= 2:
            rest = _SetList(k for k in kind if k != "null")
            s["type"] = rest[0] if len(rest) == 1 else rest
            nullable = True

        required = s.get("required")
        if isinstance(required, list):
            if required:
                s["required"] = self._set(required)
            else:
                del s["required"]

        props = s.get("properties")
        if isinstance(props, dict):
            if not props:
                del s["properties"]
            else:
                needed = {r for r in s.get("required") or () if isinstance(r, str)}
                for name, prop in props.items():
                    if (
                        name not in needed
                        and isinstance(prop, dict)
                        and "default" in prop
                        and prop["default"] is None
                        and _allows_null(prop)
                    ):
                        del prop["default"]
        for key in ("patternProperties", "additionalProperties", "items"):
            value = s.get(key)
            if (key != "patternProperties" and value is True) or (
                isinstance(value, dict) and not value
            ):
                del s[key]
        props = s.get("properties")
        if isinstance(props, dict) and not any(
            k in s for k in ("additionalProperties", "patternProperties", "unevaluatedProperties")
        ):
            # `properties: {b: {}}` constrains nothing unless a sibling reads the names
            for name in [n for n, v in props.items() if isinstance(v, dict) and not v]:
                del props[name]
            if not props:
                del s["properties"]
        kind = s.get("type")
        if isinstance(kind, str):  # keywords of another type than the only one allowed
            for key in (() if kind == "object" else _OBJECT_ONLY) + (
                () if kind == "array" else _ARRAY_ONLY
            ):
                s.pop(key, None)

        members = s.get("anyOf")
        if isinstance(members, list) and _NULL_SCHEMA in members:
            others = [m for m in members if m != _NULL_SCHEMA]
            if any(_names_null(m) for m in others):  # `null` is already one of their values
                s["anyOf"] = self._new_list(
                    (m, self.origin(members, i)) for i, m in enumerate(members) if m != _NULL_SCHEMA
                )
        self._null_one_of(s)
        self._tidy_combinators(s)

        if nullable:
            assertions = [k for k in s if k not in _ANNOTATIONS and not _is_ext(k)]
            if assertions:
                inner: dict[str, Any] = {}
                for key in assertions:
                    inner[key] = s.pop(key)
                    self._move(inner, key, s, key)
                origin = self.origin(s, assertions[0])
                s["anyOf"] = self._new_list(
                    [(self._normalise(inner), origin), ({"type": "null"}, origin)]
                )
                self._set_origin(s, "anyOf", origin)
                self._tidy_combinators(s)

        merged = self._merge_all_of(s)
        if merged is not None:
            return merged
        distributed = self._distribute(s)
        if distributed is not None:
            return distributed

        for keyword in _COMBINATORS:
            members = s.get(keyword)
            if not isinstance(members, list) or len(members) != 1:
                continue
            member = members[0]
            if len(s) == 1:
                return member
            if member is True and keyword != "oneOf":
                del s[keyword]
                return self._normalise(s)
            if (
                isinstance(member, dict)
                and "$ref" not in member
                and "$recursive" not in member
                and id(member) not in self._protected
                and not any(
                    k in s and _json_key(s[k], identity=True) != _json_key(v, identity=True)
                    for k, v in member.items()
                )
            ):
                del s[keyword]
                for key, value in member.items():
                    if key not in s:
                        s[key] = value
                        self._move(s, key, member, key)
                return self._normalise(s)
        return s

    def _distribute(self, s: dict[str, Any]) -> Any:
        """``{properties.., oneOf: [A, B]}`` as ``{oneOf: [props+A, props+B]}`` (the
        generated models' spelling; codegen/schema_merge.py says when both mean the same).
        Returns the renormalised schema, or ``None`` when nothing was distributed."""
        shared = shared_part(s)
        if shared is None:
            return None
        key = "oneOf" if "oneOf" in s else "anyOf"
        members = s[key]
        here = self._anchors[-1] if self._anchors else None
        if "discriminator" in s and here is not None:
            # discriminator inheritance: a member's `allOf` back to this schema inherits its
            # properties (codegen/schema_merge.py inherited_part), added by distribute below
            for member in members:
                parts = member.get("allOf") if isinstance(member, dict) else None
                if isinstance(parts, list):
                    kept = [p for p in parts if not (isinstance(p, _Rec) and p.anchor is here)]
                    if len(kept) < len(parts):
                        member["allOf"] = kept

        def both(a: Any, b: Any) -> Any:
            return self._normalise({"allOf": [a, b]})

        entries: list[tuple[Any, Origin | None]] = []
        for i, member in enumerate(members):
            if not isinstance(member, dict) or id(member) in self._protected:
                return None
            merged = distribute(shared, member, both)
            if merged is None:
                return None
            entries.append((self._normalise(merged), self.origin(members, i)))
        for moved in shared:
            del s[moved]
        s[key] = self._new_list(entries)
        self._tidy_combinators(s)
        return self._normalise(s)

    def _null_one_of(self, s: dict[str, Any]) -> None:
        """``oneOf: [X.., {type: null}]`` as ``anyOf: [oneOf [X..], {type: null}]``.

        When no other member can be ``null``, at most the null member and one other match, so
        the ``oneOf`` says the same as an ``anyOf`` with the null branch apart; with one other
        member it is the usual nullable spelling ``anyOf: [X, {type: null}]`` (pydantic's
        ``X | None`` emitted as ``oneOf``).
        """
        members = s.get("oneOf")
        if not isinstance(members, list) or "anyOf" in s or _NULL_SCHEMA not in members:
            return
        rest = [(m, self.origin(members, i)) for i, m in enumerate(members) if m != _NULL_SCHEMA]
        if not rest or len(rest) != len(members) - 1 or not all(_excludes_null(m) for m, _ in rest):
            return
        origin = self.origin(s, "oneOf")
        del s["oneOf"]
        first: Any = rest[0][0]
        if len(rest) > 1:
            first = {"oneOf": self._new_list(rest)}
            self._set_origin(first, "oneOf", origin)
        s["anyOf"] = self._new_list([(first, rest[0][1]), (dict(_NULL_SCHEMA), origin)])
        self._set_origin(s, "anyOf", origin)

    def _merge_all_of(self, s: dict[str, Any]) -> Any:
        """``{k1: .., allOf: [{k2: ..}, {k3: ..}]}`` as ``{k1, k2, k3}`` when that means the same.

        Several ``allOf`` members are merged into the schema when no keyword appears twice with
        different values, no member is a reference or a cycle marker, and no keyword whose
        meaning depends on its siblings (``additionalProperties``, ``unevaluated*``, ``if`` ...)
        is involved; e.g. the common ``allOf: [{$ref: Id}, {description: ...}]`` after
        resolution. Returns the renormalised schema, or ``None`` when nothing was merged.
        """
        members = s.get("allOf")
        if not isinstance(members, list) or len(members) < 2:
            return None
        seen = {k: v for k, v in s.items() if k != "allOf"}
        names: dict[str, Any] = dict(seen.get("properties") or {})
        for member in members:
            if (
                not isinstance(member, dict)
                or "$ref" in member
                or "$recursive" in member
                or id(member) in self._protected
            ):
                return None
            for key, value in member.items():
                if key == "properties" and isinstance(value, dict):
                    for name, sub in value.items():  # disjoint (or equal) property names
                        if name in names and _json_key(names[name], identity=True) != (
                            _json_key(sub, identity=True)
                        ):
                            return None
                        names[name] = sub
                elif key == "required" and isinstance(value, list):
                    pass  # required lists add up
                elif key in seen and _json_key(seen[key], identity=True) != _json_key(
                    value, identity=True
                ):
                    return None
                seen[key] = value
        if any(k in seen for k in _SIBLING_DEPENDENT):
            return None
        del s["allOf"]
        for member in members:
            for key, value in member.items():
                if key == "properties" and isinstance(value, dict) and "properties" in s:
                    s["properties"] = {**value, **s["properties"]}
                elif key == "required" and isinstance(value, list) and "required" in s:
                    s["required"] = sorted({*s["required"], *value}, key=str)
                elif key not in s:
                    s[key] = value
                    self._move(s, key, member, key)
        return self._normalise(s)

    def _tidy_combinators(self, s: dict[str, Any]) -> None:
        """Flatten and de-duplicate anyOf/allOf; sort anyOf/oneOf/allOf."""
        for keyword in _COMBINATORS:
            members = s.get(keyword)
            if not isinstance(members, list):
                continue
            entries: list[tuple[Any, Origin | None]] = []
            for i, member in enumerate(members):
                if (
                    keyword != "oneOf"
                    and isinstance(member, dict)
                    and set(member) == {keyword}
                    and isinstance(member[keyword], list)
                    and id(member) not in self._protected
                ):
                    inner = member[keyword]
                    entries.extend((v, self.origin(inner, j)) for j, v in enumerate(inner))
                else:
                    entries.append((member, self.origin(members, i)))
            if keyword != "oneOf":
                seen: dict[str, tuple[Any, Origin | None]] = {}
                for entry in entries:
                    seen.setdefault(_json_key(entry[0], identity=True), entry)
                entries = list(seen.values())
            entries.sort(key=lambda e: (e[0] == _NULL_SCHEMA, _json_key(e[0])))
            s[keyword] = self._new_list(entries)

    # -- cycles -------------------------------------------------------------- #

    def _resolve_markers(self, root: dict[str, Any]) -> None:
        """Replace cycle placeholders by ``{"$recursive": <canonical pointer>}``."""
        ancestors: dict[int, str] = {}

        def walk(node: Any, pointer: str) -> None:
            keys: Iterable[Any]
            if isinstance(node, dict):
                keys = sorted(node)
            elif isinstance(node, list):
                keys = range(len(node))
            else:
                return
            ancestors[id(node)] = pointer
            for key in keys:
                value = node[key]
                if isinstance(value, _Rec):
                    target = ancestors.get(id(value.anchor.target), "")
                    node[key] = {"$recursive": target}
                else:
                    walk(value, f"{pointer}/{_escape(str(key))}")
            del ancestors[id(node)]

        walk(root, "")


# --------------------------------------------------------------------------- #
# Schema positions
# --------------------------------------------------------------------------- #

_STEP_MAPS = _SCHEMA_MAP_KEYS | {"dependencies"}
_MESSAGE_PARTS = ("payload", "headers")


@dataclass(frozen=True)
class SchemaPath:
    """Where a pointer into a canonical view lies relative to a JSON Schema.

    Attributes:
        root: pointer of the schema root, e.g.
            ``"/channels/room/messages/ping/payload"``.
        steps: the structural steps from the root down to the innermost
            schema holding the pointer, each a tuple of unescaped segments:
            ``("properties", name)``, ``("patternProperties", re)``,
            ``("dependentSchemas" | "dependencies", name)``, ``("items",)``,
            ``("items" | "prefixItems" | "anyOf" | "oneOf" | "allOf", index)``
            or a one-schema keyword such as ``("additionalProperties",)`` or
            ``("not",)``.
        rest: unescaped segments below that schema (a keyword, then for
            generic values such as ``examples`` deeper segments); ``()`` when
            the pointer designates a schema itself.
    """

    root: str
    steps: tuple[tuple[str, ...], ...]
    rest: tuple[str, ...]

    @property
    def schema_pointer(self) -> str:
        """Pointer of the innermost schema (``root`` followed by ``steps``)."""
        return self.root + "".join(f"/{_escape(seg)}" for step in self.steps for seg in step)


def split_pointer(pointer: str) -> list[str]:
    """RFC 6901 pointer -> unescaped segments (``""`` -> ``[]``)."""
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def join_pointer(segments: Iterable[str]) -> str:
    """Unescaped segments -> RFC 6901 pointer (``[]`` -> ``""``)."""
    return "".join(f"/{_escape(seg)}" for seg in segments)


def lookup(tree: Any, segments: Sequence[str]) -> Any:
    """The value at ``segments`` in a canonical tree, or ``None`` when absent."""
    node = tree
    for seg in segments:
        if isinstance(node, dict) and seg in node:
            node = node[seg]
        elif isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
            node = node[int(seg)]
        else:
            return None
    return node


def _schema_root(segs: Sequence[str], tree: Any) -> int | None:
    """Number of leading segments that make up the schema root, or None."""
    if len(segs) < 5:
        return None
    head, _, kind, key, part = segs[:5]
    if head == "channels" and kind == "bindings" and key == "ws" and part in ("query", "headers"):
        return 5
    if part == "schema" and (
        (head == "channels" and kind == "parameters") or (head == "servers" and kind == "variables")
    ):
        return 5
    message = (head == "channels" and kind == "messages") or (
        head == "operations" and kind == "x-events" and key.isdigit()
    )
    if not message or part not in _MESSAGE_PARTS:
        return None
    if tree is None:
        return 5
    body = lookup(tree, segs[:5])
    if isinstance(body, dict) and "schemaFormat" in body and "schema" in body:
        fmt = body["schemaFormat"]
        json_schema = isinstance(fmt, str) and bool(
            _DEFAULT_SCHEMA_FORMAT.match(fmt) or _JSON_SCHEMA_FORMAT.match(fmt)
        )
        return 6 if json_schema and len(segs) > 5 and segs[5] == "schema" else None
    msg = lookup(tree, segs[:4])
    if isinstance(msg, dict) and "schemaFormat" in msg:
        return None  # a non-default schemaFormat: the payload is opaque
    return 5


def schema_path(pointer: str, tree: Any = None) -> SchemaPath | None:
    """Locate ``pointer`` relative to the JSON Schema it falls in, if any.

    Schemas of the canonical view (module docstring) are rooted at
    ``/channels/<c>/messages/<m>/payload|headers``,
    ``/operations/<o>/x-events/<i>/payload|headers``,
    ``/channels/<c>/bindings/ws/query|headers``,
    ``/channels/<c>/parameters/<p>/schema`` and
    ``/servers/<s>/variables/<v>/schema``; a Multi Format Schema Object
    payload is rooted at its ``schema`` when its format is JSON Schema.

    Args:
        pointer: RFC 6901 pointer into a canonical view.
        tree: that canonical view (default ``None``).  When given, message
            payloads in a non-JSON-Schema ``schemaFormat`` are recognised as
            opaque (the result is ``None``) and multi-format payloads are
            rooted at ``schema``; without it every message payload counts as
            a JSON Schema.

    Returns:
        A :class:`SchemaPath`, or ``None`` when the pointer is not at or
        below a schema root.  The walk below the root is by segment only
        (draft-07 keywords, AsyncAPI 3.0 "Schema Object"), so it also works
        for pointers valid on one side only.
    """
    segs = split_pointer(pointer)
    start = _schema_root(segs, tree)
    if start is None:
        return None
    steps: list[tuple[str, ...]] = []
    i, n = start, len(segs)
    while i < n:
        seg = segs[i]
        if seg in _STEP_MAPS:
            if i + 1 >= n:
                break
            steps.append((seg, segs[i + 1]))
            i += 2
        elif seg in _SCHEMA_ONE_KEYS or (
            seg == "items" and (i + 1 >= n or not segs[i + 1].isdigit())
        ):
            steps.append((seg,))
            i += 1
        elif (seg in _SCHEMA_LIST_KEYS or seg == "items") and i + 1 < n and segs[i + 1].isdigit():
            steps.append((seg, segs[i + 1]))
            i += 2
        else:
            break
    return SchemaPath(join_pointer(segs[:start]), tuple(steps), tuple(segs[i:]))


# --------------------------------------------------------------------------- #
# Public functions
# --------------------------------------------------------------------------- #


def canonical_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the canonical view of a resolved AsyncAPI 3.0 document.

    Args:
        doc: a resolved document tree (``$ref`` replaced by the target object
            with identity sharing; cycles allowed; unresolved refs kept as
            ``{"$ref": ...}``).  It is not modified.

    Returns:
        A fresh, acyclic tree of plain JSON types (dict keys sorted) following
        the rules in the module docstring (AsyncAPI 3.0 "AsyncAPI Object",
        "Channel Object", "Operation Object", "Message Object"; JSON Schema
        draft-07 equivalences).

    Raises:
        TypeError: if ``doc`` is not a dict.
    """
    if not isinstance(doc, dict):
        raise TypeError(f"expected an AsyncAPI document (dict), got {type(doc).__name__}")
    result: dict[str, Any] = _plain(_Canonicaliser(doc).run())
    return result


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    """Compare two resolved AsyncAPI 3.0 documents through their canonical views.

    Args:
        old: side A (e.g. the spec file), a resolved tree as for
            :func:`canonical_document`.
        new: side B (e.g. the document emitted by the running app).

    Returns:
        One :class:`Difference` per change, at the deepest pointer where the
        canonical views differ (a removed channel is a single ``removed`` at
        ``/channels/<id>``), sorted by pointer segment by segment (numeric
        segments numerically).  Set-valued lists (``required``, ``enum``,
        ``type``, tags, message keys, channel servers, security) are reported
        as one ``changed`` of the whole list; schema combinators are matched
        as sets and nullability changes are reported once (see "Comparison"
        in the module docstring); other lists index by index.  An empty list
        means the documents are equivalent.

    Raises:
        TypeError: if either argument is not a dict.
    """
    for doc in (old, new):
        if not isinstance(doc, dict):
            raise TypeError(f"expected an AsyncAPI document (dict), got {type(doc).__name__}")
    side_a, side_b = _Canonicaliser(old), _Canonicaliser(new)
    comparer = _Comparer(side_a, side_b, side_a.run(), side_b.run())
    comparer.compare(comparer.tree_a, comparer.tree_b, "", None, None)
    diffs = comparer.diffs
    diffs.sort(key=lambda d: _pointer_key(d.pointer))
    return diffs


class _Comparer:
    """Walks two canonical trees side by side and collects :class:`Difference` objects."""

    def __init__(
        self,
        side_a: _Canonicaliser,
        side_b: _Canonicaliser,
        tree_a: dict[str, Any],
        tree_b: dict[str, Any],
    ) -> None:
        self.side_a, self.side_b = side_a, side_b
        self.tree_a, self.tree_b = tree_a, tree_b
        self.diffs: list[Difference] = []

    def _removed(self, pointer: str, value: Any, origin: Origin | None) -> None:
        self.diffs.append(Difference(pointer, "removed", old=_plain(value), old_origin=origin))

    def _added(self, pointer: str, value: Any, origin: Origin | None) -> None:
        self.diffs.append(Difference(pointer, "added", new=_plain(value), new_origin=origin))

    def _is_schema(self, pointer: str) -> bool:
        """Whether ``pointer`` designates a JSON Schema on both sides."""
        for tree in (self.tree_a, self.tree_b):
            where = schema_path(pointer, tree)
            if where is None or where.rest:
                return False
        return True

    def compare(self, a: Any, b: Any, pointer: str, oa: Origin | None, ob: Origin | None) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            schema = self._is_schema(pointer)
            if schema:
                a, b = self._align(a, b, pointer, oa, ob)
                if not (isinstance(a, dict) and isinstance(b, dict)):
                    self.compare(a, b, pointer, oa, ob)
                    return
            for key in sorted(set(a) | set(b)):
                child = f"{pointer}/{_escape(key)}"
                ca = self.side_a.origin(a, key) or oa
                cb = self.side_b.origin(b, key) or ob
                if key not in b:
                    self._removed(child, a[key], ca)
                elif key not in a:
                    self._added(child, b[key], cb)
                elif schema and key in _COMBINATORS and _plain_list(a[key]) and _plain_list(b[key]):
                    self._members(a[key], b[key], child, ca, cb)
                else:
                    self.compare(a[key], b[key], child, ca, cb)
            return
        if _plain_list(a) and _plain_list(b):
            for i in range(max(len(a), len(b))):
                child = f"{pointer}/{i}"
                ca = self.side_a.origin(a, i) or oa
                cb = self.side_b.origin(b, i) or ob
                if i >= len(b):
                    self._removed(child, a[i], ca)
                elif i >= len(a):
                    self._added(child, b[i], cb)
                else:
                    self.compare(a[i], b[i], child, ca, cb)
            return
        if _json_key(a) != _json_key(b):
            self.diffs.append(
                Difference(pointer, "changed", _plain(a), _plain(b), old_origin=oa, new_origin=ob)
            )

    def _members(
        self, a: list[Any], b: list[Any], pointer: str, oa: Origin | None, ob: Origin | None
    ) -> None:
        """Compare anyOf/oneOf/allOf members as sets (equal members match first)."""
        keys_b = [_json_key(v) for v in b]
        free_b = list(range(len(b)))
        only_a: list[int] = []
        for i, value in enumerate(a):
            key = _json_key(value)
            match = next((j for j in free_b if keys_b[j] == key), None)
            if match is None:
                only_a.append(i)
            else:
                free_b.remove(match)
        if len(only_a) == len(free_b):
            for i, j in zip(only_a, free_b, strict=True):
                ca = self.side_a.origin(a, i) or oa
                cb = self.side_b.origin(b, j) or ob
                self.compare(a[i], b[j], f"{pointer}/{j}", ca, cb)
            return
        for i in only_a:
            self._removed(f"{pointer}/{i}", a[i], self.side_a.origin(a, i) or oa)
        for j in free_b:
            self._added(f"{pointer}/{j}", b[j], self.side_b.origin(b, j) or ob)

    def _align(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        pointer: str,
        oa: Origin | None,
        ob: Origin | None,
    ) -> tuple[Any, Any]:
        """Report a nullability change once and line up enum/const spellings.

        Returns the two schemas to compare further: the nullable side without
        its null branch, and a ``const`` spelled as a one-value ``enum`` (with
        the ``type`` the canonical view dropped) when the other side has an
        ``enum`` or a ``type``.
        """
        null_a, null_b = _null_wrapped(a), _null_wrapped(b)
        if null_a != null_b:
            side, wrapped, base = (self.side_a, a, oa) if null_a else (self.side_b, b, ob)
            members = wrapped["anyOf"]
            last = len(members) - 1
            origin = side.origin(members, last) or side.origin(wrapped, "anyOf") or base
            child = f"{pointer}/anyOf/{last}"
            if null_a:
                self._removed(child, members[last], origin)
                a = _unwrap_null(side, wrapped)
            else:
                self._added(child, members[last], origin)
                b = _unwrap_null(side, wrapped)
        if isinstance(a, dict) and isinstance(b, dict):
            a = _const_as_enum(self.side_a, a, b)
            b = _const_as_enum(self.side_b, b, a)
        return a, b


def _plain_list(value: Any) -> bool:
    """A list compared index by index (not a set-valued list)."""
    return isinstance(value, list) and not isinstance(value, _SetList)


def _null_wrapped(schema: dict[str, Any]) -> bool:
    """``{..., anyOf: [..., {"type": "null"}]}``: the canonical spelling of a nullable schema."""
    members = schema.get("anyOf")
    return isinstance(members, list) and len(members) >= 2 and members[-1] == _NULL_SCHEMA


def _copy_schema(side: _Canonicaliser, schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    for key in schema:
        side._move(out, key, schema, key)
    return out


def _unwrap_null(side: _Canonicaliser, wrapped: dict[str, Any]) -> Any:
    """The nullable schema ``wrapped`` without its null branch (origins kept)."""
    core: dict[str, Any] = {}
    for key, value in wrapped.items():
        if key != "anyOf":
            core[key] = value
            side._move(core, key, wrapped, key)
    members = wrapped["anyOf"][:-1]
    if len(members) == 1:
        member = members[0]
        if not core:
            return member
        if (
            isinstance(member, dict)
            and "$ref" not in member
            and "$recursive" not in member
            and not set(member) & set(core)
        ):
            for key, value in member.items():
                core[key] = value
                side._move(core, key, member, key)
            return core
    core["anyOf"] = side._new_list(
        (value, side.origin(wrapped["anyOf"], i)) for i, value in enumerate(members)
    )
    side._move(core, "anyOf", wrapped, "anyOf")
    return core


def _const_as_enum(
    side: _Canonicaliser, schema: dict[str, Any], other: dict[str, Any]
) -> dict[str, Any]:
    """``schema`` with its ``const`` lined up with ``other``'s ``enum``/``type`` (see _align)."""
    if "const" not in schema or "enum" in schema:
        return schema
    out: dict[str, Any] | None = None
    if "enum" in other and "const" not in other:
        out = _copy_schema(side, schema)
        out["enum"] = _SetList([out.pop("const")])
        side._move(out, "enum", schema, "const")
    kinds = other.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if (
        "type" not in schema
        and isinstance(kinds, list)
        and any(isinstance(k, str) and k in _json_types(schema["const"]) for k in kinds)
    ):
        out = out if out is not None else _copy_schema(side, schema)
        out["type"] = other["type"]
        side._move(out, "type", schema, "const")
    return out if out is not None else schema


def _pointer_key(pointer: str) -> list[tuple[int, int, str]]:
    return [(0, int(seg), "") if seg.isdigit() else (1, 0, seg) for seg in pointer.split("/")[1:]]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= _TRUNCATE else text[: _TRUNCATE - 3] + "..."


def format_text(
    diffs: Sequence[Difference],
    *,
    old_label: str,
    new_label: str,
    locate: Callable[[Difference], str | None] | None = None,
) -> str:
    """Render unclassified differences for humans (no trailing newline).

    ``chanspec diff`` renders classified findings with
    :mod:`chanspec.codegen.diff_format` instead; this is the plain form.

    Output is ``"No differences between A and B."`` for an empty list, else the
    header ``"A -> B: N differences"`` followed by one line per difference::

          changed /operations/x/reply/messages: ["a"] -> ["b"]
          added /channels/c: {"address": "c", ...}
          removed /operations/o: {...}  (specs/x.yaml:12:5)

    Values are ``json.dumps(sort_keys=True)`` text truncated to 120 characters
    (ending in ``...``).  ``locate`` (default ``None``) is called with each
    difference; a non-empty string it returns is appended as ``"  (<loc>)"``.
    """
    if not diffs:
        return f"No differences between {old_label} and {new_label}."
    lines = [f"{old_label} -> {new_label}: {len(diffs)} differences"]
    for d in diffs:
        if d.change == "changed":
            body = f"{_short(d.old)} -> {_short(d.new)}"
        elif d.change == "added":
            body = _short(d.new)
        else:
            body = _short(d.old)
        line = f"  {d.change} {d.pointer}: {body}"
        if locate is not None:
            where = locate(d)
            if where:
                line += f"  ({where})"
        lines.append(line)
    return "\n".join(lines)


def format_json(diffs: Sequence[Difference]) -> str:
    """Render unclassified differences as a deterministic JSON list (no trailing newline).

    ``chanspec diff --format json`` adds rule, level and location (see
    :mod:`chanspec.codegen.diff_format`); this is the plain form.

    Each element is ``{"change", "new", "old", "pointer"}`` (origins are not
    serialised); keys sorted, ``indent=2``, non-ASCII kept as is.  An empty
    list renders as ``"[]"``.
    """
    payload = [
        {"pointer": d.pointer, "change": d.change, "old": d.old, "new": d.new} for d in diffs
    ]
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False)
