"""JSON Schemas of message models, as they appear in the emitted AsyncAPI document.

Pydantic's JSON Schema says more than the wire contract (titles derived from class and field
names) and says some things differently from how a spec author writes them. This module turns
``model_json_schema()`` into the schema the spec would contain:

- ``title`` keywords pydantic derives are dropped;
- a one-value ``Literal`` field with its value as default (the discriminator) is *required* on
  the wire and has no default;
- an optional field typed ``X | None = None`` is an optional ``X`` (absent, not ``null``: the
  runtime omits it when serialising);
- ``$defs`` are inlined; recursive models stay as ``$ref`` to ``#/components/schemas/<Name>``;
- the ``minLength: 1`` pydantic adds to URL types is dropped (``format: uri`` implies it).

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
                self.components[name] = _inline(copy.deepcopy(defs[name]), defs, recursive)
        inlined: dict[str, Any] = _inline(raw, defs, recursive)
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
    if schema.get("format") in URL_FORMATS and schema.get("minLength") == 1:
        del schema["minLength"]  # pydantic's URL types add it; a URI is never empty anyway
    props = schema.get("properties")
    if isinstance(props, dict):
        required = set(schema.get("required", []))
        for name, prop in props.items():
            if not isinstance(prop, dict) or name in required:
                continue
            if "const" in prop and prop.get("default", object()) == prop["const"]:
                del prop["default"]
                if name not in optional:
                    required.add(name)
            elif "default" in prop and prop["default"] is None and NULL in prop.get("anyOf", []):
                del prop["default"]
                branches = [b for b in prop.pop("anyOf") if b != NULL]
                if len(branches) == 1:
                    for key, value in branches[0].items():
                        prop.setdefault(key, value)
                elif branches:
                    prop["anyOf"] = branches
        if required:
            schema["required"] = [n for n in props if n in required]
    for sub in _subschemas(schema):
        _clean(sub)


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
