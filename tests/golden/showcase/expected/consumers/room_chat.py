"""Consumer of channel room_chat at /ws/room/{room_name}.

Chat rooms isolated from each other; joins group room_{room_name}.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import RoomChatChannel
from ..generated.messages import (
    PingMessage,
    PongMessage,
    RoomChatMessage,
)

__all__ = ["RoomChatConsumer"]


@channel("room_chat")
class RoomChatConsumer(RoomChatChannel):
    """Serves channel room_chat."""

    @ws_handler("room_chat_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("room_chat_ping")

    @ws_handler("room_chat_post")
    async def post(self, message: RoomChatMessage) -> None:
        """Say something to everyone in the room."""
        raise NotImplementedError("room_chat_post")
