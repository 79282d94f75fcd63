"""Convert a loaded AsyncAPI 2.x document into a resolved AsyncAPI 3.0.0 tree.

The mapping follows the AsyncAPI 3.0.0 release notes ("Operation, channel, and message
decoupling", "Server URL splitting", "Channel address and channel key", "Parameters no
longer have a schema", "Optional message ids", "Unified referencing", "Schema format
and schemas", "Moved tags and externalDocs to info", "New trait behaviour") and, where
those leave a choice, the official converter (``@asyncapi/converter``, 2.6.0 -> 3.0.0,
point of view ``application``).  Every rule and assumption is listed in
``docs/asyncapi-2-conversion.md``; in short:

- ``servers.*.url`` -> ``host`` + ``pathname`` (+ ``protocol`` from the URL scheme when
  the server has none); 2.x security requirements -> lists of Security Scheme objects
  (with ``scopes`` for oauth2/openIdConnect); ``flows.*.scopes`` -> ``availableScopes``.
- each ``channels`` entry (key = the address) -> a 3.0 channel keyed by a channel id
  (``x-channelId``, else :func:`channel_id` of the address) with ``address`` = the key;
- ``publish`` (the client publishes: the application **receives**) -> an operation with
  ``action: receive``; ``subscribe`` (the application **sends**) -> ``action: send``;
  operation id = ``operationId``, else ``publish_<channel id>`` / ``subscribe_<channel id>``;
- the operation's ``message`` (or each ``oneOf`` member) -> the channel's ``messages``
  (keyed by message ``name``, else ``messageId``, else its ``components.messages`` key,
  else ``<operation id>_message[_<i>]``), the operation's ``messages`` list holding the
  very same objects;
- parameters lose ``schema``; its ``enum``/``const``/``default``/``examples``/
  ``description`` become the parameter's (as strings);
- root ``tags`` / ``externalDocs`` move into ``info``; ``id``, ``defaultContentType``,
  ``info`` and ``x-*`` are kept; components are carried over (converted in place).

Identity: the result follows the loader's conventions (:mod:`.load`): no ``$ref``,
one Python object per target.  The objects of the 2.x tree are reused and converted
**in place** (servers, parameters, messages, security schemes, traits, info; schemas
are never touched), so ``doc.source`` positions by identity keep working; the objects
that 3.0 needs new (channels, operations, maps, scoped security schemes, multi-format
payload wrappers) get the positions of what they were made from, recorded in
``doc.source``.  2.x traits are merged first (2.x precedence: the trait wins, see
:mod:`.traits`) and then dropped from converted operations and messages (keeping them
would apply them a second time with 3.0 precedence).

Problems use the ``C`` codes of :data:`CONVERT_CODES`; each is located with
``doc.source.position_of`` and carries the 2.x JSON pointer where it was found.
Nothing here raises for document content.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Iterator
from typing import Any, TypeGuard

from .load import LoadedDocument
from .naming import unique
from .problems import Problem, Severity
from .source import SourceMap
from .traits import apply_traits

__all__ = [
    "CONVERT_CODES",
    "bundle_v3",
    "channel_id",
    "convert_document",
    "convert_to_v3",
    "split_server_url",
]

#: Stable problem codes of the 2.x -> 3.0 conversion -> short title (documentation table).
CONVERT_CODES: dict[str, str] = {
    "C001": "AsyncAPI version cannot be converted to 3.0",
    "C010": "channel, operation or server entry is not an object (skipped)",
    "C011": "x-channelId is not a usable channel id (the address-derived id is used)",
    "C020": "channel lists a server name that is not declared in servers (dropped)",
    "C030": "operation has no message (converted with an empty messages list)",
    "C031": "message entry is not an object (skipped)",
    "C032": "duplicate operationId (renamed)",
    "C040": "parameter schema keywords have no AsyncAPI 3.0 equivalent (dropped)",
    "C050": "server has no url",
    "C051": "server url has no host",
    "C060": "security requirement names an undeclared security scheme (dropped)",
    "C061": "security requirement needs several schemes at once (3.0 lists alternatives)",
    "C062": "scopes on a security scheme type that takes none (dropped)",
    "C070": "components message is a oneOf list, not a message (left out of components)",
}

#: ``schemaFormat`` values whose payload is an AsyncAPI/JSON Schema (kept unwrapped).
JSON_SCHEMA_FORMAT = re.compile(r"application/(vnd\.aai\.asyncapi|schema)(\+json|\+yaml)?(;.*)?\Z")

_ROOT_ORDER = ("asyncapi", "id", "info", "servers", "defaultContentType", "channels")
_CHANNEL_ORDER = ("address", "messages", "title", "summary", "description", "servers")
_CHANNEL_ORDER_TAIL = ("parameters", "tags", "externalDocs", "bindings")
_OP_ORDER = ("action", "channel", "title", "summary", "description", "security", "tags")
_OP_ORDER_TAIL = ("externalDocs", "bindings", "messages")
_SERVER_ORDER = (
    "host", "pathname", "protocol", "protocolVersion", "title", "summary", "description",
    "variables", "security", "tags", "externalDocs", "bindings",
)  # fmt: skip
#: Parameter-schema keywords that map onto 3.0 parameter fields (or carry no constraint).
_PARAM_MAPPED = frozenset(
    {"enum", "const", "default", "examples", "example", "description", "title", "$comment"}
)
_SCOPED_TYPES = ("oauth2", "openIdConnect")
_MESSAGE_TRAIT_2X_ONLY = ("messageId", "schemaFormat")

# convert_to_v3 rewrites the 2.x objects in place, so a second call must not convert
# them again: results are remembered per LoadedDocument (dropped with the document).
_RESULTS: dict[int, tuple[dict[str, Any], list[Problem]]] = {}


def channel_id(address: str) -> str:
    """The channel id made from a 2.x channel key (its address) when no ``x-channelId``.

    Runs of characters other than ASCII letters and digits become one ``_``; leading
    and trailing ``_`` are dropped; case is kept; ``"channel"`` when nothing is left.
    ``"/ws/room/{room}"`` -> ``"ws_room_room"``, ``"user.signedup"`` -> ``"user_signedup"``.
    Uniqueness (``_2``, ``_3`` ... suffixes) is the caller's job.
    """
    return re.sub(r"[^0-9A-Za-z]+", "_", address).strip("_") or "channel"


def split_server_url(url: str) -> tuple[str | None, str, str | None]:
    """Split a 2.x server ``url`` into ``(scheme, host, pathname)`` as 3.0 wants it.

    ``"wss://api.example.com:{port}/ws/v1"`` -> ``("wss", "api.example.com:{port}",
    "/ws/v1")``; ``"localhost:8080"`` -> ``(None, "localhost:8080", None)``.  Server
    variables are kept verbatim (in host or pathname); an empty host means the URL was
    relative.  Same rule as the official converter (split at ``://``, then at the first
    ``/``).
    """
    scheme: str | None
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = None, url
    host, slash, path = rest.partition("/")
    return scheme, host, ("/" + path if slash else None)


def convert_to_v3(doc: LoadedDocument) -> tuple[dict[str, Any], list[Problem]]:
    """Convert the resolved tree of a 2.x document into a resolved AsyncAPI 3.0.0 tree.

    Args:
        doc: a loaded document (:func:`~chanspec.codegen.load.load_document`).

    Returns:
        ``(resolved3, problems)``.  For ``asyncapi: 3.0.x`` / ``3.1.x`` documents
        ``resolved3`` is ``doc.resolved`` itself, unchanged, and ``problems`` is empty.
        For 2.0.0-2.6.x it is a new root dict (``asyncapi: "3.0.0"``) built from the
        objects of ``doc.resolved``, which are converted in place (``doc.raw`` is never
        touched); calling again on the same ``doc`` returns the same tree and problems.
        For any other version (or an empty tree) ``doc.resolved`` is returned with an
        error C001 (nothing for an empty tree: the loader already said why).  The
        problems (codes :data:`CONVERT_CODES`, mostly warnings) are located through
        ``doc.source``.  Never raises for document content.
    """
    version = str(doc.version or "")
    if version.startswith("3.") or not doc.resolved:
        return doc.resolved, []
    known = _RESULTS.get(id(doc))
    if known is not None:
        return known[0], list(known[1])
    if not re.match(r"2\.[0-6]\.", version):
        problem = Problem(
            "C001",
            f"AsyncAPI {version or '(no version)'} cannot be converted to 3.0.0",
            Severity.ERROR,
            "/asyncapi",
            doc.source.position_of(doc.raw, "asyncapi") or doc.source.position_of(doc.raw),
            hint="only AsyncAPI 2.0.0 to 2.6.0 documents are converted",
        )
        return doc.resolved, [problem]
    converter = _Converter(doc)
    result = converter.run()
    _RESULTS[id(doc)] = (result, converter.problems)
    weakref.finalize(doc, _RESULTS.pop, id(doc), None)
    return result, list(converter.problems)


def convert_document(doc: LoadedDocument) -> LoadedDocument:
    """A 3.0 :class:`LoadedDocument` for ``doc``: ``doc`` itself when it is already 3.x.

    For a 2.x document: ``resolved`` is :func:`convert_to_v3`'s tree; ``raw`` is
    :func:`bundle_v3` of it (the 3.0 document as it would be written, with ``$ref`` to
    components, channels, servers and messages; every container positioned like the
    object it copies, so ``position_at(raw, pointer)`` finds the 2.x source text);
    ``version`` is ``"3.0.0"``; ``problems`` are the loader's followed by the
    conversion's.  A document that cannot be converted (C001) keeps its trees and
    version, with the problem added.  ``source``, ``path`` are ``doc``'s.
    """
    version = str(doc.version or "")
    if version.startswith("3.") or not doc.resolved:
        return doc
    resolved, problems = convert_to_v3(doc)
    if resolved is doc.resolved:
        return LoadedDocument(
            doc.raw, doc.resolved, doc.source, doc.path, doc.version, [*doc.problems, *problems]
        )
    raw = bundle_v3(resolved, source=doc.source)
    return LoadedDocument(raw, resolved, doc.source, doc.path, "3.0.0", [*doc.problems, *problems])


# -- helpers ---------------------------------------------------------------------------------


def _is_object(value: object) -> TypeGuard[dict[str, Any]]:
    """A mapping that is not an unresolved ``{"$ref": ...}`` (the loader reported those)."""
    return isinstance(value, dict) and not isinstance(value.get("$ref"), str)


def _is_ref(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("$ref"), str)


def _esc(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _text(value: Any) -> str:
    """A parameter value as 3.0 wants it (a string): JSON text for non-strings."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _ordered(obj: dict[str, Any], first: tuple[str, ...], last: tuple[str, ...] = ()) -> None:
    """Reorder ``obj`` in place: ``first`` keys, the others, then ``last`` keys."""
    items = list(obj.items())
    obj.clear()
    for key in first:
        for k, v in items:
            if k == key:
                obj[k] = v
    for k, v in items:
        if k not in first and k not in last:
            obj[k] = v
    for key in last:
        for k, v in items:
            if k == key:
                obj[k] = v


class _Converter:
    """One conversion: the 2.x tree, the source map, problems and what was converted."""

    def __init__(self, doc: LoadedDocument) -> None:
        self.doc = doc
        self.src: SourceMap = doc.source
        self.root2: dict[str, Any] = doc.resolved
        self.problems: list[Problem] = []
        components = self.root2.get("components")
        self.comps2: dict[str, Any] = components if isinstance(components, dict) else {}
        schemes = self.comps2.get("securitySchemes")
        self.schemes: dict[str, Any] = schemes if isinstance(schemes, dict) else {}
        servers = self.root2.get("servers")
        self.servers: dict[str, Any] = servers if isinstance(servers, dict) else {}
        messages = self.comps2.get("messages")
        self.component_key: dict[int, str] = {}
        for key, msg in (messages if isinstance(messages, dict) else {}).items():
            if isinstance(msg, dict):
                self.component_key.setdefault(id(msg), str(key))
        self.done: set[int] = set()  # converted in place: servers, parameters, schemes ...
        self.names: dict[int, tuple[str | None, str | None]] = {}  # message name, messageId
        self.scoped: dict[tuple[int, tuple[str, ...]], dict[str, Any]] = {}
        self.channel_ids: set[str] = set()
        self.op_ids: set[str] = set()
        self.from_item: dict[int, dict[str, Any]] = {}  # id(2.x channel item) -> 3.0 channel
        self.operations: dict[str, Any] = {}
        self.component_operations: dict[str, Any] = {}

    # -- problems and positions --------------------------------------------------------------

    def warn(
        self,
        code: str,
        message: str,
        where: object,
        key: object = None,
        pointer: str = "",
        hint: str | None = None,
    ) -> None:
        pos = self.src.position_of(where, key) if key is not None else None
        pos = pos or self.src.position_of(where)
        self.problems.append(Problem(code, message, Severity.WARNING, pointer, pos, hint))

    def locate(
        self,
        new: dict[str, Any] | list[Any],
        old: object,
        keys: dict[object, object] | None = None,
    ) -> None:
        """Give ``new`` the position of ``old``, and its members those of ``old``'s.

        ``keys`` maps a member of ``new`` to the container it was written in, as
        ``(container, key)`` pairs or containers (then the container's own position).
        """
        pos = self.src.position_of(old)
        if pos is not None:
            self.src.record_node(new, pos)
        members: list[object] = list(new) if isinstance(new, dict) else list(range(len(new)))
        for member in members:
            spec = (keys or {}).get(member)
            if isinstance(spec, tuple):
                found = self.src.position_of(spec[0], spec[1])
            elif spec is not None:
                found = self.src.position_of(spec)
            else:
                found = self.src.position_of(old, member)
            if found is not None:
                self.src.record_key(new, member, found)

    # -- entry -------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        root2 = self.root2
        apply_traits(root2, self.doc.version, source=self.src)
        root3: dict[str, Any] = {"asyncapi": "3.0.0"}
        info = root2.get("info")
        if isinstance(info, dict):
            for key in ("tags", "externalDocs"):  # 3.0: they live in info
                if key in root2 and key not in info:
                    info[key] = root2[key]
                    pos = self.src.position_of(root2, key)
                    if pos is not None:
                        self.src.record_key(info, key, pos)
        for key, value in root2.items():
            if key in ("asyncapi", "channels", "components") or (
                key in ("tags", "externalDocs") and isinstance(info, dict)
            ):
                continue
            root3[key] = value
        for name, server in self.servers.items():
            self.server(server, f"/servers/{_esc(name)}")
        channels2 = root2.get("channels")
        channels3 = self.channels(channels2 if isinstance(channels2, dict) else {})
        root3["channels"] = channels3
        root3["operations"] = self.operations
        components3 = self.components()
        if components3 is not None:
            root3["components"] = components3
        _ordered(root3, _ROOT_ORDER + ("operations", "components"))
        self.locate(root3, root2, {"operations": (root2, "channels")})
        return root3

    # -- servers and security ----------------------------------------------------------------

    def server(self, server: Any, ptr: str) -> None:
        """Convert a 2.x Server Object in place (once): ``url`` -> host/pathname/protocol."""
        if not _is_object(server):
            if not _is_ref(server):
                self.warn("C010", f"server {ptr} is not an object", server, pointer=ptr)
            return
        if id(server) in self.done:
            return
        self.done.add(id(server))
        url = server.get("url")
        url_pos = self.src.position_of(server, "url")
        if "url" in server:
            del server["url"]
        if isinstance(url, str):
            scheme, host, pathname = split_server_url(url)
            server["host"] = host
            if pathname is not None:
                server["pathname"] = pathname
            if "protocol" not in server and scheme:
                server["protocol"] = scheme
            for key in ("host", "pathname"):
                if url_pos is not None and key in server:
                    self.src.record_key(server, key, url_pos)
            if not host:
                self.warn(
                    "C051",
                    f"server url {url!r} has no host (a relative url); 3.0 requires one",
                    server,
                    "host",
                    ptr + "/url",
                    hint="write the host in the url, e.g. 'ws://example.com/path'",
                )
        else:
            self.warn("C050", "server has no url (3.0 requires host)", server, pointer=ptr)
        if "security" in server:
            server["security"] = self.security(server["security"], ptr + "/security")
        _ordered(server, _SERVER_ORDER)

    def security(self, requirements: Any, ptr: str) -> list[Any]:
        """2.x Security Requirement Objects -> a 3.0 list of Security Scheme objects."""
        out: list[Any] = []
        if not isinstance(requirements, list):
            return out
        for i, req in enumerate(requirements):
            if not isinstance(req, dict):
                continue
            if len(req) > 1:
                self.warn(
                    "C061",
                    f"security requirement needs all of {', '.join(map(str, req))} at once; "
                    "AsyncAPI 3.0 lists alternatives, so any one of them will be accepted",
                    requirements,
                    i,
                    f"{ptr}/{i}",
                )
            for name, scopes in req.items():
                scheme = self.schemes.get(name)
                if not _is_object(scheme):
                    if scheme is None:
                        self.warn(
                            "C060",
                            f"security scheme {name!r} is not declared in "
                            "components.securitySchemes",
                            req,
                            name,
                            f"{ptr}/{i}/{_esc(name)}",
                        )
                    elif _is_ref(scheme):
                        out.append(scheme)
                    continue
                self.scheme(scheme)
                names = tuple(str(s) for s in scopes) if isinstance(scopes, list) else ()
                if names and scheme.get("type") in _SCOPED_TYPES:
                    item = self.scoped.get((id(scheme), names))
                    if item is None:
                        item = {**scheme, "scopes": list(names)}
                        self.locate(item, scheme, {"scopes": (req, name)})
                        self.scoped[(id(scheme), names)] = item
                elif names:
                    self.warn(
                        "C062",
                        f"security scheme {name!r} of type {scheme.get('type')!r} takes no "
                        f"scopes; {list(names)} dropped",
                        req,
                        name,
                        f"{ptr}/{i}/{_esc(name)}",
                    )
                    item = scheme
                else:
                    item = scheme
                if all(x is not item for x in out):
                    out.append(item)
        return out

    def scheme(self, scheme: dict[str, Any]) -> None:
        """2.x Security Scheme in place: OAuth flows' ``scopes`` -> ``availableScopes``."""
        if id(scheme) in self.done:
            return
        self.done.add(id(scheme))
        flows = scheme.get("flows")
        if not isinstance(flows, dict):
            return
        for flow in flows.values():
            if isinstance(flow, dict) and "scopes" in flow and "availableScopes" not in flow:
                pos = self.src.position_of(flow, "scopes")
                flow["availableScopes"] = flow.pop("scopes")
                if pos is not None:
                    self.src.record_key(flow, "availableScopes", pos)

    # -- channels and operations -------------------------------------------------------------

    def channels(self, channels2: dict[str, Any]) -> dict[str, Any]:
        """Root 2.x channels (key = address) -> 3.0 channels keyed by channel id."""
        ids: dict[str, str] = {}
        for address, item in channels2.items():
            if not _is_object(item):
                if not _is_ref(item):
                    ptr = f"/channels/{_esc(address)}"
                    self.warn("C010", f"channel {address!r} is not an object", channels2,
                              address, ptr)  # fmt: skip
                continue
            if "x-channelId" not in item:
                continue
            wanted = item["x-channelId"]
            if isinstance(wanted, str) and wanted and wanted not in self.channel_ids:
                ids[address] = wanted
                self.channel_ids.add(wanted)
            else:
                why = (
                    "is used by another channel"
                    if isinstance(wanted, str) and wanted
                    else ("is not a non-empty string")
                )
                self.warn(
                    "C011",
                    f"x-channelId {wanted!r} of channel {address!r} {why}; "
                    "the address-derived id is used",
                    item,
                    "x-channelId",
                    f"/channels/{_esc(address)}/x-channelId",
                )
        out: dict[str, Any] = {}
        for address, item in channels2.items():
            if not _is_object(item):
                continue
            cid = ids.get(address) or unique(channel_id(str(address)), self.channel_ids)
            ptr = f"/channels/{_esc(address)}"
            channel = self.channel(str(address), item, cid, ptr, self.operations, channels2)
            out[cid] = channel
            self.from_item.setdefault(id(item), channel)
        self.locate(out, channels2)
        return out

    def channel(
        self,
        address: str | None,
        item: dict[str, Any],
        cid: str,
        ptr: str,
        operations: dict[str, Any],
        parent: dict[str, Any],
    ) -> dict[str, Any]:
        """One 2.x Channel Item -> a new 3.0 Channel; its operations go to ``operations``."""
        channel: dict[str, Any] = {} if address is None else {"address": address}
        messages: dict[str, Any] = {}
        channel["messages"] = messages
        for key, value in item.items():
            if key not in ("publish", "subscribe", "servers", "parameters", "$ref"):
                channel[key] = value
        servers = item.get("servers")
        if isinstance(servers, list):
            channel["servers"] = self.channel_servers(servers, ptr + "/servers")
            self.locate(channel["servers"], servers)
        params = item.get("parameters")
        if isinstance(params, dict):
            for name, param in params.items():
                self.parameter(param, f"{ptr}/parameters/{_esc(name)}")
            channel["parameters"] = params
        elif params is not None:
            channel["parameters"] = params
        msg_pos = None
        for kind in ("publish", "subscribe"):
            op2 = item.get(kind)
            if op2 is None:
                continue
            if not _is_object(op2):
                if not _is_ref(op2):
                    self.warn("C010", f"{kind} of channel {cid!r} is not an object", item,
                              kind, f"{ptr}/{kind}")  # fmt: skip
                continue
            msg_pos = msg_pos or self.src.position_of(op2, "message")
            op_id, op3 = self.operation(kind, op2, channel, cid, messages, f"{ptr}/{kind}")
            self.locate(
                op3,
                op2,
                {"action": (item, kind), "channel": item, "messages": (op2, "message")},
            )
            operations[op_id] = op3
            pos = self.src.position_of(item, kind)
            if pos is not None:
                self.src.record_key(operations, op_id, pos)
        _ordered(channel, _CHANNEL_ORDER, _CHANNEL_ORDER_TAIL)
        self.locate(channel, item, {"address": (parent, address)})
        if msg_pos is not None:
            self.src.record_node(messages, msg_pos)
            self.src.record_key(channel, "messages", msg_pos)
        return channel

    def channel_servers(self, names: list[Any], ptr: str) -> list[Any]:
        out: list[Any] = []
        for i, name in enumerate(names):
            server = self.servers.get(name) if isinstance(name, str) else None
            if server is None:
                self.warn(
                    "C020",
                    f"channel server {name!r} is not declared in servers; dropped",
                    names,
                    i,
                    f"{ptr}/{i}",
                    hint="list names of the root servers object",
                )
            elif all(s is not server for s in out):
                out.append(server)
        return out

    def operation(
        self,
        kind: str,
        op2: dict[str, Any],
        channel: dict[str, Any],
        cid: str,
        messages: dict[str, Any],
        ptr: str,
    ) -> tuple[str, dict[str, Any]]:
        """A 2.x publish/subscribe Operation -> ``(operation id, new 3.0 Operation)``."""
        wanted = op2.get("operationId")
        if isinstance(wanted, str) and wanted:
            op_id = unique(wanted, self.op_ids)
            if op_id != wanted:
                self.warn(
                    "C032",
                    f"operationId {wanted!r} is used by another operation; renamed {op_id!r}",
                    op2,
                    "operationId",
                    ptr + "/operationId",
                )
        else:
            op_id = unique(f"{kind}_{cid}", self.op_ids)
        stem = wanted if isinstance(wanted, str) and wanted else kind
        op3: dict[str, Any] = {
            "action": "receive" if kind == "publish" else "send",
            "channel": channel,
        }
        for key, value in op2.items():
            if key in ("operationId", "message", "traits"):
                continue
            op3[key] = self.security(value, ptr + "/security") if key == "security" else value
        op3["messages"] = self.operation_messages(op2, op_id, stem, messages, ptr)
        _ordered(op3, _OP_ORDER, _OP_ORDER_TAIL)
        return op_id, op3

    def operation_messages(
        self, op2: dict[str, Any], op_id: str, stem: str, messages: dict[str, Any], ptr: str
    ) -> list[Any]:
        """The operation's message(s), added to the channel's ``messages`` (same objects)."""
        message = op2.get("message")
        members: list[tuple[int | None, Any, object, object]]  # index, message, where, key
        if message is None:
            self.warn(
                "C030",
                f"operation {op_id!r} has no message; it gets an empty messages list",
                op2,
                pointer=ptr,
            )
            return []
        if _is_object(message) and isinstance(message.get("oneOf"), list):
            one_of: list[Any] = message["oneOf"]
            members = [(i, m, one_of, i) for i, m in enumerate(one_of)]
            if not members:
                self.warn(
                    "C030",
                    f"operation {op_id!r} has an empty message oneOf; "
                    "it gets an empty messages list",
                    message,
                    "oneOf",
                    ptr + "/message/oneOf",
                )
        else:
            members = [(None, message, op2, "message")]
        out: list[Any] = []
        for index, msg, where, key in members:
            mptr = ptr + "/message" + ("" if index is None else f"/oneOf/{index}")
            if not isinstance(msg, dict):
                self.warn("C031", f"message of operation {op_id!r} is not an object", where,
                          key, mptr)  # fmt: skip
                continue
            self.add_message(msg, stem, index, messages, mptr, where, key)
            if all(m is not msg for m in out):
                out.append(msg)
                pos = self.src.position_of(where, key)
                if pos is not None:
                    self.src.record_key(out, len(out) - 1, pos)
        pos = self.src.position_of(op2, "message")
        if pos is not None:
            self.src.record_node(out, pos)
        return out

    def add_message(
        self,
        msg: dict[str, Any],
        stem: str,
        index: int | None,
        messages: dict[str, Any],
        ptr: str,
        where: object,
        key: object,
    ) -> None:
        """Put ``msg`` (converted) in the channel's ``messages`` unless it is there."""
        if any(m is msg for m in messages.values()):
            return
        name, message_id = self.message_names(msg)
        wanted = [c for c in (name, message_id, self.component_key.get(id(msg))) if c]
        generated = f"{stem}_message" + ("" if index is None else f"_{index}")
        chosen = next((c for c in wanted if c not in messages), None)
        chosen = chosen or unique(wanted[0] if wanted else generated, set(messages))
        messages[chosen] = self.message(msg, ptr)
        pos = self.src.position_of(where, key)
        if pos is not None:
            self.src.record_key(messages, chosen, pos)

    def message_names(self, msg: dict[str, Any]) -> tuple[str | None, str | None]:
        """``(name, messageId)`` of a message, as written before conversion."""
        known = self.names.get(id(msg))
        if known is None:
            name, mid = msg.get("name"), msg.get("messageId")
            known = (
                name if isinstance(name, str) and name else None,
                mid if isinstance(mid, str) and mid else None,
            )
            self.names[id(msg)] = known
        return known

    def message(self, msg: dict[str, Any], ptr: str) -> dict[str, Any]:
        """A 2.x Message in place (once): no messageId/traits, schemaFormat into payload."""
        if not _is_object(msg) or id(msg) in self.done:
            return msg
        self.message_names(msg)
        self.done.add(id(msg))
        msg.pop("messageId", None)
        msg.pop("traits", None)  # merged already (2.x precedence)
        if "schemaFormat" not in msg:
            return msg
        fmt_pos = self.src.position_of(msg, "schemaFormat")
        fmt = msg.pop("schemaFormat")
        if isinstance(fmt, str) and not JSON_SCHEMA_FORMAT.match(fmt) and "payload" in msg:
            wrapper = {"schemaFormat": fmt, "schema": msg["payload"]}
            pos = self.src.position_of(msg, "payload")
            if pos is not None:
                self.src.record_node(wrapper, pos)
                self.src.record_key(wrapper, "schema", pos)
            if fmt_pos is not None:
                self.src.record_key(wrapper, "schemaFormat", fmt_pos)
            msg["payload"] = wrapper
        return msg

    # -- parameters --------------------------------------------------------------------------

    def parameter(self, param: Any, ptr: str) -> None:
        """A 2.x Parameter in place (once): ``schema`` -> enum/default/examples/description."""
        if not _is_object(param) or id(param) in self.done:
            return
        self.done.add(id(param))
        if "schema" not in param:
            return
        schema_pos = self.src.position_of(param, "schema")
        schema = param.pop("schema")
        if not _is_object(schema):
            return  # an unresolvable $ref: the loader reported it
        taken: dict[str, Any] = {}
        if "enum" in schema and isinstance(schema["enum"], list):
            taken["enum"] = [_text(v) for v in schema["enum"]]
        elif "const" in schema:
            taken["enum"] = [_text(schema["const"])]
        if "default" in schema:
            taken["default"] = _text(schema["default"])
        if isinstance(schema.get("examples"), list):
            taken["examples"] = [_text(v) for v in schema["examples"]]
        elif "example" in schema:
            taken["examples"] = [_text(schema["example"])]
        if isinstance(schema.get("description"), str):
            taken["description"] = schema["description"]
        for key, value in taken.items():
            if key not in param:
                param[key] = value
                source = "const" if key == "enum" and "enum" not in schema else key
                pos = self.src.position_of(schema, source) or schema_pos
                if pos is not None:
                    self.src.record_key(param, key, pos)
        dropped = [
            f"{k}: {json.dumps(v) if not isinstance(v, dict | list) else '...'}"
            for k, v in schema.items()
            if k not in _PARAM_MAPPED
            and not str(k).startswith("x-")
            and not (k == "type" and v == "string")
        ]
        if dropped:
            self.warn(
                "C040",
                f"parameter schema keywords {', '.join(dropped)} have no AsyncAPI 3.0 "
                "equivalent (3.0 parameters are strings with enum, default, examples); "
                "dropped",
                param if schema_pos is None else schema,
                pointer=ptr + "/schema",
                hint="check the value in the handler, or list allowed values with enum",
            )

    # -- components --------------------------------------------------------------------------

    def components(self) -> dict[str, Any] | None:
        """2.x components -> 3.0 components (maps reused, members converted in place)."""
        if "components" not in self.root2:
            return None
        comps2 = self.root2["components"]
        if not isinstance(comps2, dict):
            return None
        out: dict[str, Any] = {}
        for section, value in comps2.items():
            out[section] = value
            if not isinstance(value, dict):
                continue
            base = f"/components/{_esc(section)}"
            if section == "messages":
                out[section] = self.component_messages(value, base)
            elif section == "securitySchemes":
                for scheme in value.values():
                    if _is_object(scheme):
                        self.scheme(scheme)
            elif section == "parameters":
                for name, param in value.items():
                    self.parameter(param, f"{base}/{_esc(name)}")
            elif section == "servers":
                for name, server in value.items():
                    self.server(server, f"{base}/{_esc(name)}")
            elif section in ("messageTraits", "operationTraits"):
                drop = _MESSAGE_TRAIT_2X_ONLY if section == "messageTraits" else ("operationId",)
                for trait in value.values():
                    if _is_object(trait):
                        for key in drop:
                            trait.pop(key, None)
            elif section == "channels":
                out[section] = self.component_channels(value, base)
        if self.component_operations:
            out["operations"] = self.component_operations
            self.locate(self.component_operations, comps2.get("channels"))
        self.locate(out, comps2)
        return out

    def component_messages(self, messages2: dict[str, Any], base: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, msg in messages2.items():
            ptr = f"{base}/{_esc(key)}"
            if _is_object(msg) and isinstance(msg.get("oneOf"), list):
                self.warn(
                    "C070",
                    f"components message {key!r} is a oneOf list, not a message; left out of "
                    "components (its members are converted where operations use them)",
                    messages2,
                    key,
                    ptr,
                )
                for i, member in enumerate(msg["oneOf"]):
                    if _is_object(member):
                        self.message(member, f"{ptr}/oneOf/{i}")
                continue
            out[key] = self.message(msg, ptr) if isinstance(msg, dict) else msg
        self.locate(out, messages2)
        return out

    def component_channels(self, channels2: dict[str, Any], base: str) -> dict[str, Any]:
        """Component channels: the 3.0 channel made for a root use, else one without address."""
        out: dict[str, Any] = {}
        for key, item in channels2.items():
            if not _is_object(item):
                out[key] = item
                continue
            used = self.from_item.get(id(item))
            if used is None:
                ptr = f"{base}/{_esc(key)}"
                used = self.channel(None, item, str(key), ptr, self.component_operations,
                                    channels2)  # fmt: skip
                self.from_item[id(item)] = used
            out[key] = used
        self.locate(out, channels2)
        return out


# -- bundling: a resolved 3.0 tree -> a JSON document with $ref -------------------------------

_COMPONENT_SECTIONS = (
    "schemas", "servers", "channels", "operations", "messages", "securitySchemes",
    "serverVariables", "parameters", "correlationIds", "replies", "replyAddresses",
    "externalDocs", "tags", "operationTraits", "messageTraits",
)  # fmt: skip
# components.*Bindings entries are not homes: 2.x documents also $ref them as one
# protocol's binding (``bindings: {http: {$ref: ...}}``), where 3.0 allows no Reference.


def bundle_v3(resolved: dict[str, Any], *, source: SourceMap | None = None) -> dict[str, Any]:
    """A JSON-compatible copy of a resolved 3.0 tree, written the way 3.0 wants it.

    - ``operations.*.channel`` / ``reply.channel`` -> ``{"$ref": "#/channels/<id>"}`` (or
      ``#/components/channels/<key>``); their ``messages`` -> refs to
      ``<channel>/messages/<key>``; ``channels.*.servers`` -> refs to ``#/servers/<name>``
      (the 3.0 schema only allows Reference Objects there);
    - an object that has a home elsewhere (a root server/channel/operation, then a
      ``components`` entry other than ``*Bindings``, then a channel message) ->
      ``{"$ref": "#<home pointer>"}``;
    - a cycle -> ``{"$ref": "#<pointer of the ancestor>"}``; other shared objects are
      copied at each place.

    Unresolved ``{"$ref": ...}`` dicts are copied as they are.  ``resolved`` is not
    changed.  With ``source``, every new container gets the position of the object it
    copies (a ref: the position of the object it stands for).
    """
    return _Bundler(resolved, source).run()


class _Bundler:
    def __init__(self, root: dict[str, Any], source: SourceMap | None) -> None:
        self.root, self.source = root, source
        self.home: dict[int, str] = {}
        self.channel_home: dict[int, str] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.server_home: dict[int, str] = {}
        self.ops: set[int] = set()
        self.replies: dict[int, Any] = {}  # id(reply) -> the channel of its operation
        comps = root.get("components")
        comps = comps if isinstance(comps, dict) else {}
        places: list[tuple[str, Any]] = [
            ("/servers", root.get("servers")),
            ("/channels", root.get("channels")),
            ("/operations", root.get("operations")),
        ]
        places += [(f"/components/{s}", comps.get(s)) for s in _COMPONENT_SECTIONS]
        for base, mapping in places:
            for key, value in (mapping if isinstance(mapping, dict) else {}).items():
                if not _is_object(value):
                    continue
                ptr = f"{base}/{_esc(key)}"
                self.home.setdefault(id(value), ptr)
                if base.endswith("/channels"):
                    self.channel_home.setdefault(id(value), ptr)
                    self.channels.setdefault(id(value), value)
                elif base.endswith("/servers"):
                    self.server_home.setdefault(id(value), ptr)
                elif base.endswith("/operations"):
                    self.ops.add(id(value))
                    reply = value.get("reply")
                    if _is_object(reply):
                        self.replies.setdefault(id(reply), value.get("channel"))
                elif base.endswith("/replies"):
                    self.replies.setdefault(id(value), None)
        for key_id, home in self.channel_home.items():
            messages = self.channels[key_id].get("messages")
            for key, msg in (messages if isinstance(messages, dict) else {}).items():
                if _is_object(msg):
                    self.home.setdefault(id(msg), f"{home}/messages/{_esc(key)}")
        self.stack: dict[int, str] = {}

    def run(self) -> dict[str, Any]:
        out = self.copy(self.root, "")
        assert isinstance(out, dict)
        return out

    def ref(self, pointer: str, stands_for: Any) -> dict[str, Any]:
        out = {"$ref": "#" + pointer}
        if self.source is not None:
            pos = self.source.position_of(stands_for)
            if pos is not None:
                self.source.record_node(out, pos)
        return out

    def copy(self, node: Any, ptr: str) -> Any:
        """The copy of ``node`` found at ``ptr``: iterative, so depth is not limited."""
        first = self.start(node, ptr)
        if not isinstance(first, _Frame):
            return first
        frames = [first]
        while frames:
            frame = frames[-1]
            step = next(frame.todo, None)
            if step is None:
                frames.pop()
                self.finish(frame)
                continue
            key, value = step
            child_ptr = f"{frame.ptr}/{_esc(key)}"
            if isinstance(frame.node, dict):
                result = self.member(frame.node, str(key), value, child_ptr)
            else:
                result = self.start(value, child_ptr)
            if isinstance(result, _Frame):
                frame.put(key, result.out)
                frames.append(result)
            else:
                frame.put(key, result)
        return first.out

    def start(self, node: Any, ptr: str) -> Any:
        """A scalar, a ``$ref`` dict, or a :class:`_Frame` whose members are to be copied."""
        if not isinstance(node, dict | list):
            return node
        if isinstance(node, dict) and node is not self.root:
            home = self.home.get(id(node))
            if home is not None and home != ptr:
                return self.ref(home, node)
        if id(node) in self.stack:
            return self.ref(self.stack[id(node)], node)
        self.stack[id(node)] = ptr
        return _Frame(node, ptr)

    def finish(self, frame: _Frame) -> None:
        del self.stack[id(frame.node)]
        if self.source is None:
            return
        node, out = frame.node, frame.out
        pos = self.source.position_of(node)
        if pos is not None:
            self.source.record_node(out, pos)
        for key in out if isinstance(out, dict) else range(len(out)):
            found = self.source.position_of(node, key)
            if found is not None:
                self.source.record_key(out, key, found)

    def member(self, parent: dict[str, Any], key: str, value: Any, ptr: str) -> Any:
        is_op, is_reply = id(parent) in self.ops, id(parent) in self.replies
        if (is_op or is_reply) and key == "channel" and id(value) in self.channel_home:
            return self.ref(self.channel_home[id(value)], value)
        if (is_op or is_reply) and key == "messages" and isinstance(value, list):
            channel = parent.get("channel")
            if is_reply and not _is_object(channel):
                channel = self.replies.get(id(parent))
            return [self.message_ref(m, channel, f"{ptr}/{i}") for i, m in enumerate(value)]
        if key == "servers" and id(parent) in self.channel_home and isinstance(value, list):
            return [
                self.ref(self.server_home[id(s)], s)
                if id(s) in self.server_home
                else self.copy(s, f"{ptr}/{i}")
                for i, s in enumerate(value)
            ]
        return self.start(value, ptr)

    def message_ref(self, msg: Any, channel: Any, ptr: str) -> Any:
        home = self.channel_home.get(id(channel)) if _is_object(channel) else None
        messages = channel.get("messages") if home is not None else None
        for key, candidate in (messages if isinstance(messages, dict) else {}).items():
            if candidate is msg:
                return self.ref(f"{home}/messages/{_esc(key)}", msg)
        return self.copy(msg, ptr)


class _Frame:
    """A container being copied: its members are copied one by one from ``todo``."""

    def __init__(self, node: dict[str, Any] | list[Any], ptr: str) -> None:
        self.node, self.ptr = node, ptr
        self.out: dict[str, Any] | list[Any]
        self.todo: Iterator[tuple[Any, Any]]
        if isinstance(node, dict):
            self.out, self.todo = {}, iter(list(node.items()))
        else:
            self.out, self.todo = [], iter(list(enumerate(node)))

    def put(self, key: Any, value: Any) -> None:
        if isinstance(self.out, dict):
            self.out[str(key)] = value
        else:
            self.out.append(value)
