"""Consumer of channel heartbeat at .

A channel whose address is not known in advance.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import HeartbeatChannel
from ..generated.messages import (
    BeatAckMessage,
    BeatMessage,
)

__all__ = ["HeartbeatConsumer"]


@channel("heartbeat")
class HeartbeatConsumer(HeartbeatChannel):
    """Serves channel heartbeat."""

    @ws_handler("beat")
    async def beat(self, message: BeatMessage) -> BeatAckMessage:
        """Operation beat"""
        raise NotImplementedError("beat")
