"""Consumer of channel public at /ws/public.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import PublicChannel
from ..generated.messages import (
    PublicHelloMessage,
)

__all__ = ["PublicConsumer"]


@channel("public")
class PublicConsumer(PublicChannel):
    """Serves channel public."""

    @ws_handler("public_hello")
    async def hello(self, message: PublicHelloMessage) -> PublicHelloMessage:
        """Operation public_hello"""
        raise NotImplementedError("public_hello")
