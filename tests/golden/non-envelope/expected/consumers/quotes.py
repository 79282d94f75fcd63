"""Consumer of channel quotes at /ws/quotes.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import QuotesChannel
from ..generated.messages import (
    SubscribedMessage,
    SubscribeMessage,
    UnsubscribeMessage,
)

__all__ = ["QuotesConsumer"]


@channel("quotes")
class QuotesConsumer(QuotesChannel):
    """Serves channel quotes."""

    @ws_handler("subscribe")
    async def subscribe(self, message: SubscribeMessage) -> SubscribedMessage:
        """Subscribe to a symbol."""
        raise NotImplementedError("subscribe")

    @ws_handler("unsubscribe")
    async def unsubscribe(self, message: UnsubscribeMessage) -> None:
        """Stop a subscription."""
        raise NotImplementedError("unsubscribe")
