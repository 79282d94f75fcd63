"""The normaliser's conventions: discriminators, names, layers, unserved channels."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from chanspec.codegen.load import load_text
from chanspec.codegen.model import ChannelModel, ServiceModel
from chanspec.codegen.naming import RESERVED_METHODS
from chanspec.codegen.normalise import normalise
from chanspec.codegen.pipeline import generate
from chanspec.codegen.problems import Problem, Severity

HEAD = """\
asyncapi: 3.0.0
info: {title: t, version: '1'}
"""


def spec_text(*parts: str) -> str:
    """The document: :data:`HEAD` and each part, dedented on its own."""
    return HEAD + "".join(textwrap.dedent(part) for part in parts)


def line_of(text: str, needle: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, needle
    return lines[0]


def norm(*parts: str) -> tuple[ServiceModel, list[Problem]]:
    doc = load_text(spec_text(*parts), "spec.yaml")
    assert doc.ok, [p.format() for p in doc.problems]
    service, problems = normalise(doc)
    assert service is not None
    return service, problems


def channel(service: ServiceModel, cid: str) -> ChannelModel:
    return next(c for c in service.channels if c.id == cid)


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def receive_ops(cid: str, keys: list[str]) -> str:
    """YAML of one ``receive`` operation per message key, ids ``<cid>_<key>``."""
    out = ["operations:"]
    for key in keys:
        out += [
            f"  {cid}_{key}:",
            "    action: receive",
            f"    channel: {{$ref: '#/channels/{cid}'}}",
            f"    messages: [{{$ref: '#/channels/{cid}/messages/{key}'}}]",
        ]
    return "\n".join(out) + "\n"


def generate_app(tmp_path: Path, *parts: str, package: str = "app") -> Path:
    spec = tmp_path / "spec.asyncapi.yaml"
    spec.write_text(spec_text(*parts), encoding="utf-8")
    result = generate(spec, tmp_path / package)
    assert not result.failed, [p.format() for p in result.problems]
    return tmp_path / package


def in_app(tmp_path: Path, code: str) -> Any:
    """Run ``code`` (which prints JSON) in a fresh interpreter with cwd ``tmp_path``."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- discriminator --------------------------------------------------------------------------

TYPE_SPEC = """\
channels:
  feed:
    address: /ws/feed
    messages:
      subscribe:
        payload:
          type: object
          required: [topic]
          properties:
            type: {type: string, const: subscribe}
            topic: {type: string}
      unsubscribe:
        payload:
          type: object
          properties:
            type: {type: string, enum: [unsubscribe]}
            topic: {type: string}
      update:
        payload:
          type: object
          properties:
            type: {const: update}
"""


def test_type_const_is_the_discriminator_of_a_plain_spec() -> None:
    service, problems = norm(TYPE_SPEC, receive_ops("feed", ["subscribe", "unsubscribe"]))
    assert problems == []
    feed = channel(service, "feed")
    assert feed.discriminator == "type"
    values = {m.key: m.discriminator_value for m in feed.messages}
    # a one-value enum counts as a const; the outgoing message gets its value too
    assert values == {"subscribe": "subscribe", "unsubscribe": "unsubscribe", "update": "update"}
    # the discriminator is required in the models, with a type when the spec gave none
    assert "type" in service.schemas["FeedUnsubscribeMessage"]["required"]
    assert service.schemas["FeedSubscribeMessage"]["required"] == ["topic", "type"]
    assert service.schemas["FeedUpdateMessage"]["properties"]["type"] == {
        "const": "update",
        "type": "string",
    }


def test_event_const_is_the_discriminator() -> None:
    service, problems = norm(
        """\
        channels:
          market:
            address: /ws/market
            messages:
              ping:
                payload:
                  type: object
                  properties: {event: {const: ping}, reqid: {type: integer}}
              subscribe:
                payload:
                  type: object
                  properties:
                    event: {const: subscribe}
                    pair: {type: array, items: {type: string}}
        """,
        receive_ops("market", ["ping", "subscribe"]),
    )
    assert problems == []
    market = channel(service, "market")
    assert market.discriminator == "event"
    assert [m.discriminator_value for m in market.messages] == ["ping", "subscribe"]


def test_preferred_name_wins_among_several_distinct_consts() -> None:
    service, _ = norm(
        """\
        channels:
          c:
            address: /ws/c
            messages:
              a: {payload: {type: object, properties: {zz: {const: 1}, op: {const: x}}}}
              b: {payload: {type: object, properties: {zz: {const: 2}, op: {const: y}}}}
        """,
        receive_ops("c", ["a", "b"]),
    )
    assert channel(service, "c").discriminator == "op"


def test_a_const_shared_by_every_message_does_not_discriminate() -> None:
    # `type` is preferred, but every message has type=request: `op` tells them apart
    service, problems = norm(
        """\
        channels:
          rpc:
            address: /ws/rpc
            messages:
              add: {payload: {type: object, properties: {type: {const: request}, op: {const: add}}}}
              sub: {payload: {type: object, properties: {type: {const: request}, op: {const: sub}}}}
        """,
        receive_ops("rpc", ["add", "sub"]),
    )
    assert problems == []
    rpc = channel(service, "rpc")
    assert rpc.discriminator == "op"
    assert [m.discriminator_value for m in rpc.messages] == ["add", "sub"]


def test_explicit_discriminator_keyword_is_honoured() -> None:
    service, problems = norm(
        """\
        channels:
          c:
            address: /ws/c
            messages:
              a:
                payload:
                  type: object
                  discriminator: kind
                  properties: {type: {const: t1}, kind: {const: k1}}
              b:
                payload:
                  type: object
                  discriminator: kind
                  properties: {type: {const: t2}, kind: {const: k2}}
        """,
        receive_ops("c", ["a", "b"]),
    )
    assert problems == []
    c = channel(service, "c")
    assert c.discriminator == "kind"  # although `type` is also a distinct const, and preferred
    assert [m.discriminator_value for m in c.messages] == ["k1", "k2"]


def test_duplicate_discriminator_value_is_a_located_error() -> None:
    body = """\
        channels:
          c:
            address: /ws/c
            messages:
              a: {payload: {type: object, properties: {action: {const: go}}}}
              b: {payload: {type: object, properties: {action: {const: go}}}}
        """
    problem_spec = spec_text(body)
    _, problems = norm(body, receive_ops("c", ["a", "b"]))
    assert codes(problems) == ["N030"]
    (problem,) = problems
    assert problem.severity is Severity.ERROR
    assert problem.pointer == "/channels/c/messages/b"
    assert problem.position is not None
    assert problem.position.line == line_of(problem_spec, "b: {payload:")
    assert "'a' and 'b'" in problem.message and "action='go'" in problem.message


def test_one_incoming_message_needs_no_discriminator() -> None:
    service, problems = norm(
        """\
        channels:
          one:
            address: /ws/one
            messages:
              only: {payload: {type: object, properties: {text: {type: string}}}}
        """,
        receive_ops("one", ["only"]),
    )
    assert problems == []  # no N031: there is nothing to tell apart
    assert channel(service, "one").discriminator is None


NO_DISCRIMINATOR = """\
channels:
  free:
    address: /ws/free
    messages:
      text: {payload: {type: object, required: [text], properties: {text: {type: string}}}}
      number: {payload: {type: object, required: [n], properties: {n: {type: integer}}}}
"""


def test_no_discriminator_warns_and_keeps_declared_order() -> None:
    service, problems = norm(NO_DISCRIMINATOR, receive_ops("free", ["text", "number"]))
    assert codes(problems) == ["N031"]
    (problem,) = problems
    assert problem.severity is Severity.WARNING
    assert problem.pointer == "/channels/free/messages"
    assert problem.position is not None
    assert problem.position.line == line_of(spec_text(NO_DISCRIMINATOR), "text: {payload:")
    free = channel(service, "free")
    assert free.discriminator is None
    assert [op.method for op in free.operations] == ["text", "number"]


def test_no_discriminator_routes_in_declared_order(tmp_path: Path) -> None:
    generate_app(tmp_path, NO_DISCRIMINATOR, receive_ops("free", ["text", "number"]))
    channels = (tmp_path / "app" / "generated" / "channels.py").read_text(encoding="utf-8")
    assert "discriminator_field = None" in channels
    routed = in_app(
        tmp_path,
        """
        import json
        from app.consumers.free import FreeConsumer
        router = FreeConsumer._ws_router
        out = []
        for frame in ({"text": "x", "n": 1}, {"n": 1}, {"text": "y"}, {"other": 1}):
            r = router.resolve(frame)
            out.append(r[0].method_name if isinstance(r, tuple) else "error")
        print(json.dumps(out))
        """,
    )
    # a frame valid for both goes to the first declared message's handler
    assert routed == ["text", "number", "text", "error"]


# ---- names ----------------------------------------------------------------------------------


def test_method_names_from_operation_ids() -> None:
    service, problems = norm(
        """\
        channels:
          room_chat:
            address: /ws/room
            messages:
              m1: {payload: {type: object, properties: {action: {const: a}}}}
              m2: {payload: {type: object, properties: {action: {const: b}}}}
              m3: {payload: {type: object, properties: {action: {const: c}}}}
              m4: {payload: {type: object, properties: {action: {const: d}}}}
              m5: {payload: {type: object, properties: {action: {const: e}}}}
              m6: {payload: {type: object, properties: {action: {const: f}}}}
        operations:
          sendChat.v2:
            action: receive
            channel: {$ref: '#/channels/room_chat'}
            messages: [{$ref: '#/channels/room_chat/messages/m1'}]
          room_chat_send:
            action: receive
            channel: {$ref: '#/channels/room_chat'}
            messages: [{$ref: '#/channels/room_chat/messages/m2'}]
          room_chat_post-Message:
            action: receive
            channel: {$ref: '#/channels/room_chat'}
            messages: [{$ref: '#/channels/room_chat/messages/m3'}]
          class:
            action: receive
            channel: {$ref: '#/channels/room_chat'}
            messages: [{$ref: '#/channels/room_chat/messages/m4'}]
          postMessage:
            action: receive
            channel: {$ref: '#/channels/room_chat'}
            messages: [{$ref: '#/channels/room_chat/messages/m5'}]
          websocket_connect:
            action: receive
            channel: {$ref: '#/channels/room_chat'}
            messages: [{$ref: '#/channels/room_chat/messages/m6'}]
        """
    )
    assert problems == []
    methods = {op.id: op.method for op in channel(service, "room_chat").operations}
    assert methods == {
        "sendChat.v2": "send_chat_v2",
        "room_chat_send": "on_send",  # `send` belongs to the consumer base class
        "room_chat_post-Message": "post_message",
        "class": "class_",
        "postMessage": "post_message_2",  # same name as the one above in this class
        "websocket_connect": "on_websocket_connect",
    }
    assert "send" in RESERVED_METHODS


COLLIDING = """\
channels:
  room-chat:
    address: /ws/a
    messages:
      msg: {payload: {type: object, properties: {a: {type: string}}}}
  room_chat:
    address: /ws/b
    messages:
      msg: {payload: {type: object, properties: {b: {type: string}}}}
  Room Chat:
    address: /ws/c
    messages:
      ping: {$ref: '#/components/messages/ping'}
operations:
  a_msg:
    action: receive
    channel: {$ref: '#/channels/room-chat'}
  b_msg:
    action: receive
    channel: {$ref: '#/channels/room_chat'}
  c_ping:
    action: receive
    channel: {$ref: '#/channels/Room Chat'}
components:
  messages:
    ping:
      payload:
        type: object
        properties:
          who: {$ref: '#/components/schemas/ping message'}
  schemas:
    ping message:
      type: object
      properties: {name: {type: string}}
    RoomChatChannel:
      type: object
      properties: {x: {type: integer}}
"""


def test_module_and_class_collisions_get_suffixes() -> None:
    service, problems = norm(COLLIDING)
    assert problems == []
    names = [
        (c.id, c.module, c.consumer_class, c.contract_class, c.messages[0].class_name)
        for c in service.channels
    ]
    assert names == [
        ("room-chat", "room_chat", "RoomChatConsumer", "RoomChatChannel2", "RoomChatMsgMessage"),
        (
            "room_chat",
            "room_chat_2",
            "RoomChatConsumer2",
            "RoomChatChannel3",
            "RoomChatMsgMessage2",
        ),
        # "ping message" is the model PingMessage, so the message model is PingMessage2
        ("Room Chat", "room_chat_3", "RoomChatConsumer3", "RoomChatChannel4", "PingMessage2"),
    ]


def test_colliding_names_generate_a_working_app(tmp_path: Path) -> None:
    app = generate_app(tmp_path, COLLIDING)
    assert sorted(p.name for p in (app / "consumers").glob("room_chat*.py")) == [
        "room_chat.py",
        "room_chat_2.py",
        "room_chat_3.py",
    ]
    found = in_app(
        tmp_path,
        """
        import json
        from app.main import app
        from app.consumers.room_chat import RoomChatConsumer
        from app.consumers.room_chat_2 import RoomChatConsumer2
        from app.consumers.room_chat_3 import RoomChatConsumer3
        from app.generated import messages
        out = {}
        for cls in (RoomChatConsumer, RoomChatConsumer2, RoomChatConsumer3):
            ((key, model),) = cls.messages.items()
            out[cls.__name__] = [cls.channel_id, key, model.__name__, sorted(model.model_fields)]
        out["component"] = sorted(messages.PingMessage.model_fields)
        print(json.dumps(out))
        """,
    )
    assert found == {
        "RoomChatConsumer": ["room-chat", "msg", "RoomChatMsgMessage", ["a"]],
        "RoomChatConsumer2": ["room_chat", "msg", "RoomChatMsgMessage2", ["b"]],
        "RoomChatConsumer3": ["Room Chat", "ping", "PingMessage2", ["who"]],
        "component": ["name"],
    }


@pytest.mark.parametrize(
    ("cid", "module", "consumer"),
    [("9lives", "_9lives", "_9livesConsumer"), ("import", "import_", "ImportConsumer")],
)
def test_channel_ids_that_are_no_identifiers(cid: str, module: str, consumer: str) -> None:
    service, _ = norm(
        f"""\
        channels:
          '{cid}':
            address: /ws/x
            messages:
              m: {{payload: {{type: object}}}}
        """
    )
    c = channel(service, cid)
    assert (c.module, c.consumer_class) == (module, consumer)
    # message models never start with "_" (datamodel-code-generator would rename them)
    assert c.messages[0].class_name[0].isalpha()


# ---- layers and channels --------------------------------------------------------------------


def test_layers_from_x_channel_layers() -> None:
    service, problems = norm(
        """\
        x-channel-layers:
          fast: {type: redis-pubsub, prefix: chat}
          queue: {type: redis, prefix: q, expiry: 60, capacity: 10, group_expiry: 5}
          local: {}
          stream:
            type: kafka
        channels: {}
        """
    )
    layers = {layer.alias: layer for layer in service.layers}
    assert list(layers) == ["fast", "queue", "local"]
    assert (layers["fast"].type, layers["fast"].prefix) == ("redis-pubsub", "chat")
    queue = layers["queue"]
    assert (queue.type, queue.prefix, queue.expiry, queue.capacity, queue.group_expiry) == (
        "redis",
        "q",
        60.0,
        10,
        5,
    )
    assert layers["local"].type == "memory"
    assert codes(problems) == ["N040"]
    (problem,) = problems
    assert problem.severity is Severity.ERROR
    assert problem.pointer == "/x-channel-layers/stream/type"
    assert problem.position is not None
    assert (problem.position.line, problem.position.col) == (8, 11)  # the value `kafka`
    assert "'kafka'" in problem.message and problem.hint and "redis-pubsub" in problem.hint


def test_channel_layer_and_groups_reach_the_model() -> None:
    service, problems = norm(
        """\
        x-channel-layers:
          chat: {type: memory}
        channels:
          room:
            address: /ws/room/{room_name}
            x-channel-layer: chat
            x-groups: [lobby, 'room_{room_name}']
            messages:
              m: {payload: {type: object}}
        """
    )
    assert problems == []
    room = channel(service, "room")
    assert (room.layer, room.groups, room.parameters) == (
        "chat",
        ("lobby", "room_{room_name}"),
        ("room_name",),
    )


CHANNEL_WITHOUT_ADDRESS = """\
channels:
  served:
    address: /ws/served
    messages:
      m: {payload: {type: object, properties: {action: {const: m}}}}
  internal:
    description: a broker topic, not a WebSocket route
    messages:
      n: {payload: {type: object, properties: {action: {const: n}}}}
operations:
  served_m:
    action: receive
    channel: {$ref: '#/channels/served'}
  internal_n:
    action: receive
    channel: {$ref: '#/channels/internal'}
"""


def test_channel_without_address_warns_and_is_not_served(tmp_path: Path) -> None:
    service, problems = norm(CHANNEL_WITHOUT_ADDRESS)
    assert codes(problems) == ["N010"]
    (problem,) = problems
    assert problem.severity is Severity.WARNING
    assert problem.pointer == "/channels/internal"
    assert problem.position is not None
    assert problem.position.line == line_of(spec_text(CHANNEL_WITHOUT_ADDRESS), "description: a")
    # the consumer exists (the channel is a message contract) but has no route
    assert [(c.id, c.route) for c in service.channels] == [
        ("served", "/ws/served"),
        ("internal", None),
    ]
    app = generate_app(tmp_path, CHANNEL_WITHOUT_ADDRESS)
    assert sorted(p.name for p in (app / "consumers").glob("*.py")) == [
        "__init__.py",
        "internal.py",
        "served.py",
    ]
    routing = (app / "generated" / "routing.py").read_text(encoding="utf-8")
    routes = routing[routing.index("ROUTES:") :]
    assert "InternalConsumer" not in routes and "ServedConsumer" in routes
