"""Properties written beside a ``oneOf``/``anyOf``, distributed into its members.

Java-style specs (Springwolf, Slack's) write the shared part of a union beside it::

    {type: object, properties: {type: .., event_ts: ..}, oneOf: [A, B, C]}

which JSON Schema reads as "the shared part AND one of A, B, C". That is the same as
``oneOf: [shared AND A, shared AND B, shared AND C]`` (an instance failing the shared part fails
every member), and a model generator can only build the second form: one class per member.
datamodel-code-generator does build it, but by subclassing each member with the shared
properties, which lets through what a member with ``additionalProperties: false`` forbids.

:func:`distribute` writes each member as one schema that means exactly "shared AND member",
or gives up (``None``) when it cannot say so without ``allOf``. The generator
(codegen/normalise.py) applies it before naming classes, and the diff (codegen/diff.py) to
the canonical view of both sides, so a spec in either spelling round-trips.

Source: JSON Schema draft-07, sections 6.5 (object keywords) and 6.7 (``allOf``, ``anyOf``,
``oneOf``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SHARED_KEYS", "distribute", "fold_all_of", "inherited_part", "shared_part"]

# annotations and what belongs to the union itself: they stay on the schema holding the union
_STAYS = frozenset(
    {"title", "description", "default", "examples", "example", "deprecated", "readOnly",
     "writeOnly", "externalDocs", "$comment", "discriminator", "oneOf", "anyOf", "nullable"}
)  # fmt: skip
# keywords whose meaning depends on sibling keywords of the same object: never moved
_SIBLING_DEPENDENT = frozenset(
    {"additionalProperties", "patternProperties", "additionalItems", "unevaluatedProperties",
     "unevaluatedItems", "if", "then", "else", "allOf", "$ref", "$recursive", "not"}
)  # fmt: skip
#: A schema holding one of these beside its union is distributed (a bare ``type: object``
#: beside a union is carried as it is: docs/generated-code.md).
SHARED_KEYS = ("properties", "required")


def shared_part(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The part of ``schema`` to distribute into its union's members, or ``None``.

    ``None`` unless the schema has exactly one of ``oneOf``/``anyOf`` (a non-empty list of
    objects) and ``properties`` or ``required`` beside it, and nothing sibling-dependent
    (``additionalProperties``, ``patternProperties``, ``allOf``, ``if`` ...) or unknown
    (``x-`` extensions stay where they are and block nothing).
    """
    unions = [k for k in ("oneOf", "anyOf") if k in schema]
    if len(unions) != 1:
        return None
    members = schema[unions[0]]
    if not isinstance(members, list) or not members:
        return None
    if not any(k in schema for k in SHARED_KEYS):
        return None
    if any(k in schema for k in _SIBLING_DEPENDENT):
        return None
    return {
        k: v
        for k, v in schema.items()
        if k not in _STAYS and not (isinstance(k, str) and k.startswith("x-"))
    }


def distribute(
    shared: Mapping[str, Any],
    member: Mapping[str, Any],
    both: Callable[[Any, Any], Any],
) -> dict[str, Any] | None:
    """``member`` with ``shared`` (from :func:`shared_part`) written into it, or ``None``.

    Args:
        shared: keywords to add, e.g. ``{"type": "object", "properties": {...}}``.
        member: one union member, references resolved; returned unchanged in meaning when
            ``shared`` is already implied.
        both: ``both(a, b)`` -> one schema meaning "a and b", for a property both define
            (e.g. ``{"allOf": [a, b]}``, which the caller merges when it can).

    Returns:
        A new dict meaning exactly "shared and member": properties add up (a property both
        define becomes ``both(shared's, member's)``; one the member forbids through
        ``additionalProperties: false`` is left out, being forbidden either way; against an
        ``additionalProperties`` schema it must match both), ``required`` lists add up, other
        keywords must be absent from the member or equal. ``None`` when that cannot be said
        in one schema: a keyword with another value in the member, a member that is a
        reference or has ``patternProperties``/``if``, or a ``required`` name the member
        forbids. A member with ``allOf`` gets ``shared`` as one more part.
    """
    if any(k in member for k in ("$ref", "$recursive", "patternProperties", "if")):
        return None
    if "allOf" in member:
        folded = fold_all_of(member, both)
        if folded is None:  # one more part: exactly "shared and member"
            parts = member["allOf"]
            return {**member, "allOf": [*parts, dict(shared)]} if isinstance(parts, list) else None
        member = folded
    out = dict(member)
    extra = member.get("additionalProperties", True)
    own = member.get("properties")
    own_props: dict[str, Any] = dict(own) if isinstance(own, Mapping) else {}
    for key, value in shared.items():
        if key == "properties" and isinstance(value, Mapping):
            props = dict(own_props)
            for name, schema in value.items():
                if name in props:
                    props[name] = both(schema, props[name])
                elif extra is False:
                    continue  # forbidden by the member whatever the shared part says
                elif isinstance(extra, Mapping) and extra:
                    props[name] = both(schema, extra)
                else:
                    props[name] = schema
            if props:
                out["properties"] = props
        elif key == "required" and isinstance(value, list):
            names = list(member.get("required") or [])
            for name in value:
                if extra is False and name not in own_props:
                    return None  # required yet forbidden: no instance; keep the spec's form
                if name not in names:
                    names.append(name)
            out["required"] = names
        elif key in member and member[key] != value:
            return None
        else:
            out[key] = value
    return out


def inherited_part(base: Mapping[str, Any], member: Any) -> dict[str, Any] | None:
    """What a union member inherits from ``base`` by ``allOf: [base, ...]``, or ``None``.

    The discriminator inheritance of OpenAPI 3 ("Schema Object", "Models with Polymorphism
    Support") and Springwolf: ``base`` has a ``discriminator``, its ``oneOf``/``anyOf`` lists
    ``member`` (compared by value, e.g. ``{"$ref": ...}``), and the member's ``allOf`` refers
    back to ``base`` to inherit its properties. The member means "base's shared part and its
    own"; re-entering base's union from the member selects the member again (the
    discriminator says so). Returns base's :func:`shared_part`, or ``{}`` when base has only
    the union; ``None`` when the pattern does not apply.
    """
    if "discriminator" not in base:
        return None
    members = base.get("oneOf", base.get("anyOf"))
    if not isinstance(members, list) or member not in members:
        return None
    shared = shared_part(base)
    if shared is not None:
        return shared
    rest = {k for k in base if k not in _STAYS and not (isinstance(k, str) and k.startswith("x-"))}
    return {} if not rest else None


def fold_all_of(
    schema: Mapping[str, Any], both: Callable[[Any, Any], Any]
) -> dict[str, Any] | None:
    """``schema`` with its ``allOf`` parts written into it (:func:`distribute` part by part),
    or ``None`` when a part holds a reference, a union or a sibling-dependent keyword."""
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return None
    out: dict[str, Any] | None = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        if out is None or not isinstance(part, Mapping):
            return None
        if any(k in part for k in (*_SIBLING_DEPENDENT, "oneOf", "anyOf")):
            return None
        out = distribute(part, out, both)
    return out
