"""chanspec runtime: what generated services run on (pydantic + fast-channels + redis).

Public API::

    from chanspec.runtime import (
        Consumer, Message, channel, ws_handler, event_handler,
        LayerSpec, register_layers, create_app, build_document,
    )

This package never imports ``chanspec.codegen`` or build-time libraries (enforced by a test).
"""

from .app import create_app, document_of
from .asyncapi import build_document
from .consumer import Consumer
from .decorators import channel, event_handler, ws_handler
from .errors import ChannelLayerError, ConsumerDefinitionError
from .frames import ErrorCode
from .layers import LayerSpec, register_layers
from .messages import Message

__all__ = [
    "ChannelLayerError",
    "Consumer",
    "ConsumerDefinitionError",
    "ErrorCode",
    "LayerSpec",
    "Message",
    "build_document",
    "channel",
    "create_app",
    "document_of",
    "event_handler",
    "register_layers",
    "ws_handler",
]
