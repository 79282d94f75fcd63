"""Consumer of channel room_chat at /ws/room/{room_name}.

Chat rooms isolated from each other; joins group room_{room_name}.

This module is yours: chanspec wrote it once and from now on only adds stubs for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import RoomChatChannel
from ..generated.messages import (
    PingMessage,
    PongMessage,
    RoomChatMessage,
    RoomNotificationMessage,
    RoomText,
)

__all__ = ["RoomChatConsumer"]


@channel("room_chat")
class RoomChatConsumer(RoomChatChannel):
    """Serves channel room_chat."""

    @ws_handler("room_chat_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        return PongMessage()

    @ws_handler("room_chat_post")
    async def post(self, message: RoomChatMessage) -> None:
        """Say something to everyone in the room."""
        await self.broadcast_message(self._notice(f"💬 {message.payload.message}"))

    def _notice(self, text: str) -> RoomNotificationMessage:
        return RoomNotificationMessage(payload=RoomText(message=text, room_name=self.room_name))

    async def post_authentication(self) -> None:
        """Tell the rest of the room that someone joined."""
        notice = self._notice(f"🚪 Someone joined room '{self.room_name}'")
        await self.broadcast_message(notice, exclude_current=True)

    async def disconnect(self, code: int) -> None:
        """Tell the rest of the room that someone left (this connection has left the group)."""
        if self.groups:
            await self.broadcast_message(self._notice(f"👋 Someone left room '{self.room_name}'"))
