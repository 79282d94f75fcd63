"""Consumer of channel room at /ws/org/{org_id}/room/{room_name}.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import RoomChannel
from ..generated.messages import (
    AnnounceMessage,
    SaidMessage,
    SayMessage,
)

__all__ = ["RoomConsumer"]


@channel("room")
class RoomConsumer(RoomChannel):
    """Serves channel room."""

    @ws_handler("say")
    async def say(self, message: SayMessage) -> None:
        """Operation say"""
        raise NotImplementedError("say")

    @event_handler("room_announce")
    async def announce(self, event: AnnounceMessage) -> SaidMessage:
        """An announcement from outside the server."""
        raise NotImplementedError("room_announce")
