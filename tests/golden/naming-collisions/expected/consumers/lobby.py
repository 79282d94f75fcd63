"""Consumer of channel lobby at /ws/lobby.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import LobbyChannel
from ..generated.messages import (
    PingMessage3,
    PingMessage4,
    PingMessageMessage,
    PongMessage,
)

__all__ = ["LobbyConsumer"]


@channel("lobby")
class LobbyConsumer(LobbyChannel):
    """Serves channel lobby."""

    @ws_handler("ping")
    async def ping(self, message: PingMessage3) -> PongMessage:
        """Operation ping"""
        raise NotImplementedError("ping")

    @ws_handler("Ping")
    async def ping_2(self, message: PingMessage4) -> None:
        """Operation Ping"""
        raise NotImplementedError("Ping")

    @ws_handler("ping-message")
    async def ping_message(self, message: PingMessageMessage) -> None:
        """Operation ping-message"""
        raise NotImplementedError("ping-message")
