"""The three servers the benchmark compares, each with the same two endpoints.

- ``/ws/echo``: every JSON frame ``{"action": "echo", "text": ..., "seq": ...}`` comes back.
- ``/ws/room``: every connection joins the group ``bench``; a frame
  ``{"action": "broadcast", "text": ..., "seq": ...}`` is delivered to every member (the sender
  included) as ``{"action": "chat", "text": ..., "seq": ...}``.

Apps: ``raw`` (bare Starlette WebSocket endpoints; broadcast = serialise once, loop over the
sockets of a set), ``fc`` (fast-channels' ``AsyncJsonWebsocketConsumer``, broadcast with
``group_send`` on its in-memory layer), ``chanspec`` (a ``chanspec.runtime.Consumer`` served with
``create_app``, broadcast with ``broadcast_message`` on the in-memory layer).

Run one server: ``python -m benchmarks.apps APP PORT`` (binds 127.0.0.1 only).
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

GROUP = "bench"
LAYER_ALIAS = "bench"


# ---- raw Starlette -------------------------------------------------------------------------


def raw_app() -> Starlette:
    members: set[WebSocket] = set()

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                data = json.loads(await ws.receive_text())
                await ws.send_text(json.dumps(data))
        except WebSocketDisconnect:
            pass

    async def room(ws: WebSocket) -> None:
        await ws.accept()
        members.add(ws)
        try:
            while True:
                data = json.loads(await ws.receive_text())
                text = json.dumps({"action": "chat", "text": data["text"], "seq": data["seq"]})
                for member in list(members):
                    try:
                        await member.send_text(text)
                    except Exception:
                        members.discard(member)
        except WebSocketDisconnect:
            pass
        finally:
            members.discard(ws)

    return Starlette(routes=[WebSocketRoute("/ws/echo", echo), WebSocketRoute("/ws/room", room)])


# ---- fast-channels -------------------------------------------------------------------------


def fc_app() -> Starlette:
    from fast_channels.consumer.websocket import AsyncJsonWebsocketConsumer
    from fast_channels.layers import InMemoryChannelLayer, register_channel_layer

    register_channel_layer(LAYER_ALIAS, InMemoryChannelLayer())

    class EchoConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            await self.send_json(content)

    class RoomConsumer(AsyncJsonWebsocketConsumer):
        channel_layer_alias = LAYER_ALIAS
        groups = [GROUP]

        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            assert self.channel_layer is not None
            await self.channel_layer.group_send(
                GROUP, {"type": "chat.message", "text": content["text"], "seq": content["seq"]}
            )

        async def chat_message(self, event: dict[str, Any]) -> None:
            await self.send_json({"action": "chat", "text": event["text"], "seq": event["seq"]})

    return Starlette(
        routes=[
            WebSocketRoute("/ws/echo", EchoConsumer.as_asgi()),
            WebSocketRoute("/ws/room", RoomConsumer.as_asgi()),
        ]
    )


# ---- chanspec ------------------------------------------------------------------------------

from chanspec.runtime import Message  # noqa: E402


class Echo(Message):
    action: Literal["echo"] = "echo"
    text: str
    seq: int


class Broadcast(Message):
    action: Literal["broadcast"] = "broadcast"
    text: str
    seq: int


class Chat(Message):
    action: Literal["chat"] = "chat"
    text: str
    seq: int


def chanspec_app() -> Starlette:
    from chanspec.runtime import Consumer, LayerSpec, create_app, ws_handler

    class EchoConsumer(Consumer):
        channel_id = "echo"
        address = "/ws/echo"
        messages = {"echo": Echo}

        @ws_handler
        async def echo(self, message: Echo) -> Echo:
            return message

    class RoomConsumer(Consumer):
        channel_id = "room"
        address = "/ws/room"
        channel_layer_alias = LAYER_ALIAS
        group_templates = (GROUP,)
        messages = {"broadcast": Broadcast, "chat": Chat}
        send_operations = {"chat": ("chat",)}

        @ws_handler(output_type=Chat)
        async def broadcast(self, message: Broadcast) -> None:
            await self.broadcast_message(Chat(text=message.text, seq=message.seq))

    return create_app(
        [
            WebSocketRoute("/ws/echo", EchoConsumer.as_asgi()),
            WebSocketRoute("/ws/room", RoomConsumer.as_asgi()),
        ],
        layers=[LayerSpec(LAYER_ALIAS, "memory")],
        consumers=[EchoConsumer, RoomConsumer],
        environ={},
    )


APPS = {"raw": raw_app, "fc": fc_app, "chanspec": chanspec_app}


def main() -> None:
    import logging

    import uvicorn

    name, port = sys.argv[1], int(sys.argv[2])
    logging.getLogger("chanspec").setLevel(logging.ERROR)
    app = APPS[name]()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ws_max_queue=1024,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
