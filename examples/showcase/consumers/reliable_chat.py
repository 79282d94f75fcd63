"""Consumer of channel reliable_chat at /ws/reliable.

Chat over the Redis queue layer (bounded, expiring delivery).

This module is yours: chanspec wrote it once and from now on only adds stubs for new operations.
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
    Text,
)

__all__ = ["ReliableChatConsumer"]


@channel("reliable_chat")
class ReliableChatConsumer(ReliableChatChannel):
    """Serves channel reliable_chat."""

    @ws_handler("reliable_chat_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        return PongMessage()

    @ws_handler("reliable_chat_post")
    async def post(self, message: ReliableChatMessage) -> None:
        """Send to everyone on the reliable chat channel."""
        await self.broadcast_message(self._notice(f"📨 {message.payload.message}"))

    @event_handler("reliable_chat_system_notify")
    async def system_notify(self, event: SystemNotifyEvent) -> ReliableChatNotificationMessage:
        """A system notice sent from outside the server."""
        return self._notice(f"🔔 {event.payload.message}")

    @event_handler("reliable_chat_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> ReliableChatNotificationMessage:
        """A periodic notice sent from outside the server."""
        return self._notice(f"⏰ #{event.payload.sequence} {event.payload.message}")

    def _notice(self, text: str) -> ReliableChatNotificationMessage:
        return ReliableChatNotificationMessage(payload=Text(message=text))

    async def post_authentication(self) -> None:
        """Tell the others that someone connected."""
        await self.broadcast_message(
            self._notice("🔒 Someone joined the reliable chat"), exclude_current=True
        )

    async def disconnect(self, code: int) -> None:
        """Tell the others that someone left (this connection has left the group)."""
        if self.groups:
            await self.broadcast_message(self._notice("🚪 Someone left the reliable chat"))
