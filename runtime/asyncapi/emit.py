"""Emission of the app's AsyncAPI 3.0 document from the live consumer classes.

What the code shows comes from the code: each WebSocket route's path is a channel ``address``;
its consumer's ``@ws_handler`` methods are ``action: receive`` operations whose return types
are the ``reply``; its ``@event_handler`` methods are ``action: send`` operations with their
events under ``x-events``; ``send_operations`` declared on the class are ``action: send``
operations, and so are the ``receive`` operations without messages it lists (no handler can show
them); layer alias and groups are ``x-channel-layer`` and ``x-groups``; message payloads are
the models' JSON Schemas (:mod:`.schemas`). What the code cannot show (info, servers,
descriptions, tags, bindings, examples, extensions) is read from the metadata the generator put
into the contract (the ``document`` given to ``create_app`` and each class's ``asyncapi``).

Source: AsyncAPI 3.0.0 (https://www.asyncapi.com/docs/reference/specification/v3.0.0).
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml
from pydantic import BaseModel
from starlette.routing import BaseRoute, Mount, WebSocketRoute

from ..consumer import Consumer
from ..layers import LayerSpec
from .schemas import PayloadSchemas

__all__ = ["build_document", "consumer_routes", "dump_json", "dump_yaml", "layers_extension"]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def consumer_routes(
    routes: Iterable[BaseRoute], prefix: str = ""
) -> Iterator[tuple[str, type[Consumer]]]:
    """Yield ``(path, consumer class)`` for every WebSocket route served by a chanspec consumer.

    Mounted sub-applications and routers are walked; the path includes the mount prefix.
    """
    for route in routes:
        if isinstance(route, WebSocketRoute):
            cls = getattr(route.app, "consumer_class", None)
            if isinstance(cls, type) and issubclass(cls, Consumer):
                yield prefix + route.path, cls
        elif isinstance(route, Mount):
            yield from consumer_routes(route.routes, prefix + route.path)


def _params(path: str) -> list[str]:
    return [f.split(":")[0] for _, f, _, _ in string.Formatter().parse(path) if f]


class _ChannelEmitter:
    def __init__(self, path: str | None, cls: type[Consumer], schemas: PayloadSchemas) -> None:
        self.cls = cls
        self.schemas = schemas
        self.meta: Mapping[str, Any] = cls.asyncapi or {}
        self.cid = cls.channel_id or cls.__name__
        self.ref = f"#/channels/{_escape(self.cid)}"
        self.channel: dict[str, Any] = copy.deepcopy(dict(self.meta.get("channel", {})))
        # the spec's address verbatim when this route serves it (a route path needs a leading
        # "/" that an address such as "light/measured" does not have)
        declared = cls.address
        served = (declared if declared.startswith("/") else "/" + declared) if declared else None
        self.channel["address"] = declared if declared and served == path else path
        self.key_of: dict[type[BaseModel], str] = {}
        self.messages: dict[str, Any] = {}
        for key, model in cls.messages.items():
            self.key_of.setdefault(model, key)

    def message_ref(self, model: type[BaseModel]) -> dict[str, str]:
        key = self.key_for(model)
        return {"$ref": f"{self.ref}/messages/{_escape(key)}"}

    def key_for(self, model: type[BaseModel]) -> str:
        key = self.key_of.get(model)
        if key is None:
            key = model.__name__
            self.key_of[model] = key
        if key not in self.messages:
            self.messages[key] = self.message_object(model, self.meta_message(key), key)
        return key

    def meta_message(self, key: str) -> Mapping[str, Any]:
        return dict(self.meta.get("messages", {}).get(key, {}))

    def message_object(
        self, model: type[BaseModel], meta: Mapping[str, Any], key: str | None = None
    ) -> dict[str, Any]:
        obj = copy.deepcopy(dict(meta))
        if "payload" in obj and obj["payload"] is None:  # the spec's message has no payload
            del obj["payload"]
        elif "payload" not in obj:  # a payload no code can show (Avro, ...) is carried as is
            optional = self.meta.get("optional_discriminator", ())
            field = self.cls.discriminator_field
            keep = frozenset({field}) if field and key is not None and key in optional else None
            obj["payload"] = self.schemas.schema_of(model, optional=keep or frozenset())
        return obj

    def operations(self) -> dict[str, Any]:
        ops: dict[str, Any] = {}
        meta_ops: Mapping[str, Any] = self.meta.get("operations", {})
        for entry in self.cls.ws_handlers:
            route, info = entry.route, entry.info
            op = copy.deepcopy(dict(meta_ops.get(route.operation_id, {})))
            op["action"] = "receive"
            op["channel"] = {"$ref": self.ref}
            op["messages"] = [self.message_ref(m) for m in route.models]
            declared = op.pop("reply", None)
            if route.output_types:
                # the spec's reply (address, another channel ...) with the handler's messages
                reply = dict(declared) if isinstance(declared, dict) else {"channel": {}}
                if reply.get("channel", {}).get("$ref", self.ref) == self.ref:
                    reply["channel"] = {"$ref": self.ref}
                    reply["messages"] = [self.message_ref(m) for m in route.output_types]
                op["reply"] = reply
            elif isinstance(declared, dict) and declared.get("channel", {}).get("$ref") not in (
                None,
                self.ref,
            ):
                op["reply"] = declared  # a reply on another channel: not shown by the code
            _overlay(op, info.summary, info.description, info.tags)
            ops[route.operation_id] = op
        meta_events: Mapping[str, Any] = self.meta.get("events", {})
        for entry in self.cls.event_handlers:
            route, info = entry.route, entry.info
            op = copy.deepcopy(dict(meta_ops.get(route.operation_id, {})))
            op["action"] = "send"
            op["channel"] = {"$ref": self.ref}
            op["messages"] = [self.message_ref(m) for m in route.output_types]
            op["x-events"] = [
                self.message_object(m, meta_events.get(m.__name__, {"name": m.__name__}))
                for m in route.models
            ]
            _overlay(op, info.summary, info.description, info.tags)
            ops[route.operation_id] = op
        for op_id, keys in self.cls.send_operations.items():
            if op_id in ops:
                continue
            op = copy.deepcopy(dict(meta_ops.get(op_id, {})))
            op["action"] = "send"
            op["channel"] = {"$ref": self.ref}
            op["messages"] = [self.message_ref(self.cls.messages[k]) for k in keys]
            ops[op_id] = op
        for op_id in self.meta.get("receive_without_messages", ()):
            if op_id not in ops:  # no message, so no handler: declared by the contract
                op = copy.deepcopy(dict(meta_ops.get(op_id, {})))
                op.update(action="receive", channel={"$ref": self.ref}, messages=[])
                ops[op_id] = op
        return ops

    def build(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        operations = self.operations()
        for key, model in self.cls.messages.items():
            if key not in self.messages:
                self.messages[key] = self.message_object(model, self.meta_message(key), key)
        channel = self.channel
        names = _params(channel["address"] or "")
        declared: Mapping[str, Any] = channel.pop("parameters", None) or {}
        # A generated contract lists the spec's parameters: keep exactly those (a spec may
        # leave one undeclared, or declare one its address does not use); code written by
        # hand declares every path parameter.
        generated = "channel" in self.meta
        kept = [n for n in names if n in declared or not generated]
        if generated:
            kept += [n for n in declared if n not in names]
        if kept:
            channel["parameters"] = {n: copy.deepcopy(declared.get(n, {})) for n in kept}
        ordered: dict[str, Any] = {
            k: channel[k] for k in ("address", "title", "summary", "description") if k in channel
        }
        ordered["messages"] = {k: self.messages[k] for k in sorted(self.messages, key=self._order)}
        ordered.update({k: v for k, v in channel.items() if k not in ordered})
        if self.cls.channel_layer_alias:
            ordered["x-channel-layer"] = self.cls.channel_layer_alias
        else:
            ordered.pop("x-channel-layer", None)
        groups = list(self.cls.groups_templates())
        if groups:
            ordered["x-groups"] = groups
        else:
            ordered.pop("x-groups", None)
        return self.cid, ordered, operations

    def _order(self, key: str) -> tuple[int, str]:
        keys = list(self.cls.messages)
        return (keys.index(key), key) if key in keys else (len(keys), key)


def _overlay(
    op: dict[str, Any], summary: str | None, description: str | None, tags: Iterable[str]
) -> None:
    if summary:
        op["summary"] = summary
    if description:
        op["description"] = description
    names = list(tags)
    if names:
        op["tags"] = [{"name": n} for n in names]


def layers_extension(layers: Iterable[LayerSpec]) -> dict[str, Any]:
    """The root ``x-channel-layers`` object for the declared layers (numbers as written)."""
    out: dict[str, Any] = {}
    for spec in layers:
        entry: dict[str, Any] = {"type": spec.type}
        for name in ("prefix", "expiry", "capacity", "group_expiry"):
            value = getattr(spec, name)
            if value is not None:
                entry[name] = (
                    int(value) if isinstance(value, float) and value.is_integer() else value
                )
        out[spec.alias] = entry
    return out


def build_document(
    routes: Iterable[BaseRoute],
    metadata: Mapping[str, Any] | None = None,
    layers: Iterable[LayerSpec] | None = None,
    consumers: Iterable[type[Consumer]] = (),
) -> dict[str, Any]:
    """Build the AsyncAPI 3.0.0 document of an app.

    Args:
        routes: the app's routes (``app.routes``); every WebSocket route served by a
            :class:`~chanspec.runtime.consumer.Consumer` becomes a channel.
        metadata: the document skeleton carried by the generated contract (``info``,
            ``servers``, ``components.securitySchemes``, root extensions ...). Its
            ``channels`` and ``operations`` are ignored: they come from the code.
        layers: the registered layer declarations; emitted as root ``x-channel-layers``.
        consumers: consumer classes of channels that may have no route; each one not served
            by a route is emitted after the routed ones, with ``address: null``.

    Returns:
        A JSON-compatible dict with keys in a fixed order; channels and operations appear in
        route order, operations of a channel in handler order. Deterministic for the same code.
    """
    meta = copy.deepcopy(dict(metadata or {}))
    meta.pop("channels", None)
    meta.pop("operations", None)
    doc: dict[str, Any] = {"asyncapi": "3.0.0"}
    meta.pop("asyncapi", None)
    for key in ("id", "info", "servers", "defaultContentType"):
        if key in meta:
            doc[key] = meta.pop(key)
    doc.setdefault("info", {"title": "chanspec app", "version": "0.0.0"})
    schemas = PayloadSchemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    served: list[tuple[str | None, type[Consumer]]] = list(consumer_routes(routes))
    routed = {cls for _, cls in served}
    served += [(None, cls) for cls in consumers if cls not in routed]
    for path, cls in served:
        cid, channel, ops = _ChannelEmitter(path, cls, schemas).build()
        channels[cid] = channel
        for op_id, op in ops.items():
            operations[op_id if op_id not in operations else f"{cid}_{op_id}"] = op
    doc["channels"] = channels
    doc["operations"] = operations
    components = meta.pop("components", {})
    if schemas.components:
        components.setdefault("schemas", {}).update(schemas.components)
    if components:
        doc["components"] = components
    doc.update(meta)
    if layers is not None:
        declared = layers_extension(layers)
        if declared:
            doc["x-channel-layers"] = declared
    return doc


def dump_json(document: Mapping[str, Any]) -> str:
    """The document as pretty JSON text (2-space indent, UTF-8, trailing newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: Mapping[str, Any]) -> str:
    """The document as YAML: block style, keys in document order, no anchors or aliases."""
    return yaml.dump(
        dict(document), Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100
    )
