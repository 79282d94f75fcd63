"""Consumer of channel background_jobs at /ws/background_jobs.

Queue a job; its result comes back to this connection only.

This module is yours: chanspec wrote it once and from now on only adds stubs for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import BackgroundJobsChannel
from ..generated.messages import (
    JobMessage,
    JobResultEvent,
    JobState,
    JobStatusMessage,
    JobStatusPayload,
    PingMessage,
    PongMessage,
)
from ..jobs import enqueue

__all__ = ["BackgroundJobsConsumer"]


@channel("background_jobs")
class BackgroundJobsConsumer(BackgroundJobsChannel):
    """Serves channel background_jobs."""

    @ws_handler("background_jobs_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        return PongMessage()

    @ws_handler("background_jobs_submit")
    async def submit(self, message: JobMessage) -> JobStatusMessage:
        """Queue a job; answered with its queued status."""
        job = message.payload
        job_id = await enqueue(job.type, job.content, self.channel_name)
        return JobStatusMessage(
            payload=JobStatusPayload(
                status=JobState.queued,
                job_id=job_id,
                message=f"📋 {job.type.value} job {job_id} queued",
            )
        )

    @event_handler("background_jobs_result")
    async def result(self, event: JobResultEvent) -> JobStatusMessage:
        """The job's result, sent to the connection that asked."""
        done = event.payload
        return JobStatusMessage(
            payload=JobStatusPayload(
                status=JobState.done if done.ok else JobState.failed,
                job_id=done.job_id,
                message=f"✅ {done.job_type.value} job {done.job_id} finished"
                if done.ok
                else f"❌ {done.job_type.value} job {done.job_id} failed",
                result=done.result,
            )
        )
