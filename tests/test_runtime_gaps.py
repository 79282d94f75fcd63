"""Runtime gaps closed in session 3, each against real parts (uvicorn, redis-server, websockets).

- the typed client's queue of received frames is bounded (``max_queue``): when it is full the
  client stops reading, the server's writes are held up (TCP backpressure), nothing is dropped;
- a consumer class that overrides ``chanspec_broadcast`` gets every broadcast through its
  override on the fan-out fast path (memory, Redis pub/sub and queue layers; same process and
  another process), in a group shared with a class that does not override it;
- a new connection while Redis is down: the pub/sub layer refuses the handshake with HTTP 503
  (``Retry-After``, body ``{"code": 1013}``) and one log line, the queue layer accepts it (its
  group is joined when Redis is back); no traceback, no hang; both work again after Redis
  returns; a refused pub/sub handshake leaves no channel queue behind;
- the Redis layers' guard (probe reader, health check, recovery) ends with its event loop, Redis
  up or down, whether the loop's tasks are cancelled (``asyncio.run``) or not (``loop.close()``),
  and on ``layer.close()``: no "Task was destroyed but it is pending!", nothing logged at ERROR.

The served app (``tests.test_runtime_gaps:app``) is built on first access, in the uvicorn
process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
import websockets
from chanspec.runtime import (
    Consumer,
    LayerSpec,
    Message,
    create_app,
    register_layers,
    ws_handler,
)
from chanspec.runtime.client import ChannelClient, HandshakeRejected
from chanspec.runtime.resilience import LayerUnavailableError, ResilientRedisPubSubChannelLayer
from chanspec.runtime.testing import Communicator
from fast_channels.layers import unregister_channel_layer
from fast_channels.layers.redis import RedisPubSubChannelLayer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from .conftest import Client, connect
from .servers import REPO, RedisServer, uvicorn_server

# ---- the app served by uvicorn ------------------------------------------------------------------


class FloodSpec(Message):
    count: int
    size: int


class Flood(Message):
    """Ask the server to push ``count`` items of ``size`` characters to this connection."""

    action: Literal["flood"] = "flood"
    payload: FloodSpec


class ItemBody(Message):
    seq: int
    data: str


class Item(Message):
    action: Literal["item"] = "item"
    payload: ItemBody


class AskProgress(Message):
    action: Literal["ask_progress"] = "ask_progress"


class ProgressBody(Message):
    sent: int


class Progress(Message):
    action: Literal["progress"] = "progress"
    payload: ProgressBody


class FloodConsumer(Consumer):
    """``flood`` pushes items as fast as the socket takes them; ``ask_progress`` (from another
    connection) tells how many the last flood has written so far."""

    channel_id = "flood"
    address = "/ws/flood"
    messages = {"flood": Flood, "item": Item, "ask_progress": AskProgress, "progress": Progress}
    send_operations = {"flood_item": ("item",)}
    sent: ClassVar[int] = 0

    @ws_handler
    async def flood(self, msg: Flood) -> None:
        data = "x" * msg.payload.size
        FloodConsumer.sent = 0
        for seq in range(msg.payload.count):
            await self.send_message(Item(payload=ItemBody(seq=seq, data=data)))
            FloodConsumer.sent = seq + 1

    @ws_handler
    async def ask_progress(self, msg: AskProgress) -> Progress:
        return Progress(payload=ProgressBody(sent=FloodConsumer.sent))


class Text(Message):
    text: str


class Shout(Message):
    action: Literal["shout"] = "shout"
    payload: Text


class Notice(Message):
    action: Literal["notice"] = "notice"
    payload: Text


class Announce(Message):
    action: Literal["announce"] = "announce"
    payload: Text


class Ping(Message):
    action: Literal["ping"] = "ping"


class Pong(Message):
    action: Literal["pong"] = "pong"


class PlainRoom(Consumer):
    """Group ``room``; ``shout`` broadcasts a ``notice`` message to the group (sender included),
    ``announce`` broadcasts it as an event (``broadcast_event``: passed through to sockets)."""

    group_templates = ("room",)
    messages = {
        "shout": Shout, "announce": Announce, "notice": Notice, "ping": Ping, "pong": Pong,
    }  # fmt: skip
    send_operations = {"room_notice": ("notice",)}

    @ws_handler
    async def shout(self, msg: Shout) -> None:
        await self.broadcast_message(Notice(payload=msg.payload))

    @ws_handler
    async def announce(self, msg: Announce) -> None:
        await type(self).broadcast_event(Notice(payload=msg.payload), "room")

    @ws_handler
    async def ping(self, msg: Ping) -> Pong:
        return Pong()


class AuditedRoom(PlainRoom):
    """Overrides ``chanspec_broadcast``: drops notices mentioning "secret", marks the others;
    overrides ``chanspec_event``: marks notice events."""

    async def chanspec_broadcast(self, event: Mapping[str, Any]) -> None:
        notice = json.loads(event["text"])
        if "secret" in notice["payload"]["text"]:
            return
        notice["payload"]["text"] = "audited: " + notice["payload"]["text"]
        await self.send(text_data=json.dumps(notice))

    async def chanspec_event(self, event: Mapping[str, Any]) -> None:
        data = event["event"]
        if data.get("action") == "notice":
            text = "audited event: " + data["payload"]["text"]
            event = {**event, "event": {**data, "payload": {"text": text}}}
        await super().chanspec_event(event)


LAYER_ALIASES = ("gmem", "gpubsub", "gqueue")
GAP_LAYERS = [
    LayerSpec("gmem", "memory"),
    LayerSpec("gpubsub", "redis-pubsub", prefix="gp"),
    LayerSpec("gqueue", "redis", prefix="gq"),
]


def _room(base: type[PlainRoom], alias: str) -> type[PlainRoom]:
    kind = "audited" if base is AuditedRoom else "plain"
    attrs = {
        "channel_id": f"{alias}_{kind}",
        "address": f"/ws/{alias}/{kind}",
        "channel_layer_alias": alias,
    }
    return type(f"{kind.title()}Room_{alias}", (base,), attrs)


ROOMS = [_room(base, alias) for alias in LAYER_ALIASES for base in (PlainRoom, AuditedRoom)]


def make_app() -> Starlette:
    """The served app; the Redis layers come from ``REDIS_URL``."""
    routes = [WebSocketRoute("/ws/flood", FloodConsumer.as_asgi())]
    routes += [WebSocketRoute(str(room.address), room.as_asgi()) for room in ROOMS]
    return create_app(routes, layers=GAP_LAYERS)


def __getattr__(name: str) -> Any:
    if name == "app":  # uvicorn's "tests.test_runtime_gaps:app"
        return make_app()
    raise AttributeError(name)


APP = "tests.test_runtime_gaps:app"


class FloodClient(ChannelClient[Item | Progress]):
    address = "/ws/flood"
    outgoing_types = (Item, Progress)


# ---- 1. the client's queue is bounded -----------------------------------------------------------


async def _progress(client: FloodClient) -> int:
    reply = await client.request_model(AskProgress(), (Progress,))
    assert isinstance(reply, Progress)
    return reply.payload.sent


async def test_client_queue_is_bounded_and_holds_the_server_up() -> None:
    """A server pushes 4000 frames of 16 KiB (62.5 MiB) to a client that does not iterate: the
    client queues at most ``max_queue`` of them, the server's writes stall (what is in flight
    waits in the kernel's socket buffers, up to 32 MiB + 4 MiB here, not in the client), and
    once the application iterates every frame arrives, in order, none dropped."""
    count, size, bound = 4000, 16384, 50
    with uvicorn_server(APP) as server:
        # no permessage-deflate: the repetitive frames would shrink to a few bytes on the wire
        flood_client = FloodClient(server, max_queue=bound, connect_options={"compression": None})
        async with flood_client as flood, FloodClient(server) as watch:
            await flood.send_model(Flood(payload=FloodSpec(count=count, size=size)))
            # wait until the client's queue is full and the server is held up (its count of
            # written frames stops moving for 0.5 s)
            last, still_since, started = -1, time.monotonic(), time.monotonic()
            while flood.queued < bound or time.monotonic() - still_since < 0.5:
                assert time.monotonic() - started < 20, "the server never stalled"
                assert flood.queued <= bound
                sent = await _progress(watch)
                if sent != last:
                    last, still_since = sent, time.monotonic()
                await asyncio.sleep(0.05)
            queued = flood.queued
            print(f"stalled: server wrote {last} of {count} frames; client queued {queued}")
            assert queued == bound, queued  # full, and not beyond the bound
            assert last < count, "every frame was written: nothing held the server up"
            # the application catches up: everything arrives, in order, nothing dropped
            seqs = []
            for _ in range(count):
                item = await flood.receive(timeout=10)
                assert isinstance(item, Item), item
                assert len(item.payload.data) == size
                seqs.append(item.payload.seq)
                assert flood.queued <= bound
            assert seqs == list(range(count))
            assert await _progress(watch) == count


async def test_closing_a_client_with_a_full_queue_is_prompt() -> None:
    """The reader held up by a full queue must not hold up ``close``: the closing handshake
    needs the socket read again (websockets would wait its 10 s ``close_timeout``). Iteration
    then yields the frames queued before the close, and ends."""
    with uvicorn_server(APP) as server:
        flood = FloodClient(server, max_queue=10, connect_options={"compression": None})
        await flood.connect()
        await flood.send_model(Flood(payload=FloodSpec(count=4000, size=16384)))
        started = time.monotonic()
        while flood.queued < 10:
            assert time.monotonic() - started < 10, "the queue never filled"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the reader is waiting for room
        started = time.monotonic()
        await flood.close()
        elapsed = time.monotonic() - started
        print(f"close with a full queue took {elapsed:.2f}s")
        assert elapsed < 2.0
        seqs = [item.payload.seq async for item in flood if isinstance(item, Item)]
        assert seqs == list(range(10))


# ---- 3. the fan-out fast path honours a chanspec_broadcast override -----------------------------


def test_override_is_decided_per_class() -> None:
    assert AuditedRoom._broadcast_override and ROOMS[1]._broadcast_override
    assert not PlainRoom._broadcast_override and not ROOMS[0]._broadcast_override
    assert AuditedRoom._event_override and not PlainRoom._event_override


async def _shout_round(sender: Client, plain: list[Client], audited: list[Client]) -> None:
    await sender.send({"action": "shout", "payload": {"text": "hello"}})
    for client in plain:
        assert await client.recv() == {"action": "notice", "payload": {"text": "hello"}}
    for client in audited:
        assert await client.recv() == {"action": "notice", "payload": {"text": "audited: hello"}}
    await sender.send({"action": "shout", "payload": {"text": "a secret"}})
    for client in plain:
        assert await client.recv() == {"action": "notice", "payload": {"text": "a secret"}}
    for client in audited:  # dropped by the override; the connection is still served
        await client.nothing(0.3)
        await client.send({"action": "ping"})
        assert await client.recv() == {"action": "pong"}
    # broadcast_event of an outgoing message: passed through, or to a chanspec_event override
    await sender.send({"action": "announce", "payload": {"text": "news"}})
    for client in plain:
        assert await client.recv() == {"action": "notice", "payload": {"text": "news"}}
    for client in audited:
        expected = {"action": "notice", "payload": {"text": "audited event: news"}}
        assert await client.recv() == expected


@pytest.mark.parametrize("alias", LAYER_ALIASES)
async def test_fast_path_broadcasts_go_through_an_override(alias: str, redis_url: str) -> None:
    """One group, two classes: a broadcast from a plain connection reaches the plain ones as
    is and the audited ones through their override; from an audited sender too. On the Redis
    layers a second server process shares the group (cross-process fan-out)."""
    env = {"REDIS_URL": redis_url}
    with uvicorn_server(APP, env) as one, uvicorn_server(APP, env) as two:
        servers = [one, two] if alias != "gmem" else [one]
        plain = [await connect(f"{s}/ws/{alias}/plain") for s in servers]
        audited = [await connect(f"{s}/ws/{alias}/audited") for s in servers]
        for client in [*plain, *audited]:  # every consumer is accepted and in its group
            await client.send({"action": "ping"})
            assert await client.recv() == {"action": "pong"}
        await _shout_round(plain[0], plain, audited)
        await _shout_round(audited[-1], plain, audited)
        for client in [*plain, *audited]:
            await client.close()


# ---- 4. a new connection while Redis is down ----------------------------------------------------


@contextlib.contextmanager
def logged_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``uvicorn_server`` with the server's stdout and stderr written to ``log``."""
    with log.open("wb") as out, uvicorn_server(APP, env, output=out) as server:
        yield server


class RoomClient(ChannelClient[Notice | Pong]):
    address = "/ws/gpubsub/plain"
    outgoing_types = (Notice, Pong)


async def _pong(client: Client) -> None:
    await client.send({"action": "ping"})
    assert await client.recv() == {"action": "pong"}


async def test_new_connections_while_redis_is_down(tmp_path: Path) -> None:
    store = RedisServer()
    store.start()
    log = tmp_path / "server.log"
    try:
        with logged_server({"REDIS_URL": store.url}, log) as server:
            pubsub, queue = f"{server}/ws/gpubsub/plain", f"{server}/ws/gqueue/plain"
            first = await connect(pubsub)
            await _pong(first)
            store.stop()
            await asyncio.sleep(1.5)  # the layer has noticed (health check: once a second)
            for _ in range(3):
                started = time.monotonic()
                with pytest.raises(websockets.InvalidStatus) as refused:
                    await connect(pubsub)
                response = refused.value.response
                assert response.status_code == 503, response
                assert response.headers["Retry-After"] == "1"
                assert json.loads(response.body) == {"code": 1013}
                assert time.monotonic() - started < 1.0
            with pytest.raises(HandshakeRejected) as rejected:  # the typed client's view
                await RoomClient(server).connect()
            assert rejected.value.status == 503
            # the queue layer accepts: the connection is served, its group joined later
            newcomer = await connect(queue)
            await _pong(newcomer)
            await _pong(first)  # open connections are still served
            store.start()  # empty, same port
            started = time.monotonic()
            while True:  # accepted again within the layer's recovery (probes every 0.25 s)
                assert time.monotonic() - started < 5, "pub/sub connections still refused"
                try:
                    second = await connect(pubsub)
                    break
                except websockets.InvalidStatus as exc:
                    assert exc.response.status_code == 503
                    await asyncio.sleep(0.1)
            print(f"pub/sub handshakes accepted {time.monotonic() - started:.2f}s after restart")
            await _pong(second)
            await second.send({"action": "shout", "payload": {"text": "back"}})
            notice = {"action": "notice", "payload": {"text": "back"}}
            assert await second.recv() == notice
            assert await first.recv() == notice
            # the queue-layer connection opened during the outage is in its group now
            sender = await connect(queue)
            started = time.monotonic()
            while True:  # the queue fan-out re-registers within its reconnect delay (1 s)
                assert time.monotonic() - started < 5, "the newcomer never joined its group"
                await sender.send({"action": "shout", "payload": {"text": "queue back"}})
                assert await sender.recv() == {
                    "action": "notice",
                    "payload": {"text": "queue back"},
                }
                try:
                    frame = await newcomer.recv(0.5)
                    break
                except TimeoutError:
                    continue
            assert frame == {"action": "notice", "payload": {"text": "queue back"}}
            for client in (first, second, newcomer, sender):
                await client.close()
    finally:
        store.stop()
    text = log.read_text()
    print(text)
    assert "Traceback" not in text and "Exception in ASGI application" not in text, text
    assert text.count("handshake refused, try again later") == 4, text


async def test_without_the_denial_extension_the_refusal_is_close_code_1013() -> None:
    """An ASGI server without ``websocket.http.response`` (here the in-process Communicator)
    gets close code 1013, "try again later"."""
    store = RedisServer()
    store.start()
    store.stop()  # the port is known and nothing listens on it
    try:
        register_layers(GAP_LAYERS, environ={"REDIS_URL": store.url})
        pubsub_room = ROOMS[2]
        assert pubsub_room.channel_layer_alias == "gpubsub"
        comm = Communicator(pubsub_room, str(pubsub_room.address))
        assert await comm.connect(timeout=5) == (False, 1013)
        await comm.disconnect()
    finally:
        for alias in LAYER_ALIASES:
            unregister_channel_layer(alias)


async def test_a_refused_pubsub_handshake_leaves_no_channel_behind() -> None:
    """Each failed subscription of fast-channels' ``new_channel`` leaves its local queue in
    the loop layer's ``channels``; a reconnect storm during an outage would grow it."""
    store = RedisServer()
    store.start()
    layer = ResilientRedisPubSubChannelLayer(alias="leak", url=store.url)
    try:
        kept = await layer.new_channel()
        loop_layer = RedisPubSubChannelLayer._get_layer(layer)
        store.stop()
        for _ in range(20):
            with contextlib.suppress(LayerUnavailableError):  # the first may not notice yet
                await layer.new_channel()
        with pytest.raises(LayerUnavailableError):
            await layer.new_channel()
        assert kept in loop_layer.channels
        assert len(loop_layer.channels) <= 3, len(loop_layer.channels)  # kept, probe, a lucky one
    finally:
        store.stop()


# ---- 2. the layer guard ends with its event loop ------------------------------------------------

SHUTDOWN_SCRIPT = """
import asyncio, gc, logging, sys, time
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
from chanspec.runtime.resilience import (
    ResilientRedisChannelLayer, ResilientRedisPubSubChannelLayer,
)
from tests.servers import RedisServer

kind, scenario = sys.argv[1], sys.argv[2]
store = RedisServer()
store.start()
cls = ResilientRedisChannelLayer if kind == "queue" else ResilientRedisPubSubChannelLayer
layer = cls(alias="shutdown", url=store.url)


async def main() -> None:
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    listener = asyncio.ensure_future(layer.receive(channel))  # as a consumer's listener
    await layer.send(channel, {"type": "hello"})
    assert (await listener)["type"] == "hello"
    listener = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(1.5)  # the health check has run
    if scenario.endswith("down"):
        store.stop()
        await asyncio.sleep(1.0)  # the outage is noticed, recovery is probing
    if not scenario.startswith("run"):  # the consumer ends (run: asyncio.run cancels it)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    if scenario.startswith("explicit"):
        await layer.close()
        left = [t for t in asyncio.all_tasks() if "LayerGuard" in repr(t.get_coro())]
        print("guard tasks left:", len(left))


started = time.monotonic()
try:
    if scenario.startswith("run"):
        asyncio.run(main())
    else:
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main())
        loop.close()  # without cancelling its tasks
    gc.collect()
finally:
    store.stop()  # also when the script fails: no redis-server outlives it
print(f"ended {time.monotonic() - started:.2f}s after start")
"""

SHUTDOWNS = ["run-up", "run-down", "close-up", "close-down", "explicit-up", "explicit-down"]


@pytest.mark.parametrize("scenario", SHUTDOWNS)
@pytest.mark.parametrize("kind", ["queue", "pubsub"])
def test_layer_guard_ends_with_its_event_loop(kind: str, scenario: str) -> None:
    """A fresh interpreter per case, so that asyncio's complaints about pending tasks (logged
    when the closed loop's tasks are garbage-collected) and anything logged at shutdown are
    seen: ``run``: ``asyncio.run`` cancels every task; ``close``: ``loop.close()`` without
    cancelling them; ``explicit``: ``await layer.close()`` first. ``-down``: Redis stopped a
    second before the end (recovery in progress)."""
    env = {**os.environ}
    env.setdefault("PYTHONPATH", str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", SHUTDOWN_SCRIPT, kind, scenario],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = done.stdout + done.stderr
    print(output)
    assert done.returncode == 0, output
    assert "ended" in done.stdout, output
    for bad in ("Task was destroyed", "Traceback", "ERROR", "Exception ignored", "never awaited"):
        assert bad not in output, output
    if scenario.startswith("explicit"):
        assert "guard tasks left: 0" in done.stdout, output
