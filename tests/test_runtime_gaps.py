"""Runtime gaps closed in session 3, each against real parts (uvicorn, redis-server, websockets).

- the typed client's queue of received frames is bounded (``max_queue``): when it is full the
  client stops reading, the server's writes are held up (TCP backpressure), nothing is dropped;

The served app (``tests.test_runtime_gaps:app``) is built on first access, in the uvicorn
process only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar, Literal

from chanspec.runtime import Consumer, Message, create_app, ws_handler
from chanspec.runtime.client import ChannelClient
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from .servers import uvicorn_server

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


def make_app() -> Starlette:
    """The served app."""
    return create_app([WebSocketRoute("/ws/flood", FloodConsumer.as_asgi())], layers=[])


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
            # wait until the server is held up: its count stops moving for 0.5 s
            last, still_since, started = -1, time.monotonic(), time.monotonic()
            while time.monotonic() - still_since < 0.5:
                assert time.monotonic() - started < 20, "the server never stalled"
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
