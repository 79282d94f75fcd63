"""Normalise a loaded AsyncAPI 3.0 document into the internal :mod:`.model`.

Every naming and convention decision lives here (see docs/spec-conventions.md):

- each channel with an address is one WebSocket route served by one consumer class;
- ``action: receive`` operations become ``@ws_handler`` methods, their ``reply`` the return type;
- ``action: send`` operations with ``x-events`` become ``@event_handler`` methods; the others are
  passthrough sends (pushes/broadcasts) declared on the contract;
- ``x-channel-layer`` / ``x-groups`` on a channel and root ``x-channel-layers`` configure layers;
- the discriminator of a channel is the property that has a ``const`` (or one-value ``enum``)
  unique among its incoming messages (``action``, ``type``, ``event``, ``op`` are preferred).

All problems are collected and returned together; nothing is raised for a bad document.
"""

from __future__ import annotations

import copy
import json
import re
import string
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from . import chanx_compat
from .avro import AvroError, avro_to_json_schema, is_avro_format
from .load import LoadedDocument
from .model import ChannelModel, LayerModel, MessageModel, OperationModel, ServiceModel
from .naming import RESERVED_METHODS, pascal_case, py_identifier, snake_case, unique
from .problems import Position, Problem, Severity
from .schema_merge import distribute, inherited_part, shared_part
from .security import SECURITY_CODES, SecurityPlan

__all__ = ["NORMALISE_CODES", "normalise"]

NORMALISE_CODES: dict[str, str] = {
    "N001": "AsyncAPI version not supported by the generator",
    "N010": "channel without an address: consumer generated, not served",
    "N011": "address cannot be a WebSocket route",
    "N020": "operation's channel is not one of the document's channels",
    "N021": "operation message is not a message of its channel",
    "N022": "reply on another channel is not supported (sent on the request's channel)",
    "N023": "receive operation without messages: no handler generated",
    "N030": "duplicate discriminator value among a channel's incoming messages",
    "N031": "no discriminator: incoming messages are tried in declared order",
    "N040": "unknown channel layer type",
    "N041": "channel uses a channel layer that is not declared",
    "N042": "group template uses a name that is not a path parameter",
    "N043": "channel parameter the address does not use: documented, not a path parameter",
    "N050": "payload is not a JSON Schema (nor Avro): generated as Any",
    "N051": "message has no payload: generated as an empty object",
    "N052": "a default does not match its schema's type: coerced ('false' -> false) or dropped",
    "N053": "Avro payload schema cannot be converted: generated as Any",
    "N054": "items given as a list (tuple form): item schemas documented, not validated",
    "N055": "object or array keywords beside another single type constrain nothing: ignored",
}
NORMALISE_CODES.update(SECURITY_CODES)  # N060-N062: security schemes (codegen/security.py)

# Names generated modules import or define: a schema may not take them as its class name.
RESERVED_CLASS_NAMES = frozenset(
    {"Any", "Annotated", "AnyUrl", "AwareDatetime", "BaseModel", "ConfigDict", "EmailStr",
     "Enum", "Field", "Literal", "Message", "RootModel", "StrEnum", "UUID", "date", "datetime",
     "time", "timedelta"}
)  # fmt: skip
PREFERRED_DISCRIMINATORS = ("action", "type", "event", "op", "kind", "method")
LAYER_TYPES = ("memory", "redis", "redis-pubsub")
JSON_SCHEMA_FORMATS = re.compile(
    r"^(application/(vnd\.aai\.asyncapi(\+json|\+yaml)?|schema(\+json|\+yaml)?)(;version=.*)?)$"
)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Normaliser:
    def __init__(self, doc: LoadedDocument) -> None:
        self.doc = doc
        self.root: dict[str, Any] = doc.resolved
        self.chanx = chanx_compat.is_chanx_document(doc.raw)  # docs/chanx-interop.md
        self.problems: list[Problem] = []
        self.class_names: set[str] = set()
        self.message_class: dict[int, str] = {}
        self.component_class: dict[str, str] = {}
        self.optional_discriminator: set[str] = set()
        self.channel_ids: dict[int, str] = {}
        self.foreign_payload: set[str] = set()
        self.schemas: dict[str, Any] = {}
        self.message_classes: set[str] = set()

    # ---- problems -------------------------------------------------------------------------

    def problem(
        self,
        code: str,
        message: str,
        pointer: str,
        *,
        warning: bool = False,
        hint: str | None = None,
    ) -> None:
        position: Position | None = self.doc.source.position_at(self.doc.raw, pointer)
        severity = Severity.WARNING if warning else Severity.ERROR
        self.problems.append(Problem(code, message, severity, pointer, position, hint))

    # ---- entry ----------------------------------------------------------------------------

    def run(self) -> ServiceModel | None:
        version = str(self.doc.version or "")
        if not version.startswith("3."):
            self.problem(
                "N001",
                f"AsyncAPI {version or '?'} is not supported by the generator yet",
                "/asyncapi",
                hint="convert the document to AsyncAPI 3.0",
            )
            return None
        layers = self.layers()
        self.security = SecurityPlan(self.root, self.problem)
        components = self.root.get("components") or {}
        self.component_messages = {
            id(m): k for k, m in (components.get("messages") or {}).items() if isinstance(m, dict)
        }
        self.bundle_component_schemas()
        self.name_channel_messages()
        events = self.events()
        channels = self.channels({layer.alias for layer in layers})
        self.hoist_inline_schemas()
        info = self.root.get("info") or {}
        return ServiceModel(
            title=str(info.get("title") or "AsyncAPI service"),
            source_name=self.doc.path.name,
            channels=tuple(channels),
            events=tuple(events),
            layers=tuple(layers),
            schemas=self.schemas,
            metadata=self.root_metadata(),
            security_schemes=self.security.schemes(),
        )

    # ---- layers ---------------------------------------------------------------------------

    def layers(self) -> list[LayerModel]:
        declared = self.root.get("x-channel-layers") or {}
        out: list[LayerModel] = []
        if not isinstance(declared, dict):
            return out
        for alias, cfg in declared.items():
            cfg = cfg if isinstance(cfg, dict) else {}
            kind = cfg.get("type", "memory")
            if kind not in LAYER_TYPES:
                self.problem(
                    "N040",
                    f"channel layer {alias!r} has type {kind!r}",
                    f"/x-channel-layers/{_escape(alias)}/type",
                    hint="use one of: " + ", ".join(LAYER_TYPES),
                )
                continue
            out.append(
                LayerModel(
                    alias=str(alias),
                    type=kind,
                    prefix=_opt_str(cfg.get("prefix")),
                    expiry=_opt_num(cfg.get("expiry")),
                    capacity=_opt_int(cfg.get("capacity")),
                    group_expiry=_opt_int(cfg.get("group_expiry")),
                )
            )
        return out

    # ---- schemas and message classes ------------------------------------------------------

    def raw_at(self, pointer: str) -> Any:
        """The raw (unresolved) node at ``pointer``, following local ``#/...`` refs on the way."""
        node: Any = self.doc.raw
        for token in pointer.split("/")[1:]:
            node = self.follow_local(node)
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node = node.get(token)
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return self.follow_local(node)

    def follow_local(self, node: Any, depth: int = 0) -> Any:
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/") or depth > 32:
            return node
        return self.follow_local(self.raw_at_plain(ref[1:]), depth + 1)

    def raw_at_plain(self, pointer: str) -> Any:
        node: Any = self.doc.raw
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node.get(token) if isinstance(node, dict) else None
        return node

    def bundle_component_schemas(self) -> None:
        """Name a model class for every ``components.schemas`` entry and bundle its schema.

        Bundle keys are the class names, and refs between components are rewritten to them, so
        datamodel-code-generator uses our names verbatim (a key with dots or spaces would
        otherwise become a module path or be renamed).
        """
        raw = ((self.doc.raw.get("components") or {}).get("schemas")) or {}
        resolved = ((self.root.get("components") or {}).get("schemas")) or {}
        self.class_names.update(RESERVED_CLASS_NAMES)
        for name in raw:
            base = pascal_case(str(name))
            if not base[:1].isalpha():
                base = "S" + base.lstrip("_")
            self.component_class[str(name)] = unique(base, self.class_names, sep="")
        for name, schema in raw.items():
            bundled = _bundle(schema, resolved.get(name), self.component_class)
            self.check_schema(bundled, f"/components/schemas/{_escape(str(name))}")
            self.schemas[self.component_class[str(name)]] = bundled

    def name_channel_messages(self) -> None:
        """Name the class of every channel message before events are named.

        A message that is both in a channel and an ``x-events`` entry is a ``...Message``
        whatever the order: adding an event never renames a message class handlers use.
        """
        for cid, ch in (self.root.get("channels") or {}).items():
            if not isinstance(ch, dict):
                continue
            for key, msg in (ch.get("messages") or {}).items():
                if isinstance(msg, dict):
                    pointer = f"/channels/{_escape(str(cid))}/messages/{_escape(str(key))}"
                    self.message_class_name(msg, f"{cid}_{key}", "Message", pointer)

    def hoist_inline_schemas(self) -> None:
        """Give every inline schema that becomes a class a stable name (docs/generated-code.md).

        Runs after every component and message class is named, so the names chosen here never
        take one of theirs. An inline object schema with properties, or an inline enum,
        moves to the bundle under ``<owner><Property>`` (``Item`` for array
        items, ``Value`` for map values, and for a ``oneOf``/``anyOf`` member its discriminating
        const or ``Option<n>``), or under its ``title`` when it has one; the place it came from
        becomes a ``$ref`` with the annotations (description, default, examples) beside it.
        ``<owner>`` is the enclosing class: a component schema's class, a message's class
        without its ``Message`` suffix, or the hoisted class above. The name of a schema thus
        depends only on where it stands, never on other messages (datamodel-code-generator
        would number colliding inline names in document order: ``Payload1``).
        """
        self.hoisted: set[str] = set()
        self.hoisting: set[str] = set()
        self.distributed: dict[str, str] = {}  # member JSON -> its class (hoist_member)
        self.titled: dict[tuple[str, str], str] = {}  # (title, schema JSON) -> class (hoist)
        self.break_inheritance_cycles()
        for name in list(self.schemas):
            self.hoist_component(name)

    def break_inheritance_cycles(self) -> None:
        """Discriminator inheritance without the cycle (codegen/schema_merge.py).

        ``Pet: {discriminator: type, properties: .., oneOf: [$ref Cat, $ref Dog]}`` with
        ``Cat: {allOf: [$ref Pet, {catSpecificField ..}]}`` (Springwolf's and OpenAPI's
        polymorphism) means "Cat has Pet's properties"; read literally, Cat contains Pet's
        union and so itself. Each such ``$ref Pet`` inside a member's ``allOf`` is replaced by
        Pet's properties (:func:`inherited_part`); the diff reads the spec the same way.
        """
        prefix = "#/components/schemas/"
        for name, schema in self.schemas.items():
            parts = schema.get("allOf") if isinstance(schema, dict) else None
            if not isinstance(parts, list):
                continue
            member_ref = {"$ref": prefix + name}
            for i, part in enumerate(parts):
                ref = part.get("$ref") if isinstance(part, dict) else None
                if not isinstance(ref, str) or set(part) != {"$ref"}:
                    continue
                base = self.schemas.get(ref.rsplit("/", 1)[-1])
                inherited = inherited_part(base, member_ref) if isinstance(base, dict) else None
                if inherited is not None:
                    parts[i] = copy.deepcopy(inherited)

    def hoist_component(self, name: str) -> bool:
        """Hoist the inline classes of bundled schema ``name`` once; False while it is being
        hoisted (a cycle), so it cannot be copied into a union member yet."""
        if name in self.hoisted:
            return True
        if name in self.hoisting or name not in self.schemas:
            return False
        self.hoisting.add(name)
        owner = name
        if name in self.message_classes and name.endswith("Message") and name != "Message":
            owner = name[: -len("Message")]
        self.schemas[name] = self.hoist(self.schemas[name], owner, top=True)
        self.hoisting.discard(name)
        self.hoisted.add(name)
        return True

    def hoist_member(self, member: dict[str, Any], name: str) -> Any:
        """Hoist a distributed union member under ``name``, or refer to the class an equal
        member already got (a message whose payload is a copy of a union component)."""
        key = json.dumps(member, sort_keys=True, default=str)
        known = self.distributed.get(key)
        if known is not None:
            return {"$ref": "#/components/schemas/" + known}
        hoisted = self.hoist(member, name, whole=True)
        if isinstance(hoisted, dict) and set(hoisted) == {"$ref"}:
            self.distributed[key] = str(hoisted["$ref"]).rsplit("/", 1)[-1]
        return hoisted

    def distribute_shared(self, schema: dict[str, Any]) -> list[tuple[Any, str]] | None:
        """The members of ``schema``'s union with the properties beside it written into each
        (codegen/schema_merge.py), each with its name part: a referenced component's class
        name, else :func:`_member_suffix`. ``None`` when they cannot be distributed."""
        shared = shared_part(schema)
        if shared is None:
            return None
        members = schema["oneOf" if "oneOf" in schema else "anyOf"]
        out: list[tuple[Any, str]] = []
        for i, member in enumerate(members):
            suffix = _member_suffix(member, i)
            if isinstance(member, dict) and set(member) == {"$ref"}:
                target = str(member["$ref"]).rsplit("/", 1)[-1]
                if not self.hoist_component(target):
                    return None
                copied = copy.deepcopy(self.schemas[target])
                copied.pop("title", None)  # a new class, named after where it stands
                suffix, member = target, copied
            merged = (
                distribute(shared, member, lambda a, b: {"allOf": [a, b]})
                if isinstance(member, dict)
                else None
            )
            if merged is None:
                return None
            out.append((merged, suffix))
        return out

    def hoist(
        self, schema: Any, base: str, *, top: bool = False, item: bool = False, whole: bool = False
    ) -> Any:
        """``schema`` with its inline class-making parts hoisted; ``base`` names them.

        ``item``: ``schema`` is the ``items`` of an array, where a constrained primitive
        (``{type: integer, minimum: 0}``) also becomes a class (a ``RootModel``). ``whole``:
        its annotations go into the class too (a union member has no field to hold them)."""
        if not isinstance(schema, dict) or "$ref" in schema:
            return schema
        primitive_item = item and _constrained_primitive(schema)
        if not top and (_class_like(schema) or primitive_item):
            # annotations stay where the schema is used (a field's description); the items of
            # an array have no field, so there they move into the class too
            stays = set() if primitive_item or whole else _ANNOTATIONS - {"title"}
            moved = {k: v for k, v in schema.items() if k not in stays}
            kept = {k: v for k, v in schema.items() if k in stays}
            title = schema.get("title")
            wanted = base
            if isinstance(title, str) and pascal_case(title)[:1].isalpha():
                # one class per title and schema (Springwolf repeats `title: ExampleEnum` at
                # every use); another schema with a taken title is named where it stands
                same = (pascal_case(title), json.dumps(moved, sort_keys=True, default=str))
                if same in self.titled:
                    return {"$ref": "#/components/schemas/" + self.titled[same], **kept}
                if same[0] not in self.class_names:
                    wanted = same[0]
                    self.titled[same] = same[0]
            if not wanted[:1].isalpha():
                wanted = "S" + wanted.lstrip("_")
            name = unique(wanted, self.class_names, sep="")
            self.schemas[name] = moved
            self.schemas[name] = self.hoist(moved, name, top=True)
            return {"$ref": "#/components/schemas/" + name, **kept}
        out = dict(schema)
        props = out.get("properties")
        if isinstance(props, dict):
            out["properties"] = {
                k: self.hoist(v, base + pascal_case(str(k))) for k, v in props.items()
            }
        if isinstance(out.get("items"), dict):
            out["items"] = self.hoist(out["items"], base + "Item", item=True)
        if isinstance(out.get("additionalProperties"), dict):
            out["additionalProperties"] = self.hoist(out["additionalProperties"], base + "Value")
        distributed = self.distribute_shared(out)
        if distributed is not None:  # shared properties beside the union: into each member
            key = "oneOf" if "oneOf" in out else "anyOf"
            for keyword in shared_part(out) or ():
                del out[keyword]
            out[key] = [self.hoist_member(m, base + suffix) for m, suffix in distributed]
        for key in ("oneOf", "anyOf"):
            members = out.get(key)
            if isinstance(members, list) and distributed is None:
                out[key] = [
                    self.hoist(m, base + _member_suffix(m, i)) for i, m in enumerate(members)
                ]
        if isinstance(out.get("allOf"), list):  # members merge into this class: same owner
            out["allOf"] = [
                self.hoist(m, base, top=True) if isinstance(m, dict) else m for m in out["allOf"]
            ]
        return out

    def payload_component(self, raw_pointer: str) -> str | None:
        """The class of the component schema a message's payload is exactly a ``$ref`` to.

        Only object schemas qualify (other schemas do not become model classes).
        """
        raw_msg = self.raw_at(raw_pointer)
        raw_payload = raw_msg.get("payload") if isinstance(raw_msg, dict) else None
        if not isinstance(raw_payload, dict) or set(raw_payload) != {"$ref"}:
            return None
        name = _component_name(raw_payload["$ref"])
        cls = self.component_class.get(name) if name is not None else None
        schema = self.schemas.get(cls) if cls else None
        if not isinstance(schema, dict) or not _object_like(schema):
            return None
        return cls

    def message_class_name(
        self, message: dict[str, Any], fallback: str, suffix: str, raw_pointer: str = ""
    ) -> str:
        known = self.message_class.get(id(message))
        if known is not None:
            return known
        reused = self.payload_component(raw_pointer) if raw_pointer else None
        if reused is not None:
            self.message_class[id(message)] = reused
            return reused
        key = self.component_messages.get(id(message))
        base = pascal_case(key if key is not None else fallback) + suffix
        if not base[:1].isalpha():  # "_2fast...": datamodel-code-generator would rename it
            base = "M" + base.lstrip("_")
        name = unique(base, self.class_names, sep="")
        self.message_class[id(message)] = name
        self.message_classes.add(name)
        return name

    def add_message_schema(
        self, message: dict[str, Any], class_name: str, raw_pointer: str, discriminator: str | None
    ) -> None:
        if class_name in self.schemas:
            self.require_discriminator(self.schemas[class_name], discriminator, class_name)
            return
        payload = message.get("payload")
        raw_msg = self.raw_at(raw_pointer)
        raw_payload = raw_msg.get("payload") if isinstance(raw_msg, dict) else None
        if isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:
            fmt = str(payload.get("schemaFormat"))
            if not JSON_SCHEMA_FORMATS.match(fmt):
                # the original payload stays in the metadata (emitted as written)
                self.foreign_payload.add(class_name)
                converted = self.foreign_schema(
                    fmt, payload.get("schema"), class_name, raw_pointer + "/payload/schema"
                )
                if converted is None:
                    self.problem(
                        "N050",
                        f"message {class_name}: payload uses schemaFormat {fmt!r}",
                        raw_pointer + "/payload",
                        warning=True,
                    )
                    self.schemas[class_name] = {}
                    return
                payload, raw_payload = converted, converted
            else:
                payload = payload.get("schema")
                raw_payload = raw_payload.get("schema") if isinstance(raw_payload, dict) else None
        if payload is None:
            self.problem("N051", "message has no payload", raw_pointer, warning=True)
            self.schemas[class_name] = {"type": "object"}
            return
        # a payload that refers to itself (``$ref`` to its own pointer) is a recursive model
        itself = {id(payload): "#/components/schemas/" + class_name} if payload is not None else {}
        schema = _bundle(raw_payload, payload, self.component_class, itself)
        if isinstance(schema, dict) and set(schema) == {"$ref"}:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            target = self.schemas.get(name)
            if isinstance(target, dict) and _object_like(target):
                schema = copy.deepcopy(target)
            # otherwise the $ref stays: a RootModel over the referenced type
        elif isinstance(schema, dict) and "enum" in schema and not _object_like(schema):
            # an enum payload would become an Enum class, not a model: model it as a RootModel
            payload_name = unique(class_name + "Payload", self.class_names, sep="")
            self.schemas[payload_name] = schema
            schema = {"$ref": "#/components/schemas/" + payload_name}
        self.require_discriminator(schema, discriminator, class_name)
        self.check_schema(schema, raw_pointer + "/payload")
        self.schemas[class_name] = schema

    def check_schema(self, schema: Any, pointer: str) -> None:
        """Coerce defaults (N052), drop keywords of another type (N055) and report tuple-form
        ``items`` (N054) of a bundled schema."""
        for where in _fix_defaults(schema, pointer):
            self.problem(
                "N052",
                "default does not match the schema's type; coerced or dropped",
                where,
                warning=True,
            )
        for where in _drop_foreign_keywords(schema, pointer):
            kind = where.rsplit("/", 1)[-1]
            self.problem(
                "N055",
                f"{kind} beside a type it does not apply to constrains nothing: ignored",
                where,
                warning=True,
                hint="remove it, or change the type",
            )
        for where in _tuple_items(schema, pointer):
            self.problem(
                "N054",
                "items is a list (tuple form): the model accepts any list; the item schemas "
                "are documented, not validated",
                where,
                warning=True,
                hint="use items with one schema, or prefixItems (JSON Schema 2020-12)",
            )

    def require_discriminator(
        self, schema: Any, discriminator: str | None, class_name: str = ""
    ) -> None:
        """Mark the discriminator property required (and typed) so the model has a Literal.

        A class whose spec schema left it optional is remembered in ``optional_discriminator``
        so the emitted document says optional again (the round trip stays exact).
        """
        if not isinstance(schema, dict) or not discriminator:
            return
        props = schema.get("properties")
        if isinstance(props, dict) and discriminator in props:
            required = list(schema.get("required") or [])
            if discriminator not in required:
                schema["required"] = [*required, discriminator]
                self.optional_discriminator.add(class_name)
            prop = props[discriminator]
            enum = prop.get("enum") if isinstance(prop, dict) else None
            if isinstance(enum, list) and len(enum) == 1 and "const" not in prop:
                # a one-value enum is a const: the model needs a Literal to route on
                prop["const"] = enum[0]
                del prop["enum"]
            if isinstance(prop, dict) and "const" in prop and "type" not in prop:
                prop["type"] = _json_type(prop["const"])

    def foreign_schema(
        self, fmt: str, schema: Any, class_name: str, pointer: str
    ) -> dict[str, Any] | None:
        """A JSON Schema for a payload in another schema language, or None (then ``Any``).

        Avro converts (:mod:`.avro`); a schema Avro cannot read gets N053 and ``Any``.
        """
        if not is_avro_format(fmt):
            return None
        try:
            return avro_to_json_schema(schema)
        except AvroError as exc:
            self.problem(
                "N053",
                f"message {class_name}: Avro schema not converted: {exc}",
                pointer,
                warning=True,
            )
            return None

    def message_model(
        self, key: str, class_name: str, value: Any, message: dict[str, Any], pointer: str
    ) -> MessageModel:
        """The model of one message; a payload in a non-JSON-Schema format (Avro, ...) stays in
        the metadata, since no code can show it, and a message without payload says
        ``"payload": None`` there (its model is an empty object; the emitter leaves it out)."""
        metadata = _metadata(message)
        if class_name in self.foreign_payload:
            metadata["payload"] = _plain(message.get("payload"))
        elif message.get("payload") is None:
            metadata["payload"] = None
        return MessageModel(
            key,
            class_name,
            value,
            metadata,
            pointer,
            discriminator_optional=class_name in self.optional_discriminator,
        )

    # ---- events ---------------------------------------------------------------------------

    def events(self) -> list[MessageModel]:
        out: list[MessageModel] = []
        seen: set[int] = set()
        for op_id, op in (self.root.get("operations") or {}).items():
            for i, event in enumerate((op or {}).get("x-events") or []):
                if not isinstance(event, dict) or id(event) in seen:
                    continue
                seen.add(id(event))
                key = self.component_messages.get(id(event)) or f"{op_id}_event_{i}"
                pointer = (
                    f"/components/messages/{_escape(key)}"
                    if id(event) in self.component_messages
                    else f"/operations/{_escape(op_id)}/x-events/{i}"
                )
                name = self.message_class_name(event, key, "Event", pointer)
                self.add_message_schema(event, name, pointer, "action")
                value = _const(event.get("payload"), "action")
                out.append(self.message_model(key, name, value, event, pointer))
        return out

    # ---- channels -------------------------------------------------------------------------

    def channels(self, layer_aliases: set[str]) -> list[ChannelModel]:
        ops_by_channel: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        channels = self.root.get("channels") or {}
        ids = {id(c): cid for cid, c in channels.items() if isinstance(c, dict)}
        self.channel_ids = ids
        for op_id, op in (self.root.get("operations") or {}).items():
            if not isinstance(op, dict):
                continue
            ch = op.get("channel")
            if isinstance(ch, dict) and isinstance(ch.get("$ref"), str):
                continue  # unresolvable $ref: the loader reported it (L010-L016)
            if not isinstance(ch, dict) or id(ch) not in ids:
                self.problem(
                    "N020",
                    f"operation {op_id!r} refers to no channel of this document",
                    f"/operations/{_escape(op_id)}/channel",
                )
                continue
            ops_by_channel.setdefault(id(ch), []).append((str(op_id), op))
        modules: set[str] = set()
        classes: set[str] = set(self.class_names)
        out: list[ChannelModel] = []
        for cid, ch in channels.items():
            if not isinstance(ch, dict):
                continue
            model = self.channel(
                str(cid), ch, ops_by_channel.get(id(ch), []), layer_aliases, modules, classes
            )
            if model is not None:
                out.append(model)
        return out

    def channel(
        self,
        cid: str,
        ch: dict[str, Any],
        ops: list[tuple[str, dict[str, Any]]],
        layer_aliases: set[str],
        modules: set[str],
        classes: set[str],
    ) -> ChannelModel | None:
        pointer = f"/channels/{_escape(cid)}"
        address = ch.get("address")
        route: str | None = None
        if not isinstance(address, str) or not address:
            self.problem(
                "N010",
                f"channel {cid!r} has no address; its consumer is generated but not served",
                pointer,
                warning=True,
            )
            address = None
        else:
            route = address if address.startswith("/") else "/" + address
            if any(c in route for c in "?#") or not _valid_template(route):
                self.problem(
                    "N011", f"address {address!r} cannot be a route path", pointer + "/address"
                )
                return None
        params = tuple(_template_fields(route or ""))
        layer = ch.get("x-channel-layer")
        if layer is not None and str(layer) not in layer_aliases:
            self.problem(
                "N041",
                f"channel {cid!r} uses channel layer {layer!r}, which x-channel-layers does not "
                "declare",
                pointer + "/x-channel-layer",
                hint="declare it under the root x-channel-layers",
            )
        declared = ch.get("parameters")
        for name in declared if isinstance(declared, dict) and route is not None else ():
            if str(name) not in params:
                self.problem(
                    "N043",
                    f"parameter {str(name)!r} of channel {cid!r} is not in its address {address!r}",
                    f"{pointer}/parameters/{_escape(str(name))}",
                    warning=True,
                    hint="use it in the address as {" + str(name) + "} or remove it",
                )
        groups = tuple(str(g) for g in (ch.get("x-groups") or []))
        for i, group in enumerate(groups):
            unknown = [f for f in _template_fields(group) if f not in params]
            if unknown or not _valid_template(group):
                self.problem(
                    "N042",
                    f"group {group!r} uses {unknown} which are not parameters of {address!r}",
                    f"{pointer}/x-groups/{i}",
                )
        channel_messages: dict[str, dict[str, Any]] = {
            str(k): m for k, m in (ch.get("messages") or {}).items() if isinstance(m, dict)
        }
        key_of = {id(m): k for k, m in channel_messages.items()}
        incoming = self.incoming(ops, channel_messages, key_of)
        discriminator = self.discriminator(cid, incoming, channel_messages)
        messages = []
        for key, msg in channel_messages.items():
            msg_pointer = f"{pointer}/messages/{_escape(key)}"
            name = self.message_class_name(msg, f"{cid}_{key}", "Message", msg_pointer)
            self.add_message_schema(msg, name, msg_pointer, discriminator)
            value = _const(msg.get("payload"), discriminator) if discriminator else None
            messages.append(self.message_model(key, name, value, msg, msg_pointer))
        operations = self.operations(cid, ops, channel_messages, key_of)
        module = unique(snake_case(cid), modules)
        base = pascal_case(cid)
        description = ch.get("description")
        return ChannelModel(
            id=cid,
            address=address,
            route=route,
            module=module,
            consumer_class=unique(base + "Consumer", classes, sep=""),
            contract_class=unique(base + "Channel", classes, sep=""),
            parameters=params,
            layer=str(layer) if layer is not None else None,
            groups=groups,
            discriminator=discriminator,
            messages=tuple(messages),
            operations=tuple(operations),
            metadata=_plain_dict(
                {
                    k: v
                    for k, v in ch.items()
                    if k not in ("address", "messages", "x-channel-layer", "x-groups")
                },
                self.spec_refs,
            ),
            description=description if isinstance(description, str) else None,
            security=self.security.channel(cid, ch, ops),
        )

    def incoming(
        self,
        ops: list[tuple[str, dict[str, Any]]],
        channel_messages: dict[str, dict[str, Any]],
        key_of: dict[int, str],
    ) -> list[str]:
        keys: list[str] = []
        for _, op in ops:
            if op.get("action") != "receive":
                continue
            for key in self.op_message_keys(op, channel_messages, key_of):
                if key not in keys:
                    keys.append(key)
        return keys

    @staticmethod
    def op_message_keys(
        op: dict[str, Any], channel_messages: dict[str, dict[str, Any]], key_of: dict[int, str]
    ) -> list[str]:
        if "messages" not in op:
            return list(channel_messages)
        return [key_of[id(m)] for m in op.get("messages") or [] if id(m) in key_of]

    def discriminator(
        self, cid: str, incoming: list[str], channel_messages: dict[str, dict[str, Any]]
    ) -> str | None:
        payloads = [channel_messages[k].get("payload") for k in incoming]
        explicit: set[str] = {
            str(p.get("discriminator"))
            for p in payloads
            if isinstance(p, dict) and isinstance(p.get("discriminator"), str)
        }
        candidates: list[str] = []
        if payloads:
            common = None
            for payload in payloads:
                props = payload.get("properties") if isinstance(payload, dict) else None
                names = {n for n, s in (props or {}).items() if _const(payload, n) is not None}
                common = names if common is None else common & names
            candidates = sorted(
                common or (),
                key=lambda n: (
                    PREFERRED_DISCRIMINATORS.index(n) if n in PREFERRED_DISCRIMINATORS else 99,
                    n,
                ),
            )
            # a property whose const is the same in every message cannot tell them apart
            # (e.g. `type: request` beside `op: a|b`): properties with distinct values go first
            candidates.sort(
                key=lambda n: len({repr(_const(p, n)) for p in payloads}) < len(payloads)
            )
        chosen: str | None = next(iter(explicit)) if len(explicit) == 1 else None
        if chosen is not None and not all(_const(p, chosen) is not None for p in payloads):
            chosen = None  # a discriminator keyword only some messages can satisfy
        if chosen is None and candidates:
            chosen = candidates[0]
        if chosen is None:
            if len(incoming) > 1:
                self.problem(
                    "N031",
                    f"channel {cid!r}: its {len(incoming)} incoming messages share no property "
                    "with a distinct const; frames are tried in declared order",
                    f"/channels/{_escape(cid)}/messages",
                    warning=True,
                    hint="give each message a property such as 'type' with a const value",
                )
            # Outgoing passthrough routing still benefits from the envelope convention.
            return (
                "action"
                if all(
                    _const(m.get("payload"), "action") is not None
                    for m in channel_messages.values()
                )
                and channel_messages
                else None
            )
        seen: dict[Any, str] = {}
        for key in incoming:
            value = _const(channel_messages[key].get("payload"), chosen)
            if value in seen:
                self.problem(
                    "N030",
                    f"channel {cid!r}: messages {seen[value]!r} and {key!r} both have "
                    f"{chosen}={value!r}",
                    f"/channels/{_escape(cid)}/messages/{_escape(key)}",
                )
            seen[value] = key
        return chosen

    def operations(
        self,
        cid: str,
        ops: list[tuple[str, dict[str, Any]]],
        channel_messages: dict[str, dict[str, Any]],
        key_of: dict[int, str],
    ) -> list[OperationModel]:
        methods: set[str] = set()
        out: list[OperationModel] = []
        for op_id, op in ops:
            pointer = f"/operations/{_escape(op_id)}"
            action = op.get("action")
            if action not in ("receive", "send"):
                continue
            for i, m in enumerate(op.get("messages") or []):
                if id(m) not in key_of:
                    self.problem(
                        "N021",
                        f"operation {op_id!r}: message {i} is not a message of channel {cid!r}",
                        f"{pointer}/messages/{i}",
                        hint=f"refer to it as '#/channels/{cid}/messages/<key>'",
                    )
            keys = tuple(self.op_message_keys(op, channel_messages, key_of))
            if self.chanx and chanx_compat.sends_nothing(op):
                keys = ()  # chanx: an event handler without output, not "all messages"
            reply_keys: tuple[str, ...] = ()
            reply = op.get("reply")
            if isinstance(reply, dict):
                reply_channel = reply.get("channel")
                if isinstance(reply_channel, dict) and reply_channel is not op.get("channel"):
                    self.problem(
                        "N022",
                        f"operation {op_id!r}: its reply is on another channel",
                        f"{pointer}/reply/channel",
                        warning=True,
                    )
                on_same = not isinstance(reply_channel, dict) or reply_channel is op.get("channel")
                if "messages" in reply or not on_same:
                    reply_keys = tuple(
                        key_of[id(m)] for m in reply.get("messages") or [] if id(m) in key_of
                    )
                else:  # no messages: every message of the (same) reply channel
                    reply_keys = tuple(channel_messages)
            events = tuple(
                self.message_class.get(id(e), "")
                for e in op.get("x-events") or []
                if isinstance(e, dict)
            )
            if action == "receive" and not keys and not op.get("messages"):
                self.problem(
                    "N023",
                    f"operation {op_id!r} receives no message of channel {cid!r}: no handler",
                    pointer,
                    warning=True,
                )
            handled = (action == "receive" and bool(keys)) or bool(events)
            method = ""
            if handled:
                name = snake_case(op_id)
                prefix = snake_case(cid) + "_"
                if name.startswith(prefix) and len(name) > len(prefix):
                    # "room_class" on channel "room": "class" is a keyword, "0day" no name
                    name = py_identifier(name[len(prefix) :])
                if name in RESERVED_METHODS or name.startswith("websocket_"):
                    name = "on_" + name
                method = unique(name, methods)
            summary, description = op.get("summary"), op.get("description")
            out.append(
                OperationModel(
                    id=op_id,
                    method=method,
                    action=action,
                    messages=keys,
                    reply=reply_keys,
                    events=events,
                    summary=summary if isinstance(summary, str) else None,
                    description=description if isinstance(description, str) else None,
                    metadata=self.operation_metadata(op),
                )
            )
        return out

    def operation_metadata(self, op: dict[str, Any]) -> dict[str, Any]:
        """What the code cannot show of an operation; its ``reply`` by reference.

        The reply is kept with ``$ref``s to its channel and messages (the emitter replaces the
        messages of a reply on the same channel by the handler's return types).
        """
        meta = _plain_dict(
            {
                k: v
                for k, v in op.items()
                if k not in ("action", "channel", "messages", "reply", "x-events")
            },
            self.spec_refs,
        )
        reply = op.get("reply")
        shown = (  # a plain reply on the same channel: the handler's return type shows it all
            isinstance(reply, dict)
            and op.get("action") == "receive"
            and set(reply) <= {"channel", "messages"}
            and reply.get("channel", op.get("channel")) is op.get("channel")
        )
        if isinstance(reply, dict) and not shown:
            out = {
                k: _plain(v, (), self.spec_refs)
                for k, v in reply.items()
                if k not in ("channel", "messages")
            }
            channel = reply.get("channel")
            cid = self.channel_ids.get(id(channel)) if isinstance(channel, dict) else None
            if cid is not None and isinstance(channel, dict):
                out["channel"] = {"$ref": f"#/channels/{_escape(cid)}"}
                keys = {id(m): k for k, m in (channel.get("messages") or {}).items()}
                if "messages" in reply:
                    out["messages"] = [
                        {"$ref": f"#/channels/{_escape(cid)}/messages/{_escape(keys[id(m)])}"}
                        for m in reply.get("messages") or []
                        if id(m) in keys
                    ]
            meta["reply"] = out
        return meta

    # ---- root metadata --------------------------------------------------------------------

    def root_metadata(self) -> dict[str, Any]:
        meta = {
            k: v
            for k, v in self.root.items()
            if k not in ("asyncapi", "channels", "operations", "components", "x-channel-layers")
        }
        out = _plain_dict(meta, self.scheme_refs)
        components = self.root.get("components") or {}
        schemes = components.get("securitySchemes")
        if isinstance(schemes, dict):
            out["components"] = {"securitySchemes": _plain_dict(schemes)}
        return out

    @property
    def scheme_refs(self) -> dict[int, str]:
        """``{id(security scheme): "#/components/securitySchemes/<name>"}``."""
        schemes = (self.root.get("components") or {}).get("securitySchemes") or {}
        return {
            id(v): f"#/components/securitySchemes/{_escape(str(k))}"
            for k, v in schemes.items()
            if isinstance(v, dict)
        }

    @property
    def spec_refs(self) -> dict[int, str]:
        """Security schemes and root servers by identity, as refs for nested metadata."""
        servers = self.root.get("servers") or {}
        refs = {
            id(v): f"#/servers/{_escape(str(k))}" for k, v in servers.items() if isinstance(v, dict)
        }
        refs.update(self.scheme_refs)
        return refs


def normalise(doc: LoadedDocument) -> tuple[ServiceModel | None, list[Problem]]:
    """Turn a loaded document into the internal model.

    Args:
        doc: the loaded document (refs resolved with identity sharing, see :mod:`.load`).

    Returns:
        ``(model, problems)``: ``model`` is ``None`` when the document cannot be generated at
        all (unsupported version); problems (errors and warnings, codes in
        :data:`NORMALISE_CODES`) are all those found, located by JSON pointer and file:line:col.
    """
    normaliser = _Normaliser(doc)
    model = normaliser.run()
    return model, normaliser.problems


# ---- helpers ----------------------------------------------------------------------------------


def _template_fields(template: str) -> list[str]:
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f]
    except ValueError:
        return []


def _valid_template(template: str) -> bool:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return False
    return all(f.isidentifier() for f in fields)


def _const(schema: Any, prop: str | None) -> Any:
    if not prop or not isinstance(schema, dict):
        return None
    target = (schema.get("properties") or {}).get(prop)
    if not isinstance(target, dict):
        return None
    if "const" in target:
        return target["const"]
    enum = target.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return enum[0]
    return None


def _to_bool(value: str) -> bool:
    return {"true": True, "false": False}[value.strip().lower()]


_COERCE: dict[str, Callable[[str], Any]] = {"boolean": _to_bool, "integer": int, "number": float}


def _walk_schemas(schema: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every schema object in ``schema`` (itself first) with its JSON pointer, through
    ``properties``, ``patternProperties``, ``items`` (one schema or a list),
    ``additionalProperties``, ``not`` and the combinators."""
    if not isinstance(schema, dict):
        return
    yield schema, pointer
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            for name, sub in value.items():
                yield from _walk_schemas(sub, f"{pointer}/{key}/{_escape(str(name))}")
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            yield from _walk_schemas(value, f"{pointer}/{key}")
        elif key in ("allOf", "anyOf", "oneOf", "items") and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from _walk_schemas(sub, f"{pointer}/{key}/{i}")


def _fix_defaults(schema: Any, pointer: str) -> list[str]:
    """Coerce string defaults of boolean/integer/number schemas in place (``'false'`` ->
    ``False``), or drop them when they do not parse; returns the pointers changed. The spec's
    own value is kept under ``x-chanspec-default`` (the field's ``json_schema_extra``), so the
    emitted document says what the spec says."""
    changed: list[str] = []
    for node, where in list(_walk_schemas(schema, pointer)):
        kind, default = node.get("type"), node.get("default")
        if isinstance(kind, str) and kind in _COERCE and isinstance(default, str):
            try:
                node["default"] = _COERCE[kind](default)
            except (KeyError, ValueError):
                del node["default"]
            node["x-chanspec-default"] = default
            changed.append(where + "/default")
    return changed


# keywords that only constrain objects / arrays (JSON Schema draft-07, sections 6.4 and 6.5)
_OBJECT_ONLY = ("properties", "patternProperties", "additionalProperties", "required",
                "minProperties", "maxProperties", "propertyNames", "dependencies")  # fmt: skip
_ARRAY_ONLY = ("items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains")


def _drop_foreign_keywords(schema: Any, pointer: str) -> list[str]:
    """Remove, in place, object keywords beside a single ``type`` other than ``object`` and
    array keywords beside one other than ``array`` (``type: string`` with ``properties``:
    Springwolf writes XML payloads so); they constrain nothing an instance can be, and a
    model generator would build an object. Returns the pointers of the keywords removed."""
    dropped: list[str] = []
    for node, where in list(_walk_schemas(schema, pointer)):
        kind = node.get("type")
        if not isinstance(kind, str):
            continue
        foreign = (() if kind == "object" else _OBJECT_ONLY) + (
            () if kind == "array" else _ARRAY_ONLY
        )
        for key in [k for k in foreign if k in node]:
            del node[key]
            dropped.append(f"{where}/{key}")
    return dropped


def _tuple_items(schema: Any, pointer: str) -> list[str]:
    """Pointers of the ``items`` given as a list (the tuple form of draft-04 to 2019-09)."""
    return [
        where + "/items"
        for node, where in _walk_schemas(schema, pointer)
        if isinstance(node.get("items"), list)
    ]


# Keywords that describe a use of a schema rather than its type: they stay beside the $ref.
_ANNOTATIONS = frozenset(
    {"description", "default", "examples", "example", "deprecated", "readOnly", "writeOnly",
     "title", "externalDocs"}
)  # fmt: skip


def _class_like(schema: dict[str, Any]) -> bool:
    """True for an inline schema datamodel-code-generator would make a class of: an object
    with properties, or an enum, one value included (a discriminator's is a ``const`` by
    now), not a type list with ``null``, nor a schema combined with ``allOf``/``oneOf``/
    ``anyOf`` at the same level, which it names itself."""
    if any(k in schema for k in ("allOf", "oneOf", "anyOf", "not", "const")):
        return False
    kind = schema.get("type")
    if kind is not None and not isinstance(kind, str):
        return False
    props = schema.get("properties")
    if isinstance(props, dict) and props and kind in (None, "object"):
        return True
    enum = schema.get("enum")
    return isinstance(enum, list) and len(enum) >= 1 and kind in (None, "string", "integer")


# Formats datamodel-code-generator maps to a type whose pydantic JSON Schema says the same
# format (uuid -> UUID -> "uuid"); any other is carried in json_schema_extra (render.py).
SHOWN_FORMATS = frozenset(
    {"binary", "date", "date-time", "duration", "email", "ipv4", "ipv6", "time", "uri", "uuid",
     "uuid1", "uuid3", "uuid4", "uuid5"}
)  # fmt: skip


def _constrained_primitive(schema: dict[str, Any]) -> bool:
    """True for a string/number/integer/boolean schema that says more than its type (and a
    format pydantic shows): datamodel-code-generator makes a ``RootModel`` of such array items
    and names it after the property (``Id``, ``Id1``: numbered in document order)."""
    kind = schema.get("type")
    if kind not in ("string", "number", "integer", "boolean"):
        return False
    if any(k in schema for k in ("allOf", "oneOf", "anyOf", "not", "const", "enum")):
        return False
    rest = set(schema) - {"type", "title"}
    if schema.get("format") in SHOWN_FORMATS:
        rest.discard("format")
    return bool(rest)


def _member_suffix(member: Any, index: int) -> str:
    """Name part of a ``oneOf``/``anyOf`` member: the value of a property with a ``const``
    (``circle``), else ``Option<n>`` (1-based)."""
    if isinstance(member, dict):
        for prop in (member.get("properties") or {}).values():
            value = prop.get("const") if isinstance(prop, dict) else None
            if isinstance(value, str) and pascal_case(value) not in ("X", ""):
                return pascal_case(value)
    return f"Option{index + 1}"


def _object_like(schema: dict[str, Any]) -> bool:
    """True for a schema datamodel-code-generator turns into a model class with fields."""
    return schema.get("type") == "object" or "properties" in schema


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return "string"


def _metadata(message: Mapping[str, Any]) -> dict[str, Any]:
    return _plain_dict({k: v for k, v in message.items() if k not in ("payload", "traits")})


def _plain_dict(value: dict[str, Any], refs: Mapping[int, str] | None = None) -> dict[str, Any]:
    plain = _plain(value, (), refs or {}, top=True)
    assert isinstance(plain, dict)
    return plain


def _plain(
    value: Any, _stack: tuple[int, ...] = (), refs: Mapping[int, str] = {}, top: bool = False
) -> Any:
    """A JSON-compatible deep copy; a cycle is cut with ``{"$ref": "#"}``.

    A nested object that is one of ``refs`` (by identity) becomes ``{"$ref": refs[id]}``, so
    references the spec makes (a channel's servers, security requirements) stay references in
    the emitted document, which the diff compares by name like the spec's.
    """
    if isinstance(value, dict):
        if not top and id(value) in refs:
            return {"$ref": refs[id(value)]}
        if id(value) in _stack:
            return {"$ref": "#"}
        stack = (*_stack, id(value))
        return {str(k): _plain(v, stack, refs) for k, v in value.items()}
    if isinstance(value, list):
        if id(value) in _stack:
            return []
        stack = (*_stack, id(value))
        return [_plain(v, stack, refs) for v in value]
    return value


def _component_name(ref: Any) -> str | None:
    """``"#/components/schemas/a~1b"`` -> ``"a/b"``; None for any other ref."""
    prefix = "#/components/schemas/"
    if not isinstance(ref, str) or not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
        return None
    return unquote(ref[len(prefix) :]).replace("~1", "/").replace("~0", "~")


# Keywords whose value is a map of schemas / a schema or a list of schemas (JSON Schema).
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMAS = (
    "items", "additionalItems", "prefixItems", "additionalProperties", "not", "if", "then",
    "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "allOf",
    "anyOf", "oneOf",
)  # fmt: skip


def _bundle(
    raw: Any,
    resolved: Any,
    names: Mapping[str, str],
    itself: Mapping[int, str] | None = None,
    top: bool = True,
) -> Any:
    """Schema for the model bundle: refs to component schemas point at their class names in
    the bundle; every other ref is inlined, except one back to a schema in ``itself``
    (``{id(resolved schema): "#/components/schemas/<Class>"}``), which refers to that class.
    Only subschemas are bundled; other values (``examples``, extensions, keys no JSON Schema
    knows) are copied resolved, as the spec says them. The schema itself (``top``) is always
    written out: a payload that is a ``$ref`` to a schema elsewhere in the document is that
    schema, not a reference to itself."""
    refs = itself or {}
    if isinstance(raw, dict):
        ref = raw.get("$ref")
        if isinstance(ref, str):
            name = _component_name(ref)
            if name is not None and name in names:
                return {"$ref": "#/components/schemas/" + names[name]}
            if id(resolved) in refs and not top:
                return {"$ref": refs[id(resolved)]}
            return _plain(resolved, (), refs, top=top)
        res = resolved if isinstance(resolved, dict) else {}
        out: dict[str, Any] = {}
        for k, v in raw.items():
            key = str(k)
            if key in _SUBSCHEMA_MAPS and isinstance(v, dict):
                found = res.get(k)
                sub: dict[Any, Any] = found if isinstance(found, dict) else {}
                out[key] = {
                    str(n): _bundle(s, sub.get(n), names, refs, False) for n, s in v.items()
                }
            elif key in _SUBSCHEMAS:
                out[key] = _bundle(v, res.get(k), names, refs, False)
            else:  # a keyword's value, an extension, an unknown key: as the spec says it
                out[key] = _plain(res.get(k, v), (), refs)
        return out
    if isinstance(raw, list):
        res_list = resolved if isinstance(resolved, list) else []
        return [
            _bundle(v, res_list[i] if i < len(res_list) else None, names, refs, False)
            for i, v in enumerate(raw)
        ]
    if raw is None and resolved is not None:
        return _plain(resolved, (), refs, top=top)
    return raw


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
