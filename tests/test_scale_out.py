"""Two server processes behind one Redis share groups: a broadcast on B reaches clients on A."""

from __future__ import annotations

import pytest

from .conftest import connect
from .servers import uvicorn_server


@pytest.mark.parametrize(
    ("path", "post", "notice", "prefix"),
    [
        ("/ws/chat", "chat", "chat_notification", "💬"),  # Redis pub/sub layer
        ("/ws/reliable", "reliable_chat", "reliable_chat_notification", "📨"),  # queue layer
    ],
)
async def test_broadcast_crosses_processes(
    redis_url: str, path: str, post: str, notice: str, prefix: str
) -> None:
    env = {"REDIS_URL": redis_url}
    with (
        uvicorn_server("examples.showcase.main:app", env) as server_a,
        uvicorn_server("examples.showcase.main:app", env) as server_b,
    ):
        assert server_a != server_b
        on_a = await connect(server_a + path)
        await on_a.nothing(0.2)
        on_b = await connect(server_b + path)
        joined = await on_a.recv()  # B's join notice crossed over to A
        assert joined["action"] == notice and "joined" in joined["payload"]["message"]
        await on_b.send({"action": post, "payload": {"message": "from B"}})
        expected = {"action": notice, "payload": {"message": f"{prefix} from B"}}
        assert await on_a.recv() == expected
        assert await on_b.recv() == expected
        await on_a.send({"action": post, "payload": {"message": "from A"}})
        assert (await on_b.recv())["payload"]["message"] == f"{prefix} from A"
        await on_a.close()
        await on_b.close()
