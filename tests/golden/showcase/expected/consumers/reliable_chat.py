"""Consumer of channel reliable_chat at /ws/reliable.

Chat over the Redis queue layer (bounded, expiring delivery).

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import ReliableChatChannel
from ..generated.messages import (
    PingMessage,
    PongMessage,
    ReliableChatMessage,
    ReliableChatNotificationMessage,
    SystemNotifyEvent,
    SystemPeriodicNotifyEvent,
)

__all__ = ["ReliableChatConsumer"]


@channel("reliable_chat")
class ReliableChatConsumer(ReliableChatChannel):
    """Serves channel reliable_chat."""

    @ws_handler("reliable_chat_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("reliable_chat_ping")

    @ws_handler("reliable_chat_post")
    async def post(self, message: ReliableChatMessage) -> None:
        """Send to everyone on the reliable chat channel."""
        raise NotImplementedError("reliable_chat_post")

    @event_handler("reliable_chat_system_notify")
    async def system_notify(
        self, event: SystemNotifyEvent
    ) -> ReliableChatNotificationMessage:
        """A system notice sent from outside the server."""
        raise NotImplementedError("reliable_chat_system_notify")

    @event_handler("reliable_chat_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> ReliableChatNotificationMessage:
        """A periodic notice sent from outside the server."""
        raise NotImplementedError("reliable_chat_system_periodic_notify")
