"""The consumer every generated channel class derives from.

:class:`Consumer` is a fast-channels ``AsyncJsonWebsocketConsumer`` that

- authenticates before accepting, then joins its groups (templated by path parameters);
- routes each JSON frame by the channel's discriminator to a typed ``@ws_handler`` and sends
  the returned message back to the sender;
- answers every bad frame with exactly one error frame and keeps the connection open;
- receives channel-layer events (``broadcast_event`` / ``send_event``) and routes them to
  ``@event_handler`` methods, or passes them through to the socket when the event is itself one
  of the channel's outgoing messages;
- broadcasts a message to groups serialised once (``broadcast_message``).

Frames of one connection are handled in arrival order (fast-channels dispatches them one by one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import string
import typing
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import NoneType, UnionType
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from fast_channels.consumer.websocket import AsyncJsonWebsocketConsumer
from fast_channels.exceptions import StopConsumer
from fast_channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from fast_channels.type_defs import WebSocketConnectEvent, WebSocketReceiveEvent
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel, to_snake

from .auth import (
    CLOSE_AUTH_NOT_IMPLEMENTED,
    AuthenticationError,
    Requirement,
    authenticate_scope,
)
from .decorators import HANDLER_ATTR, HandlerInfo
from .errors import ChannelLayerError, ConsumerDefinitionError
from .fanout import Fanout, fanout_for, release_idle
from .frames import ErrorCode, error_frame
from .routing import Route, Router, RoutingFailure, discriminator_value

__all__ = ["Consumer", "HandlerEntry", "message_types"]

log = logging.getLogger("chanspec.consumer")

BROADCAST_TYPE = "chanspec.broadcast"
EVENT_TYPE = "chanspec.event"
# 4xxx close codes (docs/wire-protocol.md)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_LAYER_UNAVAILABLE = 4500
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 7.4.1; the layer's backend (Redis) is unreachable

# The event loop each in-memory layer's consumers run on: its queues belong to that loop, so the
# *_sync helpers called from other threads must hand their work to it (not start a new loop).
_LAYER_LOOPS: weakref.WeakKeyDictionary[BaseChannelLayer, asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)


def message_types(annotation: Any) -> tuple[type[BaseModel], ...]:
    """Flatten a handler's input/return annotation into the message models it names.

    ``A | B``, ``Union[A, B]``, ``Optional[A]`` and ``None`` are understood; ``None`` (no reply)
    contributes nothing.
    """
    if annotation is None or annotation is NoneType:
        return ()
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is UnionType:
        out: list[type[BaseModel]] = []
        for arg in typing.get_args(annotation):
            out.extend(message_types(arg))
        return tuple(out)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return (annotation,)
    return ()


class HandlerEntry(typing.NamedTuple):
    """A handler found on a consumer class: its route and what the decorator said."""

    route: Route
    info: HandlerInfo


def _template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


class Consumer(AsyncJsonWebsocketConsumer):
    """Base class of chanspec consumers (one per AsyncAPI channel).

    Class attributes (the generated contract base class sets them from the spec):

    - ``channel_id``: AsyncAPI channel id (key under ``channels``).
    - ``address``: the channel address, e.g. ``/ws/room/{room_name}`` (``None``: not served).
    - ``channel_layer_alias``: fast-channels layer alias (``x-channel-layer``), or ``None``.
    - ``group_templates``: group names joined after authentication (``x-groups``); ``{param}``
      is replaced by the path parameter of that name. A fast-channels style class-level
      ``groups`` list is honoured too.
    - ``discriminator_field``: wire property that routes frames (``"action"``), or ``None``.
    - ``messages``: ``{message key: model}`` of the channel's messages.
    - ``send_operations``: ``{operation id: (message key, ...)}`` of ``action: send``
      operations that have no event handler (pushes and broadcasts).
    - ``asyncapi``: metadata the code cannot show, for the emitted document
      (``{"channel": {...}, "operations": {id: {...}}}``).
    - ``max_frame_bytes``: largest accepted text frame in bytes (default 1 MiB).
    - ``send_completion``: chanx's completion frames (off by default): ``{"action":
      "complete"}`` after each JSON frame is handled (error frames included),
      ``{"action": "group_complete"}`` after each group broadcast written to the socket,
      ``{"action": "event_complete"}`` after each event :meth:`chanspec_event` handled or
      passed through.
    - ``camelize``: chanx's option (off by default): every key of the frames this consumer
      sends is written in camelCase (``room_name`` -> ``roomName``, pydantic's ``to_camel``)
      and every key of the frames it receives is read back into snake_case (``to_snake``)
      before validation. For code-first consumers whose models use snake_case names; a
      generated consumer already speaks the spec's names. Error frames keep their shape.
    - ``security``: requirements checked before accept (generated from the spec's ``security``;
      see :mod:`chanspec.runtime.auth`): each a tuple of alternative schemes, all must hold.
    - ``auth_refusal``: how a refused handshake ends. ``"http"`` (default): it is never
      accepted; the HTTP answer has status ``code - 4000`` (401/403/501) and the JSON body
      ``{"code": <4xxx>}`` (ASGI ``websocket.http.response``; without that extension the
      server refuses with a plain 403, an in-process communicator sees the close code).
      ``"close"``: the handshake is completed only to close at once with the 4xxx code, for
      clients that cannot read a refused handshake's status (browsers); no frame is read.

    After authentication ``user`` is the first verifier's result (``None`` without security)
    and ``auth`` maps each satisfied scheme to its verifier's result.
    """

    channel_id: ClassVar[str] = ""
    address: ClassVar[str | None] = None
    channel_layer_alias: str | None = None
    group_templates: ClassVar[tuple[str, ...]] = ()
    discriminator_field: ClassVar[str | None] = "action"
    messages: ClassVar[Mapping[str, type[BaseModel]]] = {}
    send_operations: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    asyncapi: ClassVar[Mapping[str, Any]] = {}
    max_frame_bytes: ClassVar[int] = 1024 * 1024
    send_completion: ClassVar[bool] = False
    camelize: ClassVar[bool] = False
    security: ClassVar[tuple[Requirement, ...]] = ()
    auth_refusal: ClassVar[typing.Literal["close", "http"]] = "http"
    user: Any = None
    auth: Mapping[str, Any] = {}

    ws_handlers: ClassVar[tuple[HandlerEntry, ...]] = ()
    event_handlers: ClassVar[tuple[HandlerEntry, ...]] = ()
    _ws_router: ClassVar[Router]
    _event_router: ClassVar[Router]
    _passthrough: ClassVar[dict[Any, type[BaseModel]]]
    _broadcast_override: ClassVar[bool] = False
    _event_override: ClassVar[bool] = False

    path_params: dict[str, str]
    _broadcasts_seen: deque[str]
    _fanout: Fanout | None = None  # group broadcast fast path (runtime/fanout.py)
    _dispatch_lock: asyncio.Lock | None = None
    _layer_failure: BaseException | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, tuple[Any, HandlerInfo]] = {}
        for klass in reversed(cls.__mro__):
            for name, attr in vars(klass).items():
                info = getattr(attr, HANDLER_ATTR, None)
                if isinstance(info, HandlerInfo):
                    found[name] = (attr, info)
                elif name in found:
                    del found[name]  # overridden without a decorator
        ws: list[HandlerEntry] = []
        events: list[HandlerEntry] = []
        for name, (func, info) in found.items():
            entry = HandlerEntry(cls._route_for(name, func, info), info)
            (ws if info.kind == "ws" else events).append(entry)
        cls.ws_handlers = tuple(ws)
        cls.event_handlers = tuple(events)
        owner = cls.__qualname__
        cls._ws_router = Router([e.route for e in ws], cls.discriminator_field, owner)
        # decided once per class: the fan-out hands broadcasts to an override (_OverridingMember)
        cls._broadcast_override = cls.chanspec_broadcast is not Consumer.chanspec_broadcast
        cls._event_override = cls.chanspec_event is not Consumer.chanspec_event
        cls._event_router = Router([e.route for e in events], cls.discriminator_field, owner)
        cls._passthrough = {}
        if cls.discriminator_field:
            for keys in cls.send_operations.values():
                for key in keys:
                    model = cls.messages.get(key)
                    if model is None:
                        continue
                    try:
                        value = discriminator_value(model, cls.discriminator_field)
                    except LookupError:
                        continue
                    cls._passthrough.setdefault(value, model)
        params = set(_template_fields(cls.address or ""))
        for template in cls.groups_templates():
            unknown = [f for f in _template_fields(template) if f not in params]
            if unknown and cls.address:
                raise ConsumerDefinitionError(
                    f"{owner}: group {template!r} uses {unknown} which are not parameters of "
                    f"the address {cls.address!r}"
                )

    @classmethod
    def _route_for(cls, name: str, func: Any, info: HandlerInfo) -> Route:
        where = f"{cls.__qualname__}.{name}"
        try:
            hints = typing.get_type_hints(func)
        except Exception as exc:  # unresolvable forward reference
            raise ConsumerDefinitionError(f"{where}: cannot resolve annotations: {exc}") from exc
        annotation = info.input_type
        if annotation is None:
            params = [p for p in func.__code__.co_varnames[1 : func.__code__.co_argcount]]
            annotation = hints.get(params[0]) if params else None
        models = message_types(annotation)
        if not models:
            raise ConsumerDefinitionError(
                f"{where}: the handler must take one message model parameter, or a union of "
                "them (annotate it, or pass input_type=)"
            )
        output = info.output_type if info.output_type is not None else hints.get("return")
        return Route(
            models[0], name, info.operation or name, message_types(output), models,
            info.concurrent,
        )  # fmt: skip

    @classmethod
    def groups_templates(cls) -> tuple[str, ...]:
        """The group name templates of the class: ``group_templates``, plus a fast-channels
        style class-level ``groups`` list if one is declared."""
        declared = list(cls.group_templates)
        for klass in cls.__mro__:
            static = klass.__dict__.get("groups")
            if isinstance(static, list | tuple):
                declared.extend(g for g in static if g not in declared)
                break
        return tuple(declared)

    # ---- connection lifecycle -------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        alias = self.channel_layer_alias
        if alias and get_channel_layer(alias) is None:
            log.error("%s: channel layer %r is not registered", type(self).__qualname__, alias)
            await send({"type": "websocket.close", "code": CLOSE_LAYER_UNAVAILABLE})
            return
        layer = get_channel_layer(alias) if alias else None
        if isinstance(layer, InMemoryChannelLayer):
            _LAYER_LOOPS[layer] = asyncio.get_running_loop()
        await self._serve(scope, receive, send, layer)

    async def _serve(
        self, scope: Any, receive: Any, send: Any, layer: BaseChannelLayer | None
    ) -> None:
        """fast-channels' ``AsyncConsumer.__call__`` without a task per frame.

        Frames are awaited and dispatched in this task (fast-channels wraps every receive in a
        new task and an ``asyncio.wait``); channel-layer messages are read by one listener task.
        A lock keeps one message handled at a time, as before: frames in arrival order, layer
        messages in arrival order. A failure of the layer's ``receive`` ends the consumer as it
        did in fast-channels. On exit the connection leaves the fan-out registry.
        """
        self.scope = scope
        self.channel_layer = layer
        self.base_send = send
        self._dispatch_lock = lock = asyncio.Lock()
        listener: asyncio.Future[None] | None = None
        if layer is not None:
            try:
                self.channel_name = await layer.new_channel()
            except Exception as exc:  # e.g. Redis down for the pub/sub layer, which subscribes
                await self._refuse_unavailable(exc)
                return
            self._fanout = fanout_for(layer, pin=True)
            main = asyncio.current_task()
            assert main is not None
            listener = asyncio.ensure_future(self._listen_layer(layer, main))
        try:
            while True:
                message = await receive()
                async with lock:
                    await self.dispatch(message)
        except StopConsumer:
            pass
        except asyncio.CancelledError:
            failure = self._layer_failure
            if failure is None:
                raise
            if not isinstance(failure, StopConsumer):
                raise failure from None
        finally:
            if listener is not None:
                listener.cancel()
            for task in list(self.__dict__.get("_concurrent", ())):  # of a closed connection
                task.cancel()
            if self._fanout is not None:
                await self._fanout.leave_all(self)

    async def _listen_layer(self, layer: BaseChannelLayer, main: asyncio.Task[Any]) -> None:
        lock = self._dispatch_lock
        assert lock is not None
        try:
            while True:
                message = await layer.receive(self.channel_name)
                async with lock:
                    await self.dispatch(message)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # StopConsumer included: the consumer ends
            self._layer_failure = exc
            main.cancel()

    async def websocket_connect(self, message: WebSocketConnectEvent) -> None:
        """Authenticate, join groups, accept, then run :meth:`post_authentication`."""
        self.path_params = {k: str(v) for k, v in (self.scope.get("path_params") or {}).items()}
        self.groups = []  # a refused connection has none (not even a class-level list's)
        code = CLOSE_UNAUTHENTICATED
        challenges: tuple[str, ...] = ()
        try:
            allowed = await self.authenticate()
        except AuthenticationError as exc:
            log.info("%s: handshake refused: %s", type(self).__qualname__, exc)
            allowed, code, challenges = False, exc.close_code, exc.challenges
        except NotImplementedError as exc:
            log.error("%s: verifier not implemented: %s", type(self).__qualname__, exc)
            allowed, code = False, CLOSE_AUTH_NOT_IMPLEMENTED
        except Exception:
            log.exception("%s.authenticate failed", type(self).__qualname__)
            allowed = False
        if not allowed:
            await self._refuse(code, challenges)
            raise StopConsumer  # a refused connection handles nothing more, not even a frame
        # groups are joined before the handshake is accepted, so a client that sees the
        # connection open misses no broadcast sent after that; what arrives meanwhile waits
        # (the fan-out holds it; layer messages are dispatched after this handler returns)
        self.groups = [t.format(**self.path_params) for t in self.groups_templates()]
        member = self._fanout_member() if self._fanout is not None else None
        if self._fanout is not None and member is not None:
            self._fanout.hold(member)
        for group in self.groups:
            if self._fanout is not None and member is not None:  # first: no round trip
                await self._fanout.join(group, member)
            await self._require_layer().group_add(group, self.channel_name)
        await self.accept()
        if self._fanout is not None and member is not None:
            self._fanout.release(member)
        await self.post_authentication()

    async def authenticate(self) -> bool:
        """Decide whether to accept the connection; runs before ``accept`` and any group join.

        Default: check the class's ``security`` requirements (generated from the spec) with
        :func:`~chanspec.runtime.auth.authenticate_scope`, setting ``self.auth`` and
        ``self.user``; accept everyone when there are none. Override it for anything else (call
        ``super().authenticate()`` to keep the spec's checks).

        The handshake is refused with 4401 when this returns ``False``, raises
        :class:`~chanspec.runtime.auth.MissingCredentials` or any unexpected exception (logged);
        4403 for :class:`~chanspec.runtime.auth.CredentialsRejected`; 4501 for a verifier that
        still raises ``NotImplementedError``. A refused client never joins a group.
        """
        if not self.security:
            return True
        self.auth = await authenticate_scope(self.security, self.scope)
        self.user = next(iter(self.auth.values()), None)
        return True

    async def _refuse(self, code: int, challenges: Sequence[str] = ()) -> None:
        """End a handshake that failed authentication with ``code`` (see ``auth_refusal``);
        an HTTP 401 carries ``challenges`` in ``WWW-Authenticate`` (RFC 7235)."""
        if self.auth_refusal == "http":
            if "websocket.http.response" in (self.scope.get("extensions") or {}):
                body = json.dumps({"code": code}).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                if challenges and code == CLOSE_UNAUTHENTICATED:
                    headers.append((b"www-authenticate", ", ".join(challenges).encode("latin-1")))
                await self.base_send(
                    {"type": "websocket.http.response.start", "status": code - 4000,
                     "headers": headers}
                )  # fmt: skip
                await self.base_send({"type": "websocket.http.response.body", "body": body})
            else:
                await self.close(code)
            return
        await self.accept()
        await self.close(code)

    async def _refuse_unavailable(self, exc: Exception) -> None:
        """Refuse a handshake whose channel layer cannot give it a channel because its backend
        is unreachable (the Redis pub/sub layer subscribes each new connection's channel):
        HTTP 503 with ``Retry-After: 1`` and the body ``{"code": 1013}`` (ASGI
        ``websocket.http.response``; without it, close code 1013 "try again later", RFC 6455),
        and one log line. Any other error is raised again."""
        error = _layer_error(self.channel_layer_alias, "new_channel", exc)
        if not _layer_unavailable(error):
            raise exc
        log.warning("%s: handshake refused, try again later: %s", type(self).__qualname__, error)
        if "websocket.http.response" in (self.scope.get("extensions") or {}):
            body = json.dumps({"code": CLOSE_TRY_AGAIN_LATER}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ]
            await self.base_send(
                {"type": "websocket.http.response.start", "status": 503, "headers": headers}
            )
            await self.base_send({"type": "websocket.http.response.body", "body": body})
        else:
            await self.base_send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})

    async def post_authentication(self) -> None:
        """Hook run after the connection is accepted and its groups are joined."""

    # ---- incoming frames ------------------------------------------------------------------

    async def websocket_receive(self, message: WebSocketReceiveEvent) -> None:
        """Decode, route and handle one frame; bad frames get one error frame each."""
        text = message.get("text")
        if text is None:
            await self.send(
                text_data=error_frame(ErrorCode.BINARY_FRAME, "binary frames are not accepted")
            )
            return
        if len(text) * 4 > self.max_frame_bytes and len(text.encode()) > self.max_frame_bytes:
            await self.send(
                text_data=error_frame(
                    ErrorCode.FRAME_TOO_LARGE, f"frame larger than {self.max_frame_bytes} bytes"
                )
            )
            return
        fast = None if self.camelize else _decode_fast(type(self), text)  # None: slow path
        if fast is not None:
            await self._handle(fast[0], fast[1])
            return
        try:
            data = json.loads(text)
        except ValueError as exc:
            await self.send(text_data=error_frame(ErrorCode.INVALID_JSON, f"invalid JSON: {exc}"))
            return
        except RecursionError:  # "[[[[...": deeper than the interpreter's recursion limit
            await self.send(text_data=error_frame(ErrorCode.INVALID_JSON, "JSON nested too deeply"))
            return
        if self.camelize:
            data = _keys(data, to_snake)
        result = self._ws_router.resolve(data)
        if isinstance(result, RoutingFailure):
            await self.send(text_data=result.frame)
            if self.send_completion:  # as chanx: after every frame that was JSON
                await self.send(text_data='{"action":"complete"}')
        else:
            await self._handle(*result)

    async def _handle(self, route: Route, msg: BaseModel) -> None:
        """Call the handler of one frame: now, or in its own task for a concurrent one."""
        if not route.concurrent:
            await self._invoke(route, msg, reply_errors=True)
            if self.send_completion:
                await self.send(text_data='{"action":"complete"}')
            return
        tasks: set[asyncio.Future[None]] = self.__dict__.setdefault("_concurrent", set())
        task = asyncio.ensure_future(self._invoke_then_complete(route, msg))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _invoke_then_complete(self, route: Route, msg: BaseModel) -> None:
        await self._invoke(route, msg, reply_errors=True)
        if self.send_completion:
            await self.send(text_data='{"action":"complete"}')

    async def _invoke(self, route: Route, msg: BaseModel, *, reply_errors: bool) -> None:
        try:
            out = await getattr(self, route.method_name)(msg)
        except StopConsumer:
            raise
        except NotImplementedError:
            log.error("%s.%s is not implemented", type(self).__qualname__, route.method_name)
            if reply_errors:
                await self.send(
                    text_data=error_frame(
                        ErrorCode.NOT_IMPLEMENTED,
                        f"operation {route.operation_id!r} is not implemented",
                    )
                )
            return
        except ChannelLayerError as exc:  # Redis down: layer_unavailable (docs/layers.md)
            if not _layer_unavailable(exc):
                log.exception("%s.%s failed", type(self).__qualname__, route.method_name)
            elif reply_errors:
                log.warning("%s.%s: %s", type(self).__qualname__, route.method_name, exc)
                alias = getattr(exc, "alias", "?")
                await self.send(
                    text_data=error_frame(
                        ErrorCode.LAYER_UNAVAILABLE,
                        f"channel layer {alias!r} is unavailable; {route.operation_id!r} was "
                        "not completed, try again later",
                    )
                )
                return
            if reply_errors:
                await self.send(
                    text_data=error_frame(
                        ErrorCode.HANDLER_ERROR,
                        f"internal error while handling {route.operation_id!r}",
                    )
                )
            return
        except Exception:
            log.exception("%s.%s failed", type(self).__qualname__, route.method_name)
            if reply_errors:
                await self.send(
                    text_data=error_frame(
                        ErrorCode.HANDLER_ERROR,
                        f"internal error while handling {route.operation_id!r}",
                    )
                )
            return
        if out is not None:
            await self.send_message(out)

    # ---- channel-layer events -------------------------------------------------------------

    def _seen_before(self, event: Mapping[str, Any]) -> bool:
        """True for a repeat of a multi-group broadcast this connection already received."""
        key = event.get("once")
        if not key:
            return False
        seen: deque[str] | None = getattr(self, "_broadcasts_seen", None)
        if seen is None:
            seen = deque(maxlen=256)
            self._broadcasts_seen = seen
        if key in seen:
            return True
        seen.append(key)
        return False

    async def chanspec_broadcast(self, event: Mapping[str, Any]) -> None:
        """Layer message ``chanspec.broadcast``: forward its pre-serialised text to the socket.

        A connection in several of the target groups gets the message once.

        A subclass may override it (filter, rewrite, count broadcasts): the fan-out then hands
        every broadcast for a connection of that class to the override instead of writing the
        text to the socket, as ``{"type": "chanspec.broadcast", "text": <JSON text>,
        "exclude": ""}`` (exclusion and once-per-connection are already applied), one at a
        time with the connection's other messages; an exception it raises is logged and the
        connection stays open. Whether a class overrides it is decided when the class is
        created. ``group_send`` of a ``chanspec.broadcast`` message by other code reaches it
        through the layer as before.
        """
        if event.get("exclude") and event.get("exclude") == getattr(self, "channel_name", None):
            return
        if self._seen_before(event):
            return
        await self.send(text_data=event["text"])
        if self.send_completion:
            await self.send(text_data='{"action":"group_complete"}')

    async def chanspec_event(self, event: Mapping[str, Any]) -> None:
        """Layer message ``chanspec.event``: run the matching event handler or pass it through.

        A connection in several of the target groups handles the event once. A subclass may
        override it: the fan-out then hands it every broadcast event (``{"type":
        "chanspec.event", "event": {...}}``), outgoing messages without a handler included,
        instead of writing those to the socket itself (decided when the class is created).
        """
        if self._seen_before(event):
            return
        data = event.get("event")
        field = self.discriminator_field
        value = data.get(field) if field and isinstance(data, dict) else None
        if isinstance(value, str | int | float | bool) and value in self._passthrough:
            if value not in self._event_router.by_value:
                model = self._passthrough[value]
                try:
                    outgoing = model.model_validate(data)
                except ValidationError:  # a malformed event must not end the connection
                    log.warning("%s: dropped invalid %s event", type(self).__qualname__, value)
                    return
                await self.send_message(outgoing)
                if self.send_completion:
                    await self.send(text_data='{"action":"event_complete"}')
                return
        result = self._event_router.resolve(data)
        if isinstance(result, RoutingFailure):
            log.warning("%s: dropped event: %s", type(self).__qualname__, result.frame)
            return
        route, msg = result
        await self._invoke(route, msg, reply_errors=False)
        if self.send_completion:
            await self.send(text_data='{"action":"event_complete"}')

    def fanout_event(
        self, data: Any, cache: dict[Any, Any]
    ) -> str | Callable[[], Awaitable[None]] | None:
        """A broadcast event from the fan-out (:mod:`chanspec.runtime.fanout`).

        Returns the text to write when the event is one of this channel's outgoing messages
        without an event handler (validated and serialised once per class and broadcast, in
        ``cache``), ``None`` when it is invalid, else a function that runs
        :meth:`chanspec_event` for it in turn with this connection's other messages.
        """
        cls = type(self)
        field = cls.discriminator_field
        value = data.get(field) if field and isinstance(data, dict) else None
        if (
            isinstance(value, str | int | float | bool)
            and value in cls._passthrough
            and value not in cls._event_router.by_value
            and not cls.send_completion  # chanspec_event adds its event_complete frame
            and not cls._event_override  # an override of chanspec_event sees every event
        ):
            key = (cls, value)
            if key not in cache:
                try:
                    model = cls._passthrough[value].model_validate(data)
                    cache[key] = _wire_text(cls, model)
                except ValidationError:
                    log.warning("%s: dropped invalid %s event", cls.__qualname__, value)
                    cache[key] = None
            text: str | None = cache[key]
            return text
        event = {"type": EVENT_TYPE, "event": data}

        async def handle() -> None:
            lock = self._dispatch_lock
            if lock is None:
                await self.chanspec_event(event)
                return
            async with lock:
                await self.chanspec_event(event)

        return handle

    # ---- sending ------------------------------------------------------------------------------

    async def send_message(self, message: BaseModel) -> None:
        """Send one message to this connection's client (JSON, by alias, optional None omitted)."""
        await self.send(text_data=_wire_text(type(self), message))

    async def broadcast_message(
        self,
        message: BaseModel,
        groups: str | Sequence[str] | None = None,
        *,
        exclude_current: bool = False,
    ) -> None:
        """Send ``message`` to every member of ``groups`` (default: this connection's groups).

        The message is serialised once and written to the members' sockets by the fan-out
        (:mod:`chanspec.runtime.fanout`: locally for the memory layer, one Redis publish per
        group for the Redis layers); with a layer the fan-out does not know, each member's
        consumer forwards the text as is. A member of several of the groups receives it once.

        Args:
            message: the message model.
            groups: group name(s); default ``self.groups``.
            exclude_current: leave out this connection.

        Raises:
            ChannelLayerError: the consumer has no channel layer, or the layer failed.
        """
        layer = self._require_layer()
        targets = _as_groups(groups, self.groups)
        if self._fanout is not None:
            text = _wire_text(type(self), message)
            try:
                await self._fanout.broadcast(
                    targets, text, self.channel_name if exclude_current else ""
                )
            except Exception as exc:
                raise _layer_error(
                    self.channel_layer_alias, f"broadcast to groups {targets}", exc
                ) from exc
            return
        event = {
            "type": BROADCAST_TYPE,
            "text": _wire_text(type(self), message),
            "exclude": self.channel_name if exclude_current else "",
        }
        if len(targets) > 1:
            event["once"] = uuid.uuid4().hex
        for group in targets:
            try:
                await layer.group_send(group, event)
            except Exception as exc:
                raise _layer_error(
                    self.channel_layer_alias, f"broadcast to group {group!r}", exc
                ) from exc

    async def join_group(self, group: str) -> None:
        """Join ``group`` (dynamic groups); it is left automatically on disconnect."""
        await self._require_layer().group_add(group, self.channel_name)
        if self._fanout is not None:
            await self._fanout.join(group, self._fanout_member())
        if group not in self.groups:
            self.groups.append(group)

    def _fanout_member(self) -> Consumer | _CompletingMember | _OverridingMember:
        """What joins the fan-out: this consumer; a wrapper that hands each broadcast to the
        class's ``chanspec_broadcast`` override; or with ``send_completion`` a wrapper that
        follows each broadcast text with ``group_complete`` (the registry is keyed by
        ``channel_name``, so leaving works with any)."""
        if self._broadcast_override:
            return _OverridingMember(self)
        return _CompletingMember(self) if self.send_completion else self

    async def leave_group(self, group: str) -> None:
        """Leave ``group``."""
        await self._require_layer().group_discard(group, self.channel_name)
        if self._fanout is not None:
            await self._fanout.leave(group, self)
        if group in self.groups:
            self.groups.remove(group)

    def _require_layer(self) -> BaseChannelLayer:
        if self.channel_layer is None:
            raise ChannelLayerError(
                f"{type(self).__qualname__} has no channel layer (x-channel-layer is not set)"
            )
        return self.channel_layer

    # ---- class-level events (usable from anywhere) ----------------------------------------

    @classmethod
    def layer(cls) -> BaseChannelLayer:
        """This consumer class's channel layer from the registry.

        Raises:
            ChannelLayerError: no alias declared, or the alias is not registered here.
        """
        alias = cls.channel_layer_alias
        layer = get_channel_layer(alias) if alias else None
        if layer is None:
            raise ChannelLayerError(
                f"{cls.__qualname__}: channel layer {alias!r} is not registered in this process"
            )
        return layer

    @classmethod
    async def broadcast_event(
        cls, event: BaseModel, groups: str | Sequence[str] | None = None
    ) -> None:
        """Send ``event`` to every consumer in ``groups`` over this class's channel layer.

        The event is serialised once and handed to the members by the fan-out
        (:mod:`chanspec.runtime.fanout`): an outgoing message without an event handler is
        validated once per consumer class and written to the sockets; an event with a handler
        runs it in each member, in order with that connection's other messages.

        Args:
            event: an event model (handled by an ``@event_handler``) or one of the channel's
                outgoing messages (passed through to the sockets).
            groups: group name(s); default: the class's groups that have no ``{parameters}``.

        Raises:
            ChannelLayerError: no layer, no groups, or the backend failed.
        """
        layer = cls.layer()
        static = [g for g in cls.groups_templates() if not _template_fields(g)]
        targets = _as_groups(groups, static)
        if not targets:
            raise ChannelLayerError(f"{cls.__qualname__}.broadcast_event: no groups given")
        fanout = fanout_for(layer)
        if fanout is not None:  # serialised once, fanned out per process (runtime/fanout.py)
            try:
                await fanout.broadcast_event(targets, event.model_dump_json(by_alias=True))
            except Exception as exc:
                raise _layer_error(
                    cls.channel_layer_alias, f"broadcast_event to {targets}", exc
                ) from exc
            return
        payload: dict[str, Any] = {
            "type": EVENT_TYPE,
            "event": event.model_dump(mode="json", by_alias=True),
        }
        if len(targets) > 1:
            payload["once"] = uuid.uuid4().hex
        for group in targets:
            try:
                await layer.group_send(group, payload)
            except Exception as exc:
                raise _layer_error(
                    cls.channel_layer_alias, f"broadcast_event to {group!r}", exc
                ) from exc

    @classmethod
    async def send_event(cls, event: BaseModel, channel_name: str) -> None:
        """Send ``event`` to one connection, addressed by its ``channel_name``.

        Raises:
            ChannelLayerError: no layer, or the backend failed.
        """
        payload = {"type": EVENT_TYPE, "event": event.model_dump(mode="json", by_alias=True)}
        try:
            await cls.layer().send(channel_name, payload)
        except ChannelLayerError:
            raise
        except Exception as exc:
            raise _layer_error(
                cls.channel_layer_alias, f"send_event to {channel_name!r}", exc
            ) from exc

    @classmethod
    def broadcast_event_sync(
        cls, event: BaseModel, groups: str | Sequence[str] | None = None
    ) -> None:
        """Blocking :meth:`broadcast_event` for threads and scripts without an event loop.

        With an in-memory layer the event is handed to the loop its consumers run on.
        """
        cls._run_sync(lambda: cls.broadcast_event(event, groups))

    @classmethod
    def send_event_sync(cls, event: BaseModel, channel_name: str) -> None:
        """Blocking :meth:`send_event` for threads and scripts without an event loop."""
        cls._run_sync(lambda: cls.send_event(event, channel_name))

    @classmethod
    def _run_sync(cls, make: Callable[[], Awaitable[None]]) -> None:
        alias = cls.channel_layer_alias
        layer = get_channel_layer(alias) if alias else None
        loop = _LAYER_LOOPS.get(layer) if layer is not None else None
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None

        async def run() -> None:
            try:
                await make()
            finally:  # no Redis connection may outlive a temporary loop
                await release_idle()

        if loop is not None and loop is not current and loop.is_running():
            # In-memory queues are not thread-safe and wake only their own loop.
            asyncio.run_coroutine_threadsafe(run(), loop).result()
        else:
            async_to_sync(run)()


def _layer_error(alias: str | None, operation: str, exc: BaseException) -> ChannelLayerError:
    """``LayerUnavailableError`` for Redis connection failures, else ``ChannelLayerError``."""
    from .resilience import layer_error  # imports redis: only when a layer operation failed

    return layer_error(alias, operation, exc)


def _layer_unavailable(exc: BaseException) -> bool:
    from .resilience import LayerUnavailableError

    return isinstance(exc, LayerUnavailableError)


_Decoder = tuple[TypeAdapter[Any], dict[type[BaseModel], Route], str]
_DECODERS: weakref.WeakKeyDictionary[type[Consumer], _Decoder | None] = weakref.WeakKeyDictionary()


def _decode_fast(cls: type[Consumer], text: str) -> tuple[Route, BaseModel] | None:
    """Parse and validate a frame in one pass (pydantic-core ``validate_json`` over the
    channel's discriminated union), then pick the route by the message's type.

    Returns ``None`` whenever the frame is not a valid message of the channel, or the channel
    cannot be decoded this way (no discriminator and several messages, discriminator fields
    named differently): the caller then takes the ``json.loads`` + :class:`Router` path, which
    produces the error frames. A valid frame gets the same message either way.
    """
    try:
        decoder = _DECODERS[cls]
    except KeyError:
        decoder = _DECODERS[cls] = _build_decoder(cls)
    if decoder is None:
        return None
    adapter, routes, tag = decoder
    try:
        msg = adapter.validate_json(text)
    except ValidationError:
        return None
    if tag and tag not in msg.model_fields_set:  # a defaulted discriminator: not on the wire
        return None
    return routes[type(msg)], msg


def _build_decoder(cls: type[Consumer]) -> _Decoder | None:
    router = cls._ws_router
    if not router.entries or (router.discriminator is None and len(router.entries) > 1):
        return None
    models = [model for model, _ in router.entries]
    tag = ""
    wire = router.discriminator
    if wire is not None:
        names = {
            next((n for n, f in m.model_fields.items() if (f.alias or n) == wire), "")
            for m in models
        }
        if names != {wire}:  # an aliased discriminator (populate-by-name): keep the Router
            return None
        tag = wire
    try:
        if len(models) == 1:
            adapter: TypeAdapter[Any] = TypeAdapter(models[0])
        else:
            union = typing.Union[tuple(models)]  # type: ignore[valid-type]  # noqa: UP007
            adapter = TypeAdapter(typing.Annotated[union, Field(discriminator=tag)])
    except Exception:  # a union pydantic cannot discriminate: keep the Router path
        log.debug("%s: no one-pass decoder", cls.__qualname__, exc_info=True)
        return None
    return adapter, {model: route for model, route in router.entries}, tag


class _CompletingMember:
    """Fan-out member of a consumer with ``send_completion``: the fan-out writes broadcast texts
    through ``send`` (events go through ``fanout_event``, which gives such a consumer no text),
    and chanx follows each forwarded group message with ``{"action": "group_complete"}``."""

    __slots__ = ("channel_name", "consumer")

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.channel_name = consumer.channel_name

    async def send(self, text_data: str | None = None) -> None:
        await self.consumer.send(text_data=text_data)
        await self.consumer.send(text_data='{"action":"group_complete"}')

    def fanout_event(
        self, data: Any, cache: dict[Any, Any]
    ) -> str | Callable[[], Awaitable[None]] | None:
        return self.consumer.fanout_event(data, cache)


class _OverridingMember:
    """Fan-out member of a consumer whose class overrides ``chanspec_broadcast``: each
    broadcast text goes to the override as the layer message the ``group_send`` path carries,
    under the consumer's dispatch lock (one message at a time, as for layer messages)."""

    __slots__ = ("channel_name", "consumer")

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.channel_name = consumer.channel_name

    async def send(self, text_data: str | None = None) -> None:
        consumer = self.consumer
        event = {"type": BROADCAST_TYPE, "text": text_data, "exclude": ""}
        try:
            lock = consumer._dispatch_lock
            if lock is None:
                await consumer.chanspec_broadcast(event)
                return
            async with lock:
                await consumer.chanspec_broadcast(event)
        except Exception:
            log.exception("%s.chanspec_broadcast failed", type(consumer).__qualname__)

    def fanout_event(
        self, data: Any, cache: dict[Any, Any]
    ) -> str | Callable[[], Awaitable[None]] | None:
        return self.consumer.fanout_event(data, cache)


def _keys(value: Any, convert: Callable[[str], str]) -> Any:
    """``value`` with every mapping key passed through ``convert``, recursively."""
    if isinstance(value, dict):
        return {
            convert(k) if isinstance(k, str) else k: _keys(v, convert) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_keys(v, convert) for v in value]
    return value


def _wire_text(cls: type[Consumer], message: BaseModel) -> str:
    """The JSON text of ``message`` on ``cls``'s wire: by alias, optional None omitted, and
    with camelCase keys when ``cls.camelize`` is on."""
    if not cls.camelize:
        return message.model_dump_json(by_alias=True)
    data = _keys(message.model_dump(mode="json", by_alias=True), to_camel)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # as pydantic writes


def _as_groups(groups: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if groups is None:
        return list(default)
    if isinstance(groups, str):
        return [groups]
    return list(groups)
