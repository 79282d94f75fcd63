"""Channel layers that hold up: real uvicorn, real redis-server, real WebSocket clients.

- 500 clients of a queue-layer group disconnecting at once leave no membership in Redis;
- an idle queue-layer consumer outlives the layer's blocking pop (socket timeout > 5 s);
- Redis stopped for 5 s and restarted on the same port while 50 clients are connected on each
  Redis layer: no connection dropped, broadcasts during the outage answered with one
  ``layer_unavailable`` error frame, every broadcast after the restart delivered to all 50.

The served app (``tests.test_layer_resilience:app``) is built on first access, in the uvicorn
process only.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Literal

import pytest
import redis
import websockets
from chanspec.runtime import Consumer, LayerSpec, Message, create_app, ws_handler
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from .conftest import Client, connect
from .servers import uvicorn_server

# ---- the app served by uvicorn ------------------------------------------------------------------


class Text(Message):
    text: str


class Ping(Message):
    action: Literal["ping"] = "ping"


class Pong(Message):
    action: Literal["pong"] = "pong"


class Post(Message):
    action: Literal["post"] = "post"
    payload: Text


class Notice(Message):
    action: Literal["notice"] = "notice"
    payload: Text


class RoomConsumer(Consumer):
    """Group ``room``; ``post`` broadcasts a ``notice`` to the group (sender included)."""

    group_templates = ("room",)
    messages = {"ping": Ping, "pong": Pong, "post": Post, "notice": Notice}

    @ws_handler
    async def ping(self, msg: Ping) -> Pong:
        return Pong()

    @ws_handler
    async def post(self, msg: Post) -> None:
        await self.broadcast_message(Notice(payload=msg.payload))


class QueueRoomConsumer(RoomConsumer):
    channel_id = "queue_room"
    address = "/ws/queue"
    channel_layer_alias = "queue"


class PubSubRoomConsumer(RoomConsumer):
    channel_id = "pubsub_room"
    address = "/ws/pubsub"
    channel_layer_alias = "pubsub"


LAYERS = [
    LayerSpec("queue", "redis", prefix="rq", capacity=1000),
    LayerSpec("pubsub", "redis-pubsub", prefix="rp"),
]


def make_app() -> Starlette:
    """The served app; layers come from ``REDIS_URL``."""
    return create_app(
        [
            WebSocketRoute("/ws/queue", QueueRoomConsumer.as_asgi()),
            WebSocketRoute("/ws/pubsub", PubSubRoomConsumer.as_asgi()),
        ],
        layers=LAYERS,
    )


def __getattr__(name: str) -> Any:
    if name == "app":  # uvicorn's "tests.test_layer_resilience:app"
        return make_app()
    raise AttributeError(name)


APP = "tests.test_layer_resilience:app"


# ---- helpers ------------------------------------------------------------------------------------


def _group_members(url: str, prefix: str, group: str) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return list(client.zrange(f"{prefix}:group:{group}".encode(), 0, -1))
    finally:
        client.close()


async def _connect_many(url: str, n: int) -> list[Client]:
    sem = asyncio.Semaphore(100)

    async def one() -> Client:
        async with sem:
            return await connect(url, max_queue=None)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


# ---- tests --------------------------------------------------------------------------------------


def _redis_info(url: str, section: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    try:
        return dict(client.info(section))
    finally:
        client.close()


async def test_burst_of_500_disconnects_leaves_no_group_membership(redis_url: str) -> None:
    """500 clients of a queue-layer group close at once while Redis stalls writes for 1.5 s
    (``CLIENT PAUSE``), so every ``group_discard`` is in flight at the same time: the group
    ends empty and the server's Redis connections stay within its pool bound."""
    n = 500
    with uvicorn_server(APP, {"REDIS_URL": redis_url}) as server:
        clients = await _connect_many(server + "/ws/queue", n)
        # every client is accepted and joined: a round trip proves its consumer is running
        await asyncio.gather(*(c.send({"action": "ping"}) for c in clients))
        replies = await asyncio.gather(*(c.recv(20) for c in clients))
        assert all(r == {"action": "pong"} for r in replies)
        await _wait_until(
            lambda: len(_group_members(redis_url, "rq", "room")) == n, 20, f"{n} members"
        )
        received_before = _redis_info(redis_url, "stats")["total_connections_received"]
        pauser = redis.Redis.from_url(redis_url)
        pauser.execute_command("CLIENT", "PAUSE", "1500", "WRITE")
        pauser.close()
        started = time.monotonic()
        await asyncio.gather(*(c.close() for c in clients))
        await _wait_until(
            lambda: not _group_members(redis_url, "rq", "room"), 30, "an empty group"
        )
        elapsed = time.monotonic() - started
        opened = _redis_info(redis_url, "stats")["total_connections_received"] - received_before
        print(f"{n} disconnects -> empty group in {elapsed:.2f}s; {opened} connections opened")
        # bounded pool: at most QUEUE_MAX_CONNECTIONS (50) for the layer, plus this test's own
        # INFO/ZRANGE clients and the layer's health probes
        assert opened <= 50 + 40, opened
        # the server is still serving
        probe = await connect(server + "/ws/queue")
        await probe.send({"action": "ping"})
        assert await probe.recv() == {"action": "pong"}
        await probe.close()
    assert not _group_members(redis_url, "rq", "room")
