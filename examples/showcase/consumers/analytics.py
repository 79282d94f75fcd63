"""Consumer of channel analytics at /ws/analytics.

Analytics events over the Redis queue layer.

This module is yours: chanspec wrote it once and from now on only adds stubs for new operations.
"""

from __future__ import annotations

import json

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import AnalyticsChannel
from ..generated.messages import (
    AnalyticsEventMessage,
    AnalyticsNotificationMessage,
    PingMessage,
    PongMessage,
    SystemNotifyEvent,
    SystemPeriodicNotifyEvent,
    Text,
)

__all__ = ["AnalyticsConsumer"]


@channel("analytics")
class AnalyticsConsumer(AnalyticsChannel):
    """Serves channel analytics."""

    @ws_handler("analytics_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        return PongMessage()

    @ws_handler("analytics_post")
    async def post(self, message: AnalyticsEventMessage) -> None:
        """Send to everyone on the analytics channel."""
        await self.broadcast_message(
            self._notice(
                f"📊 Analytics: {message.payload.event} "
                f"{json.dumps(message.payload.data or {}, sort_keys=True)}"
            )
        )

    @event_handler("analytics_system_notify")
    async def system_notify(self, event: SystemNotifyEvent) -> AnalyticsNotificationMessage:
        """A system notice sent from outside the server."""
        return self._notice(f"🔔 {event.payload.message}")

    @event_handler("analytics_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> AnalyticsNotificationMessage:
        """A periodic notice sent from outside the server."""
        return self._notice(f"⏰ #{event.payload.sequence} {event.payload.message}")

    def _notice(self, text: str) -> AnalyticsNotificationMessage:
        return AnalyticsNotificationMessage(payload=Text(message=text))
