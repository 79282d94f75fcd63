"""Avro schemas as JSON Schema, so Avro message payloads get typed models.

AsyncAPI lets a message declare its payload in another schema language
(``payload: {schemaFormat: "application/vnd.apache.avro;version=1.9.0", schema: ...}``,
AsyncAPI 3.0 "Multi Format Schema Object"). Avro records map cleanly onto JSON objects, so
chanspec converts the Avro schema to the JSON Schema the rest of the generator understands
and keeps the original Avro payload in the generated metadata (the emitted document shows the
spec's Avro schema, unchanged: the round trip stays exact).

The mapping follows the Avro 1.11 specification ("Schema Declaration") and the JSON shape of
values that AsyncAPI's own ``@asyncapi/avro-schema-parser`` assumes (plain JSON, unions not
wrapped in ``{"type": value}``):

| Avro | JSON Schema |
|---|---|
| ``null``, ``boolean``, ``string`` | the same type |
| ``int`` / ``long`` | ``integer`` with the 32-/64-bit signed range |
| ``float`` / ``double`` | ``number`` |
| ``bytes``, ``fixed`` | ``string`` (``fixed``: its size as ``minLength``/``maxLength``) |
| ``record`` | ``object`` with ``properties`` from ``fields`` (required: those without |
|  | ``default``); ``name`` -> ``title``, ``doc`` -> ``description`` |
| ``enum`` | ``string`` with ``enum: symbols`` (``default`` kept) |
| ``array`` / ``map`` | ``array`` with ``items`` / ``object`` with ``additionalProperties`` |
| union ``[a, b, ...]`` | ``oneOf`` of the members; ``["null", T]`` is ``T`` or ``null`` |
| logical ``uuid`` | ``string`` with ``format: uuid`` |
| other logical types | their underlying type (``timestamp-millis`` is a ``long``) |
| a named type used again by name | the same JSON Schema object |
| a record used inside itself | ``{"type": "object"}`` there (cut: models stay finite) |

Anything else (an unknown type name, a malformed record) makes the whole conversion fail with
:class:`AvroError`; the caller then generates the payload as ``Any`` with a warning.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AVRO_FORMATS", "AvroError", "avro_to_json_schema", "is_avro_format"]

#: ``schemaFormat`` prefixes that mean Avro (AsyncAPI 3.0 "Schema formats" table).
AVRO_FORMATS = ("application/vnd.apache.avro",)

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "null": {"type": "null"},
    "boolean": {"type": "boolean"},
    "int": {"type": "integer", "minimum": _INT32[0], "maximum": _INT32[1]},
    "long": {"type": "integer", "minimum": _INT64[0], "maximum": _INT64[1]},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "bytes": {"type": "string"},
    "string": {"type": "string"},
}


class AvroError(ValueError):
    """The Avro schema cannot be converted; ``str()`` says what and where (a dotted path)."""


def is_avro_format(schema_format: str) -> bool:
    """True when ``schema_format`` names Avro (any ``version=`` parameter), e.g.
    ``application/vnd.apache.avro+json;version=1.9.0``."""
    return schema_format.strip().lower().startswith(AVRO_FORMATS)


def avro_to_json_schema(schema: Any) -> dict[str, Any]:
    """Convert one Avro schema (already parsed from JSON/YAML) to a JSON Schema (draft-07).

    Args:
        schema: an Avro schema: a type name string, a list (union) or a dict with ``type``.

    Returns:
        A new JSON Schema dict, without cycles (named types referenced twice share one dict;
        a record referenced inside its own fields is an untyped object there).

    Raises:
        AvroError: for a construct the Avro specification does not define, naming where.
    """
    return _Converter().convert(schema, "schema", namespace=None)


class _Converter:
    def __init__(self) -> None:
        self.named: dict[str, dict[str, Any]] = {}
        self.building: set[int] = set()  # records whose fields are being converted

    def convert(self, schema: Any, where: str, namespace: str | None) -> dict[str, Any]:
        if isinstance(schema, str):
            return self.by_name(schema, where, namespace)
        if isinstance(schema, list):
            return self.union(schema, where, namespace)
        if not isinstance(schema, dict) or "type" not in schema:
            raise AvroError(f"{where}: expected a type name, a union or an object with 'type'")
        kind = schema["type"]
        if isinstance(kind, dict | list):  # {"type": {"type": "array", ...}}
            out = self.convert(kind, where, namespace)
        elif kind == "record" or kind == "error":
            out = self.record(schema, where, namespace)
        elif kind == "enum":
            out = self.enum(schema, where, namespace)
        elif kind == "array":
            out = {"type": "array", "items": self.convert(schema.get("items"), where + ".items",
                                                           namespace)}  # fmt: skip
        elif kind == "map":
            values = self.convert(schema.get("values"), where + ".values", namespace)
            out = {"type": "object", "additionalProperties": values}
        elif kind == "fixed":
            out = self.fixed(schema, where, namespace)
        elif isinstance(kind, str):
            out = dict(self.by_name(kind, where, namespace))
        else:
            raise AvroError(f"{where}: 'type' must be a string, a list or an object")
        logical = schema.get("logicalType")
        if logical == "uuid" and out.get("type") == "string":
            out = {**out, "format": "uuid"}
        if isinstance(schema.get("doc"), str) and "description" not in out:
            out["description"] = schema["doc"]
        return out

    def by_name(self, name: str, where: str, namespace: str | None) -> dict[str, Any]:
        if name in _PRIMITIVES:
            return dict(_PRIMITIVES[name])
        for candidate in (f"{namespace}.{name}" if namespace and "." not in name else name, name):
            if candidate in self.named:
                found = self.named[candidate]
                if id(found) in self.building:  # recursion: cut, the schema stays a tree
                    return {"type": "object", "description": f"a {name} (recursive)"}
                return found
        raise AvroError(f"{where}: unknown Avro type {name!r}")

    def full_name(self, schema: dict[str, Any], where: str, namespace: str | None) -> str:
        name = schema.get("name")
        if not isinstance(name, str) or not name:
            raise AvroError(f"{where}: a named type needs a 'name'")
        space = schema.get("namespace", namespace)
        return name if "." in name or not space else f"{space}.{name}"

    def register(self, full: str, out: dict[str, Any]) -> None:
        self.named[full] = out
        short = full.rsplit(".", 1)[-1]
        self.named.setdefault(short, out)

    def record(self, schema: dict[str, Any], where: str, namespace: str | None) -> dict[str, Any]:
        full = self.full_name(schema, where, namespace)
        out: dict[str, Any] = {"type": "object", "title": full.rsplit(".", 1)[-1]}
        self.register(full, out)  # before the fields: a field may refer back to the record
        self.building.add(id(out))
        inner = full.rsplit(".", 1)[0] if "." in full else namespace
        fields = schema.get("fields")
        if not isinstance(fields, list):
            raise AvroError(f"{where}: record {full!r} needs a 'fields' list")
        properties: dict[str, Any] = {}
        required: list[str] = []
        for i, field in enumerate(fields):
            if not isinstance(field, dict) or not isinstance(field.get("name"), str):
                raise AvroError(f"{where}.fields[{i}]: a field needs a 'name' and a 'type'")
            name = field["name"]
            converted = self.convert(field.get("type"), f"{where}.{name}", inner)
            if not any(converted is named for named in self.named.values()):
                # a fresh dict: the field's own doc and default can go on it (a named type is
                # shared by every use, so it keeps only its own)
                if isinstance(field.get("doc"), str):
                    converted["description"] = field["doc"]
                if "default" in field:
                    converted["default"] = field["default"]
            if "default" not in field:
                required.append(name)
            properties[name] = converted
        self.building.discard(id(out))
        out["properties"] = properties
        if required:
            out["required"] = required
        if isinstance(schema.get("doc"), str):
            out["description"] = schema["doc"]
        return out

    def enum(self, schema: dict[str, Any], where: str, namespace: str | None) -> dict[str, Any]:
        full = self.full_name(schema, where, namespace)
        symbols = schema.get("symbols")
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise AvroError(f"{where}: enum {full!r} needs a 'symbols' list of strings")
        out: dict[str, Any] = {"type": "string", "title": full.rsplit(".", 1)[-1]}
        out["enum"] = list(symbols)
        self.register(full, out)
        return out

    def fixed(self, schema: dict[str, Any], where: str, namespace: str | None) -> dict[str, Any]:
        full = self.full_name(schema, where, namespace)
        size = schema.get("size")
        if not isinstance(size, int) or size < 0:
            raise AvroError(f"{where}: fixed {full!r} needs a non-negative 'size'")
        out: dict[str, Any] = {"type": "string", "minLength": size, "maxLength": size}
        self.register(full, out)
        return out

    def union(self, members: list[Any], where: str, namespace: str | None) -> dict[str, Any]:
        if not members:
            raise AvroError(f"{where}: an empty union has no values")
        converted = [self.convert(m, f"{where}[{i}]", namespace) for i, m in enumerate(members)]
        if len(converted) == 1:
            return converted[0]
        others = [c for c in converted if c != {"type": "null"}]
        if len(others) == 1 and len(converted) == 2:  # ["null", T]: T or null
            only = others[0]
            if isinstance(only.get("type"), str) and not any(
                only is n for n in self.named.values()
            ):
                return {**only, "type": [only["type"], "null"]}
            return {"anyOf": [only, {"type": "null"}]}
        return {"oneOf": converted}
