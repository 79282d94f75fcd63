"""Consumer of channel admin at /ws/admin.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import AdminChannel
from ..generated.messages import (
    AdminKickedMessage,
    AdminKickMessage,
)

__all__ = ["AdminConsumer"]


@channel("admin")
class AdminConsumer(AdminChannel):
    """Serves channel admin."""

    @ws_handler("admin_kick")
    async def kick(self, message: AdminKickMessage) -> AdminKickedMessage:
        """Operation admin_kick"""
        raise NotImplementedError("admin_kick")
