"""Consumer of channel editor at /ws/editor.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import EditorChannel
from ..generated.messages import (
    AckMessage,
    ConflictMessage,
    DeleteMessage,
    InsertMessage,
)

__all__ = ["EditorConsumer"]


@channel("editor")
class EditorConsumer(EditorChannel):
    """Serves channel editor."""

    @ws_handler("edit")
    async def edit(
        self, message: InsertMessage | DeleteMessage
    ) -> AckMessage | ConflictMessage:
        """Apply an insert or a delete."""
        raise NotImplementedError("edit")
