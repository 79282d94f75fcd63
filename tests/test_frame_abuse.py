"""Predictable frames under abuse (issue #5, item 3): real uvicorn, real WebSocket clients.

One client sends 10,000 frames, most of them bad (invalid JSON, binary, missing or unknown
discriminator, invalid payloads, oversized, random unicode, deeply nested junk, a handler that
raises) interleaved with good numbered pings. The answers must be exactly one per frame and in
the order sent (one error frame per bad frame, one pong per ping), while other clients on the
same server keep chatting and the server stays up.
"""

from __future__ import annotations

import asyncio
import json
import random
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from .conftest import connect
from .servers import uvicorn_server

MAX_FRAME = 4096
FRAMES = 10_000

APP = textwrap.dedent(
    f'''
    """A chanspec app for the abuse test: ping/pong, broadcast posts, a handler that raises."""

    from typing import Literal

    from starlette.routing import WebSocketRoute

    from chanspec.runtime import Consumer, LayerSpec, Message, create_app, ws_handler


    class Ping(Message):
        action: Literal["ping"] = "ping"
        seq: int


    class Pong(Message):
        action: Literal["pong"] = "pong"
        seq: int


    class Post(Message):
        action: Literal["post"] = "post"
        text: str


    class Notice(Message):
        action: Literal["notice"] = "notice"
        text: str


    class Boom(Message):
        action: Literal["boom"] = "boom"


    class AbuseConsumer(Consumer):
        channel_id = "abuse"
        address = "/ws/abuse"
        channel_layer_alias = "mem"
        group_templates = ("everyone",)
        max_frame_bytes = {MAX_FRAME}

        @ws_handler
        async def ping(self, message: Ping) -> Pong:
            return Pong(seq=message.seq)

        @ws_handler
        async def post(self, message: Post) -> None:
            await self.broadcast_message(Notice(text=message.text), exclude_current=True)

        @ws_handler
        async def boom(self, message: Boom) -> None:
            raise RuntimeError("secret internals")


    app = create_app(
        [WebSocketRoute("/ws/abuse", AbuseConsumer.as_asgi())],
        layers=[LayerSpec("mem", "memory")],
        environ={{}},
    )
    '''
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("abuse")
    (folder / "abuse_app.py").write_text(APP)
    with uvicorn_server("abuse_app:app", cwd=Path(folder)) as url:
        yield url + "/ws/abuse"


def _unicode(rng: random.Random, n: int) -> str:
    """Random text from all planes, without surrogates (not encodable as UTF-8)."""
    out = []
    while len(out) < n:
        cp = rng.choice((rng.randrange(0x20, 0x7F), rng.randrange(0x80, 0xD800),
                         rng.randrange(0xE000, 0x110000), rng.randrange(0, 0x20)))  # fmt: skip
        out.append(chr(cp))
    return "".join(out)


def _junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 4 else 3)
    if kind == 0:
        return rng.randrange(-(10**20), 10**20)
    if kind == 1:
        return _unicode(rng, rng.randrange(0, 12))
    if kind == 2:
        return rng.choice([None, True, False, 1.5e308, -0.0])
    if kind == 3:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_unicode(rng, 3): _junk(rng, depth + 1) for _ in range(rng.randrange(4))}


def frames(rng: random.Random, count: int) -> tuple[list[str | bytes], list[str]]:
    """``count`` frames and, per frame, the answer expected: ``pong:<seq>`` or an error code."""
    out: list[str | bytes] = []
    expected: list[str] = []
    seq = 0

    def add(frame: str | bytes, answer: str) -> None:
        out.append(frame)
        expected.append(answer)

    while len(out) < count:
        kind = rng.randrange(14)
        if kind == 0:  # a good frame, numbered: answers must come back in order
            seq += 1
            add(json.dumps({"action": "ping", "seq": seq}), f"pong:{seq}")
        elif kind == 1:
            add(json.dumps({"action": "ping", "seq": 1})[: rng.randrange(1, 20)], "invalid_json")
        elif kind == 2:
            add(rng.randbytes(rng.randrange(0, 64)), "binary_frame")
        elif kind == 3:
            add(json.dumps({"seq": 1, "payload": _junk(rng)}), "missing_discriminator")
        elif kind == 4:
            action = rng.choice(["pang", "", "PING", 1, None, [1], {"a": 1}, "error"])
            add(json.dumps({"action": action, "x": _junk(rng)}), "unknown_message")
        elif kind == 5:
            bad = rng.choice(["one", None, [1], {"n": 1}, 1.5, "1e400"])
            add(json.dumps({"action": "ping", "seq": bad}), "validation_error")
        elif kind == 6:
            add(json.dumps({"action": "post"}), "validation_error")
        elif kind == 7:  # oversized: more bytes than characters for multi-byte text
            text = "é" * (MAX_FRAME // 2 + rng.randrange(1, 200))
            add(json.dumps({"action": "ping", "seq": 1, "pad": text}, ensure_ascii=False),
                "frame_too_large")  # fmt: skip
        elif kind == 8:
            add("\ufeff" + _unicode(rng, rng.randrange(1, 40)) + "\x00", "invalid_json")
        elif kind == 9:
            add(json.dumps(_junk(rng, 4)) if rng.random() < 0.5 else "[]", "not_an_object")
        elif kind == 10:  # nested deeper than the interpreter's recursion limit
            depth = rng.randrange(1100, MAX_FRAME // 2 - 2)
            add("[" * depth + "]" * depth, "invalid_json")
        elif kind == 11:  # deeply nested junk inside a routed message
            depth = rng.randrange(200, (MAX_FRAME - 40) // 6)
            nested = '{"a":' * depth + "1" + "}" * depth
            add('{"action": "ping", "seq": ' + nested + "}", "validation_error")
        elif kind == 12:
            add(json.dumps({"action": "boom"}), "handler_error")
        else:  # random unicode as the action
            add(json.dumps({"action": _unicode(rng, 5), "seq": 1}), "unknown_message")
    return out, expected


def answer_of(text: str) -> str:
    frame = json.loads(text)
    if frame["action"] == "pong":
        return f"pong:{frame['seq']}"
    assert frame["action"] == "error", frame
    payload = frame["payload"]
    assert set(payload) <= {"code", "detail", "errors"} and isinstance(payload["detail"], str)
    assert "secret" not in text and "Traceback" not in text
    return str(payload["code"])


def test_generator_covers_every_kind() -> None:
    _, expected = frames(random.Random(5), 2000)
    kinds = {e.split(":")[0] for e in expected}
    assert kinds == {
        "pong", "invalid_json", "binary_frame", "missing_discriminator", "unknown_message",
        "validation_error", "frame_too_large", "not_an_object", "handler_error",
    }  # fmt: skip


async def test_ten_thousand_bad_frames_each_answered_once_in_order(server: str) -> None:
    rng = random.Random(20261124)
    sent, expected = frames(rng, FRAMES)
    bad = sum(1 for e in expected if not e.startswith("pong:"))
    assert bad > 0.9 * FRAMES
    watcher = await connect(server)
    poster = await connect(server)
    abuser = await websockets.connect(server, open_timeout=5, max_size=2**22)
    answers: list[str] = []
    notices: list[str] = []  # the abuser is a group member too: the chat reaches it as well

    async def read() -> None:
        while len(answers) < len(expected):
            text = str(await abuser.recv())
            if text.startswith('{"action":"notice"'):
                notices.append(text)
            else:
                answers.append(answer_of(text))

    async def chat_meanwhile() -> int:
        delivered = 0
        for i in range(20):
            await poster.send({"action": "post", "text": f"hello {i}"})
            notice = await watcher.recv_action("notice", timeout=10)
            assert notice == {"action": "notice", "text": f"hello {i}"}
            delivered += 1
            await asyncio.sleep(0.05)
        return delivered

    started = time.monotonic()
    reader = asyncio.create_task(read())
    chatter = asyncio.create_task(chat_meanwhile())
    for frame in sent:
        await abuser.send(frame)
    await asyncio.wait_for(reader, timeout=90)
    elapsed = time.monotonic() - started
    assert await asyncio.wait_for(chatter, timeout=30) == 20
    while len(notices) < 20:
        notices.append(str(await asyncio.wait_for(abuser.recv(), 5)))
    assert [json.loads(n)["text"] for n in notices] == [f"hello {i}" for i in range(20)]
    print(f"\n{FRAMES} frames ({bad} bad) answered in {elapsed:.1f}s")

    assert len(answers) == len(expected)
    assert answers == expected  # exactly one answer per frame, in the order sent
    assert elapsed < 60
    # nothing more arrives: no frame was answered twice
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(abuser.recv(), 0.5)
    # the abused connection is still open and working, and so is the server
    await abuser.send(json.dumps({"action": "ping", "seq": 99}))
    assert answer_of(str(await asyncio.wait_for(abuser.recv(), 5))) == "pong:99"
    fresh = await connect(server)
    await fresh.send({"action": "ping", "seq": 7})
    assert await fresh.recv() == {"action": "pong", "seq": 7}
    for client in (fresh, watcher, poster):
        await client.close()
    await abuser.close()


async def test_oversized_frame_gets_its_own_code_and_the_connection_stays_open(
    server: str,
) -> None:
    client = await connect(server)
    await client.send(json.dumps({"action": "ping", "seq": 1, "pad": "x" * MAX_FRAME}))
    frame = await client.recv()
    assert frame["payload"]["code"] == "frame_too_large"
    assert str(MAX_FRAME) in frame["payload"]["detail"]
    # exactly at the limit (in UTF-8 bytes) is accepted
    head = json.dumps({"action": "ping", "seq": 2, "pad": ""})
    await client.send(head[:-2] + "a" * (MAX_FRAME - len(head)) + '"}')
    assert await client.recv() == {"action": "pong", "seq": 2}
    await client.nothing()
    await client.close()
