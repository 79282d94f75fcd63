"""Consumer of channel odd at /ws/odd.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import OddChannel
from ..generated.messages import (
    OddNamesMessage,
)

__all__ = ["OddConsumer"]


@channel("odd")
class OddConsumer(OddChannel):
    """Serves channel odd."""

    @ws_handler("odd_names")
    async def names(self, message: OddNamesMessage) -> OddNamesMessage:
        """Operation odd_names"""
        raise NotImplementedError("odd_names")
