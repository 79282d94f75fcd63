"""Emission of the AsyncAPI 3.0 document from live consumer classes."""

import copy
import json
import re
from pathlib import Path
from typing import Any, Literal

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from chanspec.runtime import (
    Consumer,
    LayerSpec,
    Message,
    build_document,
    channel,
    create_app,
    document_of,
    event_handler,
    ws_handler,
)
from chanspec.runtime.asyncapi import dump_json, dump_yaml
from pydantic import Field
from starlette.routing import Mount, WebSocketRoute

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "corpus"
    / "_schemas"
    / "3.0.0-without-$id.json"
)


# ---- a small chat channel -----------------------------------------------------------------------


class ChatPayload(Message):
    text: str = Field(max_length=10)
    note: str | None = None


class SendChat(Message):
    action: Literal["send_chat"] = "send_chat"
    payload: ChatPayload


class ChatSent(Message):
    action: Literal["chat_sent"] = "chat_sent"
    payload: ChatPayload


class ChatRejected(Message):
    action: Literal["chat_rejected"] = "chat_rejected"
    reason: str


class Ping(Message):
    action: Literal["ping"] = "ping"


class Alert(Message):
    action: Literal["alert"] = "alert"
    level: int


class Announcement(Message):
    action: Literal["announcement"] = "announcement"
    text: str


class Typing(Message):
    action: Literal["typing"] = "typing"
    who: str


@channel("chat", description="Chat in one room")
class ChatConsumer(Consumer):
    channel_id = "chat"
    address = "/ws/chat/{room}"
    channel_layer_alias = "mem"
    group_templates = ("chat_all", "chat_{room}")
    messages = {
        "sendChat": SendChat,
        "chatSent": ChatSent,
        "chatRejected": ChatRejected,
        "ping": Ping,
        "announcement": Announcement,
        "typing": Typing,
    }
    send_operations = {"pushTyping": ("typing",)}

    @ws_handler("sendChat", summary="Post a message")
    async def send_chat(self, msg: SendChat) -> ChatSent | ChatRejected:
        raise NotImplementedError

    @ws_handler
    async def ping(self, msg: Ping) -> None:
        return None

    @event_handler("announce")
    async def on_alert(self, event: Alert) -> Announcement:
        raise NotImplementedError


class Status(Message):
    up: bool


class StatusConsumer(Consumer):
    channel_id = "status"
    address = "/ws/status"

    @ws_handler
    async def status(self, msg: Status) -> Status:
        return msg


LAYERS = [LayerSpec("mem", "memory", capacity=50, expiry=30.0)]
METADATA = {"info": {"title": "Chat", "version": "1.2.3"}, "x-custom": {"kept": True}}


def routes() -> list[Any]:
    return [
        WebSocketRoute("/ws/chat/{room}", ChatConsumer.as_asgi()),
        Mount("/api", routes=[WebSocketRoute("/ws/status", StatusConsumer.as_asgi())]),
    ]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return build_document(routes(), METADATA, LAYERS)


def ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(parts)}


CHAT = ref("channels", "chat")


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_walk(v, f"{path}/{k}"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_walk(v, f"{path}/{i}"))
    return out


# ---- structure ----------------------------------------------------------------------------------


def test_root_keys_and_metadata(doc: dict[str, Any]) -> None:
    assert list(doc) == [
        "asyncapi",
        "info",
        "channels",
        "operations",
        "x-custom",
        "x-channel-layers",
    ]
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"] == {"title": "Chat", "version": "1.2.3"}
    assert doc["x-custom"] == {"kept": True}
    assert doc["x-channel-layers"] == {"mem": {"type": "memory", "expiry": 30, "capacity": 50}}


def test_channels_come_from_routes_with_address_and_parameters(doc: dict[str, Any]) -> None:
    assert list(doc["channels"]) == ["chat", "status"]
    chat = doc["channels"]["chat"]
    assert chat["address"] == "/ws/chat/{room}"
    assert chat["parameters"] == {"room": {}}
    assert list(chat["messages"]) == [
        "sendChat",
        "chatSent",
        "chatRejected",
        "ping",
        "announcement",
        "typing",
    ]
    status = doc["channels"]["status"]
    assert status["address"] == "/api/ws/status"  # mount prefix included
    assert "parameters" not in status
    # a class without declared messages keys its models by class name
    assert list(status["messages"]) == ["Status"]


def test_layer_and_groups_extensions(doc: dict[str, Any]) -> None:
    chat = doc["channels"]["chat"]
    assert chat["x-channel-layer"] == "mem"
    assert chat["x-groups"] == ["chat_all", "chat_{room}"]
    status = doc["channels"]["status"]
    assert "x-channel-layer" not in status
    assert "x-groups" not in status


def test_receive_operations_with_reply_from_return_annotation(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    assert ops["sendChat"] == {
        "action": "receive",
        "channel": CHAT,
        "messages": [ref("channels", "chat", "messages", "sendChat")],
        "reply": {
            "channel": CHAT,
            "messages": [
                ref("channels", "chat", "messages", "chatSent"),
                ref("channels", "chat", "messages", "chatRejected"),
            ],
        },
        "summary": "Post a message",
    }
    # returns None: no reply
    assert ops["ping"] == {
        "action": "receive",
        "channel": CHAT,
        "messages": [ref("channels", "chat", "messages", "ping")],
    }
    assert ops["status"]["reply"]["messages"] == [ref("channels", "status", "messages", "Status")]


def test_event_handler_is_a_send_operation_with_x_events(doc: dict[str, Any]) -> None:
    assert doc["operations"]["announce"] == {
        "action": "send",
        "channel": CHAT,
        "messages": [ref("channels", "chat", "messages", "announcement")],
        "x-events": [
            {
                "name": "Alert",
                "payload": {
                    "type": "object",
                    "properties": {
                        "action": {"const": "alert", "type": "string"},
                        "level": {"type": "integer"},
                    },
                    "required": ["action", "level"],
                },
            }
        ],
    }


def test_send_operations_are_send_operations(doc: dict[str, Any]) -> None:
    assert doc["operations"]["pushTyping"] == {
        "action": "send",
        "channel": CHAT,
        "messages": [ref("channels", "chat", "messages", "typing")],
    }
    assert list(doc["operations"]) == ["sendChat", "ping", "announce", "pushTyping", "status"]


def test_every_message_reference_resolves(doc: dict[str, Any]) -> None:
    refs = [v["$ref"] for _, v in _walk(doc) if isinstance(v, dict) and "$ref" in v]
    assert len(refs) >= 10
    for pointer in refs:
        node: Any = doc
        for token in pointer.removeprefix("#/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict)


# ---- payload schemas ----------------------------------------------------------------------------


def test_payload_schemas_have_no_pydantic_titles(doc: dict[str, Any]) -> None:
    payloads = {"channels": doc["channels"], "operations": doc["operations"]}
    top = re.compile(r"/(messages/[^/]+|x-events/\d+)/payload$")
    schemas = [path for path, _ in _walk(payloads) if top.search(path)]
    assert len(schemas) == 8  # 7 messages and one event
    titled = [p for p, node in _walk(payloads) if isinstance(node, dict) and "title" in node]
    assert titled == []


def test_discriminator_is_required_without_default(doc: dict[str, Any]) -> None:
    payload = doc["channels"]["chat"]["messages"]["sendChat"]["payload"]
    assert payload["properties"]["action"] == {"const": "send_chat", "type": "string"}
    assert payload["required"] == ["action", "payload"]
    for key, message in doc["channels"]["chat"]["messages"].items():
        schema = message["payload"]
        assert "action" in schema["required"], key
        assert "default" not in schema["properties"]["action"], key


def test_optional_field_is_optional_without_null(doc: dict[str, Any]) -> None:
    inner = doc["channels"]["chat"]["messages"]["sendChat"]["payload"]["properties"]["payload"]
    assert inner == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": 10},
            "note": {"type": "string"},
        },
        "required": ["text"],
    }
    assert "null" not in json.dumps(doc)


# ---- validity and serialisation -----------------------------------------------------------------


def test_document_validates_against_the_asyncapi_3_schema(doc: dict[str, Any]) -> None:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"{SCHEMA_PATH} is absent (../shared/corpus is not checked out here)")
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    # the check is not vacuous: a broken document fails it
    broken = copy.deepcopy(doc)
    broken["operations"]["ping"]["action"] = "publish"
    assert not validator.is_valid(broken)


def test_dump_yaml_has_no_anchors_even_for_shared_objects(doc: dict[str, Any]) -> None:
    shared = {"name": "shared", "description": "same object twice"}
    document = copy.deepcopy(doc)
    document["info"]["x-a"] = shared
    document["info"]["x-b"] = shared
    text = dump_yaml(document)
    assert re.search(r"[&*]id\d+", text) is None
    assert not any(line.lstrip().startswith(("&", "*")) for line in text.splitlines())
    assert yaml.safe_load(text) == document
    assert text.startswith("asyncapi: 3.0.0\ninfo:\n")


def test_dump_json_round_trips(doc: dict[str, Any]) -> None:
    text = dump_json(doc)
    assert text.endswith("}\n")
    assert json.loads(text) == doc


def test_build_document_is_deterministic() -> None:
    first = dump_json(build_document(routes(), METADATA, LAYERS))
    second = dump_json(build_document(routes(), METADATA, LAYERS))
    assert first == second


# ---- through the app ----------------------------------------------------------------------------


def test_create_app_and_document_of(doc: dict[str, Any]) -> None:
    app = create_app(routes(), layers=LAYERS, metadata=METADATA, environ={})
    emitted = document_of(app)
    assert emitted == doc
    # a copy: changing it does not change what the app serves
    emitted["info"] = {"title": "changed", "version": "0"}
    assert document_of(app)["info"] == {"title": "Chat", "version": "1.2.3"}


async def test_app_serves_its_document() -> None:
    app = create_app(routes(), layers=LAYERS, metadata=METADATA, environ={})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        as_json = await client.get("/asyncapi.json")
        as_yaml = await client.get("/asyncapi.yaml")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == document_of(app)
    assert as_yaml.status_code == 200
    assert yaml.safe_load(as_yaml.text) == document_of(app)


def test_default_info_when_no_metadata() -> None:
    document = build_document([WebSocketRoute("/ws/status", StatusConsumer.as_asgi())])
    assert document["info"] == {"title": "chanspec app", "version": "0.0.0"}
    assert "x-channel-layers" not in document
    assert list(document["channels"]) == ["status"]
