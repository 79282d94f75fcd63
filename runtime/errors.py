"""Exceptions raised by the chanspec runtime.

Definition errors surface when a consumer class is created or when the app starts, never later
when the first frame arrives; each message names the class and the method involved.
"""

from __future__ import annotations

__all__ = ["ChannelLayerError", "ConsumerDefinitionError"]


class ConsumerDefinitionError(TypeError):
    """A consumer class is defined in a way the runtime cannot route.

    Raised at class creation (two handlers for one discriminator value, a handler whose input
    message has no literal discriminator, a handler without an input type) or at app start-up
    (a channel layer alias that is not registered). The message names ``Class.method``.
    """


class ChannelLayerError(RuntimeError):
    """A channel layer operation was requested that cannot be carried out.

    Raised when a consumer without a channel layer broadcasts or joins a group, when a layer alias
    is not registered in this process, or when the layer's backend (Redis) fails; the original
    backend exception is chained as ``__cause__``.
    """
