"""The group broadcast fast path (runtime/fanout.py).

In process (memory layer, ``Communicator``): the fan-out delivers without one channel-layer
message per member, keeps exclude / once / order, leaves on disconnect, and ``group_send`` from
existing code still works. ``Fanout`` itself: a connection whose socket cannot take more waits
alone, bounded by capacity and expiry. Real servers: a client that stops reading does not hold
up the others; two uvicorn processes on one real Redis share groups on both Redis layers with
one PUBLISH per broadcast; the subscription comes back after Redis restarts.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import pytest
import redis
import websockets
from chanspec.runtime import (
    Consumer,
    LayerSpec,
    Message,
    create_app,
    event_handler,
    register_layers,
    ws_handler,
)
from chanspec.runtime.fanout import (
    Fanout,
    RedisFanoutTransport,
    RedisQueueFanoutTransport,
    fanout_for,
)
from chanspec.runtime.testing import Communicator
from fast_channels.layers import InMemoryChannelLayer, get_channel_layer, register_channel_layer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from .conftest import Client, connect
from .servers import REPO, RedisServer, free_port, stop, wait_port

# ---- the app under test (also served by uvicorn: tests.test_fanout:make_app --factory) ---------


class Post(Message):
    action: Literal["post"] = "post"
    text: str
    seq: int = 0
    others_only: bool = False
    groups: list[str] | None = None


class TickRequest(Message):
    action: Literal["tick_request"] = "tick_request"
    n: int


class Said(Message):
    action: Literal["said"] = "said"
    text: str
    seq: int = 0


class Tick(Message):
    action: Literal["tick"] = "tick"
    n: int


class Room(Consumer):
    address = "/ws/room/{room}"
    channel_layer_alias = "fan"
    group_templates = ("all", "room_{room}")
    messages = {"post": Post, "tick_request": TickRequest, "said": Said}
    send_operations = {"said": ("said",)}

    @ws_handler(output_type=Said)
    async def post(self, msg: Post) -> None:
        groups = msg.groups if msg.groups is not None else [f"room_{self.path_params['room']}"]
        await self.broadcast_message(
            Said(text=msg.text, seq=msg.seq), groups, exclude_current=msg.others_only
        )

    @ws_handler
    async def tick_request(self, msg: TickRequest) -> None:
        await Room.broadcast_event(Tick(n=msg.n), "all")

    @event_handler
    async def on_tick(self, event: Tick) -> Said:
        return Said(text=f"tick {event.n} in {self.path_params['room']}")


def make_app() -> Starlette:
    """The app for real-server tests; ``FANOUT_LAYER`` picks the layer type."""
    kind = os.environ.get("FANOUT_LAYER", "memory")
    assert kind in ("memory", "redis", "redis-pubsub")
    return create_app(
        [WebSocketRoute(Room.address or "", Room.as_asgi())],
        layers=[LayerSpec("fan", kind)],  # type: ignore[arg-type]
        consumers=[Room],
    )


class CountingLayer(InMemoryChannelLayer):
    """fast-channels' in-memory layer, counting the layer messages it is asked to carry."""

    def __init__(self) -> None:
        super().__init__()
        self.group_sends = 0
        self.sends = 0

    async def group_send(self, group: str, message: Any) -> None:
        self.group_sends += 1
        await super().group_send(group, message)

    async def send(self, channel: str, message: Any) -> None:
        self.sends += 1
        await super().send(channel, message)


@pytest.fixture
def layer() -> CountingLayer:
    counting = CountingLayer()
    register_channel_layer("fan", counting)
    return counting


# ---- in process, memory layer -----------------------------------------------------------------


async def test_broadcast_reaches_members_without_a_layer_message_per_member(
    layer: CountingLayer,
) -> None:
    async with (
        Communicator(Room, "/ws/room/red") as a,
        Communicator(Room, "/ws/room/red") as b,
        Communicator(Room, "/ws/room/blue") as c,
    ):
        await a.send(Post(text="hi", seq=1))
        assert await a.receive() == {"action": "said", "text": "hi", "seq": 1}
        assert await b.receive() == {"action": "said", "text": "hi", "seq": 1}
        assert await c.receive_nothing()
        assert layer.group_sends == 0 and layer.sends == 0
        # the layer's own membership is still kept (group_send from other code works)
        assert set(layer.groups["room_red"]) == {a.channel_name, b.channel_name}
        fanout = fanout_for(layer)
        assert fanout is not None
        assert set(fanout.members["room_red"]) == {a.channel_name, b.channel_name}
        assert set(fanout.members["all"]) == {a.channel_name, b.channel_name, c.channel_name}
    assert fanout.members == {}
    assert not layer.groups.get("room_red") and not layer.groups.get("all")


async def test_exclude_current_once_and_order(layer: CountingLayer) -> None:
    async with (
        Communicator(Room, "/ws/room/red") as a,
        Communicator(Room, "/ws/room/red") as b,
        Communicator(Room, "/ws/room/blue") as c,
    ):
        await a.send(Post(text="psst", others_only=True))
        assert await b.receive() == {"action": "said", "text": "psst", "seq": 0}
        assert await a.receive_nothing()
        # a and b are in both groups, c in "all" only: each gets it once
        await a.send(Post(text="once", groups=["all", "room_red", "room_blue"]))
        for comm in (a, b, c):
            assert await comm.receive() == {"action": "said", "text": "once", "seq": 0}
        assert await a.receive_nothing(0.05) and await b.receive_nothing(0.01)
        assert await c.receive_nothing(0.01)
        for seq in range(200):
            await a.send(Post(text="n", seq=seq, groups=["all"]))
        for comm in (a, b, c):
            assert [(await comm.receive())["seq"] for _ in range(200)] == list(range(200))
        assert layer.group_sends == 0


async def test_group_send_from_existing_code_still_works(layer: CountingLayer) -> None:
    async with Communicator(Room, "/ws/room/red") as a, Communicator(Room, "/ws/room/blue") as c:
        await layer.group_send("room_red", {"type": "chanspec.broadcast", "text": '{"x":1}'})
        assert await a.receive() == {"x": 1}
        assert await c.receive_nothing()
        await layer.group_send(
            "all", {"type": "chanspec.event", "event": {"action": "tick", "n": 2}}
        )
        assert await a.receive() == {"action": "said", "text": "tick 2 in red", "seq": 0}
        assert await c.receive() == {"action": "said", "text": "tick 2 in blue", "seq": 0}


async def test_events_through_the_fan_out_keep_their_order_with_broadcasts(
    layer: CountingLayer,
) -> None:
    async with Communicator(Room, "/ws/room/red") as a, Communicator(Room, "/ws/room/blue") as c:
        for n in range(20):
            await Room.broadcast_event(Tick(n=n), "all")  # handled by on_tick
            await Room.broadcast_event(Said(text=f"pass {n}"), "all")  # passed through
        for comm, room in ((a, "red"), (c, "blue")):
            got = [(await comm.receive())["text"] for _ in range(40)]
            assert got == [t for n in range(20) for t in (f"tick {n} in {room}", f"pass {n}")]
        # an invalid passthrough event is dropped, the connection stays
        fanout = fanout_for(layer)
        assert fanout is not None
        assert fanout.deliver_event(["all"], {"action": "said"}) == 0
        assert await a.receive_nothing(0.05)
        assert layer.group_sends == 0 and layer.sends == 0


async def test_refused_client_is_not_in_the_fan_out(layer: CountingLayer) -> None:
    class Guarded(Room):
        async def authenticate(self) -> bool:
            return bool(self.scope["query_string"] == b"ok")

    async with Communicator(Guarded, "/ws/room/red?ok") as member:
        intruder = Communicator(Guarded, "/ws/room/red")
        connected, _code = await intruder.connect()
        assert not connected
        fanout = fanout_for(layer)
        assert fanout is not None
        assert set(fanout.members["room_red"]) == {member.channel_name}
        await member.send(Post(text="members only"))
        assert (await member.receive())["text"] == "members only"
        assert await intruder.receive_nothing()
        await intruder.disconnect()


# ---- Fanout with a socket that cannot take more ------------------------------------------------


class SlowSocket:
    """A member whose socket accepts a frame only when ``opened`` is set (a full TCP buffer)."""

    def __init__(self, name: str, opened: bool = True) -> None:
        self.channel_name = name
        self.opened = asyncio.Event()
        if opened:
            self.opened.set()
        self.frames: list[str] = []

    async def send(self, text_data: str | None = None) -> None:
        await self.opened.wait()
        assert text_data is not None
        self.frames.append(text_data)

    def fanout_event(self, data: Any, cache: dict[Any, Any]) -> str | None:
        return json.dumps(data)


async def test_a_slow_connection_waits_alone_bounded_by_capacity_and_expiry() -> None:
    fanout = Fanout(capacity=5, expiry=0.2)
    slow, fast = SlowSocket("slow", opened=False), SlowSocket("fast")
    await fanout.join("g", slow)
    await fanout.join("g", fast)
    for i in range(10):
        await fanout.broadcast(["g"], str(i))
    assert fast.frames == [str(i) for i in range(10)]  # written at once, no task needed
    assert slow.frames == []
    assert fanout.dropped == 4  # 1 in flight + 5 waiting; the rest over capacity
    slow.opened.set()
    await asyncio.sleep(0.05)
    assert slow.frames == ["0", "1", "2", "3", "4", "5"]  # in order
    # expiry: what waited longer than 0.2 s is dropped
    slow.opened.clear()
    for i in range(10, 13):
        await fanout.broadcast(["g"], str(i))
    await asyncio.sleep(0.3)
    slow.opened.set()
    await asyncio.sleep(0.05)
    assert slow.frames[-1] == "10"  # the one in flight; 11 and 12 expired
    assert fanout.dropped == 6
    await fanout.leave_all(slow)
    await fanout.broadcast(["g"], "after")
    assert slow.frames[-1] == "10" and fast.frames[-1] == "after"


# ---- real servers ---------------------------------------------------------------------------


@contextmanager
def fanout_server(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    if "REDIS_URL" not in env:
        full_env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tests.test_fanout:make_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO, env=full_env,
    )  # fmt: skip
    try:
        wait_port(port, proc)  # type: ignore[arg-type]
        yield f"ws://127.0.0.1:{port}"
    finally:
        stop(proc)  # type: ignore[arg-type]


async def test_a_client_that_stops_reading_does_not_hold_up_the_others() -> None:
    with fanout_server({"FANOUT_LAYER": "memory"}) as base:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        stalled = await websockets.connect(
            f"{base}/ws/room/red", sock=sock, max_size=None, max_queue=1, compression=None
        )
        sender = await connect(f"{base}/ws/room/red", max_size=None, compression=None)
        big = "x" * 65536
        try:
            for seq in range(200):  # 13 MB: far more than the kernel buffers on loopback
                await sender.send({"action": "post", "text": big, "seq": seq})
                got = await sender.recv(2)
                assert got["seq"] == seq
            # the stalled client still gets the start of what was sent, in order (the rest
            # was over capacity or expired)
            async with asyncio.timeout(10):
                seqs = [json.loads(await stalled.recv())["seq"] for _ in range(10)]
            assert seqs == list(range(10))
        finally:
            await sender.close()
            stalled.transport.abort()  # a close handshake would wait behind megabytes
            await asyncio.sleep(0.5)  # let the server see the reset before it is stopped


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def command_calls(url: str, command: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def drain(client: Client, n: int) -> list[dict[str, Any]]:
    return [await client.recv() for _ in range(n)]


@pytest.mark.parametrize("kind", ["redis-pubsub", "redis"])
async def test_two_processes_share_groups_with_one_publish_per_broadcast(
    redis_url: str, kind: str
) -> None:
    env = {"REDIS_URL": redis_url, "FANOUT_LAYER": kind}
    with fanout_server(env) as server_a, fanout_server(env) as server_b:
        on_a = [await connect(f"{server_a}/ws/room/red") for _ in range(3)]
        on_b = [await connect(f"{server_b}/ws/room/red") for _ in range(2)]
        blue_b = await connect(f"{server_b}/ws/room/blue")
        await asyncio.sleep(0.2)  # subscriptions are in place
        await on_b[0].send({"action": "post", "text": "warm-up", "seq": -1})
        for client in on_a + on_b:  # (the first script run also loads the script)
            assert (await client.recv())["seq"] == -1
        command = "publish" if kind == "redis-pubsub" else "evalsha"
        before = command_calls(redis_url, command)
        for seq in range(50):
            await on_b[0].send({"action": "post", "text": "from B", "seq": seq})
        for client in on_a + on_b:
            assert [m["seq"] for m in await drain(client, 50)] == list(range(50))
        # one Redis command per one-group broadcast: PUBLISH (pub/sub), the script (queue)
        assert command_calls(redis_url, command) - before == 50
        client = redis.Redis.from_url(redis_url)
        try:  # both processes registered for room_red, one for room_blue
            if kind == "redis-pubsub":
                assert client.pubsub_numsub("fan__fanout__room_red", "fan__fanout__room_blue") == [
                    (b"fan__fanout__room_red", 2),
                    (b"fan__fanout__room_blue", 1),
                ]
            else:
                assert client.zcard("fan__fanout__group__room_red") == 2
                assert client.zcard("fan__fanout__group__room_blue") == 1
        finally:
            client.close()
        await blue_b.nothing(0.1)

        # exclude_current across processes; several groups: once per connection
        await on_a[0].send({"action": "post", "text": "psst", "others_only": True})
        for client in on_a[1:] + on_b:
            assert (await client.recv())["text"] == "psst"
        await on_a[0].nothing(0.1)
        await on_a[0].send({"action": "post", "text": "once", "groups": ["all", "room_red"]})
        for client in on_a + on_b + [blue_b]:
            assert (await client.recv())["text"] == "once"
        for client in on_a + on_b + [blue_b]:
            await client.nothing(0.05)

        # an event handled by @event_handler in every member, in both processes
        await blue_b.send({"action": "tick_request", "n": 7})
        for client in on_a + on_b:
            assert (await client.recv())["text"] == "tick 7 in red"
        assert (await blue_b.recv())["text"] == "tick 7 in blue"
        for client in on_a + on_b + [blue_b]:
            await client.close()


@pytest.mark.parametrize("kind", ["redis-pubsub", "redis"])
async def test_subscription_comes_back_after_redis_restarts(
    own_redis: RedisServer, kind: str
) -> None:
    """Redis restarts empty: each process subscribes (pub/sub) or registers its groups
    (queue) again, and broadcasts across processes resume."""
    env = {"REDIS_URL": own_redis.url, "FANOUT_LAYER": kind}
    with fanout_server(env) as server_a, fanout_server(env) as server_b:
        on_a = await connect(f"{server_a}/ws/room/red")
        on_b = await connect(f"{server_b}/ws/room/red")
        await asyncio.sleep(0.2)
        await on_b.send({"action": "post", "text": "before"})
        assert (await on_a.recv())["text"] == "before"
        assert (await on_b.recv())["text"] == "before"
        own_redis.stop()
        await asyncio.sleep(1.5)
        own_redis.start()  # same port
        # wait until A's subscription is back (it retries every second)
        async with asyncio.timeout(15):
            while True:
                await on_b.send({"action": "post", "text": "probe"})
                frame = await on_b.recv()
                if frame["action"] == "said":
                    try:
                        if (await on_a.recv(0.5))["text"] == "probe":
                            break
                    except TimeoutError:
                        continue
        for seq in range(20):
            await on_b.send({"action": "post", "text": "after", "seq": seq})
        seqs: list[int] = []
        while len(seqs) < 20:
            frame = await on_a.recv()
            if frame["text"] == "after":
                seqs.append(frame["seq"])
        assert seqs == list(range(20))
        await on_a.close()
        await on_b.close()


def test_unknown_layer_types_keep_the_layer_path() -> None:
    from fast_channels.layers import BaseChannelLayer

    register_layers([LayerSpec("fan", "memory")], environ={})
    memory = get_channel_layer("fan")
    assert memory is not None

    async def check() -> None:
        assert isinstance(fanout_for(memory), Fanout)
        assert fanout_for(BaseChannelLayer()) is None

    asyncio.run(check())


# ---- the receive path: one-pass decoding --------------------------------------------------------


def test_valid_frames_are_decoded_in_one_pass_and_the_rest_take_the_router() -> None:
    from chanspec.runtime.consumer import _decode_fast

    found = _decode_fast(Room, '{"action": "post", "text": "hi", "seq": 3}')
    assert found is not None
    route, msg = found
    assert route.method_name == "post" and msg == Post(text="hi", seq=3)
    found = _decode_fast(Room, '{"action": "tick_request", "n": 1}')
    assert found is not None and found[0].method_name == "tick_request"
    # everything that needs an error frame goes to the Router path (None here)
    for bad in ['{"text": "no action"}', '{"action": "nope"}', "[1]", "{", '{"action": "post"}']:
        assert _decode_fast(Room, bad) is None

    class One(Consumer):  # one message: a defaulted discriminator must still be on the wire
        @ws_handler
        async def post(self, msg: Post) -> None: ...

    assert _decode_fast(One, '{"text": "x"}') is None
    assert _decode_fast(One, '{"action": "post", "text": "x"}') is not None


# ---- the queue layer's fan-out: bounded, expiring inboxes in Redis ------------------------------


async def test_queue_fan_out_keeps_what_a_process_could_not_read(redis_url: str) -> None:
    """Process A's inbox reader is stopped (a lost link): B's broadcasts wait in A's inbox in
    Redis, at most ``capacity`` of them, and reach A's member in order once A reads again;
    what waited longer than ``expiry`` is dropped."""
    hosts = [{"address": redis_url}]
    a, b = (
        Fanout(
            RedisQueueFanoutTransport(hosts, "q", capacity=5, expiry=1.0), capacity=5, expiry=1.0
        )
        for _ in range(2)
    )
    member, other = SlowSocket("on-a"), SlowSocket("on-b")
    client = redis.Redis.from_url(redis_url)
    try:
        await a.join("g", member)
        await b.join("g", other)
        await b.broadcast(["g"], "live")
        async with asyncio.timeout(5):
            while member.frames != ["live"]:
                await asyncio.sleep(0.01)
        assert other.frames == ["live"]  # B's own member, directly

        assert isinstance(a.transport, RedisQueueFanoutTransport)
        shard = next(iter(a.transport._queue_shards.values()))
        assert shard.reader is not None
        shard.reader.cancel()  # A's link to Redis is lost
        await shard.redis.connection_pool.disconnect()
        for i in range(8):
            await b.broadcast(["g"], str(i))
        assert client.llen(shard.inbox) == 5  # bounded: the last `capacity` broadcasts
        shard.reader = asyncio.get_running_loop().create_task(shard._read())
        async with asyncio.timeout(5):
            while len(member.frames) < 6:
                await asyncio.sleep(0.01)
        assert member.frames == ["live", "3", "4", "5", "6", "7"]

        shard.reader.cancel()
        await shard.redis.connection_pool.disconnect()
        await b.broadcast(["g"], "stale")
        await asyncio.sleep(0.6)
        await b.broadcast(["g"], "recent")  # keeps the inbox alive another second
        await asyncio.sleep(0.6)  # "stale" is now older than expiry, "recent" is not
        shard.reader = asyncio.get_running_loop().create_task(shard._read())
        await b.broadcast(["g"], "fresh")
        async with asyncio.timeout(5):
            while member.frames[-1] != "fresh":
                await asyncio.sleep(0.01)
        assert member.frames[-2:] == ["recent", "fresh"] and "stale" not in member.frames
        assert a.dropped == 1
        # an inbox nobody reads disappears after expiry
        shard.reader.cancel()
        await shard.redis.connection_pool.disconnect()
        await b.broadcast(["g"], "unread")
        assert client.llen(shard.inbox) == 1
        await asyncio.sleep(1.1)
        assert client.exists(shard.inbox) == 0
    finally:
        await a.close()
        await b.close()
        client.close()
    # closing unregisters both processes
    check = redis.Redis.from_url(redis_url)
    try:
        assert check.zcard("q__fanout__group__g") == 0
    finally:
        check.close()


# Only pub/sub in process: with the queue layer, the test's event loop does not close
# (runtime/resilience.py LayerGuard._read_echoes does not end when cancelled at loop shutdown);
# the queue transport's release is the same code path (Fanout.close).
@pytest.mark.parametrize("kind", ["redis-pubsub"])
async def test_sync_broadcasts_from_threads_leave_no_redis_connection_behind(
    redis_url: str, kind: str
) -> None:
    register_layers([LayerSpec("fan", kind)], environ={"REDIS_URL": redis_url})  # type: ignore[list-item]
    client = redis.Redis.from_url(redis_url)
    try:
        async with Communicator(Room, "/ws/room/red") as member:
            async with asyncio.timeout(5):  # groups are joined just after the accept
                while not (
                    client.pubsub_numsub("fan__fanout__all")[0][1]
                    if kind == "redis-pubsub"
                    else client.zcard("fan__fanout__group__all")
                ):
                    await asyncio.sleep(0.01)
            await asyncio.to_thread(Room.broadcast_event_sync, Said(text="first"), "all")
            assert (await member.receive(2))["text"] == "first"
            clients = len(client.client_list())
            for i in range(15):
                await asyncio.to_thread(Room.broadcast_event_sync, Said(text=str(i)), "all")
            assert [(await member.receive(2))["text"] for _ in range(15)] == [
                str(i) for i in range(15)
            ]
            assert len(client.client_list()) <= clients
    finally:
        client.close()


@pytest.mark.parametrize("queue", [False, True], ids=["pubsub", "queue"])
async def test_a_join_while_redis_is_down_is_completed_when_it_is_back(
    own_redis: RedisServer, queue: bool
) -> None:
    def make() -> Fanout:
        hosts = [{"address": own_redis.url}]
        if queue:
            return Fanout(RedisQueueFanoutTransport(hosts, "d"))
        return Fanout(RedisFanoutTransport(hosts, "d"))

    a, b = make(), make()
    member = SlowSocket("on-a")
    try:
        own_redis.stop()
        await a.join("g", member)  # registered; no error (a handshake must complete)
        assert a.members == {"g": {"on-a": member}}
        own_redis.start()  # same port, empty
        async with asyncio.timeout(10):
            while not member.frames:
                await b.broadcast(["g"], "back")
                await asyncio.sleep(0.2)
        assert set(member.frames) == {"back"}
    finally:
        await a.close()
        await b.close()


class EagerRoom(Room):
    """Broadcasts to its own room between joining its groups and accepting the handshake:
    what any other connection's broadcast can do at that moment."""

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await Room.broadcast_event(Said(text="before accept"), "room_" + self.path_params["room"])
        await self.broadcast_message(Said(text="raw before accept"))
        await super().accept(subprotocol, headers)


async def test_groups_are_joined_before_accept_and_early_broadcasts_wait(
    layer: CountingLayer,
) -> None:
    async with Communicator(EagerRoom, "/ws/room/red") as a:
        # both broadcasts reached the joining connection, after its handshake, in order
        assert await a.receive() == {"action": "said", "text": "before accept", "seq": 0}
        assert await a.receive() == {"action": "said", "text": "raw before accept", "seq": 0}
        assert await a.receive_nothing()
