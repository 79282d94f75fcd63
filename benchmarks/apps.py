"""The servers the benchmark compares, each with the same endpoints and the same frames.

Frames use the chanx envelope, identical bytes for every app:

- ``/ws/echo``: ``{"action": "echo", "payload": {"text": ..., "seq": ...}}`` comes back as is.
- ``/ws/room/{layer}`` (``layer``: ``memory``, ``pubsub``, ``queue``): every connection joins the
  group ``bench`` on that channel layer; ``{"action": "broadcast", "payload": {...}}`` is
  delivered to every member, the sender included, as ``{"action": "chat", "payload": {...}}``.

Apps:

- ``raw``: bare Starlette endpoints. ``memory``: serialise once, loop over a set of sockets.
  ``pubsub``: the same with one Redis ``PUBLISH`` per broadcast and one subscription per process
  that fans out to its sockets (the cross-process baseline). No ``queue`` room.
- ``fc``: fast-channels' ``AsyncJsonWebsocketConsumer``, ``group_send`` on its
  ``InMemoryChannelLayer``, ``RedisPubSubChannelLayer`` and ``RedisChannelLayer``.
- ``chanx``: chanx 2.13 consumers (``@ws_handler``, ``broadcast_message``) on the same three
  fast-channels layers (the ``bench`` extra installs chanx).
- ``chanspec``: ``chanspec.runtime.Consumer`` served by ``create_app`` with the spec layer types
  ``memory``, ``redis-pubsub`` and ``redis``.

Redis rooms exist only when ``REDIS_URL`` is set. Run one server:
``REDIS_URL=redis://... python -m benchmarks.apps APP PORT`` (binds 127.0.0.1 only).
"""

import asyncio
import json
import os
import sys
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

GROUP = "bench"
LAYERS = ("memory", "pubsub", "queue")


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


def fc_layer(kind: str) -> Any:
    """The fast-channels layer of a room kind, configured like chanspec configures it."""
    from fast_channels.layers import InMemoryChannelLayer

    url = redis_url()
    if kind == "memory":
        return InMemoryChannelLayer()
    from fast_channels.layers.redis import RedisChannelLayer, RedisPubSubChannelLayer

    if kind == "pubsub":
        return RedisPubSubChannelLayer(hosts=[url], prefix="fcps")
    # socket timeout above the 5 s blocking pop (field notes), as chanspec's layers.py does
    return RedisChannelLayer(hosts=[{"address": url, "socket_timeout": 15}], prefix="fcq")


def room_kinds() -> tuple[str, ...]:
    return LAYERS if redis_url() else ("memory",)


# ---- raw Starlette ---------------------------------------------------------------------------


def raw_app() -> Starlette:
    members: dict[str, set[WebSocket]] = {"memory": set(), "pubsub": set()}
    state: dict[str, Any] = {}

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                data = json.loads(await ws.receive_text())
                await ws.send_text(json.dumps(data))
        except WebSocketDisconnect:
            pass

    async def fan_out(kind: str, text: str) -> None:
        for member in list(members[kind]):
            try:
                await member.send_text(text)
            except Exception:
                members[kind].discard(member)

    async def subscriber() -> None:
        pubsub = state["redis"].pubsub()
        await pubsub.subscribe("raw__bench")
        state["subscribed"].set()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is not None:
                await fan_out("pubsub", message["data"].decode())

    async def ensure_subscriber() -> None:
        if "redis" not in state:
            from redis import asyncio as aioredis

            state["redis"] = aioredis.Redis.from_url(redis_url() or "")
            state["subscribed"] = asyncio.Event()
            state["task"] = asyncio.get_running_loop().create_task(subscriber())
        await state["subscribed"].wait()

    async def room(ws: WebSocket) -> None:
        kind = ws.path_params["layer"]
        if kind not in members or (kind == "pubsub" and not redis_url()):
            await ws.close(4404)
            return
        await ws.accept()
        if kind == "pubsub":
            await ensure_subscriber()
        members[kind].add(ws)
        try:
            while True:
                data = json.loads(await ws.receive_text())
                text = json.dumps({"action": "chat", "payload": data["payload"]})
                if kind == "pubsub":  # every process, this one included, via its subscription
                    await state["redis"].publish("raw__bench", text)
                else:
                    await fan_out(kind, text)
        except WebSocketDisconnect:
            pass
        finally:
            members[kind].discard(ws)

    return Starlette(
        routes=[WebSocketRoute("/ws/echo", echo), WebSocketRoute("/ws/room/{layer}", room)]
    )


# ---- fast-channels ---------------------------------------------------------------------------


def fc_app() -> Starlette:
    from fast_channels.consumer.websocket import AsyncJsonWebsocketConsumer
    from fast_channels.layers import register_channel_layer

    class EchoConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            await self.send_json(content)

    routes = [WebSocketRoute("/ws/echo", EchoConsumer.as_asgi())]
    for kind in room_kinds():
        register_channel_layer(f"fc_{kind}", fc_layer(kind))

        class RoomConsumer(AsyncJsonWebsocketConsumer):
            channel_layer_alias = f"fc_{kind}"
            groups = [GROUP]

            async def receive_json(self, content: Any, **kwargs: Any) -> None:
                assert self.channel_layer is not None
                await self.channel_layer.group_send(
                    GROUP, {"type": "chat.message", "payload": content["payload"]}
                )

            async def chat_message(self, event: dict[str, Any]) -> None:
                await self.send_json({"action": "chat", "payload": event["payload"]})

        routes.append(WebSocketRoute(f"/ws/room/{kind}", RoomConsumer.as_asgi()))
    return Starlette(routes=routes)


# ---- chanx ---------------------------------------------------------------------------


def chanx_app() -> Starlette:
    from chanx.core.decorators import ws_handler as chanx_ws_handler
    from chanx.fast_channels.websocket import AsyncJsonWebsocketConsumer as ChanxConsumer
    from chanx.messages.base import BaseMessage
    from fast_channels.layers import register_channel_layer
    from pydantic import BaseModel

    class Payload(BaseModel):
        text: str
        seq: int

    class EchoMessage(BaseMessage):
        action: Literal["echo"] = "echo"
        payload: Payload

    class BroadcastMessage(BaseMessage):
        action: Literal["broadcast"] = "broadcast"
        payload: Payload

    class ChatMessage(BaseMessage):
        action: Literal["chat"] = "chat"
        payload: Payload

    class EchoConsumer(ChanxConsumer):
        send_completion = False
        log_websocket_message = False

        @chanx_ws_handler
        async def echo(self, message: EchoMessage) -> EchoMessage:
            return message

    routes = [WebSocketRoute("/ws/echo", EchoConsumer.as_asgi())]
    for kind in room_kinds():
        register_channel_layer(f"chanx_{kind}", fc_layer(kind))

        class RoomConsumer(ChanxConsumer):
            channel_layer_alias = f"chanx_{kind}"
            groups = [GROUP]
            send_completion = False
            log_websocket_message = False

            @chanx_ws_handler(output_type=ChatMessage)
            async def broadcast(self, message: BroadcastMessage) -> None:
                await self.broadcast_message(ChatMessage(payload=message.payload))

        routes.append(WebSocketRoute(f"/ws/room/{kind}", RoomConsumer.as_asgi()))
    # chanx's fast-channels flavour is written for FastAPI; plain Starlette routing serves it.
    return Starlette(routes=routes)


# ---- chanspec ---------------------------------------------------------------------------

from chanspec.runtime import Message  # noqa: E402


class Payload(Message):
    text: str
    seq: int


class Echo(Message):
    action: Literal["echo"] = "echo"
    payload: Payload


class Broadcast(Message):
    action: Literal["broadcast"] = "broadcast"
    payload: Payload


class Chat(Message):
    action: Literal["chat"] = "chat"
    payload: Payload


SPEC_TYPES = {"memory": "memory", "pubsub": "redis-pubsub", "queue": "redis"}


def chanspec_app() -> Starlette:
    from chanspec.runtime import Consumer, LayerSpec, create_app, ws_handler

    class EchoConsumer(Consumer):
        channel_id = "echo"
        address = "/ws/echo"
        messages = {"echo": Echo}

        @ws_handler
        async def echo(self, message: Echo) -> Echo:
            return message

    routes = [WebSocketRoute("/ws/echo", EchoConsumer.as_asgi())]
    consumers: list[type[Consumer]] = [EchoConsumer]
    for kind in room_kinds():

        class RoomConsumer(Consumer):
            channel_id = f"room_{kind}"
            address = f"/ws/room/{kind}"
            channel_layer_alias = f"chanspec_{kind}"
            group_templates = (GROUP,)
            messages = {"broadcast": Broadcast, "chat": Chat}
            send_operations = {"chat": ("chat",)}

            @ws_handler(output_type=Chat)
            async def broadcast(self, message: Broadcast) -> None:
                await self.broadcast_message(Chat(payload=message.payload))

        routes.append(WebSocketRoute(f"/ws/room/{kind}", RoomConsumer.as_asgi()))
        consumers.append(RoomConsumer)
    layers = [LayerSpec(f"chanspec_{k}", SPEC_TYPES[k]) for k in room_kinds()]  # type: ignore[arg-type]
    env = {"REDIS_URL": redis_url() or ""} if redis_url() else {}
    return create_app(routes, layers=layers, consumers=consumers, environ=env)


APPS = {"raw": raw_app, "fc": fc_app, "chanx": chanx_app, "chanspec": chanspec_app}


def main() -> None:
    import logging

    import uvicorn

    name, port = sys.argv[1], int(sys.argv[2])
    logging.getLogger("chanspec").setLevel(logging.ERROR)
    logging.getLogger("chanx").setLevel(logging.ERROR)
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
