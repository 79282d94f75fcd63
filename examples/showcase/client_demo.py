"""Talk to a running showcase with its generated typed client (``generated/client.py``).

Start the showcase, then run the demo::

    uvicorn examples.showcase.main:app --port 8000
    python -m examples.showcase.client_demo --url ws://127.0.0.1:8000

It asks the system echo (request -> typed reply), chats in a room from two clients (a broadcast
received by typed iteration), queues a job and waits for its result pushed later, and sends a
bad frame to show the typed error frame. Every line it prints is a model the client parsed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from chanspec.runtime.client import Backoff, ErrorFrame

from .generated.client import BackgroundJobsClient, RoomChatClient, SystemClient
from .generated.messages import JobStatusMessage, JobType, RoomNotificationMessage

__all__ = ["main", "run"]


async def run(url: str, room: str = "demo", reconnect: bool = False) -> None:
    """Run the four exchanges against the showcase at ``url`` (``ws://host:port``).

    Raises:
        OSError, TimeoutError: the showcase is not reachable or does not answer in time.
    """
    backoff = Backoff(initial=0.2, maximum=5.0) if reconnect else False

    async with SystemClient(url, reconnect=backoff) as system:
        echo = await system.request_user_message(message="hello from the typed client")
        print(f"system    reply      {echo.payload.message}")

    async with RoomChatClient(url, room) as alice:
        async with RoomChatClient(url, room) as bob:
            joined = await alice.receive(timeout=5)  # bob's join notice
            if isinstance(joined, RoomNotificationMessage):
                print(f"room      alice sees {joined.payload.message}")
            await bob.send_post(message="hi alice")
            async for message in alice:  # typed iteration: PongMessage | RoomNotificationMessage
                if isinstance(message, RoomNotificationMessage):
                    text, where = message.payload.message, message.payload.room_name
                    print(f"room      alice sees {text} (room {where})")
                    break

    async with BackgroundJobsClient(url) as jobs:
        queued = await jobs.request_submit(type=JobType.analyze, content="typed clients")
        print(f"jobs      reply      {queued.payload.message}")
        result = await jobs.receive(timeout=30)  # pushed by the job when it finishes
        if isinstance(result, JobStatusMessage):
            print(f"jobs      pushed     {result.payload.message}: {result.payload.result}")

    async with SystemClient(url) as system:
        await system.send_raw('{"action": "user_message"}')  # no payload: the server says why
        error = await system.receive(timeout=5)
        if isinstance(error, ErrorFrame):
            print(f"system    error      {error.payload.code}: {error.payload.detail}")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--url`` (default ``ws://127.0.0.1:8000``), ``--room``, ``--reconnect``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000", help="the showcase server")
    parser.add_argument("--room", default="demo", help="room name for the chat exchange")
    parser.add_argument("--reconnect", action="store_true", help="reconnect with backoff")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args.url, args.room, args.reconnect))
    except OSError as exc:
        print(f"cannot reach the showcase at {args.url}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
