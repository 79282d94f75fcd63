"""Routing of client frames to typed handlers, definition errors, and frame order.

Small inline consumers driven in process by ``chanspec.runtime.testing.Communicator``.
"""

import asyncio
from typing import Literal

import pytest
from chanspec.runtime import (
    Consumer,
    ConsumerDefinitionError,
    LayerSpec,
    Message,
    event_handler,
    register_layers,
    ws_handler,
)
from chanspec.runtime.testing import Communicator, path_params_for
from pydantic import ConfigDict


@pytest.fixture(autouse=True)
def mem_layer() -> None:
    register_layers([LayerSpec("mem", "memory")], environ={})


# ---- messages -----------------------------------------------------------------------------------


class Text(Message):
    text: str


class Echo(Message):
    action: Literal["echo"] = "echo"
    payload: Text


class Echoed(Message):
    action: Literal["echoed"] = "echoed"
    payload: Text


class Quiet(Message):
    action: Literal["quiet"] = "quiet"
    payload: Text


class Check(Message):
    action: Literal["check"] = "check"
    value: int


class Even(Message):
    action: Literal["even"] = "even"
    value: int


class Odd(Message):
    action: Literal["odd"] = "odd"
    value: int


class Where(Message):
    action: Literal["where"] = "where"


class Here(Message):
    action: Literal["here"] = "here"
    room: str
    params: dict[str, str]


class RoutingConsumer(Consumer):
    address = "/ws/route/{room}"
    quiet_seen: list[str] = []

    @ws_handler
    async def echo(self, msg: Echo) -> Echoed:
        return Echoed(payload=Text(text=msg.payload.text.upper()))

    @ws_handler
    async def quiet(self, msg: Quiet) -> None:
        type(self).quiet_seen.append(msg.payload.text)

    @ws_handler
    async def check(self, msg: Check) -> Even | Odd:
        return Even(value=msg.value) if msg.value % 2 == 0 else Odd(value=msg.value)

    @ws_handler
    async def where(self, msg: Where) -> Here:
        return Here(room=self.path_params["room"], params=self.path_params)


# ---- routing by discriminator -------------------------------------------------------------------


async def test_frame_is_routed_by_action_and_reply_goes_to_sender() -> None:
    async with Communicator(RoutingConsumer, "/ws/route/r1") as comm:
        await comm.send(Echo(payload=Text(text="hello")))
        assert await comm.receive() == {"action": "echoed", "payload": {"text": "HELLO"}}
        assert await comm.receive_nothing()


async def test_dict_and_raw_string_frames_are_routed_too() -> None:
    async with Communicator(RoutingConsumer, "/ws/route/r1") as comm:
        await comm.send({"action": "echo", "payload": {"text": "a"}})
        assert await comm.receive() == {"action": "echoed", "payload": {"text": "A"}}
        await comm.send('{"action": "echo", "payload": {"text": "b"}}')
        reply = await comm.receive_message(Echoed)
        assert reply == Echoed(payload=Text(text="B"))


async def test_handler_returning_none_sends_nothing() -> None:
    RoutingConsumer.quiet_seen.clear()
    async with Communicator(RoutingConsumer, "/ws/route/r1") as comm:
        await comm.send(Quiet(payload=Text(text="shh")))
        assert await comm.receive_nothing(0.15)
        assert RoutingConsumer.quiet_seen == ["shh"]
        # the next frame's answer is the first thing received: nothing was queued before it
        await comm.send(Echo(payload=Text(text="x")))
        assert await comm.receive() == {"action": "echoed", "payload": {"text": "X"}}


async def test_union_return_sends_whichever_model_the_handler_returns() -> None:
    async with Communicator(RoutingConsumer, "/ws/route/r1") as comm:
        await comm.send(Check(value=4))
        assert await comm.receive() == {"action": "even", "value": 4}
        await comm.send(Check(value=7))
        assert await comm.receive() == {"action": "odd", "value": 7}


async def test_path_params_derived_from_address() -> None:
    assert path_params_for("/ws/route/{room}", "/ws/route/lobby?x=1") == {"room": "lobby"}
    assert path_params_for("/a/{x}/b/{y}", "/a/1/b/two") == {"x": "1", "y": "two"}
    with pytest.raises(ValueError, match="does not match"):
        path_params_for("/ws/route/{room}", "/other/lobby")
    async with Communicator(RoutingConsumer, "/ws/route/blue") as comm:
        await comm.send(Where())
        assert await comm.receive() == {
            "action": "here",
            "room": "blue",
            "params": {"room": "blue"},
        }


async def test_explicit_path_params_win_over_the_path() -> None:
    async with Communicator(RoutingConsumer, "/anything", path_params={"room": "given"}) as comm:
        await comm.send(Where())
        assert (await comm.receive())["room"] == "given"


async def test_other_discriminator_field() -> None:
    class Sub(Message):
        op: Literal["sub"] = "sub"
        topic: str

    class Unsub(Message):
        op: Literal["unsub"] = "unsub"
        topic: str

    class Ack(Message):
        op: Literal["ack"] = "ack"
        what: str

    class OpConsumer(Consumer):
        discriminator_field = "op"

        @ws_handler(input_type=Sub, output_type=Ack)
        async def sub(self, msg):  # type: ignore[no-untyped-def]
            return Ack(what="sub:" + msg.topic)

        @ws_handler(input_type=Unsub, output_type=Ack)
        async def unsub(self, msg):  # type: ignore[no-untyped-def]
            return Ack(what="unsub:" + msg.topic)

    async with Communicator(OpConsumer, "/ws/op") as comm:
        await comm.send({"op": "unsub", "topic": "t"})
        assert await comm.receive() == {"op": "ack", "what": "unsub:t"}
        await comm.send({"action": "sub", "topic": "t"})
        frame = await comm.receive()
        assert frame["payload"]["code"] == "missing_discriminator"
        assert frame["payload"]["detail"] == "missing 'op'; expected one of 'sub', 'unsub'"


# ---- no discriminator: ordered fallback; one message ----------------------------------------


class Say(Message):
    text: str


class Add(Message):
    a: int
    b: int


class Strict(Message):
    model_config = ConfigDict(extra="forbid")
    z: int


class Result(Message):
    kind: str
    value: str


class OrderedConsumer(Consumer):
    discriminator_field = None

    @ws_handler
    async def say(self, msg: Say) -> Result:
        return Result(kind="say", value=msg.text)

    @ws_handler
    async def add(self, msg: Add) -> Result:
        return Result(kind="add", value=str(msg.a + msg.b))

    @ws_handler
    async def strict(self, msg: Strict) -> Result:
        return Result(kind="strict", value=str(msg.z))


async def test_ordered_fallback_tries_messages_in_declared_order() -> None:
    async with Communicator(OrderedConsumer, "/ws/ordered") as comm:
        await comm.send({"a": 2, "b": 3})
        assert await comm.receive() == {"kind": "add", "value": "5"}
        # matches Say and Add (extra keys are ignored): the first declared handler wins
        await comm.send({"a": 2, "b": 3, "text": "first"})
        assert await comm.receive() == {"kind": "say", "value": "first"}
        await comm.send({"z": 9})
        assert await comm.receive() == {"kind": "strict", "value": "9"}
        await comm.send({"nothing": True})
        assert await comm.receive() == {
            "action": "error",
            "payload": {
                "code": "unknown_message",
                "detail": "frame matches none of: Say, Add, Strict",
            },
        }
        await comm.send({"a": 1, "b": 1})
        assert await comm.receive() == {"kind": "add", "value": "2"}


class Note(Message):
    text: str


class Noted(Message):
    noted: str


class SingleConsumer(Consumer):
    # discriminator_field keeps its default ("action"), but with one message there is nothing
    # to tell apart, so the message needs no discriminator at all
    @ws_handler
    async def note(self, msg: Note) -> Noted:
        return Noted(noted=msg.text)


async def test_single_message_channel_needs_no_discriminator() -> None:
    assert SingleConsumer._ws_router.discriminator is None
    async with Communicator(SingleConsumer, "/ws/single") as comm:
        await comm.send({"text": "one"})
        assert await comm.receive() == {"noted": "one"}
        await comm.send({"action": "whatever", "text": "two"})
        assert await comm.receive() == {"noted": "two"}
        await comm.send({"txt": "typo"})
        assert await comm.receive() == {
            "action": "error",
            "payload": {
                "code": "validation_error",
                "detail": "frame does not match message 'Note'",
                "errors": [{"loc": ["text"], "msg": "Field required", "type": "missing"}],
            },
        }


async def test_channel_without_incoming_messages_answers_unknown_message() -> None:
    class PushOnly(Consumer):
        pass

    async with Communicator(PushOnly, "/ws/push") as comm:
        await comm.send({"action": "hello"})
        assert await comm.receive() == {
            "action": "error",
            "payload": {"code": "unknown_message", "detail": "this channel receives no messages"},
        }


# ---- definition errors --------------------------------------------------------------------------


def test_two_handlers_for_one_action_is_a_definition_error() -> None:
    with pytest.raises(ConsumerDefinitionError) as info:

        class Dup(Consumer):
            @ws_handler
            async def first(self, msg: Echo) -> None: ...

            @ws_handler
            async def second(self, msg: Echo) -> None: ...

    text = str(info.value)
    assert "Dup.second" in text
    assert "Dup.first" in text
    assert "action='echo'" in text


def test_two_event_handlers_for_one_event_is_a_definition_error() -> None:
    with pytest.raises(ConsumerDefinitionError, match=r"DupEvents\.again.*DupEvents\.once"):

        class DupEvents(Consumer):
            @event_handler
            async def once(self, event: Check) -> None: ...

            @event_handler
            async def again(self, event: Check) -> None: ...


def test_handler_model_without_literal_discriminator_in_multi_message_channel() -> None:
    with pytest.raises(ConsumerDefinitionError) as info:

        class NoTag(Consumer):
            @ws_handler
            async def echo(self, msg: Echo) -> None: ...

            @ws_handler
            async def untagged(self, msg: Note) -> None: ...

    text = str(info.value)
    assert "NoTag.untagged: " in text
    assert "'action'" in text


def test_discriminator_literal_with_two_values_is_a_definition_error() -> None:
    class Either(Message):
        action: Literal["a", "b"]

    with pytest.raises(ConsumerDefinitionError, match=r"TwoValues\.either: .*one-value Literal"):

        class TwoValues(Consumer):
            @ws_handler
            async def echo(self, msg: Echo) -> None: ...

            @ws_handler(input_type=Either)
            async def either(self, msg: Either) -> None: ...


def test_handler_without_model_annotation_is_a_definition_error() -> None:
    with pytest.raises(ConsumerDefinitionError, match=r"Bare\.handle: .*message model"):

        class Bare(Consumer):
            @ws_handler
            async def handle(self, msg):  # type: ignore[no-untyped-def]
                return None

    with pytest.raises(ConsumerDefinitionError, match=r"Dicty\.handle: "):

        class Dicty(Consumer):
            @ws_handler
            async def handle(self, msg: dict[str, str]) -> None: ...

    with pytest.raises(ConsumerDefinitionError, match=r"NoParam\.handle: "):

        class NoParam(Consumer):
            @ws_handler
            async def handle(self) -> None: ...


def test_group_template_with_unknown_parameter_is_a_definition_error() -> None:
    with pytest.raises(ConsumerDefinitionError) as info:

        class BadGroups(Consumer):
            address = "/ws/room/{room_name}"
            channel_layer_alias = "mem"
            group_templates = ("all", "room_{room_name}", "team_{team}")

    text = str(info.value)
    assert "BadGroups: " in text
    assert "'team_{team}'" in text
    assert "['team']" in text
    assert "'/ws/room/{room_name}'" in text


def test_overriding_a_handler_without_decorator_removes_it() -> None:
    class Base(Consumer):
        @ws_handler
        async def echo(self, msg: Echo) -> Echoed:
            return Echoed(payload=msg.payload)

        @ws_handler
        async def quiet(self, msg: Quiet) -> None: ...

    class Child(Base):
        async def quiet(self, msg: Quiet) -> None: ...

    assert [e.route.method_name for e in Base.ws_handlers] == ["echo", "quiet"]
    assert [e.route.method_name for e in Child.ws_handlers] == ["echo"]


# ---- order --------------------------------------------------------------------------------------


class Slow(Message):
    action: Literal["slow"] = "slow"
    n: int


class SlowDone(Message):
    action: Literal["slow_done"] = "slow_done"
    n: int


class OrderConsumer(Consumer):
    @ws_handler
    async def slow(self, msg: Slow) -> SlowDone:
        # earlier frames take longer: handled concurrently, replies would come back reversed
        await asyncio.sleep((20 - msg.n) * 0.002)
        return SlowDone(n=msg.n)

    @ws_handler
    async def echo(self, msg: Echo) -> Echoed:
        return Echoed(payload=msg.payload)


async def test_frames_of_one_connection_are_answered_in_order() -> None:
    async with Communicator(OrderConsumer, "/ws/order") as comm:
        for n in range(20):
            await comm.send(Slow(n=n))
        replies = [await comm.receive(2) for _ in range(20)]
        assert replies == [{"action": "slow_done", "n": n} for n in range(20)]
        assert await comm.receive_nothing()


class CompleteConsumer(OrderConsumer):
    send_completion = True


async def test_completion_frame_after_each_handled_frame() -> None:
    async with Communicator(CompleteConsumer, "/ws/complete") as comm:
        await comm.send(Slow(n=19))
        await comm.send(Echo(payload=Text(text="e")))
        assert await comm.receive_until("complete") == [
            {"action": "slow_done", "n": 19},
            {"action": "complete"},
        ]
        assert await comm.receive_until("complete") == [
            {"action": "echoed", "payload": {"text": "e"}},
            {"action": "complete"},
        ]
        with pytest.raises(TimeoutError):
            await comm.receive_until("complete", timeout=0.1)
        # a timeout leaves the connection usable
        await comm.send(Echo(payload=Text(text="f")))
        assert (await comm.receive_until("complete"))[0]["payload"] == {"text": "f"}
