"""The internal model: one normalised, version-independent view of a spec.

Produced by :mod:`.normalise` (every naming and convention decision is made there) and consumed
by :mod:`.render`. All classes are frozen; metadata dicts are JSON-compatible trees that the
generated contract carries so the app's emitted document equals the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ChannelModel",
    "LayerModel",
    "MessageModel",
    "OperationModel",
    "SecuritySchemeModel",
    "ServiceModel",
]


@dataclass(frozen=True)
class LayerModel:
    """A channel layer from root ``x-channel-layers`` (type memory | redis | redis-pubsub)."""

    alias: str
    type: Literal["memory", "redis", "redis-pubsub"]
    prefix: str | None = None
    expiry: float | None = None
    capacity: int | None = None
    group_expiry: int | None = None


@dataclass(frozen=True)
class SecuritySchemeModel:
    """A security scheme from ``components.securitySchemes`` (or inline in a ``security`` list).

    Attributes:
        name: its key under ``components.securitySchemes`` (inline: derived from its place).
        type: the AsyncAPI ``type`` (``httpApiKey``, ``apiKey``, ``http``, ``userPassword``...).
        constant: the ``generated/security.py`` constant declaring it (``API_KEY``).
        verifier: the function of the user's ``auth.py`` checking its credentials
            (``verify_api_key``); empty for an unsupported scheme.
        runtime_class: the ``chanspec.runtime.auth`` class reading its credentials
            (``HttpApiKeyScheme``...; ``UnsupportedScheme`` when chanspec cannot read them).
        credentials: the credentials class the verifier receives (``ApiKey``, ``Bearer``,
            ``Basic``); empty for an unsupported scheme.
        options: keyword arguments of ``runtime_class`` besides name/verify/description, as
            ``(name, value)`` pairs (``("param", "token"), ("location", "query")``).
        description: the scheme's description.
    """

    name: str
    type: str
    constant: str
    verifier: str
    runtime_class: str
    credentials: str
    options: tuple[tuple[str, Any], ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class MessageModel:
    """A message of a channel (or an internal event).

    Attributes:
        key: key under the channel's ``messages`` (events: the components key).
        class_name: the generated pydantic model.
        discriminator_value: the const of the channel's discriminator property, if any.
        metadata: the message object without ``payload`` (for the emitted document).
        pointer: JSON pointer of the message in the source document (for messages).
        discriminator_optional: the spec does not require the discriminator property (the
            model does, to route; the emitted document says optional again).
    """

    key: str
    class_name: str
    discriminator_value: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""
    discriminator_optional: bool = False


@dataclass(frozen=True)
class OperationModel:
    """An operation of a channel.

    Attributes:
        id: the operation id (key under ``operations``).
        method: the consumer method name handling it (receive, or send with events).
        action: ``"receive"`` (client -> server) or ``"send"`` (server -> client).
        messages: keys of its messages in the channel.
        reply: keys of its reply messages in the channel (receive operations).
        events: class names of the events triggering it (``x-events``).
        summary, description: documentation for stubs.
    """

    id: str
    method: str
    action: Literal["receive", "send"]
    messages: tuple[str, ...]
    reply: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelModel:
    """A channel served as one WebSocket route by one consumer class.

    ``address`` is the spec's address verbatim; ``route`` the route path serving it (the
    address with a leading ``/`` added when it has none); both are ``None`` for a channel
    without an address, whose consumer exists but is not served.
    """

    id: str
    address: str | None
    route: str | None
    module: str
    consumer_class: str
    contract_class: str
    parameters: tuple[str, ...]
    layer: str | None
    groups: tuple[str, ...]
    discriminator: str | None
    messages: tuple[MessageModel, ...]
    operations: tuple[OperationModel, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    security: tuple[tuple[str, ...], ...] = ()
    """Requirements checked before accept, all must hold; each lists alternative scheme names
    (from the channel's servers' ``security`` and its operations' ``security``)."""

    def message(self, key: str) -> MessageModel:
        """The channel message with ``key``; raises ``KeyError`` if there is none."""
        for msg in self.messages:
            if msg.key == key:
                return msg
        raise KeyError(key)


@dataclass(frozen=True)
class ServiceModel:
    """The whole service: channels, events, layers, the model schema bundle and root metadata.

    Attributes:
        schemas: ``{class name: JSON Schema}`` handed to datamodel-code-generator; refs point at
            ``#/components/schemas/<name>`` of the same bundle.
        events: internal events (``x-events``) with their metadata.
        metadata: the document skeleton without channels and operations.
        security_schemes: the schemes channels require (generated ``security.py``/``auth.py``).
    """

    title: str
    source_name: str
    channels: tuple[ChannelModel, ...]
    events: tuple[MessageModel, ...]
    layers: tuple[LayerModel, ...]
    schemas: dict[str, Any]
    metadata: dict[str, Any]
    security_schemes: tuple[SecuritySchemeModel, ...] = ()
