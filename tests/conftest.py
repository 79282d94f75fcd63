"""Shared fixtures: a real redis-server per session, flushed per test; websocket helpers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from .servers import RedisServer


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_session: RedisServer) -> str:
    redis_session.flush()
    return redis_session.url


class Client:
    """A real WebSocket client with JSON helpers and bounded waits."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> Any:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_action(self, action: str, timeout: float = 5.0) -> Any:
        """Receive frames until one has ``action``; fail on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame.get("action") == action:
                return frame

    async def nothing(self, wait: float = 0.3) -> None:
        """Assert that no frame arrives within ``wait`` seconds."""
        try:
            frame = await asyncio.wait_for(self.ws.recv(), wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame: {frame}")

    async def close(self) -> None:
        await self.ws.close()


async def connect(url: str, **kwargs: Any) -> Client:
    return Client(await websockets.connect(url, open_timeout=5, **kwargs))
