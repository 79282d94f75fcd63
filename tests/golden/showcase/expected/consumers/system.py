"""Consumer of channel system at /ws/system.

Direct echo; no channel layer.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import SystemChannel
from ..generated.messages import (
    PingMessage,
    PongMessage,
    SystemEchoMessage,
    UserMessageMessage,
)

__all__ = ["SystemConsumer"]


@channel("system")
class SystemConsumer(SystemChannel):
    """Serves channel system."""

    @ws_handler("system_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("system_ping")

    @ws_handler("system_user_message")
    async def user_message(self, message: UserMessageMessage) -> SystemEchoMessage:
        """Echo a text back to the sender."""
        raise NotImplementedError("system_user_message")
