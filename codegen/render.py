"""Render the internal model into files, in memory.

The only caller of datamodel-code-generator and of the jinja2 templates in ``templates/``.
Returns :class:`RenderedFile` values; :mod:`.write` decides what reaches the disk.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from datamodel_code_generator import generate
from datamodel_code_generator.enums import DataModelType, InputFileType
from datamodel_code_generator.format import PythonVersion

from .client_render import render_client
from .model import ChannelModel, ServiceModel
from .naming import RESERVED_METHODS
from .normalise import SHOWN_FORMATS
from .pyliteral import py_comment, py_docstring, py_literal
from .security import security_context

__all__ = ["RenderedFile", "render_service"]


@dataclass(frozen=True)
class RenderedFile:
    """One file of the output tree.

    Attributes:
        path: POSIX path relative to the output directory.
        content: the full text.
        owned: ``True`` for files chanspec rewrites on every run (``generated/``); ``False`` for
            scaffolds written once and then owned by the user.
        consumer_class: for consumer scaffolds, the class that gains stubs for new operations.
        function_stubs: a scaffold that gains module-level stubs it lacks (``auth.py``).
    """

    path: str
    content: str
    owned: bool
    consumer_class: str | None = None
    function_stubs: bool = False


def _environment() -> jinja2.Environment:
    root = resources.files("chanspec") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["py"] = py_literal
    env.filters["doc"] = py_docstring
    env.filters["comment"] = py_comment
    return env


def render_models(service: ServiceModel, header: str) -> str:
    """``generated/messages.py``: pydantic v2 models of every payload schema and message.

    Built by datamodel-code-generator from an OpenAPI ``components.schemas`` bundle so class
    names are ours (message and component names), with our :class:`Message` base class.
    Before that the bundle is prepared so that the models, and the document emitted from
    them, say what the spec says (docs/generated-code.md): ``allOf`` parts written as one
    schema (:func:`_merge_all_of`), required names the schema does not define declared
    (:func:`_declare_required`), descriptions ``allOf`` gives (:func:`_inherit_descriptions`),
    discriminators pydantic cannot route on carried instead (:func:`_routable_discriminators`),
    union components inlined at their properties (:func:`_inline_union_refs`), and what no
    Python type says marked for ``json_schema_extra`` (:func:`_mark_union`, :func:`_mark_model`,
    :func:`_carry`, :func:`_exact_description`); the spec's ``x-`` extensions are kept too.
    """
    merged = _routable_discriminators(
        _inherit_descriptions(
            {k: _declare_required(_merge_all_of(v)) for k, v in service.schemas.items()}
        )
    )
    inlined = _inline_union_refs({k: _mark_union(v) for k, v in merged.items()})
    schemas = {
        k: _exact_description(_carry(_mark_model(v), components=inlined))
        for k, v in inlined.items()
    }
    extensions = set().union(*(_extension_keys(v) for v in schemas.values()))
    bundle = {
        "openapi": "3.0.3",
        "info": {"title": "messages", "version": "0"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    if not service.schemas:  # nothing to model: a valid, empty module
        empty = '\n"""Message models (the spec defines none)."""\n\n__all__: list[str] = []\n'
        return header + empty
    code = generate(
        bundle,
        input_file_type=InputFileType.OpenAPI,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_311,
        base_class="chanspec.runtime.Message",
        custom_file_header=header.rstrip("\n"),
        disable_timestamp=True,
        enable_version_header=False,
        use_one_literal_as_default=True,
        strict_nullable=True,  # `type: X` with a default stays X, not X | None
        # survive the round trip, as do the spec's own x- extensions on schemas
        model_extra_keys={"examples", "discriminator", UNION_MARK, *extensions},
        # see _exact_description and _routable_discriminators
        model_extra_keys_without_x_prefix={
            "x-description",
            "x-discriminator",
            *("x-" + k for k in OBJECT_CARRIED),
        },
        field_extra_keys={UNION_MARK, DISCRIMINATOR_MARK, DEFAULT_MARK, *extensions},
        type_mappings=TYPE_MAPPINGS,
        field_extra_keys_without_x_prefix={"x-" + k for k in CARRIED},
        use_standard_collections=True,
        use_union_operator=True,
        use_annotated=True,
        field_constraints=True,
        use_schema_description=True,
        use_field_description=False,
        keep_model_order=False,  # dependency order: defaults like `Role.member` need Role first
        collapse_root_models=True,
        use_specialized_enum=False,
        set_default_enum_member=True,  # `role: Role = Role.member`, not the bare string
        formatters=[],
    )
    if not isinstance(code, str):
        raise TypeError("datamodel-code-generator returned no single module")
    # datamodel-code-generator copies descriptions into docstrings as they are: control
    # characters there (ESC, BS, ...) are not lint-clean and a lone surrogate cannot even be
    # written as UTF-8; escape them (the docstring's value is the same)
    code = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), code)
    names = sorted(_class_names(code))
    return code.rstrip("\n") + "\n\n__all__ = " + py_literal(names) + "\n"


# Keywords of a property that pydantic's JSON Schema of the field would not say, carried into
# the field's ``json_schema_extra`` under their own name (see runtime/asyncapi/schemas.py).
CARRIED = ("format", "uniqueItems", "nullable", "type", "not", "items")
# a model's own object-size keywords (a dict field gets them from ``min_length``/``max_length``)
OBJECT_CARRIED = ("minProperties", "maxProperties")
UNION_MARK = "x-chanspec-union"
DISCRIMINATOR_MARK = "x-chanspec-discriminator"  # a field's (``discriminator=`` is pydantic's)
DEFAULT_MARK = "x-chanspec-default"  # the spec's default the model had to coerce (normalise N052)
# Formats datamodel-code-generator maps to a type whose pydantic JSON Schema says the same
# format (uuid -> UUID -> "uuid"): nothing to carry. Any other (iri-reference, int64, byte,
# idn-email ...) would be lost or changed. ``password`` and ``path`` stay plain strings
# (TYPE_MAPPINGS): a SecretStr would go out as "**********", a Path in the OS's spelling.
TYPE_MAPPINGS = ["password=string", "path=string"]


# keywords whose meaning depends on the other keywords of the same schema object
_SIBLING_DEPENDENT = frozenset(
    {"additionalProperties", "additionalItems", "unevaluatedProperties", "unevaluatedItems",
     "if", "then", "else", "allOf", "$ref"}
)  # fmt: skip
_ANNOTATION_KEYS = frozenset(
    {"description", "title", "default", "examples", "example", "deprecated", "readOnly",
     "writeOnly", "externalDocs", "$comment"}
)  # fmt: skip


def _merge_all_of(schema: Any) -> Any:
    """``schema`` with each ``allOf`` that only spells one schema in parts written as that schema.

    datamodel-code-generator merges such an ``allOf`` but drops its annotations (the common
    ``allOf: [{$ref: Id}, {description: ...}]`` loses the description). Merged, at any depth:

    - members without ``$ref`` whose keywords do not clash (with each other or the schema
      around them; ``properties`` with different names and ``required`` lists add up) and are
      not sibling-dependent (``additionalProperties``, ``if`` ...);
    - one ``$ref`` member with members holding only annotations: ``{$ref, description}``
      (annotations beside a ``$ref`` reach the field).

    The diff treats both spellings as equal (codegen/diff.py), so the round trip stays exact.
    """
    if isinstance(schema, list):
        return [_merge_all_of(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = _apply(schema, _merge_all_of)
    members = out.get("allOf")
    if (
        not isinstance(members, list)
        or not members
        or not all(isinstance(m, dict) for m in members)
    ):
        return out
    refs = [m for m in members if "$ref" in m]
    rest = {k: v for k, v in out.items() if k != "allOf"}
    parts = [rest, *members]
    if refs:
        if (
            len(refs) != 1
            or set(refs[0]) != {"$ref"}
            or any(set(m) - _ANNOTATION_KEYS for m in members if m is not refs[0])
            or set(rest) - _ANNOTATION_KEYS
        ):
            return out
    elif any(k in _SIBLING_DEPENDENT for part in parts for k in part):
        return out
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict) and "properties" in merged:
                known = merged["properties"]
                if any(n in known and known[n] != v for n, v in value.items()):
                    return out
                merged[key] = {**known, **value}
            elif key == "required" and isinstance(value, list) and "required" in merged:
                merged[key] = [*merged[key], *(n for n in value if n not in merged[key])]
            elif key in merged and merged[key] != value:
                return out
            else:
                merged[key] = value
    return merged


def _declare_required(schema: Any) -> Any:
    """``schema`` with each name ``required`` lists but ``properties`` lacks declared as ``{}``.

    ``{properties: {a: ..}, required: [a, b]}`` requires ``b`` to be present with any value
    (JSON Schema draft-07, section 6.5.3); datamodel-code-generator only makes fields of
    ``properties``, so the model would accept an object without ``b``. Declared as ``b: {}``
    it becomes a required ``Any`` field. The diff reads ``b: {}`` as absent when no
    ``additionalProperties``/``patternProperties`` give it a meaning (codegen/diff.py), so the
    round trip stays exact.
    """
    if isinstance(schema, list):
        return [_declare_required(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = _apply(schema, _declare_required)
    props, required = out.get("properties"), out.get("required")
    if isinstance(props, dict) and isinstance(required, list):
        missing = [n for n in required if isinstance(n, str) and n not in props]
        if missing:
            out["properties"] = {**props, **{n: {} for n in missing}}
    return out


def _admits_null(schema: Any) -> bool:
    """Whether a bundled schema itself says it admits ``null`` (``type: [X, "null"]``,
    ``nullable: true``, a ``{"type": "null"}`` member): a property that refers to it is
    nullable even though the reference does not say so (see :func:`_mark`)."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    members = [*(schema.get("oneOf") or []), *(schema.get("anyOf") or [])]
    return (
        schema.get("nullable") is True
        or (isinstance(kind, list) and "null" in kind)
        or any(isinstance(m, dict) and m.get("type") == "null" for m in members)
    )


def _inline_union_refs(schemas: dict[str, Any]) -> dict[str, Any]:
    """A property typed by a component that is only a union gets the union itself.

    Such a component becomes a ``RootModel`` which datamodel-code-generator collapses into the
    field's type (``pet: Cat | Dog``), dropping what the model's ``json_schema_extra`` would
    say (``oneOf``, ``type``, a discriminator pydantic does not route on); spelled at the
    property, :func:`_carry` marks them on the field. The emitted document inlines components
    anyway, so both spellings emit the same schema.
    """
    unions = {
        name: schema
        for name, schema in schemas.items()
        if isinstance(schema, dict)
        and UNION_MARK in schema
        and "properties" not in schema
        and "allOf" not in schema
    }

    def walk(schema: Any) -> Any:
        if isinstance(schema, list):
            return [walk(v) for v in schema]
        if not isinstance(schema, dict):
            return schema
        out = _apply(schema, walk)
        props = out.get("properties")
        if isinstance(props, dict):
            for name, prop in props.items():
                ref = prop.get("$ref") if isinstance(prop, dict) else None
                target = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
                if target in unions:
                    rest = {k: v for k, v in prop.items() if k != "$ref"}
                    props[name] = {**unions[target], **rest}
        return out

    return {k: walk(v) for k, v in schemas.items()}


def _is_ext(key: Any) -> bool:
    """An ``x-`` extension: its value is the spec author's, never rewritten as a schema."""
    return isinstance(key, str) and key.startswith("x-")


def _apply(schema: dict[str, Any], fn: Callable[[Any], Any]) -> dict[str, Any]:
    """A copy of ``schema`` with ``fn`` applied to each of its subschemas (JSON Schema
    structure: ``properties`` values, ``items``, ``allOf`` members ...); every other value
    (keywords, extensions, unknown keys) is copied as it is."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: fn(v) for k, v in value.items()}
        elif key in (*_SCHEMA_ONE, "additionalItems", "propertyNames", "unevaluatedItems",
                     "unevaluatedProperties") and isinstance(value, dict):  # fmt: skip
            out[key] = fn(value)
        elif key in (*_SCHEMA_LISTS, "items") and isinstance(value, list):
            out[key] = [fn(v) for v in value]
        else:
            out[key] = value
    return out


# Keywords of JSON Schema (draft-07 to 2020-12) and of the OpenAPI/AsyncAPI Schema Objects;
# any other key of a schema is the spec author's and is kept in ``json_schema_extra``.
_KEYWORDS = frozenset(
    {"$schema", "$id", "$ref", "$comment", "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor",
     "$vocabulary", "$recursiveRef", "$recursiveAnchor", "definitions", "type", "enum", "const",
     "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
     "minLength", "pattern", "items", "additionalItems", "prefixItems", "maxItems", "minItems",
     "uniqueItems", "contains", "maxContains", "minContains", "maxProperties", "minProperties",
     "required", "properties", "patternProperties", "additionalProperties", "dependencies",
     "dependentRequired", "dependentSchemas", "propertyNames", "unevaluatedItems",
     "unevaluatedProperties", "if", "then", "else", "allOf", "anyOf", "oneOf", "not", "format",
     "contentEncoding", "contentMediaType", "contentSchema", "title", "description", "default",
     "readOnly", "writeOnly", "examples", "example", "deprecated", "discriminator",
     "externalDocs", "xml", "nullable"}
)  # fmt: skip


def _extension_keys(schema: Any) -> set[str]:
    """Every key a schema uses that is the spec author's (``x-`` extensions that are not ours,
    keywords no JSON Schema version knows): kept in ``json_schema_extra``."""
    ours = {"x-description", "x-discriminator", UNION_MARK, DISCRIMINATOR_MARK, DEFAULT_MARK}
    ours.update("x-" + k for k in (*CARRIED, *OBJECT_CARRIED))
    found: set[str] = set()
    if isinstance(schema, dict):
        found.update(
            k for k in schema if isinstance(k, str) and k not in ours and k not in _KEYWORDS
        )
        _apply(schema, lambda sub: found.update(_extension_keys(sub)))
    return found


def _inherit_descriptions(schemas: dict[str, Any]) -> dict[str, Any]:
    """A model built by ``allOf`` from a component says that component's description.

    ``Update: {allOf: [{$ref: Default}, {...}]}`` becomes ``class Update(Default)``; pydantic
    does not inherit docstrings, so the emitted schema of ``Update`` would lose the
    description that ``allOf`` gives it. When the schema and its inline parts have no
    description and exactly one referenced part has one, it is written on the schema.
    """
    out: dict[str, Any] = {}
    for name, schema in schemas.items():
        parts = schema.get("allOf") if isinstance(schema, dict) else None
        if not isinstance(parts, list) or "description" in schema:
            out[name] = schema
            continue
        inline = [p for p in parts if isinstance(p, dict) and "$ref" not in p]
        found = set()
        for part in parts:
            ref = part.get("$ref") if isinstance(part, dict) else None
            target = schemas.get(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else None
            if isinstance(target, dict) and isinstance(target.get("description"), str):
                found.add(target["description"])
        if len(found) == 1 and not any("description" in p for p in inline):
            out[name] = {**schema, "description": found.pop()}
        else:
            out[name] = schema
    return out


def _routable_discriminators(schemas: dict[str, Any]) -> dict[str, Any]:
    """The bundle with each ``discriminator`` pydantic cannot route on moved to ``x-discriminator``.

    pydantic builds a discriminated union only when every member has the property as a
    one-value ``Literal``; a spec whose members leave it a plain string (or an enum of several
    values, inherited from a base schema) would generate models that fail on import. Such a
    union stays a plain union, and the keyword is carried in the model's ``json_schema_extra``
    so the emitted document still says it.
    """

    def resolve(schema: Any, depth: int = 0) -> Any:
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and depth < 16:
            return resolve(schemas.get(ref.rsplit("/", 1)[-1]), depth + 1)
        return schema

    def tags(schema: Any, name: str, depth: int = 0) -> bool:
        """True when ``schema`` (or one of its allOf parts) pins property ``name`` to a value."""
        schema = resolve(schema)
        if not isinstance(schema, dict) or depth > 16:
            return False
        prop = resolve((schema.get("properties") or {}).get(name))
        if isinstance(prop, dict) and (
            "const" in prop or (isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1)
        ):
            return True
        return any(tags(part, name, depth + 1) for part in schema.get("allOf") or [])

    def fix(schema: Any) -> Any:
        if isinstance(schema, list):
            return [fix(v) for v in schema]
        if not isinstance(schema, dict):
            return schema
        out = _apply(schema, fix)
        found = out.get("discriminator")
        name = found.get("propertyName") if isinstance(found, dict) else found
        members = [*(out.get("oneOf") or []), *(out.get("anyOf") or [])]
        if isinstance(name, str) and not (members and all(tags(m, name) for m in members)):
            out["x-discriminator"] = out.pop("discriminator")
        return out

    return {k: fix(v) for k, v in schemas.items()}


def _mark_model(schema: Any) -> Any:
    """A model's own ``minProperties``/``maxProperties`` marked for its ``json_schema_extra``."""
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if k not in ("x-" + c for c in OBJECT_CARRIED)}
    for key in OBJECT_CARRIED:
        if isinstance(schema.get(key), int) and "properties" in schema:
            out["x-" + key] = schema[key]
    return out


def _mark_union(schema: Any) -> Any:
    """A model whose whole schema is a ``oneOf`` (a ``RootModel`` over a union) says so in its
    ``json_schema_extra`` (``x-chanspec-union``), like a field does (:func:`_carry`)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("oneOf"), list):
        return schema
    if "discriminator" in schema:  # a discriminated union: pydantic writes oneOf itself
        return schema
    kinds = [m.get("type") for m in schema["oneOf"] if isinstance(m, dict)]
    kind = schema.get("type")
    beside = schema.get("nullable") is True or (isinstance(kind, list) and "null" in kind)
    out = {**schema, UNION_MARK: "oneOf+null" if beside and "null" not in kinds else "oneOf"}
    if "x-discriminator" in out:  # see _routable_discriminators: on the root field, like a field's
        out[DISCRIMINATOR_MARK] = out.pop("x-discriminator")
    if isinstance(kind, str) and kind != "null":
        out["x-type"] = kind
    return out


def _carry(schema: Any, top: bool = True, components: Mapping[str, Any] | None = None) -> Any:
    """``schema`` with what models cannot show of each property marked for ``json_schema_extra``.

    For every property (at any depth) that is not a ``$ref``:

    - ``format`` unless pydantic shows it (:data:`SHOWN_FORMATS`): it drops formats it has no
      type for (``iri-reference``, ``int64``) and changes some (``byte`` -> ``base64``);
    - ``uniqueItems`` (a ``list`` field says nothing about it);
    - ``nullable``: an optional property that also allows ``null`` (``type: [X, "null"]``,
      ``nullable: true`` or a ``{"type": "null"}`` member): its field ``X | None = None`` would
      otherwise read as "optional X";
    - ``x-chanspec-union: oneOf`` for a ``oneOf`` (pydantic writes every plain union ``anyOf``),
      ``oneOf+null`` when the ``null`` it allows is not one of the ``oneOf`` members;
    - ``type`` written beside a ``oneOf``/``anyOf`` (``type: object`` + ``oneOf``);
    - ``not`` (no Python type says "anything but"; it is documented, not validated);
    - ``items`` given as a list (the tuple form of draft-04 to 2019-09: item ``i`` matches
      schema ``i``, later items anything); the field is a list of ``Any`` and the item
      schemas are documented, not validated (normalise warns, N054); and ``items`` of a
      primitive type with annotations (``description``, ``examples``), which ``list[str]``
      does not say.

    A model's own ``minProperties``/``maxProperties`` are marked by :func:`_mark_model`.
    ``components`` is the bundle: a ``oneOf`` member referring to a component that admits
    ``null`` (:func:`_admits_null`) makes the property nullable, and ``items`` referring to
    an annotated primitive are carried whole.

    Each becomes ``x-<keyword>`` in the bundle, which datamodel-code-generator turns into
    ``Field(json_schema_extra={"<keyword>": ...})``; the emitter puts them back where the spec
    has them.
    """
    if isinstance(schema, list):
        return [_carry(v, False, components) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = _apply(schema, lambda sub: _carry(sub, False, components))
    if top and out.get("type") in ("string", "number", "integer", "boolean"):
        out = _mark(out, True, components or {})  # a RootModel: its root field carries the marks
    props = out.get("properties")
    if isinstance(props, dict):
        listed = out.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        out["properties"] = {
            k: _mark(v, k in required, components or {}) if isinstance(v, dict) else v
            for k, v in props.items()
        }
    return out


# marker keys _mark sets: a spec key of the same name is not carried as if chanspec had set it
_MARKS = frozenset({UNION_MARK, *("x-" + c for c in CARRIED)})


def _mark(prop: dict[str, Any], required: bool, components: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in prop.items() if k not in _MARKS}
    if "x-discriminator" in out:  # see _routable_discriminators; a field's own key
        out[DISCRIMINATOR_MARK] = out.pop("x-discriminator")
    if "$ref" in out:
        return out
    if isinstance(prop.get("format"), str) and prop["format"] not in SHOWN_FORMATS:
        out["x-format"] = prop["format"]
    if prop.get("uniqueItems") is True:
        out["x-uniqueItems"] = True
    if isinstance(prop.get("not"), dict):
        out["x-not"] = prop["not"]
    items = prop.get("items")
    if isinstance(items, list) and "$ref" not in json.dumps(items):
        # tuple form (draft-04 to 2019-09): a list of Any whose item schemas are documented
        out["x-items"] = out.pop("items")
    elif isinstance(items, dict):
        target = components.get(_ref_name(items.get("$ref")) or "", items)
        if isinstance(target, dict) and _annotated_primitive(target):
            # `list[str]` (a RootModel of the items collapsed) says nothing of the annotations
            out["x-items"] = target
    kind = prop.get("type")
    if isinstance(kind, str) and kind != "null" and ("oneOf" in prop or "anyOf" in prop):
        out["x-type"] = kind  # a type beside a union: the field's union type does not say it
    members = [*(prop.get("oneOf") or []), *(prop.get("anyOf") or [])]
    null_member = any(
        isinstance(m, dict)
        and (
            m.get("type") == "null" or _admits_null(components.get(_ref_name(m.get("$ref")) or ""))
        )
        for m in members
    )
    nullable = (
        prop.get("nullable") is True or (isinstance(kind, list) and "null" in kind) or null_member
    )
    if isinstance(prop.get("oneOf"), list) and "discriminator" not in prop:
        # "oneOf": every member of the union, null included; "oneOf+null": the null allowed
        # beside the oneOf (``nullable: true``) stays outside it
        out[UNION_MARK] = "oneOf+null" if nullable and not null_member else "oneOf"
    if nullable and not required:
        out["x-nullable"] = True
    return out


def _annotated_primitive(schema: dict[str, Any]) -> bool:
    """A string/number/integer/boolean schema with annotations and nothing else to check
    (a constrained one becomes a class of its own, which keeps them: codegen/normalise.py)."""
    rest = set(schema) - {"type", "format"}
    return (
        schema.get("type") in ("string", "number", "integer", "boolean")
        and bool(rest)
        and rest <= _ANNOTATION_KEYS
    )


def _ref_name(ref: Any) -> str | None:
    """The component name of a ``#/components/schemas/<name>`` reference, else ``None``."""
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return ref.rsplit("/", 1)[-1]
    return None


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def _exact_description(schema: Any) -> Any:
    """``schema`` with ``x-description`` beside each description a docstring would alter.

    A model's description reaches the emitted document through its docstring, which pydantic
    cleans (``inspect.cleandoc``): the trailing newline of a YAML block scalar or leading
    indentation would be lost. Those descriptions are also put verbatim into
    ``json_schema_extra`` (``model_extra_keys_without_x_prefix``), which wins over the docstring.
    """
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    text = out.get("description")
    if isinstance(text, str) and inspect.cleandoc(text) != text:
        out["x-description"] = text
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: _exact_description(v) for k, v in out[key].items()}
    for key in _SCHEMA_ONE:
        if key in out:
            out[key] = _exact_description(out[key])
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_exact_description(v) for v in out[key]]
    return out


_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ud800-\udfff]")


def _class_names(code: str) -> list[str]:
    out = []
    for line in code.splitlines():
        if line.startswith("class "):
            out.append(line[6:].split("(", 1)[0].split(":", 1)[0].strip())
    return out


def render_service(
    service: ServiceModel, package: str, *, client: bool = False
) -> list[RenderedFile]:
    """Render every file of the app package.

    Args:
        service: the normalised spec.
        package: import name hint for docs in scaffolds (e.g. ``app``); code uses relative
            imports so the output can live in any package.
        client: also render ``generated/client.py``, typed clients (:mod:`.client_render`).

    Returns:
        Files in a fixed order, formatted with ruff; deterministic for the same model.
    """
    env = _environment()
    ctx: dict[str, Any] = {"service": service, "package": package, **contract_context(service)}
    security = security_context(service)
    ctx["security_of"] = security["security_of"]
    header = env.get_template("header.jinja").render(ctx)
    models = render_models(service, header)
    files: list[RenderedFile] = [
        RenderedFile("generated/__init__.py", header, True),
        RenderedFile("generated/messages.py", models, True),
    ]
    for name in ("channels", "layers", "document", "routing"):
        text = env.get_template(f"{name}.py.jinja").render(ctx, header=header)
        files.append(RenderedFile(f"generated/{name}.py", text, True))
    if client:
        text = render_client(env, service, models, header)
        files.append(RenderedFile("generated/client.py", text, True))
    files.append(
        RenderedFile("__init__.py", env.get_template("package_init.py.jinja").render(ctx), False)
    )
    files.append(RenderedFile("main.py", env.get_template("main.py.jinja").render(ctx), False))
    if security["schemes"]:  # the schemes channels require; verifiers in the user's auth.py
        text = env.get_template("security.py.jinja").render(ctx, **security, header=header)
        files.append(RenderedFile("generated/security.py", text, True))
    if security["verifier_imports"]:
        text = env.get_template("security_verifiers.py.jinja").render(ctx, **security)
        files.append(RenderedFile("auth.py", text, False, function_stubs=True))
    files.append(
        RenderedFile(
            "consumers/__init__.py", env.get_template("consumers_init.py.jinja").render(ctx), False
        )
    )
    for channel in service.channels:
        files.append(render_consumer(env, service, channel, package))
    formatted = format_sources([f.content for f in files])
    return [
        RenderedFile(f.path, text, f.owned, f.consumer_class, f.function_stubs)
        for f, text in zip(files, formatted, strict=True)
    ]


def contract_context(service: ServiceModel) -> dict[str, Any]:
    """Template context of ``generated/channels.py``: unions, metadata, parameter properties."""
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    metadata: dict[str, Any] = {}
    properties: dict[str, list[dict[str, Any]]] = {}
    imports: set[str] = set()
    events = {e.class_name: e for e in service.events}
    for ch in service.channels:
        ins: list[str] = []
        outs: list[str] = []
        used_events: dict[str, Any] = {}
        for op in ch.operations:
            names = [ch.message(k).class_name for k in op.messages]
            target = ins if op.action == "receive" else outs
            target.extend(n for n in names if n not in target)
            outs.extend(n for n in (ch.message(k).class_name for k in op.reply) if n not in outs)
            for event in op.events:
                if event in events:
                    used_events[event] = events[event].metadata
        incoming[ch.id], outgoing[ch.id] = ins, outs
        imports.update(ins, outs, (m.class_name for m in ch.messages))
        meta: dict[str, Any] = {
            "channel": ch.metadata,
            "messages": {m.key: m.metadata for m in ch.messages},
            "operations": {op.id: op.metadata for op in ch.operations},
        }
        if used_events:
            meta["events"] = used_events
        optional = [m.key for m in ch.messages if m.discriminator_optional]
        if optional:
            meta["optional_discriminator"] = optional
        silent = [op.id for op in ch.operations if op.action == "receive" and not op.method]
        if silent:  # no handler can show them (N023): the contract declares them
            meta["receive_without_messages"] = silent
        metadata[ch.id] = meta
        params = (ch.metadata.get("parameters") or {}) if isinstance(ch.metadata, dict) else {}
        properties[ch.id] = [
            {
                "name": p,
                "description": (params.get(p) or {}).get("description")
                if isinstance(params.get(p), dict)
                else None,
            }
            for p in ch.parameters
            if p.isidentifier() and not keyword.iskeyword(p) and p not in RESERVED_METHODS
        ]
    exports = sorted(
        name
        for ch in service.channels
        for name in (
            ch.contract_class,
            ch.contract_class + "Incoming",
            ch.contract_class + "Outgoing",
        )
    )
    return {
        "exports": exports,
        "imports": sorted(imports),
        "incoming_of": incoming,
        "outgoing_of": outgoing,
        "metadata_of": metadata,
        "properties_of": properties,
    }


def consumer_context(service: ServiceModel, channel: ChannelModel) -> dict[str, Any]:
    """Template context of one consumer scaffold: handlers with their typed signatures."""
    handlers = []
    imports: set[str] = set()
    for op in channel.operations:
        if not op.method:
            continue
        if op.action == "receive":
            params = [channel.message(k).class_name for k in op.messages]
            outputs = [channel.message(k).class_name for k in op.reply]
            kind = "ws_handler"
        else:
            params = list(op.events)
            outputs = [channel.message(k).class_name for k in op.messages]
            kind = "event_handler"
        params = list(dict.fromkeys(params))
        outputs = list(dict.fromkeys(outputs))
        param = " | ".join(params)
        imports.update(params)
        imports.update(outputs)
        handlers.append(
            {
                "op": op,
                "kind": kind,
                "param": param,
                "param_name": "event" if kind == "event_handler" else "message",
                "returns": " | ".join(outputs) if outputs else "None",
            }
        )
    return {
        "service": service,
        "channel": channel,
        "handlers": handlers,
        "message_imports": sorted(imports),
        "decorators": sorted({h["kind"] for h in handlers}),
    }


def render_consumer(
    env: jinja2.Environment, service: ServiceModel, channel: ChannelModel, package: str
) -> RenderedFile:
    """``consumers/<channel>.py``: the user's consumer scaffold with one stub per operation."""
    ctx = consumer_context(service, channel)
    text = env.get_template("consumer.py.jinja").render(ctx, package=package)
    return RenderedFile(f"consumers/{channel.module}.py", text, False, channel.consumer_class)


def format_sources(sources: list[str]) -> list[str]:
    """Format many modules with ruff in two runs in all (not two per module).

    The sources are written to a temporary directory as ``m0000.py``, ``m0001.py``, ...;
    ``ruff check --fix`` (``I``, ``F401``, ``UP``, ``RUF022``) then ``ruff format`` run on the
    directory with ``--isolated`` settings, so the result does not depend on where chanspec
    runs. Returns the formatted sources in the same order.

    Raises:
        RuntimeError: ruff rejected a source (a generator bug: the output is not Python).
    """
    with tempfile.TemporaryDirectory(prefix="chanspec-format-") as tmp:
        paths = [Path(tmp) / f"m{i:04d}.py" for i in range(len(sources))]
        for path, source in zip(paths, sources, strict=True):
            path.write_text(source, encoding="utf-8", newline="")
        ruff = [sys.executable, "-m", "ruff"]
        cfg = ["--isolated", "--target-version", "py311"]
        fixed = subprocess.run(
            [*ruff, "check", *cfg, "--select", "I,F401,UP,RUF022", "--fix", "--exit-zero", "-q",
             "."],
            cwd=tmp, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if fixed.returncode != 0:
            raise RuntimeError(f"ruff check failed on generated code: {fixed.stderr}")
        formatted = subprocess.run(
            [*ruff, "format", *cfg, "-q", "."], cwd=tmp, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        if formatted.returncode != 0:
            raise RuntimeError(f"ruff format failed on generated code: {formatted.stderr}")
        return [path.read_text(encoding="utf-8") for path in paths]


def format_python(source: str) -> str:
    """Format one module with ruff: import sorting and clean-ups (``I``, ``F401``, ``UP``,
    ``RUF022``), then ``ruff format``, as one deterministic pass (see :func:`format_sources`).

    Raises:
        RuntimeError: ruff rejected the source (a generator bug: the output is not Python).
    """
    return format_sources([source])[0]
