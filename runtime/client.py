"""What generated typed clients (``generated/client.py``) run on: one WebSocket connection to
one channel, typed frames in both directions, optional reconnection with exponential backoff.

A generated client class derives from :class:`ChannelClient`, parametrised with the channel's
outgoing union (the messages the server sends), and sets :attr:`ChannelClient.address` and
:attr:`ChannelClient.outgoing_types`. Its methods build message models and call
:meth:`ChannelClient.send_model` / :meth:`ChannelClient.request_model`; iterating over it yields
the server's frames parsed into those models, or :class:`ErrorFrame` for error frames
(``docs/wire-protocol.md``). See ``docs/client.md``.

The WebSocket library (`websockets <https://websockets.readthedocs.io>`_ >= 13, the ``client``
extra of chanspec) is imported when a client connects, not when this module is imported, so
``import chanspec.runtime`` works without it.

Credentials follow the AsyncAPI 3.0 Security Scheme Object as a WebSocket handshake can carry
them, matching what the server side reads (:mod:`chanspec.runtime.auth`): ``httpApiKey`` in the
query string, a header or a cookie (:class:`ApiKeyCredential`); ``http`` bearer, ``oauth2`` and
``openIdConnect`` as ``Authorization: Bearer`` (:class:`BearerCredential`); ``http`` basic,
``userPassword`` and ``apiKey`` (``in: user|password``) as ``Authorization: Basic``
(:class:`BasicCredential`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import logging
import random
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Literal,
    ParamSpec,
    Self,
    TypedDict,
    TypeVar,
    cast,
    overload,
)
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

if TYPE_CHECKING:
    from types import TracebackType

    from websockets.asyncio.client import ClientConnection

__all__ = [
    "ApiKeyCredential",
    "Backoff",
    "BasicCredential",
    "BearerCredential",
    "BoundOperation",
    "ChannelClient",
    "ClientClosed",
    "ClientOptions",
    "ClientError",
    "ConnectionLost",
    "Credential",
    "ErrorDetail",
    "ErrorFrame",
    "ErrorFrameReceived",
    "ErrorPayload",
    "HandshakeRejected",
    "Operation",
    "UnexpectedFrame",
    "build_message",
    "expand_address",
    "payload",
    "request",
    "send",
]

log = logging.getLogger("chanspec.client")

OutT = TypeVar("OutT")
M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
R = TypeVar("R")
R1 = TypeVar("R1", bound=BaseModel)
R2 = TypeVar("R2", bound=BaseModel)
R3 = TypeVar("R3", bound=BaseModel)
R4 = TypeVar("R4", bound=BaseModel)

#: Completion frames a server may send after handling a frame (``send_completion``, chanx);
#: they carry no message of the channel and are skipped by iteration.
COMPLETION_ACTIONS = frozenset({"complete", "group_complete", "event_complete"})

#: HTTP statuses and close codes that refuse a client for good (authentication, not found):
#: a reconnecting client gives up instead of retrying them.
FATAL_STATUSES = frozenset({400, 401, 403, 404, 501})
FATAL_CLOSE_CODES = frozenset({4401, 4403, 4501})


# ---- the error frame --------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """One located error of a ``validation_error`` frame: pydantic's ``loc``/``msg``/``type``."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorPayload(BaseModel):
    """Payload of an error frame.

    Attributes:
        code: a stable code (``invalid_json``, ``validation_error``, ``handler_error``, ...;
            :class:`chanspec.runtime.ErrorCode` lists them; unknown codes are kept as text).
        detail: a human-readable sentence.
        errors: located errors, for ``validation_error`` only.
    """

    model_config = ConfigDict(extra="allow")

    code: str
    detail: str
    errors: list[ErrorDetail] | None = None


class ErrorFrame(BaseModel):
    """``{"action": "error", "payload": {...}}``: the server's answer to a bad frame.

    The connection stays open after it (``docs/wire-protocol.md``).
    """

    model_config = ConfigDict(extra="allow")

    action: Literal["error"] = "error"
    payload: ErrorPayload


# ---- errors -----------------------------------------------------------------------------------


class ClientError(Exception):
    """Base of the errors a :class:`ChannelClient` raises."""


class ClientClosed(ClientError):
    """The client is closed (by :meth:`ChannelClient.close`, or the server without reconnect)."""


class ConnectionLost(ClientError):
    """The connection dropped while a request waited for its reply (the server may or may not
    have handled the request)."""


class HandshakeRejected(ClientError):
    """The server refused the handshake: an HTTP status (e.g. 403, 404) or a close code
    right after it (4401 missing credentials, 4403 rejected, 4501 verifier missing).

    Attributes:
        status: the HTTP status, or ``None``.
        close_code: the WebSocket close code, or ``None``.
    """

    def __init__(self, message: str, *, status: int | None = None, close_code: int | None = None):
        super().__init__(message)
        self.status = status
        self.close_code = close_code


class UnexpectedFrame(ClientError):
    """A frame that is neither one of the channel's outgoing messages nor an error frame.

    Attributes:
        text: the frame as received (``str`` for text frames, ``bytes`` for binary ones).
        errors: why each model rejected it (pydantic's error list), possibly empty.
    """

    def __init__(self, text: str | bytes, errors: Sequence[Any] = ()) -> None:
        shown = text if len(text) <= 200 else text[:200]
        super().__init__(f"frame matches no message of the channel: {shown!r}")
        self.text = text
        self.errors = list(errors)


class ErrorFrameReceived(ClientError):
    """A request was answered with an error frame instead of its reply.

    Attributes:
        frame: the :class:`ErrorFrame`.
    """

    def __init__(self, frame: ErrorFrame) -> None:
        super().__init__(f"{frame.payload.code}: {frame.payload.detail}")
        self.frame = frame


# ---- reconnection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between reconnection attempts.

    The n-th delay (n = 0, 1, ...) is ``min(maximum, initial * factor**n)`` seconds, each
    multiplied by a random factor in ``[1 - jitter, 1 + jitter]`` so that many clients do not
    reconnect in lockstep. ``attempts`` bounds the attempts after one loss (``None``: forever);
    when they are used up the client closes (iteration ends, sends raise :class:`ClientClosed`).
    A successful connection starts the sequence again.

    Defaults (0.5 s doubling up to 30 s, 10 % jitter) follow common practice, e.g. the
    ``websockets`` library's own reconnection.
    """

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.1
    attempts: int | None = None

    def delays(self) -> AsyncIterator[float]:
        """The delays in seconds, sleeping each one before yielding it."""
        return self._delays()

    async def _delays(self) -> AsyncIterator[float]:
        n = 0
        while self.attempts is None or n < self.attempts:
            base = min(self.maximum, self.initial * self.factor**n)
            delay = max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))
            await asyncio.sleep(delay)
            yield delay
            n += 1


# ---- credentials ------------------------------------------------------------------------------


class Credential:
    """A credential applied to the WebSocket handshake (a header or a query parameter)."""

    def apply(self, headers: list[tuple[str, str]], query: list[tuple[str, str]]) -> None:
        """Add what this credential sends to ``headers`` / ``query`` (no-op without a value)."""
        raise NotImplementedError


@dataclass(frozen=True)
class ApiKeyCredential(Credential):
    """``httpApiKey``: ``value`` as query parameter, header or cookie ``name`` (AsyncAPI ``in``).

    ``value=None`` sends nothing.
    """

    name: str
    location: Literal["query", "header", "cookie"]
    value: str | None = field(default=None, repr=False)

    def apply(self, headers: list[tuple[str, str]], query: list[tuple[str, str]]) -> None:
        """See :meth:`Credential.apply`."""
        if self.value is None:
            return
        if self.location == "query":
            query.append((self.name, self.value))
        elif self.location == "header":
            headers.append((self.name, self.value))
        else:
            headers.append(("Cookie", f"{self.name}={quote(self.value, safe='')}"))


@dataclass(frozen=True)
class BearerCredential(Credential):
    """``Authorization: Bearer <token>`` (``http`` bearer, ``oauth2``, ``openIdConnect``)."""

    token: str | None = field(default=None, repr=False)

    def apply(self, headers: list[tuple[str, str]], query: list[tuple[str, str]]) -> None:
        """See :meth:`Credential.apply`."""
        if self.token is not None:
            headers.append(("Authorization", f"Bearer {self.token}"))


@dataclass(frozen=True)
class BasicCredential(Credential):
    """``Authorization: Basic`` (RFC 7617) with ``user:password`` in UTF-8.

    For ``http`` basic and ``userPassword`` schemes; an ``apiKey`` scheme with ``in: user``
    sends its key as the user (empty password), ``in: password`` as the password.
    """

    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_pair(cls, pair: tuple[str, str] | None) -> BasicCredential:
        """``(user, password)``, or ``None`` for a credential that sends nothing."""
        return cls() if pair is None else cls(pair[0], pair[1])

    def apply(self, headers: list[tuple[str, str]], query: list[tuple[str, str]]) -> None:
        """See :meth:`Credential.apply`."""
        if self.user is None and self.password is None:
            return
        raw = f"{self.user or ''}:{self.password or ''}".encode()
        headers.append(("Authorization", "Basic " + base64.b64encode(raw).decode("ascii")))


# ---- addresses and messages -------------------------------------------------------------------

_PARAM = re.compile(r"\{([^{}]*)\}")


def expand_address(address: str, params: Mapping[str, str]) -> str:
    """``/ws/room/{room_name}`` with ``{"room_name": "a b"}`` -> ``/ws/room/a%20b``.

    Each ``{name}`` of the AsyncAPI channel address is replaced by the percent-encoded value
    (RFC 3986, nothing kept unencoded, so a value is always one path segment); a leading ``/``
    is added when the address has none (the route chanspec serves).

    Raises:
        KeyError: a parameter of the address has no value.
    """

    def value(match: re.Match[str]) -> str:
        return quote(str(params[match.group(1)]), safe="")

    path = _PARAM.sub(value, address)
    return path if path.startswith("/") else "/" + path


def build_message(
    model: type[M],
    given: tuple[M, ...],
    fields: Mapping[str, Any],
    payload: type[BaseModel] | None = None,
    payload_field: str = "payload",
    payload_required: bool = True,
) -> M:
    """The message a generated ``send_*`` / ``request_*`` method sends.

    Args:
        model: the message model.
        given: the positional arguments: one instance of ``model``, or none.
        fields: keyword arguments: the payload's fields (with ``payload``), else the message's.
        payload: the payload model when the method takes its fields, else ``None``.
        payload_field: the message's field holding the payload.
        payload_required: whether the message requires the payload; an optional payload is
            left out when no field is given.

    Returns:
        The validated message.

    Raises:
        TypeError: both a message and fields, or more than one message, or not a ``model``.
        pydantic.ValidationError: the fields do not make a valid message.
    """
    if given:
        if len(given) > 1 or fields:
            raise TypeError(f"pass one {model.__name__} or its fields as keywords, not both")
        if not isinstance(given[0], model):
            raise TypeError(f"expected {model.__name__}, got {type(given[0]).__name__}")
        return given[0]
    if payload is None:
        return model.model_validate(dict(fields))
    if not fields and not payload_required:
        return model.model_validate({})
    return model.model_validate({payload_field: payload.model_validate(dict(fields))})


class ClientOptions(TypedDict, total=False):
    """Keyword options of every client (see :class:`ChannelClient` for their meaning)."""

    reconnect: bool | Backoff
    timeout: float | None
    open_timeout: float | None
    headers: Mapping[str, str] | None
    connect_options: Mapping[str, Any] | None
    max_queue: int | None


# ---- the client -------------------------------------------------------------------------------

_CLOSED = object()

#: Default bound of the frames waiting for iteration (:class:`ChannelClient` ``max_queue``).
DEFAULT_MAX_QUEUE = 1024


@dataclass
class _Pending:
    replies: tuple[type[BaseModel], ...]
    future: asyncio.Future[BaseModel]


class ChannelClient(Generic[OutT]):
    """An async WebSocket client of one AsyncAPI channel (base of generated clients).

    Use it as an async context manager (connects on enter, closes on exit) or call
    :meth:`connect` / :meth:`close`. ``async for message in client`` yields every frame the
    server sends that is not a reply a request is waiting for, parsed into the channel's
    outgoing models (``OutT``) or :class:`ErrorFrame`; it ends when the client is closed.

    Args:
        base_url: ``ws://host:port`` or ``wss://...`` (a path prefix is kept); the channel's
            address, with path parameters filled in, is appended.
        path_params: ``{parameter name: value}`` for the address's ``{...}`` parameters.
        credentials: applied to every handshake (see :class:`Credential`).
        reconnect: ``False`` (default): a dropped connection closes the client. ``True`` or a
            :class:`Backoff`: reconnect with exponential backoff (``True`` = ``Backoff()``);
            iteration continues across reconnections, sends wait for the new connection.
            Requests waiting for a reply when the connection drops raise
            :class:`ConnectionLost` (a frame in flight may or may not have been handled).
        timeout: seconds a request waits for its reply and a send waits for a connection
            (default 10; ``None``: no limit).
        open_timeout: seconds for the opening handshake (default 10).
        headers: extra handshake headers.
        connect_options: more keyword arguments for ``websockets.asyncio.client.connect``
            (``ssl``, ``max_size``, ``proxy``, ``ping_interval``, ...).
        max_queue: at most this many received frames wait for iteration / :meth:`receive`
            (default 1024; ``None``: no bound). When that many wait, the client stops reading
            from the socket until the application takes one: nothing is dropped, the server's
            writes slow down (websockets pauses reading its transport once its own buffer of
            ``connect_options["max_queue"]`` frames, default 16, is full; TCP flow control does
            the rest). Meanwhile replies to requests are not read either (a request waits, up to
            ``timeout``, behind the unread frames) and keepalive pongs are not read (websockets
            closes a connection whose pong is late by ``ping_timeout``, default 20 s; with
            ``reconnect`` the client reconnects). Iterate, or close clients you only send with.

    Raises:
        ValueError: ``base_url`` is not ``ws://`` / ``wss://``, or ``max_queue`` is below 1.

    Replies are matched in order: the server handles a connection's frames in arrival order
    (``docs/wire-protocol.md``), so a frame that is one of the oldest waiting request's reply
    models answers it, and an error frame arriving while requests wait fails the oldest one
    (:class:`ErrorFrameReceived`). Everything else goes to iteration.
    """

    address: ClassVar[str] = "/"
    """The channel address (AsyncAPI ``channels.<id>.address``), with ``{parameters}``."""
    outgoing_types: ClassVar[tuple[type[BaseModel], ...]] = ()
    """The models the server sends on the channel (its outgoing union)."""

    _adapter: ClassVar[TypeAdapter[Any] | None] = None

    def __init__(
        self,
        base_url: str,
        path_params: Mapping[str, str] | None = None,
        credentials: Sequence[Credential] = (),
        *,
        reconnect: bool | Backoff = False,
        timeout: float | None = 10.0,
        open_timeout: float | None = 10.0,
        headers: Mapping[str, str] | None = None,
        connect_options: Mapping[str, Any] | None = None,
        max_queue: int | None = DEFAULT_MAX_QUEUE,
    ) -> None:
        if max_queue is not None and max_queue < 1:
            raise ValueError(f"max_queue must be at least 1 (None: no bound), got {max_queue}")
        self.max_queue = max_queue
        self.backoff: Backoff | None = (
            (Backoff() if reconnect is True else reconnect) if reconnect else None
        )
        self.timeout = timeout
        self.open_timeout = open_timeout
        self.connect_options = dict(connect_options or {})
        header_list = list((headers or {}).items())
        query: list[tuple[str, str]] = []
        for credential in credentials:
            credential.apply(header_list, query)
        self.headers = header_list
        self.url = self._url(base_url, expand_address(self.address, path_params or {}), query)
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        # Frames for iteration. The bound (max_queue) is kept by the reader, which waits for
        # ``_space`` before queuing a frame; the end marker and a terminal error always fit.
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._space = asyncio.Event()
        self._pending: deque[_Pending] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self._terminal: ClientError | None = None
        self._send_lock = asyncio.Lock()
        self.connections = 0
        """How many times the client has connected (1 after :meth:`connect`, +1 per reconnect)."""

    @staticmethod
    def _url(base_url: str, path: str, query: list[tuple[str, str]]) -> str:
        parts = urlsplit(base_url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError(f"base_url must start with ws:// or wss://, got {base_url!r}")
        joined = parts.path.rstrip("/") + path
        old = [parts.query] if parts.query else []
        return urlunsplit(
            (parts.scheme, parts.netloc, joined, "&".join([*old, urlencode(query)]).strip("&"), "")
        )

    @classmethod
    def _outgoing(cls) -> TypeAdapter[Any]:
        """A TypeAdapter of the outgoing union, built once per class."""
        adapter = cls.__dict__.get("_adapter")
        if adapter is None:
            union: Any = cls.outgoing_types[0]
            for model in cls.outgoing_types[1:]:
                union = union | model
            adapter = TypeAdapter(union)
            cls._adapter = adapter
        return adapter

    # ---- connection -----------------------------------------------------------------------

    async def connect(self) -> Self:
        """Open the connection (and start reading frames).

        Raises:
            HandshakeRejected: the server refused the handshake.
            OSError, TimeoutError: the server cannot be reached (also with ``reconnect``: the
                first connection must succeed).
            ClientClosed: the client was closed before.
        """
        if self._closed:
            raise ClientClosed("the client is closed")
        if self._reader is not None:
            return self
        self._ws = await self._open()
        self._reader = asyncio.create_task(self._read(), name=f"chanspec-client {self.url}")
        return self

    async def _open(self) -> ClientConnection:
        try:
            from websockets.asyncio.client import connect
            from websockets.exceptions import InvalidStatus
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the chanspec client needs the 'websockets' package: pip install 'chanspec[client]'"
            ) from exc
        try:
            ws = await connect(
                self.url,
                additional_headers=self.headers,
                open_timeout=self.open_timeout,
                **self.connect_options,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            raise HandshakeRejected(
                f"{self._safe_url()}: handshake refused with HTTP {status}", status=status
            ) from exc
        self.connections += 1
        self._connected.set()
        return ws

    def _safe_url(self) -> str:
        """The URL without its query string (it may carry an API key)."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    async def close(self) -> None:
        """Close the connection and stop reconnecting; iteration ends, waiting requests fail
        with :class:`ClientClosed`. Idempotent."""
        self._closed = True
        self._connected.clear()
        self._space.set()  # a reader held up by a full queue drains the socket (frames dropped)
        reader, self._reader = self._reader, None
        if self._ws is not None:
            await self._ws.close()
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._finish(ClientClosed("the client is closed"))

    def _finish(self, error: ClientError, *, visible: bool = False) -> None:
        """Fail waiting requests with ``error`` and end iteration (raising ``error`` first
        when ``visible``: a refusal must not look like a normal end)."""
        self._fail_pending(error)
        if self._terminal is None:
            self._terminal = error
        if visible:
            self._queue.put_nowait(error)
        self._queue.put_nowait(_CLOSED)

    def _fail_pending(self, error: ClientError) -> None:
        while self._pending:
            pending = self._pending.popleft()
            if not pending.future.done():
                pending.future.set_exception(error)

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- reading --------------------------------------------------------------------------

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            ws = self._ws
            assert ws is not None
            try:
                async for text in ws:
                    await self._dispatch(text)
            except ConnectionClosed:
                pass
            self._connected.clear()
            code = ws.protocol.close_code
            if self._closed:
                return
            if self.backoff is None or code in FATAL_CLOSE_CODES:
                error: ClientError = (
                    HandshakeRejected(f"{self._safe_url()}: closed with {code}", close_code=code)
                    if code in FATAL_CLOSE_CODES
                    else ClientClosed(f"{self._safe_url()}: the server closed the connection")
                )
                self._closed = True
                self._finish(error, visible=isinstance(error, HandshakeRejected))
                return
            self._fail_pending(ConnectionLost(f"{self._safe_url()}: connection lost"))
            log.info("%s: connection lost (close code %s); reconnecting", self._safe_url(), code)
            failure = await self._reconnect()
            if failure is not None:
                self._closed = True
                self._finish(failure, visible=isinstance(failure, HandshakeRejected))
                return

    async def _reconnect(self) -> ClientError | None:
        """``None`` once reconnected; else why it gave up (a refusal, or the backoff's attempts
        used up)."""
        assert self.backoff is not None
        async for _ in self.backoff.delays():
            try:
                self._ws = await self._open()
            except HandshakeRejected as exc:
                if exc.status in FATAL_STATUSES:
                    log.warning("%s", exc)
                    return exc
            except (OSError, TimeoutError) as exc:
                log.info("%s: reconnect failed: %s", self._safe_url(), exc)
            except Exception as exc:  # websockets' handshake errors (InvalidMessage, ...)
                log.info("%s: reconnect failed: %r", self._safe_url(), exc)
            else:
                log.info("%s: reconnected", self._safe_url())
                return None
        return ClientClosed(f"{self._safe_url()}: reconnection gave up")

    def _parse(self, text: str | bytes) -> BaseModel | None:
        """The frame as a model, ``None`` for a completion frame; raises UnexpectedFrame."""
        try:
            data = json.loads(text)
        except ValueError:
            raise UnexpectedFrame(text) from None
        errors: list[Any] = []
        tag = data.get("action") if isinstance(data, dict) else None
        if tag == "error":  # before the union: a permissive message must not swallow errors
            try:
                return ErrorFrame.model_validate(data)
            except ValidationError as exc:
                errors += exc.errors(include_url=False)
        if self.outgoing_types:
            try:
                parsed: BaseModel = self._outgoing().validate_python(data)
                return parsed
            except ValidationError as exc:
                errors += exc.errors(include_url=False)
        if isinstance(data, dict) and tag in COMPLETION_ACTIONS and len(data) == 1:
            return None
        raise UnexpectedFrame(text, errors)

    async def _enqueue(self, item: object) -> None:
        """Queue one frame for iteration, first waiting while ``max_queue`` frames wait (the
        socket is not read meanwhile: backpressure, nothing dropped). After :meth:`close`
        frames are dropped: iteration yields what was queued before, then ends."""
        limit = self.max_queue
        while limit is not None and self._queue.qsize() >= limit and not self._closed:
            self._space.clear()
            await self._space.wait()
        if not self._closed:
            self._queue.put_nowait(item)

    async def _dispatch(self, text: str | bytes) -> None:
        try:
            model = self._parse(text)
        except UnexpectedFrame as exc:
            await self._enqueue(exc)
            return
        if model is None:
            return
        if self._pending:
            oldest = self._pending[0]
            if isinstance(model, ErrorFrame):
                self._pending.popleft()
                if not oldest.future.done():
                    oldest.future.set_exception(ErrorFrameReceived(model))
                return
            if isinstance(model, oldest.replies):
                self._pending.popleft()
                if not oldest.future.done():
                    oldest.future.set_result(model)
                return
        await self._enqueue(model)

    @property
    def queued(self) -> int:
        """How many received frames wait for iteration (at most ``max_queue``, plus the end
        marker and a terminal error once the client is closed)."""
        return self._queue.qsize()

    async def _take(self, timeout: float | None = None) -> object:
        item = await asyncio.wait_for(self._queue.get(), timeout)
        self._space.set()  # the reader may queue the next frame
        return item

    def __aiter__(self) -> AsyncIterator[OutT | ErrorFrame]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[OutT | ErrorFrame]:
        while True:
            item = await self._take()
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)  # every later iteration ends too
                return
            if isinstance(item, ClientError):
                raise item
            yield item  # type: ignore[misc]

    async def receive(self, timeout: float | None = None) -> OutT | ErrorFrame:
        """The next frame iteration would yield.

        Raises:
            TimeoutError: none arrived within ``timeout`` seconds (``None``: wait forever).
            ClientClosed: the client is closed and every frame has been received.
            UnexpectedFrame: the frame matches no model of the channel.
        """
        item = await self._take(timeout)
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)
            raise ClientClosed("the client is closed")
        if isinstance(item, ClientError):
            raise item
        return item  # type: ignore[return-value]

    # ---- sending --------------------------------------------------------------------------

    async def _connection(self) -> ClientConnection:
        if self._closed:
            raise self._terminal or ClientClosed("the client is closed")
        if self._reader is None:
            raise ClientClosed("the client is not connected: use 'async with' or connect()")
        if not self._connected.is_set():
            try:
                await asyncio.wait_for(self._connected.wait(), self.timeout)
            except TimeoutError:
                raise ClientClosed(f"{self._safe_url()}: not connected") from None
            if self._closed:
                raise self._terminal or ClientClosed("the client is closed")
        assert self._ws is not None
        return self._ws

    async def send_raw(self, frame: str | bytes) -> None:
        """Send one frame as is (a text or binary frame); for tests and protocol experiments.

        Raises:
            ClientClosed: not connected (after waiting ``timeout`` seconds for a reconnection).
        """
        from websockets.exceptions import ConnectionClosed

        async with self._send_lock:
            while True:
                ws = await self._connection()
                try:
                    await ws.send(frame)
                    return
                except ConnectionClosed:
                    code = ws.protocol.close_code
                    if code in FATAL_CLOSE_CODES:
                        raise HandshakeRejected(
                            f"{self._safe_url()}: closed with {code}", close_code=code
                        ) from None
                    if self.backoff is None:
                        raise ClientClosed(f"{self._safe_url()}: connection closed") from None
                    if self._ws is ws:  # the reader has not noticed yet: wait for its reconnect
                        self._connected.clear()

    async def send_model(self, message: BaseModel) -> None:
        """Send ``message`` as one JSON text frame, by alias, optional ``None`` fields left out
        (exactly what the server validates, see :class:`chanspec.runtime.Message`)."""
        await self.send_raw(message.model_dump_json(by_alias=True))

    async def request_model(self, message: BaseModel, replies: tuple[type[BaseModel], ...]) -> Any:
        """Send ``message`` and wait for the first frame that is one of ``replies``.

        Returns:
            The reply model.

        Raises:
            ErrorFrameReceived: the server answered with an error frame.
            TimeoutError: no reply within ``timeout`` seconds.
            ConnectionLost: the connection dropped before the reply came.
            ClientClosed: the client is (or gets) closed.
        """
        future: asyncio.Future[BaseModel] = asyncio.get_running_loop().create_future()
        pending = _Pending(replies, future)
        await self._connection()
        self._pending.append(pending)
        try:
            await self.send_model(message)
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        finally:
            if pending in self._pending:
                self._pending.remove(pending)
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: a failed send may leave the future failed too


# ---- operations: the send_* / request_* methods of generated clients ----------------------------

#: The most reply models :func:`request` types exactly (its return type is their union).
TYPED_REPLIES = 4


#: The attribute :func:`payload` sets on a keyword signature: the payload model it describes.
PAYLOAD_ATTRIBUTE = "__chanspec_payload__"


def payload(model: type[BaseModel]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a keyword signature of :func:`send` / :func:`request` as ``model``'s fields.

    A method taking such keywords builds ``model`` from them and sends it as the message's
    ``payload`` field (an envelope message ``{"action", "payload"}``); without the mark the
    keywords are the message's own fields. Returns the function unchanged (the mark is an
    attribute named :data:`PAYLOAD_ATTRIBUTE`).
    """

    def mark(keywords: Callable[P, R]) -> Callable[P, R]:
        setattr(keywords, PAYLOAD_ATTRIBUTE, model)
        return keywords

    return mark


class Operation(Generic[M, P, R]):
    """A ``send_*`` or ``request_*`` method of a generated client, declared as a class attribute
    (built by :func:`send` and :func:`request`, which give it its type).

    On an instance, ``client.send_post`` is a :class:`BoundOperation`: awaiting
    ``client.send_post(message)`` sends one instance of the message model, and
    ``client.send_post(**fields)`` builds it from keyword arguments first (see
    :func:`build_message`); a ``request_*`` operation then waits for the reply
    (:meth:`ChannelClient.request_model`) and returns it. ``ClientClass.send_post(client, ...)``
    does the same, as for a method.

    Args:
        message: the message model the operation sends (AsyncAPI 3.0 Operation Object
            ``messages``, a single one).
        keywords: a function whose signature is the method's keyword arguments: the fields of
            the payload model it is marked with (:func:`payload`), else the message's own
            fields. Never called: its signature types the method (``typing.ParamSpec``) and
            checks the keyword names of a call (``TypeError`` for an unknown or a missing one,
            as for a method).
        replies: the reply models (the operation's ``reply.messages``); empty: send only.

    With a payload, the message's ``payload`` field is left out when no keyword is given and
    the field is not required (``payload: P | None = None``), else built from the keywords.
    """

    __slots__ = ("message", "name", "payload", "payload_required", "replies", "signature")

    def __init__(
        self,
        message: type[M],
        keywords: Callable[P, object],
        replies: tuple[type[BaseModel], ...] = (),
    ) -> None:
        self.message = message
        returns = " | ".join(reply.__name__ for reply in replies) or "None"
        self.signature = inspect.signature(keywords).replace(return_annotation=returns)
        self.replies = replies
        self.payload: type[BaseModel] | None = getattr(keywords, PAYLOAD_ATTRIBUTE, None)
        field = message.model_fields.get("payload")
        self.payload_required = field is None or field.is_required()
        self.name = "operation"

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: ChannelClient[Any], owner: type[Any]) -> BoundOperation[M, P, R]: ...
    def __get__(
        self, client: ChannelClient[Any] | None, owner: type[Any]
    ) -> Self | BoundOperation[M, P, R]:
        return self if client is None else BoundOperation(self, client)

    def build(self, given: tuple[Any, ...], fields: Mapping[str, Any]) -> M:
        """The message a call with positional ``given`` and keyword ``fields`` sends.

        Raises:
            TypeError: both a message and keywords, a wrong message type, or keywords the
                method does not take (or lacking a required one).
            pydantic.ValidationError: the keywords do not make a valid message.
        """
        if not given:
            try:
                self.signature.bind(**fields)
            except TypeError as exc:
                raise TypeError(f"{self.name}(): {exc}") from None
        message: M = build_message(
            self.message, given, fields, self.payload, "payload", self.payload_required
        )
        return message

    async def invoke(
        self, client: ChannelClient[Any], given: tuple[Any, ...], fields: Mapping[str, Any]
    ) -> R:
        """Send the message on ``client``; for a request, wait for and return the reply."""
        message = self.build(given, fields)
        if not self.replies:
            await client.send_model(message)
            return cast(R, None)
        return cast(R, await client.request_model(message, self.replies))

    async def __call__(self, client: ChannelClient[Any], /, *given: Any, **fields: Any) -> R:
        """``ClientClass.send_post(client, ...)``: as ``client.send_post(...)``."""
        return await self.invoke(client, given, fields)

    def __repr__(self) -> str:
        return f"<operation {self.name}: {self.message.__name__}>"


class BoundOperation(Generic[M, P, R]):
    """An :class:`Operation` of one client: call it with the message model or its keywords.

    ``await client.send_post(PostMessage(...))`` or ``await client.send_post(message="hi")``;
    returns ``None`` for a ``send_*`` operation, the reply for a ``request_*`` one.

    Raises:
        TypeError, pydantic.ValidationError: see :meth:`Operation.build`.
        ErrorFrameReceived, TimeoutError, ConnectionLost, ClientClosed: as
            :meth:`ChannelClient.request_model` and :meth:`ChannelClient.send_raw`.
    """

    __signature__: inspect.Signature
    """The keyword signature (what ``inspect.signature`` and interactive help show)."""

    def __init__(self, operation: Operation[M, P, R], client: ChannelClient[Any]) -> None:
        self.operation = operation
        self.client = client
        self.__signature__ = operation.signature

    @overload
    async def __call__(self, message: M, /) -> R: ...
    @overload
    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    async def __call__(self, *given: Any, **fields: Any) -> R:
        return await self.operation.invoke(self.client, given, fields)

    def __repr__(self) -> str:
        return f"<bound operation {self.operation.name} of {self.client!r}>"


def send(message: type[M], keywords: Callable[P, object]) -> Operation[M, P, None]:
    """A ``send_*`` method: sends one ``message``, given as a model or as ``keywords``.

    ``send_post = send(PostMessage, _text)`` in a client class; see :class:`Operation`.
    """
    return Operation(message, keywords)


@overload
def request(
    message: type[M], keywords: Callable[P, object], reply: type[R1], /
) -> Operation[M, P, R1]: ...
@overload
def request(
    message: type[M], keywords: Callable[P, object], reply: type[R1], reply2: type[R2], /
) -> Operation[M, P, R1 | R2]: ...
@overload
def request(
    message: type[M],
    keywords: Callable[P, object],
    reply: type[R1],
    reply2: type[R2],
    reply3: type[R3],
    /,
) -> Operation[M, P, R1 | R2 | R3]: ...
@overload
def request(
    message: type[M],
    keywords: Callable[P, object],
    reply: type[R1],
    reply2: type[R2],
    reply3: type[R3],
    reply4: type[R4],
    /,
) -> Operation[M, P, R1 | R2 | R3 | R4]: ...
def request(
    message: type[M], keywords: Callable[P, object], *replies: type[BaseModel]
) -> Operation[M, P, Any]:
    """A ``request_*`` method: sends ``message`` (a model or ``keywords``) and returns the reply,
    typed as the union of the reply models (one to :data:`TYPED_REPLIES` of them; an operation
    with more replies gets a method taking the model instead).

    ``request_ping = request(PingMessage, _ping, PongMessage)`` in a client class; see
    :class:`Operation`.

    Raises:
        ValueError: no reply model.
    """
    if not replies:
        raise ValueError("request() needs at least one reply model")
    return Operation(message, keywords, replies)
