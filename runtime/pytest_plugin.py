"""pytest plugin for testing chanspec services: a real ``redis-server`` and a spec check.

Loaded automatically when chanspec is installed (entry point ``pytest11``
``chanspec.runtime.pytest_plugin``); without the installed entry point, load it with
``-p chanspec.runtime.pytest_plugin`` or ``pytest_plugins = ["chanspec.runtime.pytest_plugin"]``
in a ``conftest.py``. Disable it with ``-p no:chanspec.runtime.pytest_plugin``.

Fixtures:

- ``redis_server_process`` (session): a :class:`RedisServer` started on a free loopback port
  (persistence off, data in a temporary directory), stopped at the end of the session. Stop and
  start it in a test to simulate an outage (it comes back on the same port, empty).
- ``redis_server`` (function): the URL of that server, ``redis://127.0.0.1:<port>/0``, with every
  database flushed before the test. Point the app at it with ``REDIS_URL``.

When ``redis-server`` is not installed (not on ``PATH``, or ``CHANSPEC_REDIS_SERVER`` names no
executable) the test using the fixture fails (never skips) with a message saying how to install
it.

Spec check: :func:`assert_matches_spec` compares the AsyncAPI document an app emits (the one it
serves at ``/asyncapi.json``) with a spec, on the contract a client relies on; see its docstring
for exactly what is compared. It uses only the runtime (PyYAML, no code generator); the complete,
classified comparison is ``chanspec diff`` (the ``chanspec`` command line).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .consumer import Consumer

__all__ = [
    "RedisServer",
    "RedisServerNotFound",
    "SpecMismatch",
    "assert_matches_spec",
    "find_redis_server",
    "redis_server",
    "redis_server_process",
    "spec_differences",
]

INSTALL_HINT = (
    "install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or "
    "set CHANSPEC_REDIS_SERVER to the path of the redis-server executable"
)


class RedisServerNotFound(RuntimeError):
    """No ``redis-server`` executable: neither ``CHANSPEC_REDIS_SERVER`` nor ``PATH`` has one."""


def find_redis_server(environ: Mapping[str, str] | None = None) -> str:
    """The ``redis-server`` executable to run.

    Args:
        environ: where to read ``CHANSPEC_REDIS_SERVER`` and ``PATH`` (default ``os.environ``).

    Returns:
        ``CHANSPEC_REDIS_SERVER`` when set (must be an executable file), else ``redis-server``
        found on ``PATH``.

    Raises:
        RedisServerNotFound: with the install hint.
    """
    env = os.environ if environ is None else environ
    configured = env.get("CHANSPEC_REDIS_SERVER")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise RedisServerNotFound(
            f"CHANSPEC_REDIS_SERVER={configured!r} is not an executable file; {INSTALL_HINT}"
        )
    found = shutil.which("redis-server", path=env.get("PATH"))
    if found is None:
        raise RedisServerNotFound(f"redis-server is not installed (not on PATH); {INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` process on a loopback port, persistence off.

    Args:
        binary: the executable (default: :func:`find_redis_server`).
        port: TCP port (default: a free one, chosen once: restarts reuse it).
        start_timeout: seconds to wait for the port to accept connections (default 20).

    Raises:
        RedisServerNotFound: no executable (from the constructor, before anything starts).
    """

    def __init__(
        self, binary: str | None = None, port: int | None = None, start_timeout: float = 20.0
    ) -> None:
        self.binary = binary or find_redis_server()
        self.port = port or _free_port()
        self.start_timeout = start_timeout
        self.dir = tempfile.mkdtemp(prefix="chanspec-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the process (no-op when running) and wait until it accepts connections.

        Raises:
            RuntimeError: it exited (e.g. port taken) or did not listen within
                ``start_timeout`` seconds.
        """
        if self.running:
            return
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.proc = None
                raise RuntimeError(f"redis-server exited before listening: {err.strip()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"redis-server not listening on {self.port} after {self.start_timeout}s"
                )
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout`` seconds); no-op if stopped."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()

    def restart(self) -> None:
        """Stop and start again on the same port (all data is gone: persistence is off)."""
        self.stop()
        self.start()

    def flush(self) -> None:
        """``FLUSHALL`` (all databases)."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()

    def close(self) -> None:
        """Stop the process and remove its data directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server_process() -> Iterator[RedisServer]:
    """A real ``redis-server`` for the session (see the module docstring)."""
    try:
        server = RedisServer()
    except RedisServerNotFound as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_server(redis_server_process: RedisServer) -> str:
    """URL of the session's ``redis-server``, every database flushed; restarted if a test
    left it stopped."""
    redis_server_process.start()
    redis_server_process.flush()
    return redis_server_process.url


# ---- spec check ---------------------------------------------------------------------------------


class SpecMismatch(AssertionError):
    """The app's emitted document and the spec differ; ``differences`` lists each one."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        super().__init__(
            f"the app does not match its spec ({len(differences)} difference(s)):\n  "
            + "\n  ".join(differences)
        )


def _load(spec: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[dict[str, Any], Path | None]:
    if isinstance(spec, Mapping):
        return json.loads(json.dumps(spec)), None
    path = Path(spec)
    return _read(path), path.resolve().parent


def _read(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: not a JSON/YAML document: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an AsyncAPI document (top level is not a mapping)")
    return data


class _Resolver:
    """Follows ``$ref``: local pointers and relative files (no URLs)."""

    def __init__(self, root: dict[str, Any], base: Path | None) -> None:
        self.root = root
        self.base = base
        self.files: dict[Path, dict[str, Any]] = {}

    def resolve(self, node: Any, doc: dict[str, Any] | None = None) -> Any:
        seen = 0
        doc = self.root if doc is None else doc
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            seen += 1
            if seen > 50:
                raise ValueError(f"$ref cycle at {node['$ref']!r}")
            node, doc = self._target(node["$ref"], doc)
        return node

    def _target(self, ref: str, doc: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        where, _, pointer = ref.partition("#")
        if where:
            if self.base is None or "://" in where:
                raise ValueError(f"cannot follow $ref {ref!r} (pass the spec as a file path)")
            path = (self.base / where).resolve()
            if path not in self.files:
                self.files[path] = _absolute_refs(_read(path), path)
            doc = self.files[path]
        node: Any = doc
        for token in [t for t in pointer.split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            elif isinstance(node, dict) and token in node:
                node = node[token]
            else:
                raise ValueError(f"$ref {ref!r} does not resolve")
        return node, doc


def _absolute_refs(node: Any, path: Path) -> Any:
    """Rewrite the ``$ref`` s of a file loaded from ``path`` to absolute ``<file>#<pointer>``
    form, so they resolve the same wherever the referencing node ends up."""
    if isinstance(node, list):
        return [_absolute_refs(item, path) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _absolute_refs(v, path) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and "://" not in ref:
        where, _, pointer = ref.partition("#")
        target = (path.parent / where).resolve() if where else path
        out["$ref"] = f"{target}#{pointer}"
    return out


def _ref_key(ref: Any) -> str | None:
    """``#/channels/chat/messages/post`` -> ``post`` (the message key in its channel)."""
    if isinstance(ref, dict) and isinstance(ref.get("$ref"), str):
        tokens = str(ref["$ref"]).split("#", 1)[-1].split("/")
        return tokens[-1].replace("~1", "/").replace("~0", "~") if tokens else None
    return None


def _channel_id(ref: Any) -> str | None:
    if isinstance(ref, dict) and isinstance(ref.get("$ref"), str):
        tokens = str(ref["$ref"]).split("#", 1)[-1].strip("/").split("/")
        if len(tokens) == 2 and tokens[0] == "channels":
            return tokens[1].replace("~1", "/").replace("~0", "~")
    return None


def _types(schema: dict[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(str(t) for t in declared)
    if "properties" in schema:
        return frozenset({"object"})
    return frozenset()


def _shape(schema: Any, res: _Resolver, stack: tuple[int, ...] = ()) -> Any:
    """What a payload schema says about the JSON on the wire, ignoring annotations and
    constraints: types (``null`` aside: optional and nullable spellings differ), properties,
    required names, ``const``/``enum`` values, array items, and the branches of
    ``oneOf``/``anyOf``; ``allOf`` of objects is merged."""
    schema = res.resolve(schema)
    if not isinstance(schema, dict):
        return None
    if id(schema) in stack:
        return "<recursive>"
    stack = (*stack, id(schema))
    merged: dict[str, Any] = dict(schema)
    for part in schema.get("allOf", []) or []:
        part = res.resolve(part)
        if isinstance(part, dict):
            joined = {**part.get("properties", {}), **merged.get("properties", {})}
            required = {*part.get("required", []), *merged.get("required", [])}
            merged = {**part, **merged, "properties": joined, "required": sorted(required)}
    merged.pop("allOf", None)
    out: dict[str, Any] = {}
    types = _types(merged) - {"null"}
    if types:
        out["type"] = sorted(types)
    if "const" in merged:
        out["values"] = [merged["const"]]
    elif isinstance(merged.get("enum"), list):
        values = [v for v in merged["enum"] if v is not None]
        out["values"] = sorted(values, key=json.dumps)
    props = merged.get("properties")
    if isinstance(props, dict) and props:
        out["properties"] = {k: _shape(v, res, stack) for k, v in sorted(props.items())}
    if merged.get("required"):
        out["required"] = sorted(merged["required"])
    if "items" in merged:
        out["items"] = _shape(merged["items"], res, stack)
    branches = [
        s
        for key in ("oneOf", "anyOf")
        for s in (_shape(b, res, stack) for b in merged.get(key, []) or [])
        if s not in ({"type": []}, {}, None)
    ]
    if len(branches) == 1 and not types:
        return branches[0]  # X | None written as anyOf [X, null]
    if branches:
        out["oneOf"] = sorted(branches, key=lambda b: json.dumps(b, sort_keys=True))
    return out


def _contract(doc: dict[str, Any], base: Path | None) -> dict[str, Any]:
    version = str(doc.get("asyncapi", ""))
    if not version.startswith("3."):
        raise ValueError(f"AsyncAPI 3.x documents only (got asyncapi: {version!r})")
    res = _Resolver(doc, base)
    channels: dict[str, Any] = {}
    for cid, channel in (res.resolve(doc.get("channels")) or {}).items():
        channel = res.resolve(channel)
        messages = {}
        for key, message in (res.resolve(channel.get("messages")) or {}).items():
            message = res.resolve(message)
            payload = message.get("payload") if isinstance(message, dict) else None
            if isinstance(payload, dict) and "schemaFormat" in payload:
                payload = payload.get("schema")  # multi-format schema object
            messages[key] = _shape(payload, res)
        channels[cid] = {
            "address": channel.get("address"),
            "messages": messages,
            "x-channel-layer": channel.get("x-channel-layer"),
            "x-groups": sorted(channel.get("x-groups") or []),
        }
    operations: dict[str, Any] = {}
    for op_id, op in (res.resolve(doc.get("operations")) or {}).items():
        op = res.resolve(op)
        entry: dict[str, Any] = {
            "action": op.get("action"),
            "channel": _channel_id(op.get("channel")),
            "messages": sorted(k for k in map(_ref_key, op.get("messages") or []) if k),
        }
        reply = res.resolve(op.get("reply"))
        if isinstance(reply, dict):
            entry["reply"] = sorted(k for k in map(_ref_key, reply.get("messages") or []) if k)
        operations[op_id] = entry
    return {"channels": channels, "operations": operations}


def _compare(path: str, spec: Any, app: Any, out: list[str]) -> None:
    if isinstance(spec, dict) and isinstance(app, dict):
        for key in sorted(set(spec) | set(app), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in app:
                out.append(f"{where}: in the spec, missing from the app")
            elif key not in spec:
                out.append(f"{where}: in the app, not in the spec")
            else:
                _compare(where, spec[key], app[key], out)
    elif spec != app:
        out.append(f"{path}: spec {json.dumps(spec)}, app {json.dumps(app)}")


def _emitted(app: Any) -> dict[str, Any]:
    from starlette.applications import Starlette

    from .app import document_of
    from .asyncapi import build_document
    from .consumer import Consumer

    if isinstance(app, Starlette):
        return document_of(app)
    if isinstance(app, Mapping):
        return dict(app)
    consumers: list[type[Consumer]] = list(app)
    if not all(isinstance(c, type) and issubclass(c, Consumer) for c in consumers):
        raise TypeError("expected a Starlette app, an emitted document or consumer classes")
    return build_document((), consumers=consumers)


def spec_differences(
    app: Any,
    spec: str | os.PathLike[str] | Mapping[str, Any],
) -> list[str]:
    """The differences between the app's emitted document and ``spec`` (empty when they match).

    Args:
        app: a Starlette app made by ``create_app`` (its document as served at
            ``/asyncapi.json``), an already emitted document (a mapping), or an iterable of
            consumer classes (channels emitted without routes: ``address`` is ``null``, so
            compare those with a spec whose channels have no address, or pass the app).
        spec: a path to an AsyncAPI 3.x JSON/YAML file (relative file ``$ref`` s followed) or an
            already loaded document.

    Returns:
        One line per difference, ``<where>: ...``, sorted by place. Compared, after resolving
        ``$ref`` s on both sides: the set of channels with each one's ``address``, message keys,
        ``x-channel-layer`` and ``x-groups``; each message payload's wire shape (types,
        properties, required names, ``const``/``enum`` values, array items, ``oneOf``/``anyOf``
        branches, ``allOf`` merged); the set of operations with each one's ``action``, channel
        and message keys and reply message keys. Not compared: descriptions, examples, tags,
        bindings, servers, security, constraints (``minLength``, ``format``, ...), ``null`` in
        types, ``x-events``. For all of it, classified, use ``chanspec diff``.

    Raises:
        ValueError: the spec cannot be read, is not AsyncAPI 3.x, or a ``$ref`` is unresolvable.
        TypeError: ``app`` is none of the accepted kinds.
    """
    document, base = _load(spec)
    expected = _contract(document, base)
    actual = _contract(json.loads(json.dumps(_emitted(app))), None)
    out: list[str] = []
    _compare("", expected, actual, out)
    return out


def assert_matches_spec(
    app: Any | Iterable[type[Consumer]],
    spec: str | os.PathLike[str] | Mapping[str, Any],
) -> None:
    """Assert that the app implements ``spec`` (see :func:`spec_differences` for what counts).

    Raises:
        SpecMismatch: an ``AssertionError`` listing every difference.
    """
    differences = spec_differences(app, spec)
    if differences:
        raise SpecMismatch(differences)
