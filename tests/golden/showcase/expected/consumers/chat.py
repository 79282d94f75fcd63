"""Consumer of channel chat at /ws/chat.

Shared chat over Redis pub/sub.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import ChatChannel
from ..generated.messages import (
    ChatMessage,
    ChatNotificationMessage,
    PingMessage,
    PongMessage,
    SystemNotifyEvent,
    SystemPeriodicNotifyEvent,
)

__all__ = ["ChatConsumer"]


@channel("chat")
class ChatConsumer(ChatChannel):
    """Serves channel chat."""

    @ws_handler("chat_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("chat_ping")

    @ws_handler("chat_post")
    async def post(self, message: ChatMessage) -> None:
        """Send to everyone on the chat channel."""
        raise NotImplementedError("chat_post")

    @event_handler("chat_system_notify")
    async def system_notify(self, event: SystemNotifyEvent) -> ChatNotificationMessage:
        """A system notice sent from outside the server."""
        raise NotImplementedError("chat_system_notify")

    @event_handler("chat_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> ChatNotificationMessage:
        """A periodic notice sent from outside the server."""
        raise NotImplementedError("chat_system_periodic_notify")
