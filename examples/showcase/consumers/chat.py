"""Consumer of channel chat at /ws/chat.

Shared chat over Redis pub/sub.

This module is yours: chanspec wrote it once and from now on only adds stubs for new operations.
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
    Text,
)

__all__ = ["ChatConsumer"]


@channel("chat")
class ChatConsumer(ChatChannel):
    """Serves channel chat."""

    @ws_handler("chat_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        return PongMessage()

    @ws_handler("chat_post")
    async def post(self, message: ChatMessage) -> None:
        """Send to everyone on the chat channel."""
        await self.broadcast_message(self._notice(f"💬 {message.payload.message}"))

    @event_handler("chat_system_notify")
    async def system_notify(self, event: SystemNotifyEvent) -> ChatNotificationMessage:
        """A system notice sent from outside the server."""
        return self._notice(f"🔔 {event.payload.message}")

    @event_handler("chat_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> ChatNotificationMessage:
        """A periodic notice sent from outside the server."""
        return self._notice(f"⏰ #{event.payload.sequence} {event.payload.message}")

    def _notice(self, text: str) -> ChatNotificationMessage:
        return ChatNotificationMessage(payload=Text(message=text))

    async def post_authentication(self) -> None:
        """Tell the others that someone connected."""
        await self.broadcast_message(
            self._notice("📢 Someone joined the chat"), exclude_current=True
        )

    async def disconnect(self, code: int) -> None:
        """Tell the others that someone left (this connection has left the group)."""
        if self.groups:
            await self.broadcast_message(self._notice("❌ Someone left the chat."))
