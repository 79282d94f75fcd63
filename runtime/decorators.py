"""The consumer decorators: ``@channel``, ``@ws_handler`` and ``@event_handler``.

They only attach metadata; the consumer class reads it when it is created
(``Consumer.__init_subclass__``) and builds its routing tables then, so definition errors
surface at import time. Names follow chanx's consumer API so its users feel at home.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

__all__ = ["ChannelInfo", "HandlerInfo", "channel", "event_handler", "ws_handler"]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

HANDLER_ATTR = "__chanspec_handler__"
CHANNEL_ATTR = "__chanspec_channel__"


@dataclass(frozen=True)
class HandlerInfo:
    """What a decorated handler declares.

    Attributes:
        kind: ``"ws"`` for a client frame handler (AsyncAPI operation ``action: receive``),
            ``"event"`` for a channel-layer event handler (``action: send`` triggered by events).
        operation: the AsyncAPI operation id; ``None`` means the method name.
        input_type: the message model the handler takes; ``None`` means the annotation of its
            first parameter after ``self``.
        output_type: what the handler sends; ``None`` means its return annotation. For a
            ``ws`` handler a returned message is the operation's ``reply``; for an ``event``
            handler it is the message the send operation sends.
        summary, description, tags: operation metadata for the emitted document.
        concurrent: ``ws`` handlers only: run each call in its own task, so the frames after
            it are handled without waiting for it (its reply may then come after theirs).
    """

    kind: Literal["ws", "event"]
    operation: str | None = None
    input_type: Any = None
    output_type: Any = None
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    concurrent: bool = False


@dataclass(frozen=True)
class ChannelInfo:
    """What ``@channel`` declares: the AsyncAPI channel id and its human metadata."""

    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


def _handler_decorator(
    kind: Literal["ws", "event"],
    func: F | None,
    operation: str | None,
    input_type: Any,
    output_type: Any,
    summary: str | None,
    description: str | None,
    tags: Sequence[str],
    concurrent: bool = False,
) -> Any:
    info = HandlerInfo(
        kind, operation, input_type, output_type, summary, description, tuple(tags), concurrent
    )

    def mark(f: F) -> F:
        setattr(f, HANDLER_ATTR, info)
        return f

    return mark(func) if func is not None else mark


@overload
def ws_handler(func: F, /) -> F: ...
@overload
def ws_handler(
    operation: str | None = None,
    /,
    *,
    input_type: Any = None,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    concurrent: bool = False,
) -> Callable[[F], F]: ...
def ws_handler(
    operation: Any = None,
    /,
    *,
    input_type: Any = None,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    concurrent: bool = False,
) -> Any:
    """Mark an ``async def`` method as the handler of one client message (``action: receive``).

    Usable bare (``@ws_handler``) or called (``@ws_handler("sendChat", summary=...)``). The
    handler receives the validated message model; what it returns (a message model, or ``None``)
    is sent back to the sender only and documented as the operation's ``reply``.

    Args:
        operation: AsyncAPI operation id (default: the method name).
        input_type: message model (default: annotation of the first parameter).
        output_type: reply model or union (default: return annotation).
        summary, description, tags: documentation carried into the emitted AsyncAPI document.
        concurrent: opt into concurrency (default off): each call runs in its own task, so
            the connection's next frames are handled while it waits (on I/O, a job...); its
            reply then goes out when it is done, possibly after later frames' replies. Without
            it, a connection's frames are handled one at a time in arrival order. Pending
            calls are cancelled when the connection closes.
    """
    if callable(operation):
        return _handler_decorator("ws", operation, None, None, None, None, None, ())
    return _handler_decorator(
        "ws", None, operation, input_type, output_type, summary, description, tags, concurrent
    )


@overload
def event_handler(func: F, /) -> F: ...
@overload
def event_handler(
    operation: str | None = None,
    /,
    *,
    input_type: Any = None,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
) -> Callable[[F], F]: ...
def event_handler(
    operation: Any = None,
    /,
    *,
    input_type: Any = None,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
) -> Any:
    """Mark an ``async def`` method as the handler of one channel-layer event.

    Events are sent from anywhere (other consumers, workers, scripts) with
    ``Consumer.broadcast_event`` / ``Consumer.send_event``. The handler receives the validated
    event model and returns the message to send to its socket (or ``None``). In the emitted
    document it is an ``action: send`` operation whose ``x-events`` lists the event.

    Args: as for :func:`ws_handler`; ``output_type`` is the message sent to the client.
    """
    if callable(operation):
        return _handler_decorator("event", operation, None, None, None, None, None, ())
    return _handler_decorator(
        "event", None, operation, input_type, output_type, summary, description, tags
    )


def channel(
    name: str | None = None, *, description: str | None = None, tags: Sequence[str] = ()
) -> Callable[[C], C]:
    """Declare the AsyncAPI channel a consumer class serves.

    Args:
        name: the channel id (key under ``channels`` in the document); default: the contract's
            ``channel_id`` or the class name.
        description: overrides the channel description in the emitted document.
        tags: channel tags (names) for the emitted document.
    """

    def mark(cls: C) -> C:
        info = ChannelInfo(name, description, tuple(tags))
        setattr(cls, CHANNEL_ATTR, info)
        if name is not None:
            cls.channel_id = name  # type: ignore[attr-defined]
        return cls

    return mark
