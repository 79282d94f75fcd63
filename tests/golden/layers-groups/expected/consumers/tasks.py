"""Consumer of channel tasks at /ws/tasks.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler

from ..generated.channels import TasksChannel
from ..generated.messages import (
    TaskDoneMessage,
    TaskEventEvent,
)

__all__ = ["TasksConsumer"]


@channel("tasks")
class TasksConsumer(TasksChannel):
    """Serves channel tasks."""

    @event_handler("task_finished")
    async def task_finished(self, event: TaskEventEvent) -> TaskDoneMessage:
        """Operation task_finished"""
        raise NotImplementedError("task_finished")
