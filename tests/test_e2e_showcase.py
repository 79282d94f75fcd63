"""End to end: the showcase app under real uvicorn, real WebSocket clients, real Redis.

One server process (with REDIS_URL, so every declared layer type is real) and one arq worker
run for the module; each test opens its own connections.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest

from examples.showcase.generated.client import SystemClient
from examples.showcase.generated.messages import (
    PingMessage,
    PingPayload,
    PongMessage,
    SystemEchoMessage,
    Text,
)

from .conftest import connect
from .servers import REPO, RedisServer, background, uvicorn_server


@pytest.fixture(scope="module")
def showcase(redis_session: RedisServer) -> Iterator[str]:
    env = {"REDIS_URL": redis_session.url, "SHOWCASE_JOB_DELAY": "0.1"}
    worker = [sys.executable, "-m", "arq", "examples.showcase.jobs.WorkerSettings"]
    with background(worker, env), uvicorn_server("examples.showcase.main:app", env) as url:
        yield url


async def test_system_echo_and_ping(showcase: str) -> None:
    async with SystemClient(showcase) as client:  # the showcase's generated typed client
        echo = await client.request_user_message(message="hi")
        assert echo == SystemEchoMessage(payload=Text(message="🔧 System Echo: hi"))
        assert await client.request_ping() == PongMessage()
        anything = PingPayload.model_validate({"anything": [1, 2]})
        assert await client.request_ping(PingMessage(payload=anything)) == PongMessage()
        with pytest.raises(TimeoutError):
            await client.receive(timeout=0.3)  # nothing else arrives


async def test_room_chat_isolation_and_exclusion(showcase: str) -> None:
    a1 = await connect(f"{showcase}/ws/room/alpha")
    await a1.nothing(0.2)  # the first one in the room hears no join notice of its own
    a2 = await connect(f"{showcase}/ws/room/alpha")
    b1 = await connect(f"{showcase}/ws/room/beta")
    joined = await a1.recv()
    assert joined == {
        "action": "room_notification",
        "payload": {"message": "🚪 Someone joined room 'alpha'", "room_name": "alpha"},
    }
    await a2.nothing(0.2)  # the joiner is excluded from its own join notice
    await a2.send({"action": "room_chat", "payload": {"message": "hello alpha"}})
    expected = {
        "action": "room_notification",
        "payload": {"message": "💬 hello alpha", "room_name": "alpha"},
    }
    assert await a1.recv() == expected
    assert await a2.recv() == expected  # a room message reaches the sender too
    await b1.nothing(0.3)  # rooms are isolated
    await a2.close()
    left = await a1.recv()
    assert left["payload"] == {"message": "👋 Someone left room 'alpha'", "room_name": "alpha"}
    await b1.send({"action": "ping"})
    assert await b1.recv() == {"action": "pong"}
    await a1.close()
    await b1.close()


@pytest.mark.parametrize(
    ("path", "post", "notice", "text", "joined"),
    [
        ("/ws/chat", "chat", "chat_notification", "💬 hey", "📢 Someone joined the chat"),
        (
            "/ws/reliable",
            "reliable_chat",
            "reliable_chat_notification",
            "📨 hey",
            "🔒 Someone joined the reliable chat",
        ),
    ],
)
async def test_chat_channels_broadcast(
    showcase: str, path: str, post: str, notice: str, text: str, joined: str
) -> None:
    first = await connect(showcase + path)
    await first.nothing(0.2)  # let its own join notice go out before the second joins
    second = await connect(showcase + path)
    assert await first.recv() == {"action": notice, "payload": {"message": joined}}
    await second.nothing(0.2)
    await first.send({"action": post, "payload": {"message": "hey"}})
    for client in (first, second):
        assert await client.recv() == {"action": notice, "payload": {"message": text}}
    await second.close()
    left = await first.recv()
    assert left["action"] == notice and "left" in left["payload"]["message"]
    await first.close()


async def test_notifications_and_analytics(showcase: str) -> None:
    sub = await connect(f"{showcase}/ws/notifications")
    assert await sub.recv() == {
        "action": "notification_broadcast",
        "payload": {"type": "system", "message": "🔔 Connected to notifications!"},
    }
    other = await connect(f"{showcase}/ws/notifications")
    await other.recv()  # its own greeting
    await sub.nothing(0.2)  # greetings are not broadcast
    await other.send({"action": "notification", "payload": {"message": "deploy done"}})
    for client in (sub, other):
        assert await client.recv() == {
            "action": "notification_broadcast",
            "payload": {"type": "user", "message": "🔔 Notification: deploy done"},
        }
    analytics = await connect(f"{showcase}/ws/analytics")
    await analytics.send(
        {"action": "analytics_event", "payload": {"event": "page_view", "data": {"url": "/"}}}
    )
    assert await analytics.recv() == {
        "action": "analytics_notification",
        "payload": {"message": '📊 Analytics: page_view {"url": "/"}'},
    }
    for client in (sub, other, analytics):
        await client.close()


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_external_sender_reaches_all_four_layers(
    showcase: str, redis_session: RedisServer, mode: str
) -> None:
    clients = {
        "chat_notification": await connect(f"{showcase}/ws/chat"),
        "reliable_chat_notification": await connect(f"{showcase}/ws/reliable"),
        "notification_broadcast": await connect(f"{showcase}/ws/notifications"),
        "analytics_notification": await connect(f"{showcase}/ws/analytics"),
    }
    await clients["notification_broadcast"].recv()  # greeting
    await asyncio.sleep(0.2)
    cmd = [sys.executable, "-m", "examples.showcase.external_sender", "maintenance at 5",
           "--periodic", "2"] + (["--sync"] if mode == "sync" else [])  # fmt: skip
    proc = await asyncio.to_thread(
        subprocess.run,
        cmd,
        cwd=REPO,
        env={"REDIS_URL": redis_session.url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    for action, client in clients.items():
        notice = await client.recv_action(action)
        assert "maintenance at 5" in notice["payload"]["message"]
        assert notice["payload"]["message"].startswith(("🔔", "🚨"))
        periodic = [await client.recv_action(action) for _ in range(2)]
        assert [("#1" in p["payload"]["message"], "#2" in p["payload"]["message"])
                for p in periodic] == [(True, False), (False, True)]  # fmt: skip
    for client in clients.values():
        await client.close()


async def test_background_job_result_reaches_only_the_requester(showcase: str) -> None:
    asker = await connect(f"{showcase}/ws/background_jobs")
    bystander = await connect(f"{showcase}/ws/background_jobs")
    await asker.send({"action": "job", "payload": {"type": "translate", "content": "hello"}})
    queued = await asker.recv()
    assert queued["action"] == "job_status"
    assert queued["payload"]["status"] == "queued"
    job_id = queued["payload"]["job_id"]
    done = await asker.recv(timeout=15)
    assert done == {
        "action": "job_status",
        "payload": {
            "status": "done",
            "job_id": job_id,
            "message": f"✅ translate job {job_id} finished",
            "result": "🌍 Translated: 'hello' → 'hola'",
        },
    }
    await asker.send({"action": "job", "payload": {"type": "analyze", "content": "abc de"}})
    assert (await asker.recv())["payload"]["status"] == "queued"
    result = await asker.recv(timeout=15)
    assert result["payload"]["result"] == (
        "📊 Analysis of 'abc de': characters=6, words=2, vowels=2, consonants=3"
    )
    await bystander.nothing(0.5)
    await asker.close()
    await bystander.close()


async def test_error_frames_keep_the_connection_open(showcase: str) -> None:
    client = await connect(f"{showcase}/ws/chat")
    watcher = await connect(f"{showcase}/ws/system")
    bad = [
        ("{not json", "invalid_json"),
        ('{"action": "nope"}', "unknown_message"),
        ('{"payload": {}}', "missing_discriminator"),
        ('{"action": "chat", "payload": {"message": 5}}', "validation_error"),
        ('["chat"]', "not_an_object"),
    ]
    for frame, code in bad:
        await client.send(frame)
        error = await client.recv()
        assert error["action"] == "error", frame
        assert error["payload"]["code"] == code, (frame, error)
    await client.send(b"\x00\x01")
    assert (await client.recv())["payload"]["code"] == "binary_frame"
    await client.send('{"action": "chat", "payload": {}}')
    validation = await client.recv()
    assert validation["payload"]["errors"][0]["loc"] == ["payload", "message"]
    await client.send({"action": "ping"})
    assert await client.recv() == {"action": "pong"}
    await watcher.send({"action": "ping"})
    assert await watcher.recv() == {"action": "pong"}  # other connections are untouched
    await client.close()
    await watcher.close()
