"""Channel layers that hold up: real uvicorn, real redis-server, real WebSocket clients.

- 500 clients of a queue-layer group disconnecting at once leave no membership in Redis;
- an idle queue-layer consumer outlives the layer's blocking pop (socket timeout > 5 s);
- Redis stopped for 5 s and restarted on the same port while 50 clients are connected on each
  Redis layer: no connection dropped, broadcasts during the outage answered with one
  ``layer_unavailable`` error frame, every broadcast after the restart delivered to all 50;
- ``broadcast_event`` / ``send_event`` raise ``LayerUnavailableError`` naming the alias;
- disconnects during an outage are carried out when Redis returns with its data, and a
  consumer that ends without its disconnect handler leaves its groups.

The served app (``tests.test_layer_resilience:app``) is built on first access, in the uvicorn
process only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import pytest
import redis
import websockets
from chanspec.runtime import Consumer, LayerSpec, Message, create_app, register_layers, ws_handler
from chanspec.runtime.resilience import LayerUnavailableError, ResilientRedisChannelLayer
from chanspec.runtime.testing import Communicator
from fast_channels.layers import unregister_channel_layer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from .conftest import Client, connect
from .servers import RedisServer, uvicorn_server

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
    send_operations = {"room_notice": ("notice",)}  # broadcast_event(Notice) reaches sockets

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


class QueueCrashConsumer(RoomConsumer):
    """Joins its group, then fails in ``post_authentication``: the consumer ends without its
    disconnect handler (which is what normally leaves the groups)."""

    channel_id = "queue_crash"
    address = "/ws/queue-crash"
    channel_layer_alias = "queue"
    group_templates = ("crash_room",)

    async def post_authentication(self) -> None:
        raise RuntimeError("fails after joining")


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
            WebSocketRoute("/ws/queue-crash", QueueCrashConsumer.as_asgi()),
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


def _group_keys(url: str, prefix: str) -> list[bytes]:
    """Every key of the layer that records group membership (``<prefix>*group*``)."""
    client = redis.Redis.from_url(url)
    try:
        return list(client.scan_iter(match=f"{prefix}*group*"))
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
        await _wait_until(lambda: not _group_members(redis_url, "rq", "room"), 30, "an empty group")
        # nor any other group bookkeeping of the layer (the fan-out's group -> process sets)
        await _wait_until(lambda: not _group_keys(redis_url, "rq"), 10, "no group keys")
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


async def _round(clients: list[Client], sender: Client, text: str, timeout: float) -> None:
    """``sender`` posts ``text``; the next frame of every client is that notice."""
    await sender.send({"action": "post", "payload": {"text": text}})
    expected = {"action": "notice", "payload": {"text": text}}
    frames = await asyncio.gather(*(c.recv(timeout) for c in clients))
    wrong = [f for f in frames if f != expected]
    assert not wrong, f"{len(wrong)} of {len(clients)} got {wrong[:3]} instead of {expected}"


async def test_a_consumer_ending_without_its_disconnect_handler_leaves_its_groups(
    redis_url: str,
) -> None:
    with uvicorn_server(APP, {"REDIS_URL": redis_url}) as server:
        crashed = [await connect(server + "/ws/queue-crash") for _ in range(5)]
        for client in crashed:  # accepted, joined, then ended by the server
            with pytest.raises(websockets.ConnectionClosed):
                await client.recv(5)
        await _wait_until(
            lambda: not _group_members(redis_url, "rq", "crash_room"), 5, "an empty group"
        )


async def test_idle_queue_consumer_outlives_the_blocking_pop(redis_url: str) -> None:
    """The queue layer blocks 5 s per BZPOPMIN; its socket timeout (15 s) must not cut idle
    consumers off (fast-channels with redis-py 8's 5 s default does). The configuration is
    checked directly: end to end, the layer's health check (a probe message per second to the
    process's channel) also ends each pop early, so an idle period alone would not show it."""
    from chanspec.runtime.layers import QUEUE_SOCKET_TIMEOUT_S, build_layer

    layer = build_layer(LAYERS[0], redis_url)
    assert isinstance(layer, ResilientRedisChannelLayer)
    assert layer.hosts[0]["socket_timeout"] == QUEUE_SOCKET_TIMEOUT_S > layer.brpop_timeout
    with uvicorn_server(APP, {"REDIS_URL": redis_url}) as server:
        clients = [await connect(server + "/ws/queue") for _ in range(3)]
        await _round(clients, clients[0], "hello", 5)
        before = _redis_info(redis_url, "stats")["total_connections_received"]
        await asyncio.sleep(layer.brpop_timeout + 2)  # idle through a whole blocking pop
        # no churn of connections meanwhile: the INFO call itself is one; the pool may add one
        # or two when the blocking pop, a probe message and its clean-up overlap
        opened = _redis_info(redis_url, "stats")["total_connections_received"] - before
        assert opened <= 3, f"{opened - 1} Redis connections opened while idle"
        await _round(clients, clients[0], "still here", 5)
        assert all(c.ws.close_code is None for c in clients)
        for c in clients:
            await c.close()


async def test_redis_outage_keeps_connections_and_delivery_resumes() -> None:
    """Redis stopped for 5 s and restarted on the same port (empty: no persistence) while 50
    clients are connected on each Redis layer."""
    n = 50
    store = RedisServer()
    store.start()
    paths = {"queue": "/ws/queue", "pubsub": "/ws/pubsub"}
    try:
        with uvicorn_server(APP, {"REDIS_URL": store.url}) as server:
            clients = {alias: await _connect_many(server + p, n) for alias, p in paths.items()}
            for alias, group in clients.items():
                await _round(group, group[0], f"{alias} before", 10)

            store.stop()
            down_at = time.monotonic()
            for alias, group in clients.items():
                # a client-triggered broadcast: one error frame to the sender, nothing to others
                await group[1].send({"action": "post", "payload": {"text": "lost"}})
                frame = await group[1].recv(10)
                assert frame["action"] == "error", frame
                assert frame["payload"]["code"] == "layer_unavailable", frame
                assert repr(alias) in frame["payload"]["detail"], frame
                # every connection is open and served
                await asyncio.gather(*(c.send({"action": "ping"}) for c in group))
                pongs = await asyncio.gather(*(c.recv(10) for c in group))
                assert all(p == {"action": "pong"} for p in pongs), pongs
            await asyncio.sleep(max(0.0, 5.0 - (time.monotonic() - down_at)))
            for alias, group in clients.items():  # still open after 5 s without Redis
                assert all(c.ws.close_code is None for c in group), alias

            store.start()  # same port, empty database
            for i in range(3):
                for alias, group in clients.items():
                    await _round(group, group[i], f"{alias} after {i}", 10)
            for alias, group in clients.items():
                assert all(c.ws.close_code is None for c in group), alias
                await asyncio.gather(*(c.close() for c in group))
    finally:
        store.stop()


async def test_disconnects_during_an_outage_leave_no_membership() -> None:
    """Redis goes away with its data saved (RDB) and comes back with it: the disconnects that
    happened meanwhile are carried out then, and a connection opened during the outage joins."""
    store = RedisServer()
    store.start()
    try:
        with uvicorn_server(APP, {"REDIS_URL": store.url}) as server:
            clients = await _connect_many(server + "/ws/queue", 20)
            await _round(clients, clients[0], "before", 10)
            assert len(_group_members(store.url, "rq", "room")) == 20
            saver = redis.Redis.from_url(store.url)
            saver.save()  # dump.rdb in the server's directory: loaded again on start
            saver.close()
            store.stop()
            leaving, staying = clients[:10], clients[10:]
            await asyncio.gather(*(c.close() for c in leaving))
            newcomer = await connect(server + "/ws/queue")  # accepted without Redis
            await newcomer.send({"action": "ping"})
            assert await newcomer.recv(10) == {"action": "pong"}
            await asyncio.sleep(0.5)  # the disconnect handlers ran (and could not reach Redis)
            store.start()  # back with the 20 memberships of before the outage
            await _wait_until(
                lambda: len(_group_members(store.url, "rq", "room")) == 11, 10, "11 members"
            )
            await asyncio.sleep(1.0)
            assert len(_group_members(store.url, "rq", "room")) == 11
            await _round([*staying, newcomer], staying[0], "after", 10)
            await asyncio.gather(*(c.close() for c in [*staying, newcomer]))
            await _wait_until(
                lambda: not _group_members(store.url, "rq", "room"), 10, "an empty group"
            )
            await _wait_until(lambda: not _group_keys(store.url, "rq"), 10, "no group keys")
    finally:
        store.stop()


async def test_broadcast_event_raises_layer_unavailable_naming_the_alias() -> None:
    """The caller of ``broadcast_event`` / ``send_event`` gets ``LayerUnavailableError`` while
    Redis is down, and succeeds again once it is back."""
    store = RedisServer()
    store.start()
    try:
        register_layers(LAYERS, environ={"REDIS_URL": store.url})
        with uvicorn_server(APP, {"REDIS_URL": store.url}) as server:
            clients = {
                "queue": await connect(server + "/ws/queue"),
                "pubsub": await connect(server + "/ws/pubsub"),
            }
            consumers = {"queue": QueueRoomConsumer, "pubsub": PubSubRoomConsumer}
            store.stop()
            for alias, cls in consumers.items():
                with pytest.raises(LayerUnavailableError) as caught:
                    await cls.broadcast_event(Notice(payload=Text(text="x")), "room")
                assert caught.value.alias == alias
                assert f"channel layer {alias!r} is unavailable" in str(caught.value)
                with pytest.raises(LayerUnavailableError) as caught:
                    await cls.send_event(Notice(payload=Text(text="x")), "specific.nobody")
                assert caught.value.alias == alias
            store.start()
            for alias, cls in consumers.items():
                # Another process's subscription comes back within its reconnect interval
                # (pub/sub is at most once meanwhile): resend until one arrives, bounded.
                started = time.monotonic()
                while True:
                    assert time.monotonic() - started < 5, f"{alias}: no delivery after 5 s"
                    await cls.broadcast_event(Notice(payload=Text(text="back")), "room")
                    try:
                        frame = await clients[alias].recv(0.25)
                        break
                    except TimeoutError:
                        continue
                assert frame == {"action": "notice", "payload": {"text": "back"}}
                print(f"{alias}: delivery resumed {time.monotonic() - started:.2f}s after restart")
                while True:  # drain the resends still in flight
                    try:
                        await clients[alias].recv(0.5)
                    except TimeoutError:
                        break
                await cls.broadcast_event(Notice(payload=Text(text="last")), "room")
                frame = await clients[alias].recv(5)
                assert frame == {"action": "notice", "payload": {"text": "last"}}
            for c in clients.values():
                await c.close()
    finally:
        for alias in ("queue", "pubsub"):
            unregister_channel_layer(alias)
        store.stop()


class Unavailable(Message):
    action: Literal["unavailable"] = "unavailable"


class UnavailableConsumer(Consumer):
    """A handler whose broadcast met a Redis outage (the reason names a host: never sent)."""

    address = "/ws/unavailable"
    channel_layer_alias = "mem"

    @ws_handler("room_shout")
    async def shout(self, msg: Unavailable) -> None:
        raise LayerUnavailableError(
            "chat", "group_send to 'room'", "ConnectionError: Error 111 connecting to 10.0.0.7"
        )

    @ws_handler
    async def ping(self, msg: Ping) -> Pong:
        return Pong()


async def test_layer_unavailable_error_frame_keeps_the_connection_open() -> None:
    register_layers([LayerSpec("mem", "memory")], environ={})
    async with Communicator(UnavailableConsumer, "/ws/unavailable") as comm:
        await comm.send(Unavailable())
        frame = await comm.receive()
        assert frame == {
            "action": "error",
            "payload": {
                "code": "layer_unavailable",
                "detail": "channel layer 'chat' is unavailable; 'room_shout' was not completed, "
                "try again later",
            },
        }
        assert await comm.receive_nothing(0.05)  # exactly one error frame
        await comm.send(Ping())
        assert await comm.receive() == {"action": "pong"}
