"""Consumer of channel status at /ws/status.

This module is yours: chanspec wrote it once and from now on only adds stubs
for new operations.
"""

from __future__ import annotations

from chanspec.runtime import channel

from ..generated.channels import StatusChannel

__all__ = ["StatusConsumer"]


@channel("status")
class StatusConsumer(StatusChannel):
    """Serves channel status."""
