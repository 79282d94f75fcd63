"""Consumer of channel market at /ws/market/{venue}.

Tickers and trades of one venue. Every connection joins the venue's group.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import MarketChannel
from ..generated.messages import (
    PingMessage,
    PongMessage,
    SubscribeMessage,
    SubscriptionStatusMessage,
    UnsubscribeMessage,
)

__all__ = ["MarketConsumer"]


@channel("market")
class MarketConsumer(MarketChannel):
    """Serves channel market."""

    @ws_handler("marketPing")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with a pong carrying the same reqid."""
        raise NotImplementedError("marketPing")

    @ws_handler("subscribe")
    async def subscribe(self, message: SubscribeMessage) -> SubscriptionStatusMessage:
        """Subscribe to tickers or trades of some pairs."""
        raise NotImplementedError("subscribe")

    @ws_handler("unsubscribe")
    async def unsubscribe(
        self, message: UnsubscribeMessage
    ) -> SubscriptionStatusMessage:
        """Stop a subscription."""
        raise NotImplementedError("unsubscribe")
