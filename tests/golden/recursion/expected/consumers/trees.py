"""Consumer of channel trees at /ws/trees.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import TreesChannel
from ..generated.messages import (
    TreeMessage,
    TreeSizeMessage,
)

__all__ = ["TreesConsumer"]


@channel("trees")
class TreesConsumer(TreesChannel):
    """Serves channel trees."""

    @ws_handler("measure")
    async def measure(self, message: TreeMessage) -> TreeSizeMessage:
        """Operation measure"""
        raise NotImplementedError("measure")
