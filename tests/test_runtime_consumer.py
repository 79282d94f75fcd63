"""Consumer behaviour: error frames, groups, channel-layer events, authentication, layers.

Small inline consumers on an in-memory layer, driven by ``chanspec.runtime.testing``.
"""

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal

import pytest
from chanspec.runtime import (
    ChannelLayerError,
    Consumer,
    ErrorCode,
    LayerSpec,
    Message,
    create_app,
    event_handler,
    register_layers,
    ws_handler,
)
from chanspec.runtime.testing import ClosedError, Communicator, CommunicatorError
from fast_channels.layers import InMemoryChannelLayer, get_channel_layer
from starlette.routing import WebSocketRoute


@pytest.fixture(autouse=True)
def mem_layer() -> InMemoryChannelLayer:
    """A fresh in-memory layer "mem" per test (no group membership leaks between tests)."""
    register_layers([LayerSpec("mem", "memory")], environ={})
    layer = get_channel_layer("mem")
    assert isinstance(layer, InMemoryChannelLayer)
    return layer


# ---- messages -----------------------------------------------------------------------------------


class Body(Message):
    text: str
    count: int = 1


class Echo(Message):
    action: Literal["echo"] = "echo"
    payload: Body


class Echoed(Message):
    action: Literal["echoed"] = "echoed"
    payload: Body


class Boom(Message):
    action: Literal["boom"] = "boom"


class Todo(Message):
    action: Literal["todo"] = "todo"


class ErrorConsumer(Consumer):
    address = "/ws/errors"
    max_frame_bytes = 256

    @ws_handler
    async def echo(self, msg: Echo) -> Echoed:
        return Echoed(payload=msg.payload)

    @ws_handler
    async def boom(self, msg: Boom) -> None:
        raise RuntimeError("database password is hunter2")

    @ws_handler("doLater")
    async def todo(self, msg: Todo) -> None:
        raise NotImplementedError


def _error(code: str, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": code, "detail": detail}
    if errors is not None:
        payload["errors"] = errors
    return {"action": "error", "payload": payload}


def _json_error(text: str) -> str:
    try:
        json.loads(text)
    except ValueError as exc:
        return f"invalid JSON: {exc}"
    raise AssertionError("valid JSON")


Send = Callable[[Communicator], Awaitable[None]]


def _text(text: str) -> Send:
    async def send(comm: Communicator) -> None:
        await comm.send(text)

    return send


def _bytes(data: bytes) -> Send:
    async def send(comm: Communicator) -> None:
        await comm.send_bytes(data)

    return send


KNOWN = "'echo', 'boom', 'todo'"
BIG = json.dumps({"action": "echo", "payload": {"text": "x" * 300}})
WIDE = json.dumps({"action": "echo", "payload": {"text": "€" * 90}}, ensure_ascii=False)

ERROR_CASES: list[tuple[str, Send, dict[str, Any]]] = [
    ("invalid_json", _text("{not json"), _error("invalid_json", _json_error("{not json"))),
    ("empty_text", _text(""), _error("invalid_json", _json_error(""))),
    (
        "binary_frame",
        _bytes(b'{"action": "echo"}'),
        _error("binary_frame", "binary frames are not accepted"),
    ),
    ("not_an_object", _text("[1, 2]"), _error("not_an_object", "a frame must be a JSON object")),
    ("scalar", _text("42"), _error("not_an_object", "a frame must be a JSON object")),
    (
        "missing_discriminator",
        _text('{"payload": {"text": "x"}}'),
        _error("missing_discriminator", f"missing 'action'; expected one of {KNOWN}"),
    ),
    (
        "unknown_message",
        _text('{"action": "nope"}'),
        _error("unknown_message", f"unknown action 'nope'; expected one of {KNOWN}"),
    ),
    (
        "unhashable_discriminator",
        _text('{"action": ["echo"]}'),
        _error("unknown_message", f"unknown action ['echo']; expected one of {KNOWN}"),
    ),
    (
        "validation_error",
        _text('{"action": "echo", "payload": {"count": "SECRET-INPUT"}}'),
        _error(
            "validation_error",
            "frame does not match message 'Echo'",
            [
                {"loc": ["payload", "text"], "msg": "Field required", "type": "missing"},
                {
                    "loc": ["payload", "count"],
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "type": "int_parsing",
                },
            ],
        ),
    ),
    ("frame_too_large", _text(BIG), _error("frame_too_large", "frame larger than 256 bytes")),
    # 90 characters but 270 bytes: the limit is in bytes
    (
        "frame_too_large_bytes",
        _text(WIDE),
        _error("frame_too_large", "frame larger than 256 bytes"),
    ),
    (
        "not_implemented",
        _text('{"action": "todo"}'),
        _error("not_implemented", "operation 'doLater' is not implemented"),
    ),
    (
        "handler_error",
        _text('{"action": "boom"}'),
        _error("handler_error", "internal error while handling 'boom'"),
    ),
]


@pytest.mark.parametrize(
    ("send", "expected"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
async def test_error_frame_and_connection_keeps_working(
    send: Send, expected: dict[str, Any]
) -> None:
    async with Communicator(ErrorConsumer, "/ws/errors") as comm:
        await send(comm)
        frame = await comm.receive()
        assert frame == expected
        assert await comm.receive_nothing(0.05)  # exactly one error frame
        raw = json.dumps(frame)
        assert "SECRET-INPUT" not in raw  # inputs are not echoed
        assert "hunter2" not in raw and "Traceback" not in raw
        await comm.send(Echo(payload=Body(text="still here")))
        assert await comm.receive() == {
            "action": "echoed",
            "payload": {"text": "still here", "count": 1},
        }


def test_every_error_code_is_covered() -> None:
    covered = {case[2]["payload"]["code"] for case in ERROR_CASES}
    # layer_unavailable (Redis unreachable): tests/test_layer_resilience.py
    assert covered | {"layer_unavailable"} == {code.value for code in ErrorCode}


async def test_frame_at_the_limit_is_accepted() -> None:
    frame = json.dumps({"action": "echo", "payload": {"text": ""}})
    text = "y" * (256 - len(frame))
    frame = json.dumps({"action": "echo", "payload": {"text": text}})
    assert len(frame.encode()) == 256
    async with Communicator(ErrorConsumer, "/ws/errors") as comm:
        await comm.send(frame)
        assert await comm.receive() == {"action": "echoed", "payload": {"text": text, "count": 1}}


async def test_several_errors_in_a_row_each_get_one_frame() -> None:
    async with Communicator(ErrorConsumer, "/ws/errors") as comm:
        for _ in range(3):
            await comm.send("nope")
            await comm.send_bytes(b"\x00")
            await comm.send({"action": "boom"})
        codes = [(await comm.receive())["payload"]["code"] for _ in range(9)]
        assert codes == ["invalid_json", "binary_frame", "handler_error"] * 3
        assert await comm.receive_nothing()


# ---- groups and events --------------------------------------------------------------------------


class Say(Message):
    action: Literal["say"] = "say"
    text: str
    others_only: bool = False


class Said(Message):
    action: Literal["said"] = "said"
    room: str
    text: str


class Join(Message):
    action: Literal["join"] = "join"
    group: str


class Leave(Message):
    action: Literal["leave"] = "leave"
    group: str


class Shout(Message):
    action: Literal["shout"] = "shout"
    group: str
    text: str


class Alert(Message):
    """An internal event (not a channel message): handled by on_alert."""

    action: Literal["alert"] = "alert"
    level: int


class Poke(Message):
    action: Literal["poke"] = "poke"
    by: str


class Fail(Message):
    action: Literal["fail"] = "fail"


class Announcement(Message):
    action: Literal["announcement"] = "announcement"
    text: str


class Poked(Message):
    action: Literal["poked"] = "poked"
    by: str
    me: str


class RoomConsumer(Consumer):
    channel_id = "room"
    address = "/ws/room/{room_name}"
    channel_layer_alias = "mem"
    group_templates = ("lobby", "room_{room_name}")
    messages = {
        "say": Say,
        "said": Said,
        "join": Join,
        "leave": Leave,
        "shout": Shout,
        "announcement": Announcement,
        "poked": Poked,
    }
    send_operations = {"announce": ("announcement",)}

    @ws_handler
    async def say(self, msg: Say) -> None:
        room = self.path_params["room_name"]
        await self.broadcast_message(
            Said(room=room, text=msg.text), f"room_{room}", exclude_current=msg.others_only
        )

    @ws_handler
    async def shout(self, msg: Shout) -> None:
        await self.broadcast_message(Said(room="*", text=msg.text), [msg.group])

    @ws_handler
    async def join(self, msg: Join) -> None:
        await self.join_group(msg.group)

    @ws_handler
    async def leave(self, msg: Leave) -> None:
        await self.leave_group(msg.group)

    @event_handler
    async def on_alert(self, event: Alert) -> Announcement:
        return Announcement(text=f"level {event.level} in {self.path_params['room_name']}")

    @event_handler
    async def on_poke(self, event: Poke) -> Poked:
        return Poked(by=event.by, me=self.path_params["room_name"])

    @event_handler
    async def on_fail(self, event: Fail) -> None:
        raise RuntimeError("event handler failed")


async def test_group_templates_are_formatted_with_path_params(
    mem_layer: InMemoryChannelLayer,
) -> None:
    async with Communicator(RoomConsumer, "/ws/room/red") as comm:
        assert comm.instance.groups == ["lobby", "room_red"]
        assert comm.instance.path_params == {"room_name": "red"}
        assert set(mem_layer.groups["lobby"]) == {comm.channel_name}
        assert set(mem_layer.groups["room_red"]) == {comm.channel_name}
    # left on disconnect
    assert not mem_layer.groups.get("room_red")
    assert not mem_layer.groups.get("lobby")


async def test_broadcast_message_reaches_every_member_of_the_group() -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/red") as b,
        Communicator(RoomConsumer, "/ws/room/blue") as c,
    ):
        await a.send(Say(text="hi"))
        expected = {"action": "said", "room": "red", "text": "hi"}
        assert await a.receive() == expected
        assert await b.receive() == expected
        assert await c.receive_nothing()
        assert await a.receive_nothing(0.02) and await b.receive_nothing(0.02)


async def test_broadcast_message_exclude_current_skips_the_sender() -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/red") as b,
    ):
        await a.send(Say(text="psst", others_only=True))
        assert await b.receive() == {"action": "said", "room": "red", "text": "psst"}
        assert await a.receive_nothing()


async def test_join_and_leave_group(mem_layer: InMemoryChannelLayer) -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/blue") as c,
    ):
        await c.send(Join(group="vip"))
        await a.send(Join(group="vip"))
        assert await c.receive_nothing(0.05)
        assert "vip" in c.instance.groups
        assert set(mem_layer.groups["vip"]) == {a.channel_name, c.channel_name}

        await a.send(Shout(group="vip", text="one"))
        assert await a.receive() == {"action": "said", "room": "*", "text": "one"}
        assert await c.receive() == {"action": "said", "room": "*", "text": "one"}

        await c.send(Leave(group="vip"))
        assert await c.receive_nothing(0.05)
        assert "vip" not in c.instance.groups
        await a.send(Shout(group="vip", text="two"))
        assert await a.receive() == {"action": "said", "room": "*", "text": "two"}
        assert await c.receive_nothing()


async def test_broadcast_event_runs_event_handler_in_each_member() -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/blue") as c,
    ):
        # default groups: the class's groups without parameters ("lobby")
        await RoomConsumer.broadcast_event(Alert(level=3))
        assert await a.receive() == {"action": "announcement", "text": "level 3 in red"}
        assert await c.receive() == {"action": "announcement", "text": "level 3 in blue"}
        # explicit group
        await RoomConsumer.broadcast_event(Alert(level=5), "room_blue")
        assert await c.receive() == {"action": "announcement", "text": "level 5 in blue"}
        assert await a.receive_nothing()


async def test_broadcast_event_of_an_outgoing_message_is_passed_through() -> None:
    assert RoomConsumer._passthrough == {"announcement": Announcement}
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/red") as b,
        Communicator(RoomConsumer, "/ws/room/blue") as c,
    ):
        await RoomConsumer.broadcast_event(Announcement(text="as is"), "room_red")
        assert await a.receive() == {"action": "announcement", "text": "as is"}
        assert await b.receive() == {"action": "announcement", "text": "as is"}
        assert await c.receive_nothing()


async def test_event_that_is_neither_handled_nor_outgoing_is_dropped() -> None:
    async with Communicator(RoomConsumer, "/ws/room/red") as a:
        # Said is a channel message, but not one of send_operations: not passed through
        await RoomConsumer.broadcast_event(Said(room="x", text="y"))
        assert await a.receive_nothing()
        await a.send(Say(text="alive"))
        assert await a.receive() == {"action": "said", "room": "red", "text": "alive"}


@pytest.mark.parametrize(
    "raw",
    [
        {"action": "announcement"},  # an outgoing message with a field missing
        {"action": ["announcement"]},  # unhashable discriminator
        {"action": "alert", "level": "high"},  # an invalid event for on_alert
        "not an object",
    ],
)
async def test_malformed_layer_event_is_dropped_and_connection_survives(
    mem_layer: InMemoryChannelLayer, raw: Any
) -> None:
    """Events can come from other processes (other versions of the code): a bad one is
    logged and dropped; it must not end every connection of the group."""
    async with Communicator(RoomConsumer, "/ws/room/red") as a:
        await mem_layer.group_send("lobby", {"type": "chanspec.event", "event": raw})
        assert await a.receive_nothing()
        await RoomConsumer.broadcast_event(Alert(level=4))
        assert await a.receive() == {"action": "announcement", "text": "level 4 in red"}


async def test_failing_event_handler_sends_nothing_and_connection_survives() -> None:
    async with Communicator(RoomConsumer, "/ws/room/red") as a:
        await RoomConsumer.broadcast_event(Fail())
        assert await a.receive_nothing()
        await RoomConsumer.broadcast_event(Alert(level=1))
        assert await a.receive() == {"action": "announcement", "text": "level 1 in red"}


async def test_send_event_reaches_exactly_one_connection() -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/red") as b,
        Communicator(RoomConsumer, "/ws/room/blue") as c,
    ):
        await RoomConsumer.send_event(Poke(by="tester"), b.channel_name)
        assert await b.receive() == {"action": "poked", "by": "tester", "me": "red"}
        assert await a.receive_nothing()
        assert await c.receive_nothing(0.01)
        await RoomConsumer.send_event(Announcement(text="direct"), c.channel_name)
        assert await c.receive() == {"action": "announcement", "text": "direct"}
        assert await a.receive_nothing(0.01) and await b.receive_nothing(0.01)


async def test_broadcast_event_sync_from_a_thread() -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/blue") as c,
    ):
        await asyncio.to_thread(RoomConsumer.broadcast_event_sync, Alert(level=7))
        assert await a.receive() == {"action": "announcement", "text": "level 7 in red"}
        assert await c.receive() == {"action": "announcement", "text": "level 7 in blue"}
        await asyncio.to_thread(RoomConsumer.send_event_sync, Poke(by="thread"), c.channel_name)
        assert await c.receive() == {"action": "poked", "by": "thread", "me": "blue"}
        assert await a.receive_nothing()


async def test_broadcast_event_sync_from_a_thread_that_keeps_running() -> None:
    """The event arrives while the sending thread is still busy (the in-memory layer's queues
    belong to the consumers' event loop; the event must be handed over to that loop)."""
    received = threading.Event()

    def worker() -> None:
        RoomConsumer.broadcast_event_sync(Alert(level=9))
        received.wait(3)

    async with Communicator(RoomConsumer, "/ws/room/red") as a:
        thread = asyncio.ensure_future(asyncio.to_thread(worker))
        try:
            assert await a.receive(0.5) == {"action": "announcement", "text": "level 9 in red"}
        finally:
            received.set()
            await thread


async def test_broadcast_without_groups_or_layer_raises() -> None:
    class NoLayer(Consumer):
        group_templates = ("g",)

    with pytest.raises(ChannelLayerError, match="NoLayer"):
        await NoLayer.broadcast_event(Alert(level=1))

    class ParamOnly(Consumer):
        address = "/ws/p/{x}"
        channel_layer_alias = "mem"
        group_templates = ("p_{x}",)

    with pytest.raises(ChannelLayerError, match="no groups"):
        await ParamOnly.broadcast_event(Alert(level=1))


# ---- authentication -----------------------------------------------------------------------------


class AuthConsumer(RoomConsumer):
    async def authenticate(self) -> bool:
        headers = dict(self.scope["headers"])
        if headers.get(b"x-explode") == b"1":
            raise RuntimeError("authenticator crashed")
        return bool(self.scope["query_string"] == b"token=good")


async def test_rejected_client_is_closed_with_4401_and_joins_no_group(
    mem_layer: InMemoryChannelLayer,
) -> None:
    async with Communicator(AuthConsumer, "/ws/room/red?token=good") as member:
        intruder = Communicator(AuthConsumer, "/ws/room/red", query_string=b"token=bad")
        assert await intruder.connect() == (False, 4401)
        assert intruder.instance.groups == []
        assert all(intruder.channel_name not in m for m in mem_layer.groups.values())
        assert set(mem_layer.groups["room_red"]) == {member.channel_name}

        await AuthConsumer.broadcast_event(Alert(level=2))
        await AuthConsumer.broadcast_event(Announcement(text="members only"), "room_red")
        assert await member.receive() == {"action": "announcement", "text": "level 2 in red"}
        assert await member.receive() == {"action": "announcement", "text": "members only"}
        assert await intruder.receive_nothing()
        await intruder.disconnect()


async def test_authenticator_exception_closes_with_4401() -> None:
    comm = Communicator(
        AuthConsumer, "/ws/room/red", query_string=b"token=good", headers={"X-Explode": "1"}
    )
    assert await comm.connect() == (False, 4401)
    await comm.disconnect()


async def test_async_with_raises_closed_error_when_rejected() -> None:
    with pytest.raises(ClosedError) as info:
        async with Communicator(AuthConsumer, "/ws/room/red"):
            pass
    assert info.value.code == 4401


# ---- layers -------------------------------------------------------------------------------------


class Ghost(Consumer):
    address = "/ws/ghost"
    channel_layer_alias = "not-registered-anywhere"
    group_templates = ("ghosts",)


def test_create_app_fails_when_a_consumer_layer_is_not_registered() -> None:
    routes = [WebSocketRoute("/ws/ghost", Ghost.as_asgi())]
    with pytest.raises(ChannelLayerError) as info:
        create_app(routes, layers=[LayerSpec("mem", "memory")], environ={})
    text = str(info.value)
    assert "'not-registered-anywhere'" in text
    assert "Ghost" in text
    # declaring the layer makes it work
    app = create_app(routes, layers=[LayerSpec("not-registered-anywhere", "memory")], environ={})
    assert app.state.chanspec_layers == {"not-registered-anywhere": "memory"}


async def test_consumer_with_unregistered_layer_refuses_the_handshake() -> None:
    class Phantom(Consumer):
        channel_layer_alias = "phantom-layer"

    comm = Communicator(Phantom, "/ws/phantom")
    assert await comm.connect() == (False, 4500)
    await comm.disconnect()


# ---- the communicator itself --------------------------------------------------------------------


class Bye(Message):
    action: Literal["bye"] = "bye"


class Raw(Message):
    action: Literal["raw"] = "raw"
    text: str


class CloseConsumer(Consumer):
    @ws_handler
    async def bye(self, msg: Bye) -> None:
        await self.close(4000)

    @ws_handler
    async def raw(self, msg: Raw) -> None:
        await self.send(text_data=msg.text)


async def test_communicator_reports_close_and_non_json_frames() -> None:
    async with Communicator(CloseConsumer, "/ws/close") as comm:
        await comm.send(Raw(text="plain text"))
        with pytest.raises(CommunicatorError, match="not JSON"):
            await comm.receive()
        await comm.send(Raw(text="[1]"))
        with pytest.raises(CommunicatorError, match="not a JSON object"):
            await comm.receive()
        with pytest.raises(TimeoutError):
            await comm.receive(0.05)
        assert comm.connected
        await comm.send(Bye())
        with pytest.raises(ClosedError) as info:
            await comm.receive()
        assert info.value.code == 4000


async def test_communicator_before_connect() -> None:
    comm = Communicator(RoomConsumer, "/ws/room/red")
    assert comm.scope["path_params"] == {"room_name": "red"}
    assert not comm.connected
    with pytest.raises(RuntimeError, match="connect"):
        _ = comm.instance
    await comm.disconnect()  # never started: nothing to do
    with pytest.raises(ValueError, match="does not match"):
        Communicator(RoomConsumer, "/ws/elsewhere")


async def test_a_member_of_several_target_groups_gets_a_broadcast_once() -> None:
    async with (
        Communicator(RoomConsumer, "/ws/room/red") as a,
        Communicator(RoomConsumer, "/ws/room/blue") as b,
    ):
        # a is in lobby and room_red; b in lobby and room_blue
        await a.instance.broadcast_message(Said(room="red", text="once"))
        assert await a.receive() == {"action": "said", "room": "red", "text": "once"}
        assert await b.receive() == {"action": "said", "room": "red", "text": "once"}
        assert await a.receive_nothing(0.05) and await b.receive_nothing(0.05)
        await RoomConsumer.broadcast_event(Poke(by="x"), ["lobby", "room_red", "room_blue"])
        assert await a.receive() == {"action": "poked", "by": "x", "me": "red"}
        assert await b.receive() == {"action": "poked", "by": "x", "me": "blue"}
        assert await a.receive_nothing(0.05) and await b.receive_nothing(0.05)


# ---- concurrency opt-in -----------------------------------------------------------------------


class Slow(Message):
    action: Literal["slow"] = "slow"
    n: int


class Fast(Message):
    action: Literal["fast"] = "fast"
    n: int


class Done(Message):
    action: Literal["done"] = "done"
    n: int


class OrderedConsumer(Consumer):
    """``slow`` waits for a release the test gives after ``fast`` is answered."""

    release: ClassVar[asyncio.Event]

    @ws_handler
    async def slow(self, message: Slow) -> Done:
        await asyncio.wait_for(type(self).release.wait(), 0.3)
        return Done(n=message.n)

    @ws_handler
    async def fast(self, message: Fast) -> Done:
        type(self).release.set()
        return Done(n=message.n)


class ConcurrentConsumer(OrderedConsumer):
    @ws_handler(concurrent=True)
    async def slow(self, message: Slow) -> Done:
        await asyncio.wait_for(type(self).release.wait(), 5)
        return Done(n=message.n)


async def test_frames_are_handled_in_order_unless_a_handler_opts_into_concurrency() -> None:
    OrderedConsumer.release = asyncio.Event()
    async with Communicator(OrderedConsumer, "/ws") as comm:
        await comm.send(Slow(n=1))
        await comm.send(Fast(n=2))
        # in order: slow times out waiting (fast has not run yet), then fast answers
        assert (await comm.receive())["payload"]["code"] == "handler_error"
        assert await comm.receive() == {"action": "done", "n": 2}
    ConcurrentConsumer.release = asyncio.Event()
    async with Communicator(ConcurrentConsumer, "/ws") as comm:
        await comm.send(Slow(n=1))
        await comm.send(Fast(n=2))
        # concurrent: fast is handled while slow waits, and releases it
        assert await comm.receive() == {"action": "done", "n": 2}
        assert await comm.receive() == {"action": "done", "n": 1}


# ---- camelize ---------------------------------------------------------------------------------


class RoomInfo(Message):
    room_name: str
    member_count: int = 0


class Lookup(Message):
    action: Literal["lookup_room"] = "lookup_room"
    payload: RoomInfo


class Found(Message):
    action: Literal["room_found"] = "room_found"
    payload: RoomInfo


class CamelConsumer(Consumer):
    camelize = True
    channel_layer_alias = "mem"
    group_templates = ("camels",)

    @ws_handler
    async def lookup_room(self, message: Lookup) -> Found:
        info = RoomInfo(room_name=message.payload.room_name.upper(), member_count=2)
        await self.broadcast_message(Found(payload=info))
        return Found(payload=info)


async def test_camelize_reads_camel_case_and_writes_camel_case() -> None:
    async with Communicator(CamelConsumer, "/ws") as comm:
        await comm.send({"action": "lookup_room", "payload": {"roomName": "lobby"}})
        expected = {"action": "room_found", "payload": {"roomName": "LOBBY", "memberCount": 2}}
        assert await comm.receive() == expected  # the broadcast
        assert await comm.receive() == expected  # the reply
        await comm.send({"action": "lookup_room", "payload": {}})  # error frames keep their shape
        error = await comm.receive()
        assert error["action"] == "error" and error["payload"]["code"] == "validation_error"


def test_camelized_text_is_compact_utf8_like_pydantic_output() -> None:
    from chanspec.runtime.consumer import _wire_text

    text = _wire_text(CamelConsumer, Found(payload=RoomInfo(room_name="Köln")))
    assert text == '{"action":"room_found","payload":{"roomName":"Köln","memberCount":0}}'
