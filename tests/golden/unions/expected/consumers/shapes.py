"""Consumer of channel shapes at /ws/shapes.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import ShapesChannel
from ..generated.messages import (
    AreaMessage,
    DrawMessage,
)

__all__ = ["ShapesConsumer"]


@channel("shapes")
class ShapesConsumer(ShapesChannel):
    """Serves channel shapes."""

    @ws_handler("draw")
    async def draw(self, message: DrawMessage) -> AreaMessage:
        """Operation draw"""
        raise NotImplementedError("draw")
