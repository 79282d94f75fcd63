"""JSON Schemas of message models, as they appear in the emitted AsyncAPI document.

Pydantic's JSON Schema says more than the wire contract (titles derived from class and field
names) and says some things differently from how a spec author writes them. This module turns
``model_json_schema()`` into the schema the spec would contain:

- ``title`` keywords pydantic derives are dropped;
- a one-value ``Literal`` field with its value as default (the discriminator) is *required* on
  the wire and has no default;
- an optional field typed ``X | None = None`` is an optional ``X`` (absent, not ``null``: the
  runtime omits it when serialising); so is ``X | None = <default>`` (datamodel-code-generator
  writes it for an optional property whose referenced schema has the default) unless the
  field carries ``nullable`` (see below);
- ``$defs`` are inlined; recursive models stay as ``$ref`` to ``#/components/schemas/<Name>``;
- the ``minLength: 1`` pydantic adds to URL types is dropped (``format: uri`` implies it), and
  so is ``additionalProperties: true`` (a model keeping extra fields; JSON Schema's default);
- what the generator carried in a field's ``json_schema_extra`` because no Python type says it
  (codegen/render.py ``_carry``) goes back where the spec has it: ``nullable: true`` keeps the
  ``null`` of an optional ``X | None = None``; ``format`` and ``uniqueItems`` move into the
  non-null member; ``x-chanspec-union: oneOf`` turns the union's ``anyOf`` into ``oneOf``;
- a discriminated union's ``discriminator`` is the property name (the AsyncAPI Schema Object's
  spelling), not pydantic's object whose ``mapping`` points into ``$defs``.

Source: JSON Schema draft-07 (the AsyncAPI 3.0 default schema format).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

__all__ = ["PayloadSchemas", "payload_schema"]

MAP_KEYWORDS = ("properties", "patternProperties", "dependentSchemas")
ONE_KEYWORDS = (
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
)
LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
NULL = {"type": "null"}
URL_FORMATS = frozenset({"uri", "url", "iri", "uri-reference"})
UNION_MARK = "x-chanspec-union"  # a field's union the spec spells oneOf (codegen/render.py)
DISCRIMINATOR_MARK = "x-chanspec-discriminator"  # a field's discriminator pydantic ignores
DEFAULT_MARK = "x-chanspec-default"  # the spec's default the model had to coerce ('false')


class PayloadSchemas:
    """Collects payload schemas and the recursive component schemas they need.

    Attributes:
        components: ``{name: schema}`` to place under ``components.schemas``.
    """

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def schema_of(
        self, model: type[BaseModel], optional: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The wire JSON Schema of ``model`` (see module docstring), refs inlined.

        Args:
            model: the message model.
            optional: top-level one-value ``Literal`` properties the spec leaves optional: they
                lose their default but are not made required.
        """
        raw = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs: dict[str, Any] = raw.pop("$defs", {})
        for schema in defs.values():
            _clean(schema)
        _clean(raw, optional)
        recursive = {name for name in defs if _reaches(defs, name, name, set())}
        for name in sorted(recursive):
            if name not in self.components:
                self.components[name] = {}
                inlined_def = _inline(copy.deepcopy(defs[name]), defs, recursive)
                self.components[name] = _discriminators(inlined_def)
        inlined: dict[str, Any] = _discriminators(_inline(raw, defs, recursive))
        return inlined


def payload_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Shortcut for a model with no recursive parts: its wire JSON Schema."""
    return PayloadSchemas().schema_of(model)


def _subschemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in MAP_KEYWORDS:
        value = schema.get(key)
        if isinstance(value, dict):
            out.extend(v for v in value.values() if isinstance(v, dict))
    for key in ONE_KEYWORDS:
        value = schema.get(key)
        if isinstance(value, dict):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, dict))
    for key in LIST_KEYWORDS:
        value = schema.get(key)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, dict))
    return out


def _clean(schema: dict[str, Any], optional: frozenset[str] = frozenset()) -> None:
    schema.pop("title", None)
    union = schema.pop(UNION_MARK, None)  # a model's own union (RootModel over a oneOf)
    if union in ("oneOf", "oneOf+null"):
        _one_of(schema, null_inside=union == "oneOf")
    if DISCRIMINATOR_MARK in schema:  # a RootModel's union the models do not route on
        schema["discriminator"] = schema.pop(DISCRIMINATOR_MARK)
    if schema.get("format") in URL_FORMATS and schema.get("minLength") == 1:
        del schema["minLength"]  # pydantic's URL types add it; a URI is never empty anyway
    if schema.get("additionalProperties") is True:
        del schema["additionalProperties"]  # a model with extra="allow": JSON Schema's default
    props = schema.get("properties")
    if isinstance(props, dict):
        required = set(schema.get("required", []))
        for name, prop in props.items():
            if not isinstance(prop, dict):
                continue
            nullable = prop.pop("nullable", None) is True
            union = prop.pop(UNION_MARK, None)
            if DISCRIMINATOR_MARK in prop:  # a discriminator the models do not route on
                prop["discriminator"] = prop.pop(DISCRIMINATOR_MARK)
            if DEFAULT_MARK in prop:  # the spec's default, which the model had to coerce
                prop["default"] = prop.pop(DEFAULT_MARK)
            if name in required:
                pass
            elif "const" in prop and prop.get("default", object()) == prop["const"]:
                del prop["default"]
                if name not in optional:
                    required.add(name)
            elif "default" in prop and NULL in prop.get("anyOf", []):
                if prop["default"] is None:
                    del prop["default"]
                if not nullable:  # `X | None = d`: an optional X, absent rather than null
                    branches = [b for b in prop.pop("anyOf") if b != NULL]
                    if len(branches) == 1:
                        for key, value in branches[0].items():
                            prop.setdefault(key, value)
                    elif branches:
                        prop["anyOf"] = branches
            _place_assertions(prop)
            if union in ("oneOf", "oneOf+null"):
                _one_of(prop, null_inside=union == "oneOf")
        if required:
            schema["required"] = [n for n in props if n in required]
    for sub in _subschemas(schema):
        _clean(sub)


def _place_assertions(prop: dict[str, Any]) -> None:
    """Move carried ``format``/``uniqueItems``/``items`` (field ``json_schema_extra``, set
    beside an ``anyOf [X, null]``) into ``X``, where the spec has them."""
    branches = [b for b in prop.get("anyOf", []) if b != NULL]
    if len(branches) != 1 or not isinstance(branches[0], dict) or NULL not in prop["anyOf"]:
        return
    for key in ("format", "uniqueItems", "items"):
        if key in prop:
            branches[0][key] = prop.pop(key)


def _one_of(prop: dict[str, Any], null_inside: bool) -> None:
    """The spec said ``oneOf`` where pydantic writes the union ``anyOf``.

    With ``null_inside`` the ``null`` member is one of the spec's ``oneOf`` members; otherwise
    the spec allows ``null`` beside the ``oneOf`` (``nullable: true``): ``anyOf [{oneOf}, null]``.
    """
    members = prop.pop("anyOf", None)
    if not isinstance(members, list):
        return
    branches = [b for b in members if b != NULL]
    if null_inside or len(branches) == len(members):
        prop["oneOf"] = members
    elif len(branches) > 1:
        prop["anyOf"] = [{"oneOf": branches}, NULL]
    else:
        prop["anyOf"] = members


def _discriminators(schema: Any) -> Any:
    """Pydantic's ``discriminator`` objects back to the AsyncAPI spelling, in place.

    Pydantic writes ``{"propertyName": p, "mapping": {value: "#/$defs/<Class>"}}`` beside
    the ``oneOf`` of a discriminated union; the mapping points into ``$defs``, which do not
    exist in the emitted document. The AsyncAPI Schema Object's ``discriminator`` is the
    property name (AsyncAPI 3.0.0, "Schema Object"), so that is what is emitted. When every
    member carries that same discriminator (datamodel-code-generator copies the one of a
    schema combining ``oneOf`` with its own properties into each generated member class), the
    copies are dropped: the spec has it once, beside the ``oneOf``.
    """
    if isinstance(schema, list):
        for value in schema:
            _discriminators(value)
        return schema
    if not isinstance(schema, dict):
        return schema
    found = schema.get("discriminator")
    if isinstance(found, dict) and isinstance(found.get("propertyName"), str):
        mapping = found.get("mapping")
        if isinstance(mapping, dict) and all(
            isinstance(v, str) and v.startswith(("#/$defs/", "#/components/schemas/"))
            for v in mapping.values()
        ):
            schema["discriminator"] = found["propertyName"]
    name = schema.get("discriminator")
    members = schema.get("oneOf")
    if isinstance(name, str) and isinstance(members, list) and members:
        if all(isinstance(m, dict) and m.get("discriminator") == name for m in members):
            for member in members:
                del member["discriminator"]
    for value in schema.values():
        _discriminators(value)
    return schema


def _refs(schema: Any) -> list[str]:
    found: list[str] = []
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.append(ref[len("#/$defs/") :])
        for value in schema.values():
            found.extend(_refs(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_refs(value))
    return found


def _reaches(defs: dict[str, Any], start: str, target: str, seen: set[str]) -> bool:
    for name in _refs(defs.get(start)):
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            if _reaches(defs, name, target, seen):
                return True
    return False


def _inline(schema: Any, defs: dict[str, Any], recursive: set[str]) -> Any:
    if isinstance(schema, list):
        return [_inline(v, defs, recursive) for v in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        if name in recursive:
            target: dict[str, Any] = {"$ref": f"#/components/schemas/{name}"}
        else:
            target = _inline(copy.deepcopy(defs[name]), defs, recursive)
        target.update({k: _inline(v, defs, recursive) for k, v in siblings.items()})
        return target
    return {k: _inline(v, defs, recursive) for k, v in schema.items()}
