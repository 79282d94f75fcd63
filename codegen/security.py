"""Security schemes and requirements of a spec, normalised for generation.

AsyncAPI 3.0 §Security Scheme Object: ``components.securitySchemes`` declares schemes; a
server's or an operation's ``security`` lists the schemes of which *one* must be satisfied.
A WebSocket connection is authenticated once, before it is accepted, so a channel requires:

- one of the schemes of its servers' ``security`` (its ``servers``, or every server of the
  document when it names none; the union of their lists, see N062);
- for each of its operations with ``security``, one of that operation's schemes.

Each scheme chanspec can read from a handshake (``httpApiKey`` in query/header/cookie,
``apiKey`` in user/password, ``http`` bearer/basic, ``userPassword``) gets a constant in
``generated/security.py`` and a ``verify_<scheme>`` stub in the user's ``auth.py``; any other
type is declared unsupported (warning N060): it is never satisfied, so a requirement without
another alternative refuses every connection until the consumer overrides ``authenticate()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import libcst as cst

from .model import SecuritySchemeModel, ServiceModel
from .naming import snake_case, unique
from .scaffold import (
    ScaffoldUpdate,
    _imported_names,
    _is_subsequence,
    insert_imports,
    parse_user_module,
)

__all__ = ["SECURITY_CODES", "SecurityPlan", "security_context", "update_verifiers"]

SECURITY_CODES: dict[str, str] = {
    "N060": "security scheme type cannot be read from a WebSocket handshake: never satisfied",
    "N061": "security scheme is incomplete or invalid (httpApiKey name/in, apiKey in, http "
    "scheme): never satisfied",
    "N062": "channel is served by servers with and without security: every connection must "
    "authenticate",
}

SUPPORTED = "httpApiKey (in: query|header|cookie), apiKey (in: user|password), " \
    "http (scheme: bearer|basic), userPassword"  # fmt: skip

ProblemSink = Callable[..., None]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SecurityPlan:
    """Collects the schemes channels require, naming each once, and reports problems.

    Args:
        root: the resolved document (scheme objects shared by identity with their uses).
        problem: ``problem(code, message, pointer, warning=..., hint=...)`` of the normaliser.
    """

    def __init__(self, root: dict[str, Any], problem: ProblemSink) -> None:
        self.root = root
        self.problem = problem
        components = root.get("components") or {}
        declared = components.get("securitySchemes") if isinstance(components, dict) else None
        self.declared: dict[int, tuple[str, str]] = {
            id(v): (str(k), f"/components/securitySchemes/{_escape(str(k))}")
            for k, v in (declared or {}).items()
            if isinstance(v, dict)
        }
        self.order = {name: i for i, (name, _) in enumerate(self.declared.values())}
        self.models: dict[int, SecuritySchemeModel] = {}
        self.constants: set[str] = set()
        self.verifiers: set[str] = set()
        self.names: set[str] = {name for name, _ in self.declared.values()}

    def channel(
        self, cid: str, ch: dict[str, Any], ops: Iterable[tuple[str, dict[str, Any]]]
    ) -> tuple[tuple[str, ...], ...]:
        """The requirements of channel ``cid``: tuples of alternative scheme names, all needed.

        Args:
            cid: the channel id.
            ch: the resolved channel object.
            ops: ``(operation id, operation)`` of the channel's operations.
        """
        requirements: list[tuple[str, ...]] = []
        servers = self.servers_of(ch)
        secured = [(key, s) for key, s in servers if s.get("security")]
        if secured:
            if len(secured) < len(servers):
                open_ = ", ".join(repr(k) for k, s in servers if not s.get("security"))
                self.problem(
                    "N062",
                    f"channel {cid!r} is on servers without security ({open_}) and with it; "
                    "connections must authenticate on every server",
                    f"/channels/{_escape(cid)}",
                    warning=True,
                    hint="give the channel's servers the same security, or split the channel",
                )
            alternatives: list[str] = []
            for key, server in secured:
                pointer = f"/servers/{_escape(key)}/security"
                for name in self.names_of(server["security"], pointer, f"{key}_security"):
                    if name not in alternatives:
                        alternatives.append(name)
            requirements.append(tuple(alternatives))
        for op_id, op in ops:
            if op.get("security"):
                pointer = f"/operations/{_escape(op_id)}/security"
                names = tuple(dict.fromkeys(self.names_of(op["security"], pointer, op_id)))
                if names and names not in requirements:
                    requirements.append(names)
        return tuple(requirements)

    def servers_of(self, ch: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """``(key, server)`` of the channel's servers (every root server when it names none)."""
        root_servers = self.root.get("servers") or {}
        if not isinstance(root_servers, dict):
            return []
        keys = {id(v): str(k) for k, v in root_servers.items() if isinstance(v, dict)}
        named = ch.get("servers")
        if isinstance(named, list) and named:
            return [(keys[id(s)], s) for s in named if isinstance(s, dict) and id(s) in keys]
        return [(str(k), v) for k, v in root_servers.items() if isinstance(v, dict)]

    def names_of(self, security: Any, pointer: str, owner: str) -> list[str]:
        """Scheme names of a ``security`` list, registering each scheme on first use."""
        names: list[str] = []
        if not isinstance(security, list):
            return names
        for i, scheme in enumerate(security):
            if not isinstance(scheme, dict) or isinstance(scheme.get("$ref"), str):
                continue  # an unresolvable $ref: the loader reported it
            names.append(self.register(scheme, f"{pointer}/{i}", f"{owner}_{i}").name)
        return names

    def register(self, scheme: dict[str, Any], pointer: str, fallback: str) -> SecuritySchemeModel:
        """The model of ``scheme`` (declared or inline), made and checked once."""
        known = self.models.get(id(scheme))
        if known is not None:
            return known
        if id(scheme) in self.declared:
            name, pointer = self.declared[id(scheme)]
        else:  # an inline scheme object: named after where it is
            name = unique(fallback, self.names)
        model = self.model(name, scheme, pointer)
        self.models[id(scheme)] = model
        return model

    def model(self, name: str, scheme: dict[str, Any], pointer: str) -> SecuritySchemeModel:
        kind = str(scheme.get("type", ""))
        description = scheme.get("description")
        description = description if isinstance(description, str) else None
        constant = unique(snake_case(name).upper(), self.constants)
        verifier = unique("verify_" + snake_case(name).lstrip("_"), self.verifiers)
        runtime_class, credentials, options, invalid = _reader(kind, scheme)
        if runtime_class is None:
            code, why = ("N061", invalid) if invalid else ("N060", f"type {kind!r}")
            self.problem(
                code,
                f"security scheme {name!r} ({why}) cannot be read from a WebSocket handshake: "
                "it is never satisfied (alone in a security list, it refuses every connection)",
                pointer,
                warning=True,
                hint=f"chanspec reads {SUPPORTED}; or override authenticate() in the consumer",
            )
            return SecuritySchemeModel(
                name, kind, constant, "", "UnsupportedScheme", "",
                (("scheme_type", kind),), description,
            )  # fmt: skip
        return SecuritySchemeModel(
            name, kind, constant, verifier, runtime_class, credentials, options, description
        )

    def schemes(self) -> tuple[SecuritySchemeModel, ...]:
        """Every scheme some channel requires: declared ones in declaration order, then inline."""
        return tuple(
            sorted(
                self.models.values(),
                key=lambda m: self.order.get(m.name, len(self.order)),
            )
        )


def _reader(
    kind: str, scheme: dict[str, Any]
) -> tuple[str | None, str, tuple[tuple[str, Any], ...], str]:
    """``(runtime class, credentials class, options, why invalid)`` for a scheme object."""
    where = scheme.get("in")
    if kind == "httpApiKey":
        param = scheme.get("name")
        if not isinstance(param, str) or not param:
            return None, "", (), "httpApiKey without a name"
        if where not in ("query", "header", "cookie"):
            return None, "", (), f"httpApiKey in {where!r}"
        return "HttpApiKeyScheme", "ApiKey", (("param", param), ("location", where)), ""
    if kind == "apiKey":
        if where not in ("user", "password"):
            return None, "", (), f"apiKey in {where!r}"
        return "ApiKeyScheme", "ApiKey", (("location", where),), ""
    if kind == "http":
        http = str(scheme.get("scheme", "")).lower()
        if http == "bearer":
            fmt = scheme.get("bearerFormat")
            options: tuple[tuple[str, Any], ...] = (("scheme", "bearer"),)
            if isinstance(fmt, str):
                options += (("bearer_format", fmt),)
            return "HttpScheme", "Bearer", options, ""
        if http == "basic":
            return "HttpScheme", "Basic", (("scheme", "basic"),), ""
        return None, "", (), f"http scheme {scheme.get('scheme')!r}"
    if kind == "userPassword":
        return "UserPasswordScheme", "Basic", (), ""
    return None, "", (), ""


_WHERE = {
    "query": "the query parameter {param!r}",
    "header": "the header {param!r}",
    "cookie": "the cookie {param!r}",
    "user": "the user name of Authorization: Basic",
    "password": "the password of Authorization: Basic",
}


def _summary(scheme: SecuritySchemeModel) -> str:
    options = dict(scheme.options)
    if scheme.credentials == "ApiKey":
        where = _WHERE[str(options["location"])].format(param=options.get("param"))
        what = f"the API key sent as {where}"
    elif scheme.credentials == "Bearer":
        fmt = options.get("bearer_format")
        what = "the bearer token of Authorization: Bearer" + (f" ({fmt})" if fmt else "")
    else:
        what = "the user name and password of Authorization: Basic"
    return f"Check {what} (scheme {scheme.name!r})."


def security_context(service: ServiceModel) -> dict[str, Any]:
    """Template context of ``generated/security.py`` and the ``auth.py`` scaffold.

    Returns:
        ``schemes`` (dicts with the model's fields plus ``summary``), the sorted
        ``runtime_imports``/``credential_imports``/``verifier_imports``, ``exports`` (the
        constants) and ``security_of`` (``{channel id: source of the contract's security}``).
    """
    constants = {s.name: s.constant for s in service.security_schemes}
    schemes = [
        {
            "name": s.name, "type": s.type, "constant": s.constant, "verifier": s.verifier,
            "runtime_class": s.runtime_class, "credentials": s.credentials,
            "options": s.options, "description": s.description,
            "summary": _summary(s) if s.verifier else "",
        }
        for s in service.security_schemes
    ]  # fmt: skip
    return {
        "schemes": schemes,
        "runtime_imports": sorted({s.runtime_class for s in service.security_schemes}),
        "credential_imports": sorted({s.credentials for s in service.security_schemes} - {""}),
        "verifier_imports": sorted(s.verifier for s in service.security_schemes if s.verifier),
        "exports": sorted(s.constant for s in service.security_schemes),
        "security_of": {
            ch.id: _tuple_source(
                [_tuple_source([constants[name] for name in req]) for req in ch.security]
            )
            for ch in service.channels
        },
    }


def _tuple_source(items: list[str]) -> str:
    """Python source of a tuple of the given expressions: ``(A,)``, ``(A, B)``."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def update_verifiers(existing: str, rendered: str, path: str) -> ScaffoldUpdate:
    """Append a stub for each verifier the user's ``auth.py`` lacks (a scheme new in the spec).

    Like :func:`.scaffold.update_consumer` for module-level functions: the imports the new stubs
    need are added after the existing imports, the stubs at the end; every line of the user's
    file stays, in order. Verifiers the spec no longer needs are left alone.

    Args:
        existing: the user's module text.
        rendered: the ``auth.py`` chanspec would write today.
        path: the file's display path, for located notes.

    Returns:
        A :class:`~.scaffold.ScaffoldUpdate`; ``added`` lists the verifier names stubbed.

    Raises:
        RuntimeError: the edit would lose a user line (a bug; nothing is written then).
    """
    result = ScaffoldUpdate(existing)
    module = parse_user_module(existing, path, result)
    if module is None:
        return result
    target = cst.parse_module(rendered)
    known = _imported_names(module)
    missing = [
        stmt
        for stmt in target.body
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value not in known
    ]
    if not missing:
        return result
    body = list(module.body)
    insert_imports(module, target, list(missing), body)
    stubs = [
        stub.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]) for stub in missing
    ]
    content = module.with_changes(body=[*body, *stubs]).code
    if not _is_subsequence(existing, content):
        raise RuntimeError(f"refusing to update {path}: the edit would change a user line")
    result.content = content
    result.added = [stub.name.value for stub in missing]
    return result
