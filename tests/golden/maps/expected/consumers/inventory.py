"""Consumer of channel inventory at /ws/inventory.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import InventoryChannel
from ..generated.messages import (
    StockMessage,
    StockReportMessage,
)

__all__ = ["InventoryConsumer"]


@channel("inventory")
class InventoryConsumer(InventoryChannel):
    """Serves channel inventory."""

    @ws_handler("report_stock")
    async def report_stock(self, message: StockMessage) -> StockReportMessage:
        """Operation report_stock"""
        raise NotImplementedError("report_stock")
