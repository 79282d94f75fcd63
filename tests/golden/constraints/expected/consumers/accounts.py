"""Consumer of channel accounts at /ws/accounts.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import AccountsChannel
from ..generated.messages import (
    RegisteredMessage,
    RegisterMessage,
)

__all__ = ["AccountsConsumer"]


@channel("accounts")
class AccountsConsumer(AccountsChannel):
    """Serves channel accounts."""

    @ws_handler("register")
    async def register(self, message: RegisterMessage) -> RegisteredMessage:
        """Operation register"""
        raise NotImplementedError("register")
