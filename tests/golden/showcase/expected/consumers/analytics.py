"""Consumer of channel analytics at /ws/analytics.

Analytics events over the Redis queue layer.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import AnalyticsChannel
from ..generated.messages import (
    AnalyticsEventMessage,
    AnalyticsNotificationMessage,
    PingMessage,
    PongMessage,
    SystemNotifyEvent,
    SystemPeriodicNotifyEvent,
)

__all__ = ["AnalyticsConsumer"]


@channel("analytics")
class AnalyticsConsumer(AnalyticsChannel):
    """Serves channel analytics."""

    @ws_handler("analytics_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("analytics_ping")

    @ws_handler("analytics_post")
    async def post(self, message: AnalyticsEventMessage) -> None:
        """Send to everyone on the analytics channel."""
        raise NotImplementedError("analytics_post")

    @event_handler("analytics_system_notify")
    async def system_notify(
        self, event: SystemNotifyEvent
    ) -> AnalyticsNotificationMessage:
        """A system notice sent from outside the server."""
        raise NotImplementedError("analytics_system_notify")

    @event_handler("analytics_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> AnalyticsNotificationMessage:
        """A periodic notice sent from outside the server."""
        raise NotImplementedError("analytics_system_periodic_notify")
