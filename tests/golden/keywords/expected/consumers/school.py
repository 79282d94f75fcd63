"""Consumer of channel school at /ws/school.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import SchoolChannel
from ..generated.messages import (
    ClassMessage,
    ImportMessage,
    ResultMessage,
)

__all__ = ["SchoolConsumer"]


@channel("school")
class SchoolConsumer(SchoolChannel):
    """Serves channel school."""

    @ws_handler("import")
    async def import_(self, message: ImportMessage) -> ResultMessage:
        """Import things."""
        raise NotImplementedError("import")

    @ws_handler("class")
    async def class_(self, message: ClassMessage) -> None:
        """A class."""
        raise NotImplementedError("class")
