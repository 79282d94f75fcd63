"""Template context of ``generated/client.py``: one typed client class per served channel.

The client is built on :mod:`chanspec.runtime.client`; this module decides, per channel, the
class name, the typed path parameters (AsyncAPI 3.0 Parameter Object: ``enum`` -> ``Literal``,
``default`` -> optional), the credentials (Security Scheme Objects the channel's servers and
operations require), and one ``send_<name>`` method per ``receive`` operation plus a
``request_<name>`` method when the operation has a ``reply``.

Methods take the message model, or (when it can be typed exactly) the payload's fields as
keyword arguments. Their types are read from the generated ``messages.py`` source with
:mod:`ast`, so they are the models' own annotations (``Annotated`` constraints left to the
model), never re-derived from JSON Schema.

A method taking keywords is one class attribute, ``send_post = runtime.send(PostMessage,
_text)`` (:class:`chanspec.runtime.client.Operation`): its keyword signature is a module-level
stub function (``@runtime.payload(Text) def _text(*, message: str) -> None: ...``, one per
payload model and signature, shared by every operation that takes it) that types the method
through ``typing.ParamSpec``. A method taking the model only is a short ``async def``.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import Any

import jinja2

from .model import ChannelModel, OperationModel, ServiceModel
from .naming import pascal_case, snake_case, unique

#: The most reply models ``runtime.request`` types exactly (``chanspec.runtime.client``
#: ``TYPED_REPLIES``); an operation with more replies gets a ``request_*`` method taking the
#: model only (its ``send_*`` method still takes keywords).
TYPED_REPLIES = 4

__all__ = ["CLIENT_RESERVED", "client_context", "render_client"]

#: Attributes of ``chanspec.runtime.client.ChannelClient`` and parameters of its constructor:
#: generated method and parameter names never take them (tests/test_client.py checks the list).
CLIENT_RESERVED = frozenset(
    {
        "address", "backoff", "base_url", "close", "connect", "connect_options", "connections",
        "credentials", "headers", "max_queue", "open_timeout", "options", "outgoing_types",
        "path_params", "queued", "receive", "reconnect", "request_model", "self", "send_model",
        "send_raw", "timeout", "url",
    }
)  # fmt: skip

# Names the generated module defines or imports itself.
_MODULE_NAMES = frozenset({"runtime", "typing", "annotations"})


@dataclass
class _Field:
    name: str
    annotation: ast.expr
    has_default: bool


@dataclass
class _Class:
    name: str
    bases: list[str]
    fields: list[_Field] = field(default_factory=list)


@dataclass
class _Module:
    """What ``messages.py`` defines: model classes and the names it imports (name -> source)."""

    classes: dict[str, _Class]
    imports: dict[str, tuple[str, str]]  # local name -> (module, imported name)

    def is_model(self, name: str, _seen: frozenset[str] = frozenset()) -> bool:
        cls = self.classes.get(name)
        if cls is None or name in _seen:
            return False
        return all(b == "Message" or self.is_model(b, _seen | {name}) for b in cls.bases)

    def fields_of(self, name: str) -> list[_Field]:
        cls = self.classes[name]
        out: dict[str, _Field] = {}
        for base in cls.bases:
            if base in self.classes:
                out.update((f.name, f) for f in self.fields_of(base))
        out.update((f.name, f) for f in cls.fields)
        return list(out.values())


def _parse_module(code: str) -> _Module:
    tree = ast.parse(code)
    classes: dict[str, _Class] = {}
    imports: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.ClassDef):
            bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
            cls = _Class(node.name, bases)
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    if _is_classvar(stmt.annotation):
                        continue
                    cls.fields.append(
                        _Field(stmt.target.id, stmt.annotation, stmt.value is not None)
                    )
            classes[node.name] = cls
    return _Module(classes, imports)


def _is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return isinstance(target, ast.Name) and target.id == "ClassVar"


class _StripAnnotated(ast.NodeTransformer):
    """``Annotated[X, Field(...)]`` -> ``X`` (the model validates the constraints)."""

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == "Annotated":
            inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
            stripped: ast.AST = self.visit(inner)
            return stripped
        return self.generic_visit(node)


def _strip(annotation: ast.expr) -> ast.expr:
    import copy

    result = _StripAnnotated().visit(copy.deepcopy(annotation))
    assert isinstance(result, ast.expr)
    return result


def _is_literal_const(annotation: ast.expr) -> bool:
    return (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Literal"
    )


def _single_class(annotation: ast.expr) -> tuple[str | None, bool]:
    """``P`` -> ("P", False); ``P | None`` -> ("P", True); anything else -> (None, False)."""
    if isinstance(annotation, ast.Name):
        return annotation.id, False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = annotation.left, annotation.right
        if isinstance(right, ast.Constant) and right.value is None and isinstance(left, ast.Name):
            return left.id, True
    return None, False


@dataclass
class _Names:
    """Names the annotations of keyword parameters need: classes of messages.py, imports."""

    module: _Module
    classes: set[str] = field(default_factory=set)
    imports: dict[str, set[str]] = field(default_factory=dict)

    def resolve(self, annotation: ast.expr) -> bool:
        """Record what ``annotation`` refers to; False when a name cannot be imported."""
        found_classes: set[str] = set()
        found_imports: dict[str, set[str]] = {}
        for node in ast.walk(annotation):
            if not isinstance(node, ast.Name):
                continue
            name = node.id
            if name in self.module.classes:
                found_classes.add(name)
            elif name in self.module.imports:
                module, original = self.module.imports[name]
                if original != name or name in _MODULE_NAMES:
                    return False
                found_imports.setdefault(module, set()).add(name)
            elif name in ("None",) or hasattr(builtins, name):
                continue
            else:
                return False
        self.classes |= found_classes
        for module, names in found_imports.items():
            self.imports.setdefault(module, set()).update(names)
        return True


def _keywords(
    module: _Module, message: str, names: _Names
) -> tuple[list[dict[str, Any]], str | None] | None:
    """Keyword parameters of a method sending ``message``, or ``None`` when not typeable.

    Returns ``(params, payload class)``; ``payload class`` is ``None`` when the parameters are
    the message's own fields (whether the payload is required the runtime reads from the
    message model: ``runtime.Operation``).
    """
    if not module.is_model(message):
        return None
    own = [f for f in module.fields_of(message) if not (_is_literal_const(f.annotation))]
    payload: str | None = None
    fields = own
    if len(own) == 1 and own[0].name == "payload":
        cls, _optional = _single_class(_strip(own[0].annotation))
        if cls is not None and module.is_model(cls):
            payload = cls
            fields = module.fields_of(cls)
    params: list[dict[str, Any]] = []
    trial = _Names(module)
    for f in fields:
        if f.name.startswith("_") or f.name in ("self",):
            return None
        annotation = _strip(f.annotation)
        if not trial.resolve(annotation):
            return None
        params.append(
            {"name": f.name, "annotation": ast.unparse(annotation), "optional": f.has_default}
        )
    names.classes |= trial.classes
    for mod, found in trial.imports.items():
        names.imports.setdefault(mod, set()).update(found)
    if payload is not None:
        names.classes.add(payload)
    params.sort(key=lambda p: bool(p["optional"]))  # stable: required ones first, spec order kept
    return params, payload


# ---- security --------------------------------------------------------------------------------


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _schemes_of(service: ServiceModel, channel: ChannelModel) -> list[tuple[str, dict[str, Any]]]:
    """``[(scheme name, Security Scheme Object)]`` a client of ``channel`` may need.

    The schemes its servers (the channel's ``servers``, else every root server) and its
    operations list under ``security``; when the document requires none anywhere, every scheme
    of ``components.securitySchemes`` (a document may declare schemes it never requires).
    """
    meta = service.metadata
    declared = ((meta.get("components") or {}).get("securitySchemes") or {}) if meta else {}
    if not isinstance(declared, dict) or not declared:
        return []
    servers = meta.get("servers") or {}
    if not isinstance(servers, dict):
        servers = {}
    chosen: list[Any] = []
    listed = channel.metadata.get("servers") if isinstance(channel.metadata, dict) else None
    names: list[str] = []
    if isinstance(listed, list) and listed:
        for ref in listed:
            target = ref.get("$ref") if isinstance(ref, dict) else None
            if isinstance(target, str) and target.startswith("#/servers/"):
                names.append(_unescape(target[len("#/servers/") :]))
    else:
        names = [str(k) for k in servers]
    for name in names:
        server = servers.get(name)
        if isinstance(server, dict) and isinstance(server.get("security"), list):
            chosen.extend(server["security"])
    for op in channel.operations:
        if isinstance(op.metadata, dict) and isinstance(op.metadata.get("security"), list):
            chosen.extend(op.metadata["security"])
    anywhere = any(
        isinstance(s, dict) and isinstance(s.get("security"), list) and s["security"]
        for s in servers.values()
    ) or any(
        isinstance(op.metadata, dict) and op.metadata.get("security")
        for ch in service.channels
        for op in ch.operations
    )
    out: dict[str, dict[str, Any]] = {}
    if not anywhere:
        return [(str(k), v) for k, v in declared.items() if isinstance(v, dict)]
    prefix = "#/components/securitySchemes/"
    for entry in chosen:
        if not isinstance(entry, dict):
            continue
        ref = entry.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix):
            name = _unescape(ref[len(prefix) :])
            scheme = declared.get(name)
            if isinstance(scheme, dict):
                out.setdefault(name, scheme)
        elif "type" in entry:
            out.setdefault(str(entry.get("name") or entry["type"]), entry)
    return list(out.items())


def _credential(name: str, scheme: dict[str, Any]) -> dict[str, Any] | None:
    """How a client sends credentials of ``scheme``: parameter type and runtime credential."""
    kind = scheme.get("type")
    http = str(scheme.get("scheme") or "").lower()
    desc = scheme.get("description") if isinstance(scheme.get("description"), str) else None
    base: dict[str, Any] = {"scheme": name, "type_name": kind, "description": desc}
    if kind == "httpApiKey" and scheme.get("in") in ("query", "header", "cookie"):
        if not isinstance(scheme.get("name"), str) or not scheme["name"]:
            return None
        return {**base, "ptype": "str", "make": "api_key", "param": scheme["name"],
                "location": scheme["in"]}  # fmt: skip
    if kind == "apiKey" and scheme.get("in") in ("user", "password"):
        return {**base, "ptype": "str", "make": "basic_" + scheme["in"]}
    if (kind == "http" and http == "bearer") or kind in ("oauth2", "openIdConnect"):
        return {**base, "ptype": "str", "make": "bearer"}
    if (kind == "http" and http == "basic") or kind == "userPassword":
        return {**base, "ptype": "tuple[str, str]", "make": "basic_pair"}
    return None


# ---- context ----------------------------------------------------------------------------------


def _parameter(channel: ChannelModel, name: str) -> dict[str, Any]:
    params = channel.metadata.get("parameters") if isinstance(channel.metadata, dict) else None
    spec = params.get(name) if isinstance(params, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    enum = spec.get("enum")
    values = [v for v in enum if isinstance(v, str)] if isinstance(enum, list) else []
    default = spec.get("default")
    return {
        "wire": name,
        "enum": values,
        "default": default if isinstance(default, str) else None,
        "description": spec.get("description")
        if isinstance(spec.get("description"), str)
        else None,
    }


def _stem(channel: ChannelModel, op: OperationModel) -> str:
    """``send_<stem>`` / ``request_<stem>``: the operation id in snake case without a leading
    ``<channel id>_`` (like handler names), and without the ``_`` keywords get (``import_``)."""
    name = snake_case(op.id)
    prefix = snake_case(channel.id) + "_"
    if name.startswith(prefix) and len(name) > len(prefix):
        name = name[len(prefix) :]
    return name.strip("_") or "operation"


def _operation_methods(
    channel: ChannelModel,
    op: OperationModel,
    module: _Module,
    names: _Names,
    taken: set[str],
    stubs: dict[tuple[Any, ...], dict[str, Any]],
) -> dict[str, Any]:
    messages = list(dict.fromkeys(channel.message(k).class_name for k in op.messages))
    replies = list(dict.fromkeys(channel.message(k).class_name for k in op.reply))
    stem = _stem(channel, op)
    keywords = _keywords(module, messages[0], names) if len(messages) == 1 else None
    names.classes.update(messages, replies)
    stub = None
    if keywords is not None:
        params, payload = keywords[0], keywords[1]
        key = (payload or "", *((p["name"], p["annotation"], bool(p["optional"])) for p in params))
        stub = stubs.setdefault(
            key, {"base": payload or messages[0], "payload": payload, "params": params}
        )
    return {
        "op": op,
        "send": unique(f"send_{stem}", taken),
        "request": unique(f"request_{stem}", taken) if replies else None,
        "message_type": " | ".join(messages),
        "message_class": messages[0] if len(messages) == 1 else None,
        "replies": replies,
        "reply_type": " | ".join(replies),
        "stub": stub,
        "request_stub": stub if len(replies) <= TYPED_REPLIES else None,
    }


def client_context(service: ServiceModel, models_code: str) -> dict[str, Any]:
    """Template context of ``generated/client.py``.

    Args:
        service: the normalised spec.
        models_code: the text of the generated ``messages.py`` (its classes and annotations
            type the methods' keyword parameters).

    Returns:
        ``{"clients": [...], "stubs": [...], "message_imports": [...],
        "other_imports": {module: [names]}, "exports": [...], "uses_typing": bool}``; channels
        without an address get no client (nothing serves them). ``stubs`` are the keyword
        signatures (``{"name", "params"}``) the ``runtime.send`` / ``runtime.request``
        attributes refer to, in order of first use.
    """
    module = _parse_module(models_code)
    names = _Names(module)
    class_names = set(module.classes) | set(_MODULE_NAMES)
    stubs: dict[tuple[Any, ...], dict[str, Any]] = {}
    clients: list[dict[str, Any]] = []
    for channel in service.channels:
        if channel.route is None or channel.address is None:
            continue
        base = pascal_case(channel.id)
        if base.startswith("_"):  # "9lives" -> "_9lives": not a private-looking class name
            base = "Channel" + base.lstrip("_")
        class_name = unique(base + "Client", class_names, sep="")
        taken = set(CLIENT_RESERVED)
        methods = [
            _operation_methods(channel, op, module, names, taken, stubs)
            for op in channel.operations
            if op.action == "receive" and op.messages
        ]
        params = []
        for wire in channel.parameters:
            param = _parameter(channel, wire)
            param["name"] = unique(snake_case(wire), taken)
            params.append(param)
        params.sort(key=lambda p: p["default"] is not None)  # required first
        credentials = []
        skipped = []
        for scheme_name, scheme in _schemes_of(service, channel):
            cred = _credential(scheme_name, scheme)
            if cred is None:
                skipped.append(f"{scheme_name} ({scheme.get('type')})")
                continue
            cred["name"] = unique(snake_case(scheme_name), taken)
            credentials.append(cred)
        outgoing: list[str] = []
        for op in channel.operations:
            keys = op.messages if op.action == "send" else op.reply
            for key in keys:
                name = channel.message(key).class_name
                if name not in outgoing:
                    outgoing.append(name)
        names.classes.update(outgoing)
        clients.append(
            {
                "channel": channel,
                "class_name": class_name,
                "methods": methods,
                "params": params,
                "credentials": credentials,
                "skipped_schemes": skipped,
                "outgoing": outgoing,
            }
        )
    other = {
        mod: sorted(found)
        for mod, found in sorted(names.imports.items())
        if mod not in ("__future__",)
    }
    module_names = class_names | names.classes | {n for f in other.values() for n in f}
    for stub in stubs.values():
        stub["name"] = unique("_" + snake_case(stub["base"]).strip("_"), module_names)
    uses_typing = any(
        c["params"]
        or c["credentials"]
        or any(m["request_stub"] is None and m["request"] for m in c["methods"])
        for c in clients
    )
    return {
        "clients": clients,
        "stubs": list(stubs.values()),
        "message_imports": sorted(names.classes),
        "other_imports": other,
        "exports": sorted(c["class_name"] for c in clients),
        "uses_typing": uses_typing,
    }


def render_client(
    env: jinja2.Environment, service: ServiceModel, models_code: str, header: str
) -> str:
    """``generated/client.py`` (unformatted; :func:`.render.render_service` formats it)."""
    ctx = client_context(service, models_code)
    return env.get_template("client.py.jinja").render(ctx, service=service, header=header)
