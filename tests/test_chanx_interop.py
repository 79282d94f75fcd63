"""chanx interop: chanx's documents in, chanx's generated clients against our servers.

chanx 2.13 (a test-only dependency) is used for real: its consumers and views emit the fixture
documents (``tests/fixtures/chanx_app``), and ``chanx generate-client`` (its CLI, in a
subprocess) writes the clients these tests import and run against real uvicorn servers.

- our generated showcase, serving its own document: the chanx client exchanges ping/pong,
  the system echo, room chat broadcasts and error frames;
- an app chanspec generates from chanx's document: chanx's client generated from that same
  document talks to it, and the round trip shows only the differences docs/chanx-interop.md
  explains.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, get_args, get_origin

import pytest
import yaml
from chanspec.codegen.chanx_compat import for_chanx_client, is_chanx_document
from chanspec.runtime import (
    Consumer,
    LayerSpec,
    Message,
    event_handler,
    register_layers,
    ws_handler,
)
from chanspec.runtime.testing import Communicator

from .conftest import connect
from .fixtures.chanx_app import emit as chanx_emit
from .servers import REPO, uvicorn_server

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "chanx_app"
CHANX_YAML = FIXTURES / "asyncapi.yaml"
CHANX_JSON = FIXTURES / "asyncapi.json"


# ---- helpers ------------------------------------------------------------------------------------


def chanx_generate_client(schema: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Run ``chanx generate-client`` (chanx's own CLI) on ``schema`` into ``out``."""
    return subprocess.run(
        [sys.executable, "-m", "chanx.cli.main", "generate-client", "--schema", str(schema),
         "--output", str(out), "--no-format", "--no-readme"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def import_client(root: Path, package: str, channel: str) -> ModuleType:
    """Import channel module ``<package>.<channel>`` of a client generated under ``root``."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"{package}.{channel}")


class ChanxSession:
    """A chanx-generated client running its own ``handle()`` loop against a real server.

    Typed messages (the client's ``IncomingMessage`` union) and frames outside it (chanx's
    ``handle_invalid_message``: error frames, which chanx documents nowhere) are queued in
    arrival order.
    """

    def __init__(
        self, client_class: type[Any], base_url: str, query: str = "", **kwargs: Any
    ) -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        ready = asyncio.Event()

        class Recording(client_class):  # type: ignore[misc, valid-type]
            async def send_init_message(self) -> None:
                ready.set()

            async def handle_message(self, message: Any) -> None:
                await queue.put(message)

            async def handle_invalid_message(self, invalid_message: Any) -> None:
                await queue.put(("outside the union", invalid_message))

            async def handle_websocket_connection_error(self, e: Exception) -> None:
                await queue.put(("connection error", e))
                ready.set()

        self.client = Recording(base_url, **kwargs)
        if query:  # chanx's client has no query-string option; its URL is a plain attribute
            self.client.url += "?" + query
        self.queue = queue
        self.ready = ready
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ChanxSession:
        self.task = asyncio.create_task(self.client.handle())
        await asyncio.wait_for(self.ready.wait(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if hasattr(self.client, "websocket"):  # absent when the handshake failed
            await self.client.disconnect()
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)

    async def recv(self, timeout: float = 5.0) -> Any:
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if isinstance(item, tuple) and item[0] == "connection error":
            raise AssertionError(f"connection error: {item[1]!r}")
        return item

    async def nothing(self, wait: float = 0.3) -> None:
        try:
            item = await asyncio.wait_for(self.queue.get(), wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected: {item!r}")


def http_url(ws_url: str) -> str:
    return "http" + ws_url.removeprefix("ws")


# ---- the fixture documents --------------------------------------------------------------------


def test_fixture_documents_are_what_chanx_emits_today() -> None:
    """The committed documents are re-emitted by chanx's views byte for byte (no rot), and the
    YAML carries the PyYAML anchors chanx's YAML view writes for shared objects."""
    assert chanx_emit.main(["--check"]) == 0
    text = CHANX_YAML.read_text()
    assert "&id001" in text and "*id001" in text
    assert yaml.safe_load(text) == json.loads(CHANX_JSON.read_text())


def test_chanx_documents_are_recognised() -> None:
    assert is_chanx_document(yaml.safe_load(CHANX_YAML.read_text()))
    assert is_chanx_document(json.loads(CHANX_JSON.read_text()))
    assert not is_chanx_document(
        yaml.safe_load((REPO / "specs/showcase.asyncapi.yaml").read_text())
    )
    changed = json.loads(CHANX_JSON.read_text())
    changed["channels"]["system"]["title"] = "System"
    assert not is_chanx_document(changed)


# ---- an app generated from chanx's document ----------------------------------------------------

HANDLERS = {
    # the same rule as the chanx app's TokenAuthenticator
    "auth": {
        'raise NotImplementedError("verify_query_token")': (
            'return "member" if credentials.value == "letmein" else None'
        ),
    },
    "system": {
        'raise NotImplementedError("ping")': "return PongMessage()",
        'raise NotImplementedError("user_message")': (
            "return SystemEchoMessage(payload=message.payload)"
        ),
    },
    "room_chat": {
        'raise NotImplementedError("room_chat_ping")': "return PongMessage()",
        'raise NotImplementedError("post_chat")': (
            "return ChatBroadcastMessage(payload=message.payload)"
        ),
    },
}


@pytest.fixture(scope="module")
def chanx_generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chanspec generate`` of chanx's YAML document (anchors and all), handlers filled in."""
    root = tmp_path_factory.mktemp("from_chanx")
    run = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "generate", str(CHANX_YAML), "-o",
         str(root / "chanxapp")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    for module, bodies in HANDLERS.items():
        folder = root / "chanxapp" if module == "auth" else root / "chanxapp" / "consumers"
        path = folder / f"{module}.py"
        text = path.read_text()
        for stub, body in bodies.items():
            assert text.count(stub) == 1, (module, stub)
            text = text.replace(stub, body)
        path.write_text(text)
    return root


def test_generated_models_route_on_the_optional_action(chanx_generated: Path) -> None:
    """chanx leaves ``action`` out of ``required``; the model still has a plain Literal (not
    ``Literal | None``), so frames route, and chanx's ``send`` without messages sends none."""
    sys.path.insert(0, str(chanx_generated))
    try:
        messages = importlib.import_module("chanxapp.generated.messages")
        channels = importlib.import_module("chanxapp.generated.channels")
        consumers = importlib.import_module("chanxapp.consumers.room_chat")
    finally:
        sys.path.remove(str(chanx_generated))
    for name in ("PingMessage", "UserMessage", "NewChatMessage", "ChatBroadcastMessage"):
        field = getattr(messages, name).model_fields["action"]
        assert get_origin(field.annotation) is Literal, (name, field.annotation)
        assert len(get_args(field.annotation)) == 1
    assert channels.RoomChatChannel.send_operations == {
        "close_room": (),
        "notify_room": ("room_notice_message",),
    }
    handlers = consumers.RoomChatConsumer.ws_handlers
    assert {e.route.operation_id: e.route.method_name for e in handlers} == {
        "room_chat_ping": "ping",
        "post_chat": "post_chat",
    }


def test_generated_app_is_lint_and_type_clean(chanx_generated: Path) -> None:
    app = str(chanx_generated / "chanxapp")
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", app], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    types = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", app],
        capture_output=True, text=True, timeout=600, cwd=chanx_generated,
    )  # fmt: skip
    assert types.returncode == 0, types.stdout


# Differences the round trip of chanx's document shows, each explained in docs/chanx-interop.md.
EXPLAINED = {
    # chanspec emits a discriminator without its default (the const says it all)
    ("default-removed", "/payload/properties/action/default"),
    # `reply_to: int | None = None` is accepted as null but emitted as an optional integer
    ("request-nullable-removed", "/payload/properties/payload/properties/reply_to/anyOf/1"),
    ("response-nullable-removed", "/payload/properties/payload/properties/reply_to/anyOf/1"),
    # chanx's "send without messages" means none: chanspec writes the `messages: []` it means
    ("response-message-removed", "/operations/close_room/messages"),
}


def diff_findings(document: Path, root: Path, app: str) -> list[dict[str, Any]]:
    """``chanspec diff document app --format json`` run in ``root``: the findings."""
    run = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "diff", str(document), app,
         "--format", "json", "--fail-on", "never"],
        capture_output=True, text=True, timeout=300, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    findings: list[dict[str, Any]] = json.loads(run.stdout)
    return findings


def unexplained(findings: list[dict[str, Any]], explained: set[tuple[str, str]]) -> list[Any]:
    return [
        f
        for f in findings
        if not any(f["rule"] == rule and f["pointer"].endswith(tail) for rule, tail in explained)
    ]


@pytest.mark.parametrize("document", [CHANX_YAML, CHANX_JSON], ids=["yaml", "json"])
def test_round_trip_of_chanx_document_shows_only_explained_differences(
    chanx_generated: Path, document: Path
) -> None:
    findings = diff_findings(document, chanx_generated, "chanxapp.main:app")
    assert unexplained(findings, EXPLAINED) == []
    rules = {f["rule"] for f in findings}
    assert {"default-removed", "response-message-removed"} <= rules
    actions = [f for f in findings if f["rule"] == "default-removed"]
    assert len(actions) == 9  # every message of both channels (ping/pong on both)


def test_camelized_chanx_document(tmp_path: Path) -> None:
    """chanx's ``camelize=True`` output: camelCase keys and fields, same reading."""
    document = FIXTURES / "asyncapi.camel.json"
    assert is_chanx_document(json.loads(document.read_text()))
    run = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "generate", str(document), "-o",
         str(tmp_path / "camelapp")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    channels = (tmp_path / "camelapp" / "generated" / "channels.py").read_text()
    assert '"closeRoom": ()' in channels
    messages = (tmp_path / "camelapp" / "generated" / "messages.py").read_text()
    assert "userName:" in messages and "replyTo:" in messages
    explained = {
        ("default-removed", "/payload/properties/action/default"),
        ("request-nullable-removed", "/payload/properties/payload/properties/replyTo/anyOf/1"),
        ("response-nullable-removed", "/payload/properties/payload/properties/replyTo/anyOf/1"),
        ("response-message-removed", "/operations/closeRoom/messages"),
    }
    findings = diff_findings(document, tmp_path, "camelapp.main:app")
    assert unexplained(findings, explained) == []
    assert any(f["pointer"] == "/operations/closeRoom/messages" for f in findings)


@pytest.fixture(scope="module")
def chanx_generated_server(chanx_generated: Path) -> Iterator[str]:
    with uvicorn_server("chanxapp.main:app", cwd=chanx_generated) as url:
        yield url


@pytest.fixture(scope="module")
def chanx_own_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chanx's client generated from chanx's own document (no adaptation needed)."""
    root = tmp_path_factory.mktemp("chanx_client")
    run = chanx_generate_client(CHANX_JSON, root / "fixture_client")
    assert run.returncode == 0, run.stdout + run.stderr
    return root


async def test_chanx_style_frames_round_trip_on_app_from_chanx_document(
    chanx_generated_server: str,
) -> None:
    """Frames exactly as chanx's client writes them (``model_dump()``: ``payload: null``)."""
    client = await connect(f"{chanx_generated_server}/ws/system")
    await client.send({"action": "ping", "payload": None})
    assert await client.recv() == {"action": "pong"}
    await client.send({"action": "user_message", "payload": {"message": "hi"}})
    assert await client.recv() == {"action": "system_echo", "payload": {"message": "hi"}}
    await client.send({"action": "new_chat_message", "payload": {"user_name": "a", "message": "b"}})
    error = await client.recv()
    assert error["action"] == "error" and error["payload"]["code"] == "unknown_message"
    await client.nothing()
    await client.close()


async def test_chanx_client_from_chanx_document_talks_to_generated_app(
    chanx_generated_server: str, chanx_own_client: Path
) -> None:
    system = import_client(chanx_own_client, "fixture_client", "system")
    room = import_client(chanx_own_client, "fixture_client", "room_chat")
    # chanx's generator puts messages used by several channels in shared/ (ping, pong)
    shared = import_client(chanx_own_client, "fixture_client", "shared.messages")
    async with ChanxSession(system.SystemClient, chanx_generated_server) as s:
        await s.client.send_message(shared.PingMessage())
        assert isinstance(await s.recv(), shared.PongMessage)
        await s.client.send_message(system.UserMessage(payload=system.MessagePayload(message="m")))
        echo = await s.recv()
        assert isinstance(echo, system.SystemEchoMessage) and echo.payload.message == "m"
        await s.nothing()
    params = {"room_name": "lobby"}
    refused = ChanxSession(room.RoomChatClient, chanx_generated_server, path_params=params)
    with pytest.raises(
        AssertionError, match="status_code=401"
    ):  # no token: the handshake is refused
        async with refused:
            await refused.recv()
    async with ChanxSession(
        room.RoomChatClient, chanx_generated_server, query="token=letmein", path_params=params
    ) as r:
        line = room.ChatPayload(user_name="ann", message="hello", reply_to=None)
        await r.client.send_message(room.NewChatMessage(payload=line))
        reply = await r.recv()
        assert isinstance(reply, room.ChatBroadcastMessage)
        assert reply.payload == line
        await r.client.send_json({"action": "new_chat_message", "payload": {"user_name": 1}})
        kind, frame = await r.recv()
        assert kind == "outside the union"
        assert frame["action"] == "error" and frame["payload"]["code"] == "validation_error"
        assert {tuple(e["loc"]) for e in frame["payload"]["errors"]} == {
            ("payload", "user_name"),
            ("payload", "message"),
        }


def broadcast_recipe(document: dict[str, Any]) -> dict[str, Any]:
    """docs/chanx-interop.md#broadcasts applied to chanx's document: a layer, the room's group,
    ``post_chat`` without its reply and a ``send`` operation for what the room receives."""
    document["x-channel-layers"] = {"chat": {"type": "redis-pubsub"}}
    room = document["channels"]["room_chat"]
    room["x-channel-layer"] = "chat"
    room["x-groups"] = ["room_{room_name}"]
    del document["operations"]["post_chat"]["reply"]
    document["operations"]["chat_broadcast"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/room_chat"},
        "messages": [{"$ref": "#/channels/room_chat/messages/chat_broadcast_message"}],
    }
    return document


async def test_broadcast_recipe_gives_chanx_clients_their_room(
    tmp_path: Path, chanx_own_client: Path
) -> None:
    spec = tmp_path / "chat.asyncapi.yaml"
    spec.write_text(yaml.safe_dump(broadcast_recipe(yaml.safe_load(CHANX_YAML.read_text()))))
    run = subprocess.run(
        [sys.executable, "-m", "chanspec.codegen", "generate", str(spec), "-o",
         str(tmp_path / "roomapp")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    consumer = tmp_path / "roomapp" / "consumers" / "room_chat.py"
    text = consumer.read_text()
    stub = 'raise NotImplementedError("post_chat")'
    assert text.count(stub) == 1 and "-> None:" in text  # no reply any more
    text = text.replace(
        stub, "await self.broadcast_message(ChatBroadcastMessage(payload=message.payload))"
    )
    text = text.replace(
        "from ..generated.messages import (",
        "from ..generated.messages import (\n    ChatBroadcastMessage,",
    )
    consumer.write_text(text)
    auth = tmp_path / "roomapp" / "auth.py"
    auth.write_text(
        auth.read_text().replace(
            'raise NotImplementedError("verify_query_token")',
            'return "member" if credentials.value == "letmein" else None',
        )
    )
    room = import_client(chanx_own_client, "fixture_client", "room_chat")

    def member(name: str, url: str) -> ChanxSession:
        return ChanxSession(
            room.RoomChatClient, url, query="token=letmein", path_params={"room_name": name}
        )

    with uvicorn_server("roomapp.main:app", cwd=tmp_path) as url:
        async with member("lobby", url) as a, member("lobby", url) as b, member("x", url) as c:
            line = room.ChatPayload(user_name="ann", message="hello room")
            await a.client.send_message(room.NewChatMessage(payload=line))
            for listener in (a, b):  # the sender too, as in the chanx app
                got = await listener.recv()
                assert isinstance(got, room.ChatBroadcastMessage) and got.payload == line
            await c.nothing()
            await a.nothing(0.1)


# The same bad frames to a chanx server (the fixture app itself) and to ours: each answers one
# `action: error` frame and keeps the connection; the payloads differ as docs/chanx-interop.md
# and docs/wire-protocol.md say: chanx sends pydantic's errors as a list, we send one object.
BAD_FRAMES: list[tuple[str | bytes, str, str]] = [
    # frame, chanx's payload[0]["type"], our payload["code"]
    ("{bad", "json_invalid", "invalid_json"),
    (b"\x00binary", "json_invalid", "binary_frame"),
    ("[1, 2]", "model_type", "not_an_object"),
    ('{"payload": 1}', "union_tag_not_found", "missing_discriminator"),
    ('{"action": "nope"}', "union_tag_invalid", "unknown_message"),
    ('{"action": "user_message", "payload": {}}', "missing", "validation_error"),
]


@pytest.fixture(scope="module")
def chanx_server() -> Iterator[str]:
    """The chanx fixture app itself under uvicorn (chanx's consumers, not ours)."""
    with uvicorn_server("tests.fixtures.chanx_app.app:app") as url:
        yield url


async def test_error_frames_side_by_side_with_chanx(
    chanx_server: str, chanx_generated_server: str
) -> None:
    theirs = await connect(f"{chanx_server}/ws/system")
    ours = await connect(f"{chanx_generated_server}/ws/system")
    for frame, chanx_type, our_code in BAD_FRAMES:
        await theirs.send(frame)
        await ours.send(frame)
        chanx_error, our_error = await theirs.recv(), await ours.recv()
        assert chanx_error["action"] == our_error["action"] == "error"
        assert isinstance(chanx_error["payload"], list)
        assert chanx_error["payload"][0]["type"] == chanx_type, frame
        assert our_error["payload"]["code"] == our_code, frame
    # located validation errors: chanx prefixes the union tag to the location, we do not
    assert chanx_error["payload"][0]["loc"] == ["user_message", "payload", "message"]
    assert our_error["payload"]["errors"][0]["loc"] == ["payload", "message"]
    for client in (theirs, ours):
        await client.send({"action": "ping", "payload": None})  # both connections stay open
        assert (await client.recv())["action"] == "pong"
        await client.nothing()
        await client.close()


# ---- our showcase, its own emitted document, chanx's generated client --------------------------


@pytest.fixture(scope="module")
def showcase() -> Iterator[str]:
    """The generated showcase on the embedded default (in-memory layers, one process)."""
    with uvicorn_server("examples.showcase.main:app") as url:
        yield url


@pytest.fixture(scope="module")
def showcase_document(showcase: str) -> dict[str, Any]:
    with urllib.request.urlopen(http_url(showcase) + "/asyncapi.json", timeout=10) as response:
        document: dict[str, Any] = json.load(response)
    return document


def test_chanx_client_generator_needs_titles_our_document_leaves_out(
    showcase_document: dict[str, Any], tmp_path: Path
) -> None:
    """AsyncAPI 3.0 makes channel ``title`` optional; chanx's client generator requires it."""
    raw = tmp_path / "asyncapi.json"
    raw.write_text(json.dumps(showcase_document))
    run = chanx_generate_client(raw, tmp_path / "client")
    assert run.returncode == 1
    assert "channels.system.title" in run.stderr and "Field required" in run.stderr


@pytest.fixture(scope="module")
def showcase_client(
    showcase_document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    root = tmp_path_factory.mktemp("showcase_chanx_client")
    emitted, adapted = root / "asyncapi.json", root / "for-chanx.json"
    emitted.write_text(json.dumps(showcase_document))
    with adapted.open("w") as out:  # the documented filter: python -m ...chanx_compat FILE
        subprocess.run(
            [sys.executable, "-m", "chanspec.codegen.chanx_compat", str(emitted)],
            stdout=out, check=True, timeout=60,
        )  # fmt: skip
    assert json.loads(adapted.read_text()) == for_chanx_client(showcase_document)
    run = chanx_generate_client(adapted, root / "showcase_client")
    assert run.returncode == 0, run.stdout + run.stderr
    return root


async def test_chanx_client_request_reply_and_error_frames(
    showcase: str, showcase_client: Path
) -> None:
    system = import_client(showcase_client, "showcase_client", "system")
    async with ChanxSession(system.SystemClient, showcase) as s:
        await s.client.send_message(system.Ping())
        assert isinstance(await s.recv(), system.Pong)
        text = system.UserMessagePayload(message="hi")
        await s.client.send_message(system.UserMessage(payload=text))
        echo = await s.recv()
        assert isinstance(echo, system.SystemEcho)
        assert echo.payload.message == "🔧 System Echo: hi"
        # error frames are outside chanx's message unions: its client hands them to
        # handle_invalid_message, as it does with chanx's own error frames
        await s.client.send_json({"action": "user_message", "payload": {}})
        kind, frame = await s.recv()
        assert kind == "outside the union"
        assert frame["action"] == "error"
        assert frame["payload"]["code"] == "validation_error"
        assert frame["payload"]["errors"][0]["loc"] == ["payload", "message"]
        await s.client.send_json({"action": "no_such_action"})
        _, frame = await s.recv()
        assert frame["payload"]["code"] == "unknown_message"
        await s.client.send_raw("{not json")
        _, frame = await s.recv()
        assert frame["payload"]["code"] == "invalid_json"
        # the connection stays open after error frames
        await s.client.send_message(system.Ping())
        assert isinstance(await s.recv(), system.Pong)
        await s.nothing()


async def test_chanx_clients_share_a_room_broadcast(showcase: str, showcase_client: Path) -> None:
    room = import_client(showcase_client, "showcase_client", "room_chat")

    def session(name: str) -> ChanxSession:
        return ChanxSession(room.RoomChatClient, showcase, path_params={"room_name": name})

    async with session("alpha") as a1:
        await a1.nothing(0.2)
        async with session("alpha") as a2, session("beta") as b1:
            joined = await a1.recv()
            assert isinstance(joined, room.RoomNotification)
            assert joined.payload.room_name == "alpha"
            await a2.nothing(0.2)
            await b1.nothing(0.2)
            await a2.client.send_message(
                room.RoomChat(payload=room.RoomChatPayload(message="hello alpha"))
            )
            for member in (a1, a2):
                notice = await member.recv()
                assert isinstance(notice, room.RoomNotification)
                assert notice.payload.message == "💬 hello alpha"
            await b1.nothing()
        left = await a1.recv()  # a2 left the room
        assert isinstance(left, room.RoomNotification) and "left" in left.payload.message


def test_for_chanx_client_adds_titles_and_changes_nothing_else(
    showcase_document: dict[str, Any],
) -> None:
    adapted = for_chanx_client(showcase_document)
    assert (
        adapted is not showcase_document and "title" not in showcase_document["channels"]["system"]
    )
    chat = adapted["channels"]["room_chat"]
    assert chat["title"] == "room_chat"
    assert chat["messages"]["room_chat"]["payload"]["title"] == "RoomChat"
    assert chat["messages"]["room_chat"]["payload"]["properties"]["payload"]["title"] == (
        "RoomChatPayload"
    )

    def strip(node: Any) -> Any:  # titles added, descriptions escaped: nothing on the wire
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("title", "description")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    original = json.loads(json.dumps(showcase_document))
    for channel in original["channels"].values():  # the only titles the showcase has
        for message in channel["messages"].values():
            message.pop("title", None)
    for channel in adapted["channels"].values():
        for message in channel["messages"].values():
            message.pop("title", None)
    assert strip(adapted) == strip(original)


def test_for_chanx_client_makes_titles_identifiers_and_unique() -> None:
    doc = {
        "channels": {
            "my-channel": {
                "messages": {
                    "a": {
                        "payload": {"title": "A chat line", "properties": {"x": {"type": "string"}}}
                    },
                    "b": {"payload": {"title": "class", "properties": {}}},
                    "c": {
                        "payload": {
                            "properties": {
                                "inner": {"title": "A chat line", "properties": {"y": {}}},
                                "items": {"type": "array", "items": {"properties": {"z": {}}}},
                            }
                        }
                    },
                }
            }
        }
    }
    out = for_chanx_client(doc)
    channel = out["channels"]["my-channel"]
    assert channel["title"] == "my_channel"
    titles = [
        channel["messages"]["a"]["payload"]["title"],
        channel["messages"]["b"]["payload"]["title"],
        channel["messages"]["c"]["payload"]["title"],
        channel["messages"]["c"]["payload"]["properties"]["inner"]["title"],
        channel["messages"]["c"]["payload"]["properties"]["items"]["items"]["title"],
    ]
    assert titles == ["AChatLine", "Class", "C", "AChatLine2", "CItemsItem"]
    assert all(t.isidentifier() for t in titles)


def test_for_chanx_client_keeps_chanx_generated_code_valid_with_hostile_text(
    tmp_path: Path,
) -> None:
    hostile = 'ends with \\ and """ quotes \\N{oops} "'
    doc = {
        "asyncapi": "3.0.0",
        "info": {"title": hostile, "version": "1", "description": hostile},
        "channels": {
            "Room Chat!": {
                "address": "/ws/room",
                "description": hostile,
                "messages": {
                    "say": {
                        "payload": {
                            "type": "object",
                            "description": hostile,
                            "required": ["action"],
                            "properties": {
                                "action": {"const": "say", "type": "string"},
                                "payload": {
                                    "description": hostile,
                                    "properties": {"text": {"type": "string"}},
                                },
                            },
                        }
                    },
                    "said": {
                        "payload": {
                            "type": "object",
                            "properties": {"action": {"const": "said", "type": "string"}},
                        }
                    },
                },
            }
        },
        "operations": {
            "say": {
                "action": "receive",
                "channel": {"$ref": "#/channels/Room Chat!"},
                "messages": [{"$ref": "#/channels/Room Chat!/messages/say"}],
                "reply": {"messages": [{"$ref": "#/channels/Room Chat!/messages/said"}]},
            }
        },
    }
    adapted = tmp_path / "hostile.json"
    adapted.write_text(json.dumps(for_chanx_client(doc)))
    run = chanx_generate_client(adapted, tmp_path / "hostile_client")
    assert run.returncode == 0, run.stdout + run.stderr
    module = import_client(tmp_path, "hostile_client", "room_chat")
    assert module.RoomChatClient.__doc__ is not None and hostile in module.RoomChatClient.__doc__
    assert module.Say(payload=module.SayPayload(text="x")).model_dump()["action"] == "say"


# ---- completion frames ------------------------------------------------------------------------


class Hello(Message):
    action: Literal["hello"] = "hello"


class Hi(Message):
    action: Literal["hi"] = "hi"


class Nudge(Message):
    action: Literal["nudge"] = "nudge"


class Announce(Message):
    action: Literal["announce"] = "announce"


class Shout(Message):
    action: Literal["shout"] = "shout"


class CompletingConsumer(Consumer):
    channel_id = "completing"
    address = "/ws/completing"
    channel_layer_alias = "chanx_mem"
    group_templates = ("completing",)
    messages = {"hello": Hello, "hi": Hi, "announce": Announce, "shout": Shout}
    send_operations = {"announce": ("announce",)}  # passed through when broadcast as an event
    send_completion = True

    @ws_handler
    async def hello(self, message: Hello) -> Hi:
        return Hi()

    @ws_handler
    async def shout(self, message: Shout) -> None:
        await self.broadcast_message(Hi())

    @event_handler
    async def nudge(self, event: Nudge) -> Hi:
        return Hi()


@pytest.fixture
async def chanx_mem() -> AsyncIterator[None]:
    register_layers([LayerSpec("chanx_mem", "memory")], environ={})
    yield


async def test_completion_frames_follow_chanx(chanx_mem: None) -> None:
    """``complete`` after every JSON frame (error frames too, as chanx), ``event_complete`` after
    a handled or passed-through event, ``group_complete`` after each group broadcast, whether the
    fan-out writes it or it arrives as a ``chanspec.broadcast`` layer message."""
    async with Communicator(CompletingConsumer, "/ws/completing") as comm:
        await comm.send(Hello())
        assert await comm.receive_until("complete") == [{"action": "hi"}, {"action": "complete"}]
        await comm.send({"action": "nope"})
        frames = await comm.receive_until("complete")
        assert [f["action"] for f in frames] == ["error", "complete"]
        await comm.send("{bad json")  # not JSON: an error frame, no completion (as chanx)
        assert (await comm.receive())["payload"]["code"] == "invalid_json"
        assert await comm.receive_nothing()
        await CompletingConsumer.send_event(Nudge(), comm.channel_name)
        assert await comm.receive_until("event_complete") == [
            {"action": "hi"},
            {"action": "event_complete"},
        ]
        await CompletingConsumer.broadcast_event(Announce())  # through the fan-out
        assert await comm.receive_until("event_complete") == [
            {"action": "announce"},
            {"action": "event_complete"},
        ]
        await comm.send(Shout())  # a broadcast the fan-out writes, then the frame's completion
        frames = [(await comm.receive())["action"] for _ in range(3)]
        assert sorted(frames) == ["complete", "group_complete", "hi"]
        assert frames.index("hi") < frames.index("group_complete")
        layer = CompletingConsumer.layer()
        await layer.group_send(
            "completing", {"type": "chanspec.broadcast", "text": '{"action":"hi"}', "exclude": ""}
        )
        assert await comm.receive_until("group_complete") == [
            {"action": "hi"},
            {"action": "group_complete"},
        ]
        assert await comm.receive_nothing()
