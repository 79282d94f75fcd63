"""In-process test communicator for chanspec consumers (no server, no network).

:class:`Communicator` runs one consumer class as an ASGI application inside the test's event
loop, on top of fast-channels' ``WebsocketCommunicator``, and speaks the chanspec wire protocol
(JSON text frames)::

    from chanspec.runtime.testing import Communicator

    async def test_join() -> None:
        async with Communicator(ChatConsumer, "/ws/room/lobby") as chat:
            await chat.send(SendChat(payload=ChatPayload(text="hi")))
            reply = await chat.receive_message(ChatSent)
            assert reply.payload.text == "hi"

Path parameters are derived from the consumer's ``address`` (``/ws/room/{room_name}``), so
``self.path_params`` and the group templates see what a real route would give them. Channel
layers must be registered first (``register_layers([LayerSpec("mem", "memory")])``).

This module is imported only by tests; it depends on nothing beyond the runtime itself (no
pytest), and is deliberately not exported from ``chanspec.runtime``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, MutableMapping
from types import TracebackType
from typing import Any, TypeVar

from fast_channels.testing import WebsocketCommunicator
from pydantic import BaseModel
from starlette.routing import compile_path

from .consumer import Consumer

__all__ = ["ClosedError", "Communicator", "CommunicatorError", "path_params_for"]

M = TypeVar("M", bound=BaseModel)

Headers = Mapping[str, str] | Iterable[tuple[bytes, bytes]]


class CommunicatorError(AssertionError):
    """The consumer sent something the test did not expect (a binary frame, text that is not
    a JSON object, an ``accept`` outside the handshake ...).

    It derives from ``AssertionError`` so that pytest reports it as a failed expectation.

    Attributes:
        output: the raw ASGI message the consumer sent, or ``None``.
    """

    def __init__(self, message: str, output: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.output = output


class ClosedError(CommunicatorError):
    """The consumer closed the connection while the test waited for a frame.

    Attributes:
        code: the WebSocket close code the consumer sent (e.g. 4401), ``None`` if it ended
            without sending a close.
    """

    def __init__(self, code: int | None, output: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"the consumer closed the connection (code {code})", output)
        self.code = code


def path_params_for(address: str, path: str) -> dict[str, str]:
    """Match ``path`` against a channel ``address`` and return its parameters.

    Args:
        address: the channel address with ``{name}`` (or Starlette ``{name:convertor}``)
            segments, e.g. ``/ws/room/{room_name}``.
        path: a concrete path, e.g. ``/ws/room/lobby`` (a query string is ignored).

    Returns:
        ``{name: raw string value}``, e.g. ``{"room_name": "lobby"}``; ``{}`` when the address
        has no parameters.

    Raises:
        ValueError: ``path`` does not match ``address``.
    """
    regex, _, _ = compile_path(address)
    bare = path.split("?", 1)[0]
    match = regex.match(bare)
    if match is None:
        raise ValueError(f"path {bare!r} does not match the address {address!r}")
    return {name: str(value) for name, value in match.groupdict().items()}


def _header_list(headers: Headers | None) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return [(bytes(k).lower(), bytes(v)) for k, v in headers]


class Communicator:
    """Drive one connection to a consumer class, in process.

    Args:
        consumer: the consumer class (a :class:`~chanspec.runtime.Consumer` subclass).
        path: the request path, e.g. ``"/ws/room/lobby"``; a ``?query`` part becomes the query
            string unless ``query_string`` is given.
        path_params: ``scope["path_params"]``; default (``None``): derived by matching ``path``
            against ``consumer.address`` (``{}`` when the class has no address).
        headers: request headers, as ``{"name": "value"}`` or ASGI ``[(b"name", b"value")]``;
            names are lower-cased.
        query_string: raw query string (without ``?``), e.g. ``b"token=abc"``.
        subprotocols: requested WebSocket subprotocols.

    Raises:
        ValueError: ``path_params`` is ``None`` and ``path`` does not match the address.

    The consumer instance is created when the connection starts and is available as
    :attr:`instance` (e.g. ``comm.instance.channel_name`` to address it with ``send_event``).
    Every wait is bounded; a timeout raises ``TimeoutError`` and leaves the connection usable.
    """

    def __init__(
        self,
        consumer: type[Consumer],
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        headers: Headers | None = None,
        query_string: bytes = b"",
        subprotocols: Iterable[str] = (),
    ) -> None:
        if path_params is None:
            path_params = path_params_for(consumer.address, path) if consumer.address else {}
        self.consumer_class = consumer
        self._instance: Consumer | None = None
        self._connected = False
        self._finished = False

        async def application(scope: Any, receive: Any, send: Any) -> None:
            instance = consumer()
            self._instance = instance
            await instance(scope, receive, send)

        self._comm = WebsocketCommunicator(
            application, path, headers=_header_list(headers), subprotocols=list(subprotocols)
        )
        scope = self._comm.scope
        if query_string:
            scope["query_string"] = query_string
        scope["raw_path"] = scope["path"].encode()
        scope["path_params"] = dict(path_params)
        scope.setdefault("asgi", {"version": "3.0"})
        scope.setdefault("scheme", "ws")
        scope.setdefault("client", ("127.0.0.1", 50000))
        scope.setdefault("server", ("testserver", 80))

    # ---- state ------------------------------------------------------------------------------

    @property
    def scope(self) -> MutableMapping[str, Any]:
        """The ASGI scope the consumer sees (mutable until :meth:`connect`)."""
        return self._comm.scope

    @property
    def connected(self) -> bool:
        """Whether the consumer accepted the handshake and the client has not disconnected."""
        return self._connected and not self._finished

    @property
    def instance(self) -> Consumer:
        """The consumer instance serving this connection.

        Raises:
            RuntimeError: the connection has not been started (call :meth:`connect`).
        """
        if self._instance is None:
            raise RuntimeError("the connection has not been started; call connect() first")
        return self._instance

    @property
    def channel_name(self) -> str:
        """The connection's channel-layer name (for ``Consumer.send_event``).

        Raises:
            RuntimeError: not started, or the consumer has no channel layer.
        """
        name: str | None = getattr(self.instance, "channel_name", None)
        if name is None:
            raise RuntimeError(f"{self.consumer_class.__qualname__} has no channel layer")
        return name

    # ---- handshake ----------------------------------------------------------------------------

    async def connect(self, timeout: float = 1) -> tuple[bool, int | None]:
        """Open the connection and wait for the consumer's answer to the handshake.

        Args:
            timeout: seconds to wait for ``accept`` or ``close``.

        Returns:
            ``(True, None)`` when the consumer accepted; ``(False, code)`` when it closed
            instead (4401: authentication failed; 4500: its channel layer is not registered).

        Raises:
            TimeoutError: no answer within ``timeout``.
            CommunicatorError: the consumer sent something other than accept/close.
            Exception: whatever the consumer raised while connecting.
        """
        await self._comm.send_input({"type": "websocket.connect"})
        output = await self._output(timeout)
        if output["type"] == "websocket.accept":
            self._connected = True
            return True, None
        if output["type"] == "websocket.close":
            self._connected = False
            return False, int(output.get("code") or 1000)
        raise CommunicatorError(f"expected accept or close, got {output['type']!r}", output)

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        """Close the connection from the client side and wait for the consumer to finish.

        Idempotent. Groups are left and ``Consumer.disconnect`` runs, as with a real client.

        Args:
            code: the close code the client sends.
            timeout: seconds to wait for the consumer task to end.

        Raises:
            Exception: whatever the consumer raised (during the connection or on disconnect).
        """
        if self._finished:
            return
        self._finished = True
        future = self._comm._future
        if future is None:  # never started
            return
        if future.done():
            if not future.cancelled():
                future.result()
            return
        await self._comm.send_input({"type": "websocket.disconnect", "code": code})
        await self._comm.wait(timeout)

    async def __aenter__(self) -> Communicator:
        """Connect; fail unless the consumer accepted.

        Raises:
            ClosedError: the consumer rejected the handshake (``.code`` holds the close code).
        """
        accepted, code = await self.connect()
        if not accepted:
            await self.disconnect()
            raise ClosedError(code)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect (errors while disconnecting do not hide an error from the block)."""
        if exc is None:
            await self.disconnect()
            return
        try:
            await self.disconnect()
        except Exception:  # the block's own exception is the one to report
            pass

    # ---- sending ------------------------------------------------------------------------------

    async def send(self, message: BaseModel | Mapping[str, Any] | list[Any] | str) -> None:
        """Send one text frame.

        Args:
            message: a pydantic model (dumped as JSON by alias, ``None`` optionals omitted for
                :class:`~chanspec.runtime.Message`), a dict or list (``json.dumps``), or a
                ``str`` sent as is (also invalid JSON, for error tests).
        """
        if isinstance(message, BaseModel):
            text = message.model_dump_json(by_alias=True)
        elif isinstance(message, str):
            text = message
        else:
            text = json.dumps(message)
        await self._comm.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary frame (chanspec answers it with a ``binary_frame`` error)."""
        await self._comm.send_input({"type": "websocket.receive", "bytes": data})

    # ---- receiving ----------------------------------------------------------------------------

    async def receive(self, timeout: float = 1) -> dict[str, Any]:
        """The next frame, decoded.

        Args:
            timeout: seconds to wait.

        Returns:
            The frame as a dict, e.g. ``{"action": "error", "payload": {"code": ...}}``.

        Raises:
            TimeoutError: no frame within ``timeout`` (the connection stays usable).
            ClosedError: the consumer closed the connection instead.
            CommunicatorError: a binary frame, or text that is not a JSON object.
            Exception: whatever the consumer raised.
        """
        output = await self._output(timeout)
        if output["type"] == "websocket.close":
            raise ClosedError(output.get("code"), output)
        if output["type"] != "websocket.send":
            raise CommunicatorError(f"expected a frame, got {output['type']!r}", output)
        text = output.get("text")
        if not isinstance(text, str):
            raise CommunicatorError("expected a text frame, got a binary frame", output)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommunicatorError(f"frame is not JSON: {text[:200]!r}", output) from exc
        if not isinstance(data, dict):
            raise CommunicatorError(f"frame is not a JSON object: {text[:200]!r}", output)
        return data

    async def receive_message(self, model: type[M], timeout: float = 1) -> M:
        """The next frame, validated as ``model``.

        Raises:
            pydantic.ValidationError: the frame is not a valid ``model``.
            TimeoutError, ClosedError, CommunicatorError: as for :meth:`receive`.
        """
        return model.model_validate(await self.receive(timeout))

    async def receive_until(
        self, action: str, timeout: float = 1, *, field: str = "action"
    ) -> list[dict[str, Any]]:
        """Frames up to and including the first whose ``field`` equals ``action``.

        Args:
            action: the value to stop at, e.g. ``"complete"``.
            timeout: seconds for the whole wait (not per frame).
            field: the property compared (default ``"action"``; ``"type"`` etc. for channels
                with another discriminator).

        Returns:
            The frames in arrival order; the last one is the matching frame.

        Raises:
            TimeoutError: the matching frame did not arrive within ``timeout``.
            ClosedError, CommunicatorError: as for :meth:`receive`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        frames: list[dict[str, Any]] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no frame with {field}={action!r}; got {frames!r}")
            frame = await self.receive(remaining)
            frames.append(frame)
            if frame.get(field) == action:
                return frames

    async def receive_nothing(self, timeout: float = 0.1) -> bool:
        """Whether nothing arrives within ``timeout`` seconds (nothing is consumed).

        Returns:
            ``True`` if no frame (or close) was sent by the consumer in that time.

        Raises:
            Exception: whatever the consumer raised.
        """
        result: bool = await self._comm.receive_nothing(timeout)
        return result

    async def _output(self, timeout: float) -> dict[str, Any]:
        """Next ASGI message from the consumer, without cancelling it on timeout."""
        queue = self._comm.output_queue
        future = self._comm.future
        if queue.empty() and not future.done():
            get = asyncio.ensure_future(queue.get())
            try:
                await asyncio.wait(
                    {get, future}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                if not get.done():
                    get.cancel()
            if get.done() and not get.cancelled():
                output: dict[str, Any] = get.result()
                return output
        if not queue.empty():
            queued: dict[str, Any] = queue.get_nowait()
            return queued
        if future.done():
            if not future.cancelled():
                future.result()  # raise what the consumer raised
            raise ClosedError(None)
        raise TimeoutError(f"nothing received from the consumer within {timeout} s")
