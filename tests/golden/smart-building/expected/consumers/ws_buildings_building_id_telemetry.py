"""Consumer of channel ws_buildings_buildingId_telemetry at /ws/buildings/{buildingId}/telemetry.

Readings from the sensors of one building.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import WsBuildingsBuildingIdTelemetryChannel
from ..generated.messages import (
    WsBuildingsBuildingIdTelemetryReadingMessage,
)

__all__ = ["WsBuildingsBuildingIdTelemetryConsumer"]


@channel("ws_buildings_buildingId_telemetry")
class WsBuildingsBuildingIdTelemetryConsumer(WsBuildingsBuildingIdTelemetryChannel):
    """Serves channel ws_buildings_buildingId_telemetry."""

    @ws_handler("reportReading")
    async def report_reading(
        self, message: WsBuildingsBuildingIdTelemetryReadingMessage
    ) -> None:
        """Used by sensors."""
        raise NotImplementedError("reportReading")
