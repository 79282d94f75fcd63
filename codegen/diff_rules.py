"""Classification of ``chanspec diff`` differences: named rules, levels, direction.

Every :class:`~chanspec.codegen.diff.Difference` between two canonical views
(:mod:`chanspec.codegen.diff`) gets exactly one :class:`Rule` from the registry
:data:`RULES`: a stable id, a level and a one-line explanation.  The catalogue
page ``docs/diff-rules.md`` is generated from the registry with
``python -m chanspec.codegen.diff_rules > docs/diff-rules.md``.

Levels
    ``breaking``: an existing, correct client can fail (a request it sends is
    refused, a response it parses no longer fits, a channel or reply it uses is
    gone).  ``warning``: clients keep working if they tolerate the unexpected
    (unknown enum values or messages, changed defaults, layer or group
    changes), or the change needs a human look.  ``info``: additive or
    documentation-only.  Levels are ordered ``info < warning < breaking``
    (:data:`LEVELS`); ``--fail-on`` compares against that order.

Direction (judged from the client's side)
    A message the server *receives* is a **request**: a message of an
    operation with ``action: receive``, or a reply message of an operation with
    ``action: send`` (the client answers).  A message the server *sends* is a
    **response**: a message of an ``action: send`` operation, or a reply
    message of an ``action: receive`` operation.  The direction of
    ``/channels/<c>/messages/<m>/...`` is collected from the operations of both
    documents (an operation's ``channel``/``messages`` and its ``reply``
    ``channel``/``messages``).  A message used both ways, used by no operation,
    or used by an operation whose action is neither, is judged both ways and
    the stricter rule wins (the higher level; on a tie the request rule).
    WebSocket binding ``query``/``headers`` schemas and parameter schemas are
    requests.  Requests follow JSON Schema draft-07 reasoning: a change that
    shrinks the set of accepted instances ("tightened") breaks clients, one
    that grows it ("relaxed") does not; responses the other way round, with
    relaxations a warning (clients may not know the new values) except type
    widening and nullability, which break typed clients (as in OpenAPI diff
    practice, e.g. oasdiff's ``response-property-became-nullable``).

Operation messages, replies and events (AsyncAPI 3.0 "Operation Object",
"Operation Reply Object") are judged by the operation's action;
``x-events`` (chanspec's internal events, sent from outside the server through
the channel layer) are never client-visible and at most a warning.

Stricter judgement also applies inside one difference: a set change that adds
and removes (``required``, ``enum``, message keys, security, servers) takes the
stricter of the two rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .diff import (
    Difference,
    SchemaPath,
    canonical_document,
    diff_documents,
    schema_path,
    split_pointer,
)

__all__ = [
    "FAIL_ON",
    "LEVELS",
    "RULES",
    "RULES_BY_ID",
    "Finding",
    "Level",
    "Rule",
    "classify",
    "classify_documents",
    "fails",
    "rule",
    "rules_markdown",
]

Level = Literal["breaking", "warning", "info"]

#: Levels from least to most severe.
LEVELS: tuple[Level, ...] = ("info", "warning", "breaking")

#: Accepted values of ``--fail-on`` (``never``: always exit 0 on a successful comparison).
FAIL_ON: tuple[str, ...] = ("breaking", "warning", "info", "never")

_RANK: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Rule:
    """One classification rule.

    Attributes:
        id: stable kebab-case identifier, e.g. ``"request-property-required-added"``.
        level: ``"breaking"``, ``"warning"`` or ``"info"``.
        summary: one-line explanation from the client's point of view.
    """

    id: str
    level: Level
    summary: str


@dataclass(frozen=True)
class Finding:
    """A difference together with the rule that classifies it."""

    difference: Difference
    rule: Rule

    @property
    def level(self) -> Level:
        """The rule's level."""
        return self.rule.level


def _r(rule_id: str, level: Level, summary: str) -> Rule:
    return Rule(rule_id, level, summary)


def _family(name: str, what: str, keywords: str) -> tuple[Rule, ...]:
    """The four direction-aware rules of one constraint family."""
    return (
        _r(
            f"request-{name}-tightened",
            "breaking",
            f"A request's {what} is stricter ({keywords}); clients may send values now refused.",
        ),
        _r(
            f"request-{name}-relaxed",
            "info",
            f"A request's {what} is looser ({keywords}); everything valid before still is.",
        ),
        _r(
            f"response-{name}-tightened",
            "info",
            f"A response's {what} is stricter ({keywords}); clients still understand it.",
        ),
        _r(
            f"response-{name}-relaxed",
            "warning",
            f"A response's {what} is looser ({keywords}); clients may get values they do not "
            "expect.",
        ),
    )


# The registry.  Ids are stable: rename only with a changelog entry.  Order is the catalogue's.
RULES: tuple[Rule, ...] = (
    # -- document, servers, security ------------------------------------------------------- #
    _r("info-changed", "info", "The info object (title, version, description, ...) changed."),
    _r("server-added", "info", "A server was added; existing clients are unaffected."),
    _r(
        "server-removed",
        "info",
        "A server was removed; deployment metadata, not the message contract.",
    ),
    _r(
        "server-changed",
        "info",
        "A server's host, protocol, pathname, variables or description changed.",
    ),
    _r(
        "content-type-changed",
        "warning",
        "A message's contentType or the defaultContentType changed; frames are encoded by it.",
    ),
    _r(
        "security-added",
        "breaking",
        "Security is now required where none was; clients that do not authenticate are refused.",
    ),
    _r("security-removed", "info", "Security is no longer required."),
    _r(
        "security-alternative-added",
        "info",
        "Another security scheme is accepted; clients using the existing ones still work.",
    ),
    _r(
        "security-alternative-removed",
        "breaking",
        "A security scheme clients may use is no longer accepted.",
    ),
    _r(
        "security-scheme-changed",
        "warning",
        "A security scheme (components.securitySchemes) was added, removed or changed.",
    ),
    # -- channels ---------------------------------------------------------------------------- #
    _r("channel-added", "info", "A channel was added; existing clients are unaffected."),
    _r("channel-removed", "breaking", "A channel was removed; clients connecting to it fail."),
    _r(
        "address-changed",
        "breaking",
        "A channel's address changed; clients connect to the old address.",
    ),
    _r(
        "parameter-added",
        "info",
        "An address parameter was declared; the address itself is unchanged.",
    ),
    _r(
        "parameter-removed",
        "info",
        "An address parameter's declaration (and its constraints) was removed; the address "
        "itself is unchanged.",
    ),
    _r(
        "parameter-enum-value-added",
        "info",
        "An address parameter accepts more values (enum value added, or enum dropped).",
    ),
    _r(
        "parameter-enum-value-removed",
        "breaking",
        "An address parameter accepts fewer values (enum value removed, or enum introduced).",
    ),
    _r(
        "parameter-default-changed",
        "warning",
        "An address parameter's default changed; clients omitting it get another value.",
    ),
    _r(
        "parameter-location-changed",
        "warning",
        "Where an address parameter's value is taken from (location) changed.",
    ),
    _r("channel-server-added", "info", "The channel is available on another server."),
    _r(
        "channel-server-removed",
        "warning",
        "The channel is no longer available on a server; clients of that server lose it.",
    ),
    _r(
        "channel-layer-changed",
        "warning",
        "The channel layer (x-channel-layer, x-channel-layers) changed; delivery and reach of "
        "broadcasts may differ.",
    ),
    _r(
        "channel-groups-changed",
        "warning",
        "The groups a connection joins (x-groups) changed; clients may get other broadcasts.",
    ),
    _r(
        "bindings-changed",
        "warning",
        "Protocol bindings changed (besides WebSocket query/header schemas); the handshake "
        "may differ.",
    ),
    # -- messages ---------------------------------------------------------------------------- #
    _r("message-added", "info", "A message was added to a channel."),
    _r(
        "message-removed",
        "breaking",
        "A message was removed from a channel; clients that send or expect it fail.",
    ),
    _r(
        "message-name-changed",
        "warning",
        "A message's name changed; clients or tools keyed on it may break.",
    ),
    _r(
        "schema-format-changed",
        "warning",
        "A message's schemaFormat changed; its payload is described in another language.",
    ),
    _r(
        "opaque-payload-changed",
        "warning",
        "A payload in a non-JSON-Schema format (e.g. Avro) changed; not analysed, review it.",
    ),
    _r(
        "correlation-id-changed",
        "warning",
        "A message's correlationId changed; clients matching replies by it may break.",
    ),
    # -- operations -------------------------------------------------------------------------- #
    _r("operation-added", "info", "An operation was added; existing clients are unaffected."),
    _r(
        "operation-removed",
        "breaking",
        "An operation was removed; its messages are no longer accepted or no longer sent.",
    ),
    _r(
        "operation-action-changed",
        "breaking",
        "An operation's action (send/receive) changed; its messages flow the other way.",
    ),
    _r("operation-channel-changed", "breaking", "An operation moved to another channel."),
    _r(
        "request-message-added",
        "info",
        "The server accepts another message (receive operation, or the reply of a send).",
    ),
    _r(
        "request-message-removed",
        "breaking",
        "The server no longer accepts a message clients may send.",
    ),
    _r(
        "response-message-added",
        "warning",
        "The server may send another message (send operation); clients may not know it.",
    ),
    _r(
        "response-message-removed",
        "breaking",
        "The server no longer sends a message (send operation) clients may wait for.",
    ),
    _r(
        "reply-added",
        "warning",
        "An operation now has a reply; clients may not expect the extra message.",
    ),
    _r(
        "reply-removed",
        "breaking",
        "An operation no longer has a reply; clients waiting for it hang.",
    ),
    _r(
        "reply-message-added",
        "warning",
        "The server's reply may be another message; clients may not know it.",
    ),
    _r(
        "reply-message-removed",
        "breaking",
        "A message the server replied with was removed; clients waiting for it never get it.",
    ),
    _r("reply-channel-changed", "breaking", "The reply comes on another channel."),
    _r("reply-address-changed", "warning", "The reply's address (where it is sent) changed."),
    _r("event-added", "info", "An internal event (x-events) was added; not client-visible."),
    _r(
        "event-removed",
        "warning",
        "An internal event (x-events) was removed; producers outside the server lose a handler.",
    ),
    _r(
        "event-changed",
        "warning",
        "An internal event (x-events) changed; producers outside the server may need updating.",
    ),
    # -- payload schemas: properties and required -------------------------------------------- #
    _r(
        "request-property-added",
        "info",
        "A request may carry a new property; clients that omit it still work.",
    ),
    _r(
        "request-property-removed",
        "warning",
        "A property clients may still send is no longer declared; the server ignores it.",
    ),
    _r(
        "request-property-removed-forbidden",
        "breaking",
        "A property clients may still send was removed where additionalProperties is false; "
        "the server refuses it.",
    ),
    _r(
        "response-property-added",
        "info",
        "A response carries a new property; clients ignoring unknown properties still work.",
    ),
    _r(
        "response-property-removed",
        "warning",
        "A response property is no longer declared; clients reading it get nothing.",
    ),
    _r(
        "request-property-required-added",
        "breaking",
        "A request property became required; clients that omit it are refused.",
    ),
    _r("request-property-required-removed", "info", "A request property became optional."),
    _r("response-property-required-added", "info", "A response property is now always present."),
    _r(
        "response-property-required-removed",
        "breaking",
        "A response property may now be absent; clients relying on it break.",
    ),
    # -- payload schemas: types, values, nullability ----------------------------------------- #
    _r(
        "request-type-narrowed",
        "breaking",
        "A request value accepts fewer JSON types; clients may send a type now refused.",
    ),
    _r("request-type-widened", "info", "A request value accepts more JSON types."),
    _r(
        "request-type-changed",
        "breaking",
        "A request value's JSON type changed; clients send the old type.",
    ),
    _r("response-type-narrowed", "info", "A response value has fewer possible JSON types."),
    _r(
        "response-type-widened",
        "breaking",
        "A response value may have a JSON type clients do not parse.",
    ),
    _r(
        "response-type-changed",
        "breaking",
        "A response value's JSON type changed; clients parse the old type.",
    ),
    _r(
        "request-enum-value-added",
        "info",
        "A request value accepts more values (enum value added, or enum/const dropped).",
    ),
    _r(
        "request-enum-value-removed",
        "breaking",
        "A request value accepts fewer values (enum value removed, const changed, or "
        "enum/const introduced); clients may send one now refused.",
    ),
    _r(
        "response-enum-value-added",
        "warning",
        "A response value may take a value clients do not know (enum value added, const "
        "changed, or enum/const dropped).",
    ),
    _r("response-enum-value-removed", "info", "A response value takes fewer values."),
    _r(
        "discriminator-value-changed",
        "breaking",
        "The const of a top-level payload property (the message's tag, e.g. action) changed; "
        "frames are routed by it.",
    ),
    _r(
        "discriminator-changed",
        "breaking",
        "A schema's discriminator keyword changed; alternatives are told apart differently.",
    ),
    _r("request-nullable-added", "info", "A request value may now be null."),
    _r(
        "request-nullable-removed",
        "breaking",
        "A request value may no longer be null; clients sending null are refused.",
    ),
    _r(
        "response-nullable-added",
        "breaking",
        "A response value may now be null; clients may not handle null.",
    ),
    _r("response-nullable-removed", "info", "A response value is no longer null."),
    # -- payload schemas: objects and unions -------------------------------------------------- #
    _r(
        "request-additional-properties-restricted",
        "breaking",
        "A request object allows fewer undeclared properties (additionalProperties false or a "
        "schema); clients sending extras are refused.",
    ),
    _r(
        "request-additional-properties-allowed",
        "info",
        "A request object allows more undeclared properties.",
    ),
    _r(
        "response-additional-properties-restricted",
        "info",
        "A response object allows fewer undeclared properties.",
    ),
    _r(
        "response-additional-properties-allowed",
        "warning",
        "A response object may carry undeclared properties; strict clients may refuse them.",
    ),
    _r(
        "request-union-branch-added",
        "info",
        "A request union (anyOf/oneOf) accepts another alternative.",
    ),
    _r(
        "request-union-branch-removed",
        "breaking",
        "A request union (anyOf/oneOf) lost an alternative clients may send.",
    ),
    _r(
        "response-union-branch-added",
        "warning",
        "A response union (anyOf/oneOf) has another alternative clients may not know.",
    ),
    _r(
        "response-union-branch-removed",
        "info",
        "A response union (anyOf/oneOf) has fewer alternatives.",
    ),
    # -- payload schemas: constraint families ------------------------------------------------- #
    *_family("length", "string length", "maxLength, minLength"),
    *_family(
        "range",
        "numeric range",
        "maximum, minimum, exclusiveMaximum, exclusiveMinimum, multipleOf",
    ),
    *_family(
        "items",
        "array shape",
        "items, prefixItems, additionalItems, contains, maxItems, minItems, uniqueItems",
    ),
    *_family("pattern", "string pattern", "pattern"),
    *_family("format", "string format", "format, contentEncoding, contentMediaType"),
    *_family(
        "constraint",
        "schema",
        "a whole subschema, allOf, not, if/then/else, patternProperties, propertyNames, "
        "dependencies, maxProperties, minProperties, anyOf/oneOf as a whole",
    ),
    # -- payload schemas: defaults and annotations -------------------------------------------- #
    _r("default-added", "info", "A default value was declared."),
    _r(
        "default-removed",
        "warning",
        "A default value was removed; what happens when the value is omitted may change.",
    ),
    _r(
        "default-changed",
        "warning",
        "A default value changed; clients omitting the value get different behaviour.",
    ),
    _r(
        "read-write-only-changed",
        "warning",
        "readOnly/writeOnly changed; which side may send the value changed.",
    ),
    # -- documentation anywhere ------------------------------------------------------------- #
    _r("description-changed", "info", "A description changed; documentation only."),
    _r("summary-changed", "info", "A summary changed; documentation only."),
    _r("title-changed", "info", "A title changed; documentation only."),
    _r("examples-changed", "info", "Examples changed; documentation only."),
    _r("tags-changed", "info", "Tags changed; documentation only."),
    _r("external-docs-changed", "info", "External documentation links changed."),
    _r(
        "deprecated-changed",
        "info",
        "Something was deprecated or undeprecated; nothing breaks yet.",
    ),
    _r(
        "extension-changed",
        "info",
        "A specification extension (x-*) without meaning to chanspec changed.",
    ),
    _r("unclassified-change", "warning", "A change no rule recognises; review it."),
)

#: The registry by id.
RULES_BY_ID: Mapping[str, Rule] = {r.id: r for r in RULES}

if len(RULES_BY_ID) != len(RULES):  # pragma: no cover - guarded by the tests too
    raise RuntimeError("duplicate rule ids in RULES")


def rule(rule_id: str) -> Rule:
    """The rule with id ``rule_id``.

    Raises:
        KeyError: for an unknown id.
    """
    return RULES_BY_ID[rule_id]


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """Whether any finding is at or above ``fail_on`` (one of :data:`FAIL_ON`).

    ``"never"`` is always False.

    Raises:
        ValueError: for a value not in :data:`FAIL_ON`.
    """
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    if fail_on == "never":
        return False
    threshold = _RANK[fail_on]
    return any(_RANK[f.rule.level] >= threshold for f in findings)


# --------------------------------------------------------------------------- #
# Classification
# --------------------------------------------------------------------------- #

Direction = Literal["request", "response"]
_BOTH: tuple[Direction, ...] = ("request", "response")
_Polarity = Literal["tightened", "relaxed", "both"]

_DOC_RULES = {
    "title": "title-changed",
    "summary": "summary-changed",
    "description": "description-changed",
    "tags": "tags-changed",
    "externalDocs": "external-docs-changed",
    "examples": "examples-changed",
    "example": "examples-changed",
    "deprecated": "deprecated-changed",
}
_MAX_BOUNDS = frozenset(
    {"maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum", "maxContains"}
)
_MIN_BOUNDS = frozenset(
    {"minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum", "minContains"}
)
_FAMILY = {
    "maxLength": "length",
    "minLength": "length",
    "maximum": "range",
    "minimum": "range",
    "exclusiveMaximum": "range",
    "exclusiveMinimum": "range",
    "multipleOf": "range",
    "items": "items",
    "prefixItems": "items",
    "additionalItems": "items",
    "contains": "items",
    "maxItems": "items",
    "minItems": "items",
    "uniqueItems": "items",
    "maxContains": "items",
    "minContains": "items",
    "pattern": "pattern",
    "format": "format",
    "contentEncoding": "format",
    "contentMediaType": "format",
}
# Below these steps a stricter subschema can mean a looser schema (or vice versa): changes
# there are judged both ways.
_OPAQUE_STEPS = frozenset({"not", "if", "then", "else"})
# Keywords (not schema steps, see diff.schema_path) judged by the "constraint" family: whole
# combinator lists or schema maps added/removed, property-dependency lists, unresolved or
# recursive references.  maxProperties/minProperties are bounds (see _bound).
_CONSTRAINT_KEYWORDS = frozenset(
    {
        "allOf",
        "anyOf",
        "oneOf",
        "patternProperties",
        "dependencies",
        "dependentSchemas",
        "dependentRequired",
        "$ref",
        "$recursive",
    }
)


def _doc_rule(key: str) -> str | None:
    """Rule id for a documentation key (or an ``x-*`` extension) anywhere."""
    if key in _DOC_RULES:
        return _DOC_RULES[key]
    if key.startswith("x-"):
        return "extension-changed"
    return None


def _keys(value: Any) -> set[str]:
    """A set-valued canonical list (or a scalar, or nothing) as a set of JSON texts."""
    if value is None:
        return set()
    items = value if isinstance(value, list) else [value]
    return {json.dumps(v, sort_keys=True) for v in items}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _set_change(d: Difference, added: str, removed: str) -> list[str]:
    """Rule ids for a set-valued list: ``added`` if it gained members, ``removed`` if it lost."""
    old, new = _keys(d.old), _keys(d.new)
    ids = [removed] if old - new else []
    if new - old:
        ids.append(added)
    return ids or [removed]


def _presence(d: Difference) -> _Polarity:
    """A constraint that was added tightens, one that was removed relaxes."""
    if d.change == "added":
        return "tightened"
    if d.change == "removed":
        return "relaxed"
    return "both"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bound(keyword: str, d: Difference) -> _Polarity:
    """Polarity of a change to a max*/min* bound or multipleOf."""
    if d.change != "changed":
        return _presence(d)
    old, new = _number(d.old), _number(d.new)
    if old is None or new is None:
        return "both"
    if keyword == "multipleOf":
        if old and new and (new / old).is_integer():
            return "tightened"
        if old and new and (old / new).is_integer():
            return "relaxed"
        return "both"
    lower = new < old
    if keyword in _MIN_BOUNDS:
        lower = not lower
    return "tightened" if lower else "relaxed"


def _types(value: Any) -> set[str] | None:
    """JSON types a ``type`` value admits; None means any type."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return None


def _covers(wide: set[str] | None, narrow: set[str] | None) -> bool:
    """Whether every type of ``narrow`` is admitted by ``wide`` (integer is a number)."""
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _allowed_values(d: Difference, side: Literal["old", "new"]) -> set[str] | None:
    """Values an enum/const admits on one side of a difference; None means unrestricted."""
    if (side == "old" and d.change == "added") or (side == "new" and d.change == "removed"):
        return None
    value = d.old if side == "old" else d.new
    keyword = split_pointer(d.pointer)[-1]
    if keyword == "enum" and isinstance(value, list):
        return _keys(value)
    return _keys([value])


def _unwrapped(schema: Any) -> list[dict[str, Any]]:
    """A schema and, for the canonical nullable spelling, its non-null member."""
    if not isinstance(schema, dict):
        return []
    out = [schema]
    members = schema.get("anyOf")
    if (
        isinstance(members, list)
        and len(members) == 2
        and members[-1] == {"type": "null"}
        and isinstance(members[0], dict)
    ):
        out.append(members[0])
    return out


def _schema_lookup(tree: Any, pointer: str) -> Any:
    """The schema at ``pointer``, looking through canonical nullable wrappers on the way."""
    node = tree
    for seg in split_pointer(pointer):
        if isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
            node = node[int(seg)]
            continue
        for candidate in _unwrapped(node):
            if seg in candidate:
                node = candidate[seg]
                break
        else:
            return None
    return node


class _Classifier:
    """Classifies differences between two canonical views."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self.directions: dict[tuple[str, str], set[Direction]] = {}
        for doc in (old, new):
            operations = doc.get("operations")
            if isinstance(operations, dict):
                for op in operations.values():
                    if isinstance(op, dict):
                        self._collect(op)

    def _collect(self, op: Mapping[str, Any]) -> None:
        action = op.get("action")
        own: tuple[Direction, ...] = _BOTH
        theirs: tuple[Direction, ...] = _BOTH
        if action == "receive":
            own, theirs = ("request",), ("response",)
        elif action == "send":
            own, theirs = ("response",), ("request",)
        self._mark(op.get("channel"), op.get("messages"), own)
        reply = op.get("reply")
        if isinstance(reply, dict):
            self._mark(reply.get("channel"), reply.get("messages"), theirs)

    def _mark(self, channel: Any, messages: Any, directions: tuple[Direction, ...]) -> None:
        if not isinstance(channel, str):
            return
        for key in _strings(messages):
            self.directions.setdefault((channel, key), set()).update(directions)

    def directions_of(self, channel: str, message: str) -> tuple[Direction, ...]:
        """Directions of a channel's message; both when no operation says."""
        found = self.directions.get((channel, message))
        return tuple(d for d in _BOTH if d in found) if found else _BOTH

    def _action(self, operation: str, *, removed: bool) -> Any:
        """The operation's action on the side a change is about (A for removals, else B)."""
        for doc in (self.old, self.new) if removed else (self.new, self.old):
            ops = doc.get("operations")
            op = ops.get(operation) if isinstance(ops, dict) else None
            if isinstance(op, dict) and "action" in op:
                return op["action"]
        return None

    # -- entry point ---------------------------------------------------------------------- #

    def finding(self, d: Difference) -> Finding:
        ids = self.candidates(d) or ["unclassified-change"]
        best = RULES_BY_ID[ids[0]]
        for rule_id in ids[1:]:
            candidate = RULES_BY_ID[rule_id]
            if _RANK[candidate.level] > _RANK[best.level]:
                best = candidate
        return Finding(d, best)

    def candidates(self, d: Difference) -> list[str]:
        """Rule ids that apply to ``d``; the stricter one is chosen."""
        segs = split_pointer(d.pointer)
        if not segs:
            return []
        head = segs[0]
        if head == "channels" and len(segs) >= 2:
            return self._channel(d, segs)
        if head == "operations" and len(segs) >= 2:
            return self._operation(d, segs)
        if head == "servers":
            return self._server(d, segs)
        if head == "info":
            return ["info-changed"]
        if head == "defaultContentType":
            return ["content-type-changed"]
        if head == "components":
            return ["security-scheme-changed"] if segs[1:2] == ["securitySchemes"] else []
        if head == "x-channel-layers":
            return ["channel-layer-changed"]
        found = _doc_rule(head)
        return [found] if found else []

    # -- servers -------------------------------------------------------------------------- #

    def _server(self, d: Difference, segs: list[str]) -> list[str]:
        if len(segs) == 2 and d.change != "changed":
            return ["server-added" if d.change == "added" else "server-removed"]
        if segs[2:3] == ["security"]:
            return self._security(d)
        return ["server-changed"]

    @staticmethod
    def _security(d: Difference) -> list[str]:
        old, new = _keys(d.old), _keys(d.new)
        if not old and new:
            return ["security-added"]
        if old and not new:
            return ["security-removed"]
        return _set_change(d, "security-alternative-added", "security-alternative-removed")

    # -- channels ------------------------------------------------------------------------- #

    def _channel(self, d: Difference, segs: list[str]) -> list[str]:
        if len(segs) == 2:
            return {"added": ["channel-added"], "removed": ["channel-removed"]}.get(d.change, [])
        key = segs[2]
        if key == "address":
            return ["address-changed"]
        if key == "parameters":
            return self._parameter(d, segs)
        if key == "messages" and len(segs) >= 4:
            return self._message(d, segs)
        if key == "servers":
            return _set_change(d, "channel-server-added", "channel-server-removed")
        if key == "bindings":
            if len(segs) >= 5 and segs[3] == "ws" and segs[4] in ("query", "headers"):
                where = schema_path(d.pointer)
                if where is not None:
                    return self._schema(d, where, ("request",))
            return ["bindings-changed"]
        if key == "x-channel-layer":
            return ["channel-layer-changed"]
        if key == "x-groups":
            return ["channel-groups-changed"]
        found = _doc_rule(key)
        return [found] if found else []

    def _parameter(self, d: Difference, segs: list[str]) -> list[str]:
        if len(segs) <= 4:
            return {"added": ["parameter-added"], "removed": ["parameter-removed"]}.get(
                d.change, []
            )
        key = segs[4]
        if key == "enum":
            old = None if d.change == "added" else _keys(d.old)
            new = None if d.change == "removed" else _keys(d.new)
            ids = []
            if new is not None and (old is None or old - new):
                ids.append("parameter-enum-value-removed")
            if old is not None and (new is None or new - old):
                ids.append("parameter-enum-value-added")
            return ids
        if key == "default":
            return ["parameter-default-changed"]
        if key == "location":
            return ["parameter-location-changed"]
        if key == "schema":
            where = schema_path(d.pointer)
            return self._schema(d, where, ("request",)) if where is not None else []
        found = _doc_rule(key)
        return [found] if found else []

    def _message(self, d: Difference, segs: list[str]) -> list[str]:
        if len(segs) == 4:
            return {"added": ["message-added"], "removed": ["message-removed"]}.get(d.change, [])
        key = segs[4]
        if key in ("payload", "headers"):
            tree = self.old if d.change == "removed" else self.new
            where = schema_path(d.pointer, tree)
            if where is None:  # a non-JSON-Schema payload, or a multi-format payload's format
                return [
                    "schema-format-changed"
                    if segs[5:] == ["schemaFormat"]
                    else "opaque-payload-changed"
                ]
            return self._schema(d, where, self.directions_of(segs[1], segs[3]))
        simple = {
            "contentType": "content-type-changed",
            "schemaFormat": "schema-format-changed",
            "name": "message-name-changed",
            "correlationId": "correlation-id-changed",
            "bindings": "bindings-changed",
        }
        found = simple.get(key) or _doc_rule(key)
        return [found] if found else []

    # -- operations ----------------------------------------------------------------------- #

    def _operation(self, d: Difference, segs: list[str]) -> list[str]:
        if len(segs) == 2:
            return {"added": ["operation-added"], "removed": ["operation-removed"]}.get(
                d.change, []
            )
        key = segs[2]
        if key == "action":
            return ["operation-action-changed"]
        if key == "channel":
            return ["operation-channel-changed"]
        if key == "messages":
            return self._operation_messages(d, segs[1], reply=False)
        if key == "reply":
            return self._reply(d, segs)
        if key == "security":
            return self._security(d)
        if key == "x-events":
            if len(segs) <= 4 and d.change != "changed":
                return ["event-added" if d.change == "added" else "event-removed"]
            return ["event-changed"]
        if key == "bindings":
            return ["bindings-changed"]
        found = _doc_rule(key)
        return [found] if found else []

    def _operation_messages(self, d: Difference, operation: str, *, reply: bool) -> list[str]:
        old, new = _keys(d.old), _keys(d.new)
        ids: list[str] = []
        if old - new:
            action = self._action(operation, removed=True)
            ids += self._message_rules(action, "removed", reply=reply)
        if new - old:
            action = self._action(operation, removed=False)
            ids += self._message_rules(action, "added", reply=reply)
        return ids

    @staticmethod
    def _message_rules(action: Any, change: str, *, reply: bool) -> list[str]:
        server_sends = "reply-message" if reply else "response-message"
        if action == "receive":
            prefixes = [server_sends if reply else "request-message"]
        elif action == "send":
            prefixes = ["request-message" if reply else server_sends]
        else:
            prefixes = ["request-message", server_sends]
        return [f"{prefix}-{change}" for prefix in prefixes]

    def _reply(self, d: Difference, segs: list[str]) -> list[str]:
        if len(segs) == 3:
            return {"added": ["reply-added"], "removed": ["reply-removed"]}.get(d.change, [])
        key = segs[3]
        if key == "messages":
            return self._operation_messages(d, segs[1], reply=True)
        if key == "channel":
            return ["reply-channel-changed"]
        if key == "address":
            return ["reply-address-changed"]
        found = _doc_rule(key)
        return [found] if found else []

    # -- schemas -------------------------------------------------------------------------- #

    def _schema(
        self, d: Difference, where: SchemaPath, directions: Sequence[Direction]
    ) -> list[str]:
        ids: list[str] = []
        for direction in directions:
            ids += self._schema_one_way(d, where, direction)
        return ids

    @staticmethod
    def _polar(way: Direction, family: str, polarity: _Polarity, opaque: bool) -> list[str]:
        """``<way>-<family>-tightened|relaxed`` (both when unknown or under not/if)."""
        if opaque or polarity == "both":
            return [f"{way}-{family}-tightened", f"{way}-{family}-relaxed"]
        return [f"{way}-{family}-{polarity}"]

    def _schema_one_way(self, d: Difference, where: SchemaPath, way: Direction) -> list[str]:
        # below not/if the polarity is unknown (the node itself, added or removed, is not below)
        above = where.steps if where.rest else where.steps[:-1]
        opaque = any(step[0] in _OPAQUE_STEPS for step in above)
        if not where.rest:
            return self._schema_node(d, where, way, opaque)
        keyword = where.rest[0]
        found = _doc_rule(keyword)
        if found is not None:
            return [found]
        if keyword == "type":
            return self._type(d, way, opaque)
        if keyword in ("enum", "const"):
            if (
                keyword == "const"
                and d.change == "changed"
                and len(where.steps) == 1
                and where.steps[0][0] == "properties"
                and where.root.endswith(("/payload", "/payload/schema"))
                and where.root.startswith("/channels/")
            ):
                return ["discriminator-value-changed"]
            return self._values(d, way, opaque)
        if keyword == "required":
            old, new = _keys(d.old), _keys(d.new)
            ids = [f"{way}-property-required-added"] if new - old else []
            if old - new:
                ids.append(f"{way}-property-required-removed")
            return ids
        if keyword == "properties" and len(where.rest) == 1:
            return self._property(d, where.schema_pointer, way, opaque)
        if keyword == "default":
            return [f"default-{d.change}"]
        if keyword == "discriminator":
            return ["discriminator-changed"]
        if keyword in ("readOnly", "writeOnly"):
            return ["read-write-only-changed"]
        if keyword in _MAX_BOUNDS or keyword in _MIN_BOUNDS or keyword == "multipleOf":
            return self._polar(way, _FAMILY.get(keyword, "constraint"), _bound(keyword, d), opaque)
        if keyword == "uniqueItems":
            was, now = d.old is True, d.new is True
            polarity: _Polarity = "tightened" if now and not was else "relaxed" if was else "both"
            return self._polar(way, "items", polarity, opaque)
        if keyword in _FAMILY:
            return self._polar(way, _FAMILY[keyword], _presence(d), opaque)
        if keyword in _CONSTRAINT_KEYWORDS:
            polarity = _presence(d) if len(where.rest) == 1 else "both"
            return self._polar(way, "constraint", polarity, opaque)
        return []

    def _schema_node(
        self, d: Difference, where: SchemaPath, way: Direction, opaque: bool
    ) -> list[str]:
        """A whole schema was added, removed or replaced (e.g. by a boolean schema)."""
        if not where.steps:
            return self._polar(way, "constraint", _presence(d), opaque)
        keyword = where.steps[-1][0]
        if keyword == "properties":
            parent = SchemaPath(where.root, where.steps[:-1], ()).schema_pointer
            return self._property(d, parent, way, opaque)
        if keyword in ("anyOf", "oneOf"):
            if d.change == "changed" or opaque:
                return [f"{way}-union-branch-added", f"{way}-union-branch-removed"]
            value = d.new if d.change == "added" else d.old
            if value == {"type": "null"}:
                return [f"{way}-nullable-{d.change}"]
            return [f"{way}-union-branch-{d.change}"]
        if keyword == "additionalProperties":
            polarity: _Polarity = "both"
            if d.change == "added":
                polarity = "relaxed" if d.new is True else "tightened"
            elif d.change == "removed":
                polarity = "tightened" if d.old is True else "relaxed"
            elif d.new is False:
                polarity = "tightened"
            elif d.old is False:
                polarity = "relaxed"
            ids = []
            if opaque or polarity != "relaxed":
                ids.append(f"{way}-additional-properties-restricted")
            if opaque or polarity != "tightened":
                ids.append(f"{way}-additional-properties-allowed")
            return ids
        return self._polar(way, _FAMILY.get(keyword, "constraint"), _presence(d), opaque)

    def _property(self, d: Difference, parent: str, way: Direction, opaque: bool) -> list[str]:
        """A property (or the whole ``properties`` map) was added or removed."""
        if d.change == "added" and not opaque:
            return [f"{way}-property-added"]
        if d.change == "removed" and not opaque:
            if way == "response":
                return ["response-property-removed"]
            schema = _schema_lookup(self.new, parent)
            closed = any(
                s.get("additionalProperties") is False or s.get("unevaluatedProperties") is False
                for s in _unwrapped(schema)
            )
            return ["request-property-removed-forbidden" if closed else "request-property-removed"]
        return self._polar(way, "constraint", "both", opaque)

    @staticmethod
    def _type(d: Difference, way: Direction, opaque: bool) -> list[str]:
        old = None if d.change == "added" else _types(d.old)
        new = None if d.change == "removed" else _types(d.new)
        widened, narrowed = _covers(new, old), _covers(old, new)
        if opaque or not (widened or narrowed):
            return [f"{way}-type-changed"]
        if widened and narrowed:  # equivalent spellings, e.g. number vs [integer, number]
            return [f"{way}-type-widened" if way == "request" else f"{way}-type-narrowed"]
        return [f"{way}-type-widened" if widened else f"{way}-type-narrowed"]

    @staticmethod
    def _values(d: Difference, way: Direction, opaque: bool) -> list[str]:
        old, new = _allowed_values(d, "old"), _allowed_values(d, "new")
        removed = opaque or (new is not None and (old is None or bool(old - new)))
        added = opaque or (old is not None and (new is None or bool(new - old)))
        ids = [f"{way}-enum-value-removed"] if removed else []
        if added:
            ids.append(f"{way}-enum-value-added")
        return ids


def classify(
    diffs: Iterable[Difference],
    old_canonical: Mapping[str, Any],
    new_canonical: Mapping[str, Any],
) -> list[Finding]:
    """Classify each difference by one rule of :data:`RULES`.

    Args:
        diffs: differences as returned by
            :func:`chanspec.codegen.diff.diff_documents` (any order).
        old_canonical: canonical view of side A
            (:func:`chanspec.codegen.diff.canonical_document`), used for the
            direction of messages (its operations) and for schema look-ups.
        new_canonical: canonical view of side B, likewise.

    Returns:
        One :class:`Finding` per difference, in the order given.  A difference
        no rule recognises gets ``unclassified-change`` (warning); nothing is
        raised for odd shapes.
    """
    classifier = _Classifier(old_canonical, new_canonical)
    return [classifier.finding(d) for d in diffs]


def classify_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """Diff two resolved documents and classify the differences (sorted by pointer).

    Raises:
        TypeError: if either argument is not a dict (from the canonicaliser).
    """
    diffs = diff_documents(old, new)
    return classify(diffs, canonical_document(old), canonical_document(new))


# --------------------------------------------------------------------------- #
# Catalogue
# --------------------------------------------------------------------------- #


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rules_markdown() -> str:
    """The Markdown catalogue of :data:`RULES` for ``docs/diff-rules.md`` (ends with a newline)."""
    counts = {level: sum(r.level == level for r in RULES) for level in reversed(LEVELS)}
    lines = [
        "# Diff rules",
        "",
        "`chanspec diff OLD NEW` classifies every change between two AsyncAPI 3.0 documents",
        "(spec files or `module:app`) by one of the rules below: a stable id, a level and a",
        "one-line explanation, judged from the client's side.",
        "",
        "- **Levels**: `breaking` (an existing correct client can fail), `warning` (clients keep",
        "  working if they tolerate the unexpected, or a human should look), `info` (additive or",
        "  documentation only). `--fail-on breaking|warning|info|never` (default `breaking`)",
        "  exits 1 when a change is at or above that level; 0 otherwise; 2 when a side cannot",
        "  be loaded or the command line is wrong.",
        "- **Direction**: a message the server receives (operation `action: receive`, or the",
        "  reply of an `action: send`) is a *request*; a message the server sends (`action:",
        "  send`, or the reply of an `action: receive`) is a *response*. Narrowing what a",
        "  request accepts breaks clients; narrowing what a response carries does not, and",
        "  widening it is a warning (breaking for types and null). A message used both ways, or",
        "  by no operation, is judged both ways and the stricter rule wins.",
        "- **Formats**: `--format text|json|markdown|github` (GitHub Actions annotations).",
        "",
        "Generated from the code: `python -m chanspec.codegen.diff_rules > docs/diff-rules.md`.",
        "",
        f"{len(RULES)} rules: " + ", ".join(f"{n} {level}" for level, n in counts.items()) + ".",
        "",
        "| id | level | explanation |",
        "|---|---|---|",
    ]
    lines += [f"| `{r.id}` | {r.level} | {_cell(r.summary)} |" for r in RULES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(rules_markdown(), end="")
