"""Consumer of channel orders at /ws/orders.

Place and cancel orders; each request is answered on the same connection.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import OrdersChannel
from ..generated.messages import (
    AddOrderMessage,
    AddOrderStatusMessage,
    CancelOrderMessage,
    CancelOrderStatusMessage,
    PingMessage,
    PongMessage,
)

__all__ = ["OrdersConsumer"]


@channel("orders")
class OrdersConsumer(OrdersChannel):
    """Serves channel orders."""

    @ws_handler("ordersPing")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check on the order channel."""
        raise NotImplementedError("ordersPing")

    @ws_handler("addOrder")
    async def add_order(self, message: AddOrderMessage) -> AddOrderStatusMessage:
        """Place a limit or market order."""
        raise NotImplementedError("addOrder")

    @ws_handler("cancelOrder")
    async def cancel_order(
        self, message: CancelOrderMessage
    ) -> CancelOrderStatusMessage:
        """Cancel open orders by id."""
        raise NotImplementedError("cancelOrder")
