"""Send internal events to the showcase's consumers from a separate process.

Each of the four showcase consumers (chat, reliable chat, notifications, analytics) handles
``system_notify`` and ``system_periodic_notify`` events; this script broadcasts them to each
consumer's group over that consumer's own channel layer. It needs ``REDIS_URL`` (in-memory
layers do not cross processes)::

    REDIS_URL=redis://localhost:6379 python -m examples.showcase.external_sender "Hello"
    REDIS_URL=... python -m examples.showcase.external_sender --sync --periodic 3 "Status"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from chanspec.runtime import Consumer, register_layers

from .consumers.analytics import AnalyticsConsumer
from .consumers.chat import ChatConsumer
from .consumers.notifications import NotificationsConsumer
from .consumers.reliable_chat import ReliableChatConsumer
from .generated.layers import LAYERS
from .generated.messages import (
    PeriodicText,
    SystemNotifyEvent,
    SystemPeriodicNotifyEvent,
    Text,
)

__all__ = ["TARGETS", "main", "send_all", "send_all_sync"]

TARGETS: tuple[type[Consumer], ...] = (
    ChatConsumer,
    ReliableChatConsumer,
    NotificationsConsumer,
    AnalyticsConsumer,
)


async def send_all(message: str, periodic: int = 0, interval: float = 0.5) -> None:
    """Broadcast ``system_notify`` to every target, then ``periodic`` numbered notices."""
    event = SystemNotifyEvent(payload=Text(message=message))
    for consumer in TARGETS:
        await consumer.broadcast_event(event)
    for n in range(1, periodic + 1):
        await asyncio.sleep(interval)
        tick = SystemPeriodicNotifyEvent(payload=PeriodicText(message=message, sequence=n))
        for consumer in TARGETS:
            await consumer.broadcast_event(tick)


def send_all_sync(message: str, periodic: int = 0) -> None:
    """The same from synchronous code (``broadcast_event_sync``), e.g. a thread or a script."""
    event = SystemNotifyEvent(payload=Text(message=message))
    for consumer in TARGETS:
        consumer.broadcast_event_sync(event)
    for n in range(1, periodic + 1):
        tick = SystemPeriodicNotifyEvent(payload=PeriodicText(message=message, sequence=n))
        for consumer in TARGETS:
            consumer.broadcast_event_sync(tick)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("message")
    parser.add_argument("--periodic", type=int, default=0, help="numbered notices to add")
    parser.add_argument("--sync", action="store_true", help="use the blocking *_sync API")
    args = parser.parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        print("external_sender: set REDIS_URL (in-memory layers do not cross processes)")
        return 2
    register_layers(LAYERS)
    if args.sync:
        send_all_sync(args.message, args.periodic)
    else:
        asyncio.run(send_all(args.message, args.periodic))
    print(f"sent to {len(TARGETS)} consumers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
