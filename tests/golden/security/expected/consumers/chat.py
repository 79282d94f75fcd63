"""Consumer of channel chat at /ws/chat.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import ChatChannel
from ..generated.messages import (
    ChatPingMessage,
    ChatPongMessage,
    ChatPostMessage,
)

__all__ = ["ChatConsumer"]


@channel("chat")
class ChatConsumer(ChatChannel):
    """Serves channel chat."""

    @ws_handler("chat_ping")
    async def ping(self, message: ChatPingMessage) -> ChatPongMessage:
        """Operation chat_ping"""
        raise NotImplementedError("chat_ping")

    @ws_handler("chat_post")
    async def post(self, message: ChatPostMessage) -> None:
        """Post a line to everyone in the chat."""
        raise NotImplementedError("chat_post")
