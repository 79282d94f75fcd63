"""Consumer of channel ws_buildings_buildingId_commands at /ws/buildings/{buildingId}/commands.

Commands to the actuators of one building, and their acknowledgements.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel, ws_handler

from ..generated.channels import WsBuildingsBuildingIdCommandsChannel
from ..generated.messages import (
    WsBuildingsBuildingIdCommandsSetpointMessage,
    WsBuildingsBuildingIdCommandsSwitchMessage,
)

__all__ = ["WsBuildingsBuildingIdCommandsConsumer"]


@channel("ws_buildings_buildingId_commands")
class WsBuildingsBuildingIdCommandsConsumer(WsBuildingsBuildingIdCommandsChannel):
    """Serves channel ws_buildings_buildingId_commands."""

    @ws_handler("sendCommand")
    async def send_command(
        self,
        message: WsBuildingsBuildingIdCommandsSetpointMessage
        | WsBuildingsBuildingIdCommandsSwitchMessage,
    ) -> None:
        """Used by operators."""
        raise NotImplementedError("sendCommand")
