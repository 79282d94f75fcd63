"""Channel layers declared in the spec, registered from one place.

The spec's root ``x-channel-layers`` lists layers by alias with a type:

- ``memory``: fast-channels' ``InMemoryChannelLayer`` (one process, one event loop);
- ``redis-pubsub``: ``RedisPubSubChannelLayer`` (fire-and-forget fan-out; expiry and capacity
  are not supported by the backend and are ignored);
- ``redis``: ``RedisChannelLayer``, the sorted-set queue layer (bounded, expiring delivery).

With no Redis URL every layer runs in memory (the embedded default) and this is announced once.
With ``REDIS_URL`` (or a per-layer ``CHANSPEC_LAYER_<ALIAS>_URL``) the declared types are used.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from fast_channels.layers import (
    BaseChannelLayer,
    InMemoryChannelLayer,
    channel_layers,
    register_channel_layer,
)

from .errors import ChannelLayerError

__all__ = [
    "LayerSpec",
    "build_layer",
    "layer_url",
    "register_layers",
    "require_layers",
]

log = logging.getLogger("chanspec.layers")

LayerType = Literal["memory", "redis", "redis-pubsub"]

# The queue layer blocks on BZPOPMIN for 5 s; a socket timeout at or below that disconnects
# idle consumers (field notes). Keep it comfortably above.
QUEUE_SOCKET_TIMEOUT_S = 15.0
# Redis connections per process (and event loop) of one queue layer. Beyond that, operations
# wait for a free connection (up to QUEUE_POOL_TIMEOUT_S) instead of opening more: a burst of
# disconnects during a Redis stall otherwise opens one connection per disconnect and keeps them.
QUEUE_MAX_CONNECTIONS = 50
QUEUE_POOL_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class LayerSpec:
    """One channel layer as the spec declares it (``x-channel-layers.<alias>``).

    Attributes:
        alias: registry alias consumers refer to with ``channel_layer_alias``.
        type: ``"memory"``, ``"redis"`` (queue) or ``"redis-pubsub"``.
        prefix: Redis key/channel prefix (default: the alias).
        expiry: message expiry in seconds (memory and queue layers; default 60).
        capacity: per-channel capacity in messages (memory and queue layers; default 100).
        group_expiry: group membership expiry in seconds (default 86400).
    """

    alias: str
    type: LayerType
    prefix: str | None = None
    expiry: float | None = None
    capacity: int | None = None
    group_expiry: int | None = None


def layer_url(alias: str, environ: Mapping[str, str]) -> str | None:
    """The Redis URL for a layer: ``CHANSPEC_LAYER_<ALIAS>_URL``, else ``REDIS_URL``, else None.

    ``<ALIAS>`` is the alias upper-cased with every non-alphanumeric character as ``_``.
    """
    key = "CHANSPEC_LAYER_" + re.sub(r"[^A-Za-z0-9]", "_", alias).upper() + "_URL"
    return environ.get(key) or environ.get("REDIS_URL") or None


def build_layer(spec: LayerSpec, url: str | None) -> BaseChannelLayer:
    """Instantiate the fast-channels layer for ``spec``.

    Args:
        spec: the declared layer.
        url: Redis URL, or ``None`` for the in-memory stand-in.

    Returns:
        An ``InMemoryChannelLayer`` when ``url`` is None or the type is ``memory``; otherwise the
        declared Redis layer as a subclass of the fast-channels class that survives Redis
        outages (:mod:`chanspec.runtime.resilience`; ``docs/layers.md``): the queue layer with
        a socket timeout of ``QUEUE_SOCKET_TIMEOUT_S`` (above its 5 s blocking pop) and a
        blocking pool of ``QUEUE_MAX_CONNECTIONS`` connections.
    """
    expiry = spec.expiry if spec.expiry is not None else 60
    capacity = spec.capacity if spec.capacity is not None else 100
    group_expiry = spec.group_expiry if spec.group_expiry is not None else 86400
    if url is None or spec.type == "memory":
        return InMemoryChannelLayer(expiry=expiry, group_expiry=group_expiry, capacity=capacity)
    from .resilience import ResilientRedisChannelLayer, ResilientRedisPubSubChannelLayer

    prefix = spec.prefix if spec.prefix is not None else spec.alias
    if spec.type == "redis-pubsub":
        return ResilientRedisPubSubChannelLayer(alias=spec.alias, url=url, prefix=prefix)
    return ResilientRedisChannelLayer(
        alias=spec.alias,
        url=url,
        socket_timeout=QUEUE_SOCKET_TIMEOUT_S,
        max_connections=QUEUE_MAX_CONNECTIONS,
        pool_timeout=QUEUE_POOL_TIMEOUT_S,
        prefix=prefix,
        expiry=int(expiry),
        group_expiry=group_expiry,
        capacity=capacity,
    )


def register_layers(
    specs: Iterable[LayerSpec], *, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Register every declared layer with fast-channels' registry, replacing earlier ones.

    Args:
        specs: the declared layers (generated ``layers.LAYERS``).
        environ: where to read ``REDIS_URL`` / ``CHANSPEC_LAYER_<ALIAS>_URL`` (default
            ``os.environ``).

    Returns:
        ``{alias: backend}`` with backend ``"memory"``, ``"redis"`` or ``"redis-pubsub"`` as
        actually registered. When no layer got a Redis URL this is logged once as a warning
        naming the layers that run in memory.
    """
    env = os.environ if environ is None else environ
    backends: dict[str, str] = {}
    in_memory: list[str] = []
    for spec in specs:
        url = layer_url(spec.alias, env)
        register_channel_layer(spec.alias, build_layer(spec, url))
        backend = "memory" if url is None or spec.type == "memory" else spec.type
        backends[spec.alias] = backend
        if url is None and spec.type != "memory":
            in_memory.append(spec.alias)
    if in_memory:
        log.warning(
            "chanspec: no REDIS_URL set; channel layers %s run in memory in this process "
            "(groups and events do not cross processes)",
            ", ".join(in_memory),
        )
    return backends


def require_layers(aliases: Mapping[str, str]) -> None:
    """Check that every alias a consumer uses is registered.

    Args:
        aliases: ``{alias: "ConsumerClass"}`` of the aliases in use.

    Raises:
        ChannelLayerError: naming each unregistered alias and the consumer that needs it
            (fast-channels would otherwise silently run that consumer without a layer).
    """
    missing = [
        f"{alias!r} (used by {owner})"
        for alias, owner in aliases.items()
        if alias not in channel_layers
    ]
    if missing:
        raise ChannelLayerError(
            "channel layer not registered: "
            + ", ".join(missing)
            + "; register the spec's layers with register_layers(LAYERS)"
        )
