"""Consumer of channel background_jobs at /ws/background_jobs.

Queue a job; its result comes back to this connection only.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import BackgroundJobsChannel
from ..generated.messages import (
    JobMessage,
    JobResultEvent,
    JobStatusMessage,
    PingMessage,
    PongMessage,
)

__all__ = ["BackgroundJobsConsumer"]


@channel("background_jobs")
class BackgroundJobsConsumer(BackgroundJobsChannel):
    """Serves channel background_jobs."""

    @ws_handler("background_jobs_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("background_jobs_ping")

    @ws_handler("background_jobs_submit")
    async def submit(self, message: JobMessage) -> JobStatusMessage:
        """Queue a job; answered with its queued status."""
        raise NotImplementedError("background_jobs_submit")

    @event_handler("background_jobs_result")
    async def result(self, event: JobResultEvent) -> JobStatusMessage:
        """The job's result, sent to the connection that asked."""
        raise NotImplementedError("background_jobs_result")
