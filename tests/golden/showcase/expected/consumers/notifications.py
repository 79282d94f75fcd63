"""Consumer of channel notifications at /ws/notifications.

Notifications over Redis pub/sub.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, event_handler, ws_handler

from ..generated.channels import NotificationsChannel
from ..generated.messages import (
    NotificationBroadcastMessage,
    NotificationMessage,
    PingMessage,
    PongMessage,
    SystemNotifyEvent,
    SystemPeriodicNotifyEvent,
)

__all__ = ["NotificationsConsumer"]


@channel("notifications")
class NotificationsConsumer(NotificationsChannel):
    """Serves channel notifications."""

    @ws_handler("notifications_ping")
    async def ping(self, message: PingMessage) -> PongMessage:
        """Liveness check; answered with pong."""
        raise NotImplementedError("notifications_ping")

    @ws_handler("notifications_post")
    async def post(self, message: NotificationMessage) -> None:
        """Send to everyone on the notifications channel."""
        raise NotImplementedError("notifications_post")

    @event_handler("notifications_system_notify")
    async def system_notify(
        self, event: SystemNotifyEvent
    ) -> NotificationBroadcastMessage:
        """A system notice sent from outside the server."""
        raise NotImplementedError("notifications_system_notify")

    @event_handler("notifications_system_periodic_notify")
    async def system_periodic_notify(
        self, event: SystemPeriodicNotifyEvent
    ) -> NotificationBroadcastMessage:
        """A periodic notice sent from outside the server."""
        raise NotImplementedError("notifications_system_periodic_notify")
