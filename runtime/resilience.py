"""Redis channel layers that hold up when Redis goes away and comes back.

fast-channels' Redis layers (1.1.0) leave outages to the caller: the queue layer's ``receive``
raises, which ends the consumer and closes its WebSocket; a failing ``group_discard`` in the
disconnect handler propagates and leaves the membership behind; broadcasts raise whatever
redis-py raised. The layers here are the same classes (``isinstance`` checks against
``RedisChannelLayer`` / ``RedisPubSubChannelLayer`` still hold) with every layer operation
passed through a :class:`LayerGuard`:

- ``receive`` never fails because Redis is unreachable: it waits until the layer is available
  again and retries, so a consumer outlives an outage with its socket open;
- ``group_add`` / ``group_discard`` are recorded per process; when Redis fails they do not
  raise (a connect or a disconnect must complete): the membership is written, or the discard
  carried out, when Redis is back. After a Redis restart without persistence every membership
  of the process's connections is written again;
- ``send`` / ``group_send`` raise :class:`LayerUnavailableError` (naming the layer alias) at
  once while Redis is unreachable; right after Redis returns they wait (at most
  ``ready_timeout`` seconds) until this process is fully back (memberships rewritten, pub/sub
  subscriptions live), so nothing sent after the return is lost on its way to this process;
- a consumer that ends without its disconnect handler (its ``receive`` is cancelled while it is
  still recorded in groups) leaves those groups; fast-channels leaves them until they expire;
- "back" is proven end to end: a probe message sent through the layer to a private channel of
  this process must arrive (for pub/sub this shows the subscriptions were re-established).

A health check (one probe message per ``health_interval`` seconds) notices an outage even when
no operation failed. Guarding starts in an event loop when the first channel is created in it
(the loop that serves consumers); in other loops (``*_sync`` helpers, scripts) operations are
passed through and failures raised as :class:`LayerUnavailableError`.

Guarding ends with the event loop, quietly, whether Redis is up or down: its background tasks
end when they are cancelled (``asyncio.run`` and ``asyncio.Runner`` cancel every task before
closing the loop), and closing the loop without cancelling them (``loop.close()``) ends them
first, as fast-channels does for its own connections (``wrap_close``); ``close()`` on the layer
ends them at any time.

Upstream behaviour followed: fast-channels 1.1.0 ``RedisChannelLayer`` and
``RedisPubSubChannelLayer``; redis-py's pub/sub re-subscribes every channel when its
connection is re-established (``PubSub.on_connect``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import types
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fast_channels.layers.redis import RedisChannelLayer, RedisPubSubChannelLayer
from fast_channels.type_defs import ChannelMessage
from redis import asyncio as aioredis
from redis import exceptions as redis_exceptions

from .errors import ChannelLayerError

__all__ = [
    "REDIS_UNAVAILABLE_ERRORS",
    "LayerGuard",
    "LayerUnavailableError",
    "ResilientRedisChannelLayer",
    "ResilientRedisPubSubChannelLayer",
    "layer_error",
]

log = logging.getLogger("chanspec.layers")

# What "Redis is unreachable" looks like from redis-py: refused/reset connections, timeouts,
# a server still loading its data after a restart, a replica that became read-only, a
# blocking pool without a free connection. ``OSError`` covers socket errors redis-py lets
# through.
REDIS_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis_exceptions.ConnectionError,
    redis_exceptions.TimeoutError,
    redis_exceptions.ReadOnlyError,
    OSError,
)

ECHO_TYPE = "chanspec.layer_probe"


class LayerUnavailableError(ChannelLayerError):
    """The channel layer's backend (Redis) cannot be reached; the operation was not carried out.

    Attributes:
        alias: the channel layer alias (``x-channel-layer``), e.g. ``"chat"``.
        operation: what failed, e.g. ``"group_send to 'room'"``.
        reason: the backend's error text (may name hosts and ports: log it, do not send it to
            clients; the consumer's error frame does not include it).

    A subclass of :class:`~chanspec.runtime.errors.ChannelLayerError`, so existing handlers
    keep working. Raised by ``broadcast_message``, ``broadcast_event``, ``send_event`` (and
    their ``_sync`` variants) while Redis is down; retrying after Redis is back succeeds.
    """

    def __init__(self, alias: str, operation: str, reason: str) -> None:
        self.alias = alias
        self.operation = operation
        self.reason = reason
        super().__init__(f"channel layer {alias!r} is unavailable: {operation} failed ({reason})")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def layer_error(alias: str | None, operation: str, exc: BaseException) -> ChannelLayerError:
    """The runtime's exception for a failed layer operation.

    Args:
        alias: the layer alias (``None`` when unknown: shown as ``"?"``).
        operation: what was attempted, for the message.
        exc: what the backend raised.

    Returns:
        ``exc`` itself when it already is a :class:`ChannelLayerError`; a
        :class:`LayerUnavailableError` when ``exc`` is one of
        :data:`REDIS_UNAVAILABLE_ERRORS`; else a :class:`ChannelLayerError`. The caller raises
        it ``from exc``.
    """
    if isinstance(exc, ChannelLayerError):
        return exc
    if isinstance(exc, REDIS_UNAVAILABLE_ERRORS):
        return LayerUnavailableError(alias or "?", operation, _describe(exc))
    return ChannelLayerError(f"{operation} failed: {exc}")


@dataclass(frozen=True)
class RawOps:
    """The unguarded operations of a layer (bound methods of the fast-channels class)."""

    new_channel: Callable[..., Awaitable[str]]
    send: Callable[[str, ChannelMessage], Awaitable[None]]
    receive: Callable[[str], Awaitable[ChannelMessage]]
    group_add: Callable[[str, str], Awaitable[None]]
    group_discard: Callable[[str, str], Awaitable[None]]
    group_send: Callable[[str, ChannelMessage], Awaitable[None]]
    probe_receive: Callable[[str], Awaitable[ChannelMessage]] | None = None
    """Reads the guard's own probe channel (default ``receive``); cancelling it must have no
    side effect (fast-channels' pub/sub ``receive`` unsubscribes when cancelled)."""
    probe_release: Callable[[str], Awaitable[None]] | None = None
    """Gives up the probe channel when the guard closes (default: nothing to do)."""


def _cancelling() -> bool:
    """Whether the running task is being cancelled: redis-py can turn the cancellation of a
    pending command into a connection error, which a retry loop must not swallow."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass
class _LoopState:
    """Availability of the layer as seen from one event loop that serves consumers."""

    up: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    reachable: bool = False
    down_since: float = 0.0
    echo_channel: str | None = None
    echo_waiters: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    recovery: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.up.set()


class LayerGuard:
    """Availability tracking, retries and membership bookkeeping for one Redis channel layer.

    Args:
        alias: the layer alias, named in errors and logs.
        url: the Redis URL, probed with ``PING`` (own short-lived connection, 1 s timeouts)
            while the layer is down.
        ops: the layer's unguarded operations.
        retry_interval: seconds between probes while down (default 0.25).
        ready_timeout: seconds a send waits for this process to be back once Redis answers
            again (default 5.0); then :class:`LayerUnavailableError`.
        health_interval: seconds between health-check probe messages while up (default 1.0).
        echo_timeout: seconds to wait for a probe message to come back (default 0.5).

    The public coroutine methods have the channel layer interface of fast-channels
    (``new_channel``, ``send``, ``receive``, ``group_add``, ``group_discard``, ``group_send``);
    the resilient layer classes route their own methods here.
    """

    def __init__(
        self,
        alias: str,
        url: str,
        ops: RawOps,
        *,
        retry_interval: float = 0.25,
        ready_timeout: float = 5.0,
        health_interval: float = 1.0,
        echo_timeout: float = 0.5,
    ) -> None:
        self.alias = alias
        self.url = url
        self.ops = ops
        self.retry_interval = retry_interval
        self.ready_timeout = ready_timeout
        self.health_interval = health_interval
        self.echo_timeout = echo_timeout
        # memberships made through this layer in this process: group -> channel names
        self.members: dict[str, set[str]] = {}
        # discards that failed while Redis was unreachable: (group, channel)
        self.pending_discards: set[tuple[str, str]] = set()
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )
        self._hooked: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    # ---- state ------------------------------------------------------------------------------

    def _serving(self) -> _LoopState | None:
        """The state of the running loop if consumers are served in it, else None."""
        return self._states.get(asyncio.get_running_loop())

    def available(self) -> bool:
        """Whether the layer is usable from the running event loop (``True`` when unguarded)."""
        state = self._serving()
        return state is None or state.up.is_set()

    def _mark_down(self, operation: str, exc: BaseException) -> None:
        state = self._serving()
        if state is None:
            return
        state.reachable = False
        if state.up.is_set():
            state.up.clear()
            state.down_since = time.monotonic()
            log.warning(
                "channel layer %r unavailable (%s: %s); connections stay open, retrying every "
                "%.2fs",
                self.alias,
                operation,
                _describe(exc),
                self.retry_interval,
            )
        if state.recovery is None or state.recovery.done():
            state.recovery = self._spawn(state, self._recover(state))

    def _spawn(self, state: _LoopState, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
        return task

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if loop in self._states:
            return
        state = self._states[loop] = _LoopState()
        self._spawn(state, self._watch(state))
        if loop not in self._hooked:
            self._hooked.add(loop)
            _end_before_close(self, loop)

    async def close(self) -> None:
        """Stop guarding in the running event loop: end its background tasks (probe reader,
        health check, a recovery in progress, groups being left for consumers that ended
        without their disconnect handler) and give up its probe channel. Idempotent; the layer
        stays usable (its next ``new_channel`` in this loop starts guarding again).
        """
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await self._stop(state, release=True)

    async def _stop(self, state: _LoopState, *, release: bool) -> None:
        current = asyncio.current_task()
        tasks = [task for task in state.tasks if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5.0)
            if pending:  # pragma: no cover - a task that ignores cancellation
                log.warning("channel layer %r: %d tasks did not end", self.alias, len(pending))
        for waiter in state.echo_waiters.values():
            waiter.cancel()
        channel, state.echo_channel = state.echo_channel, None
        if release and channel is not None and self.ops.probe_release is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ops.probe_release(channel), 1.0)

    # ---- recovery ---------------------------------------------------------------------------

    async def probe(self) -> None:
        """``PING`` Redis on a fresh connection; raises one of :data:`REDIS_UNAVAILABLE_ERRORS`."""
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=1.0)
        try:
            await client.ping()
        finally:
            await client.aclose()

    async def _recover(self, state: _LoopState) -> None:
        while True:
            try:
                await asyncio.wait_for(state.wake.wait(), self.retry_interval)
            except TimeoutError:
                pass
            state.wake.clear()
            try:
                await self.probe()
                state.reachable = True
                await self._resync()
                if not await self._echo(state):
                    continue
            except REDIS_UNAVAILABLE_ERRORS as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc
                state.reachable = False
                continue
            except Exception as exc:  # never leave the layer down: a bug, a full channel
                if _cancelling():
                    raise asyncio.CancelledError from exc
                log.exception("channel layer %r: recovery step failed; retrying", self.alias)
                continue
            state.up.set()
            log.warning(
                "channel layer %r available again after %.1fs",
                self.alias,
                time.monotonic() - state.down_since,
            )
            return

    async def _resync(self) -> None:
        """Carry out failed discards and write this process's memberships again."""
        for group, channel in list(self.pending_discards):
            try:
                await self.ops.group_discard(group, channel)
            except REDIS_UNAVAILABLE_ERRORS:
                raise
            except Exception as exc:  # not a Redis outage: retrying would not help
                log.warning("channel layer %r: discard from %r failed: %s", self.alias, group, exc)
            self.pending_discards.discard((group, channel))
        pairs = [(g, c) for g, chans in list(self.members.items()) for c in list(chans)]
        for start in range(0, len(pairs), 50):
            chunk = pairs[start : start + 50]
            results = await asyncio.gather(
                *(self.ops.group_add(g, c) for g, c in chunk), return_exceptions=True
            )
            for result in results:
                if isinstance(result, REDIS_UNAVAILABLE_ERRORS):
                    raise result
                if isinstance(result, BaseException):  # e.g. the channel is gone meanwhile
                    log.debug("channel layer %r: membership not rewritten: %s", self.alias, result)

    async def _echo(self, state: _LoopState) -> bool:
        """Send a probe message to this process's private channel; True when it came back."""
        if state.echo_channel is None:
            return True
        token = uuid.uuid4().hex
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.echo_waiters[token] = waiter
        try:
            await self.ops.send(state.echo_channel, {"type": ECHO_TYPE, "token": token})
            await asyncio.wait_for(waiter, self.echo_timeout)
            return True
        except TimeoutError:
            return False
        finally:
            state.echo_waiters.pop(token, None)

    async def _watch(self, state: _LoopState) -> None:
        """Own a private probe channel in this loop, read it, and check health periodically."""
        while state.echo_channel is None:
            try:
                state.echo_channel = await self.ops.new_channel()
            except REDIS_UNAVAILABLE_ERRORS as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc
                self._mark_down("new_channel", exc)
                await asyncio.sleep(self.retry_interval)
        self._spawn(state, self._read_echoes(state, state.echo_channel))
        outermost = False
        while True:
            await asyncio.sleep(self.health_interval)
            if not outermost:
                # fast-channels wraps loop.close when its first connection in this loop is
                # made (by now): wrap it again so that the guard's tasks end before
                # fast-channels closes the connections under them (no false "unavailable")
                _end_before_close(self, asyncio.get_running_loop())
                outermost = True
            if not state.up.is_set():
                continue
            try:
                await self.ops.send(state.echo_channel, {"type": ECHO_TYPE, "token": ""})
            except REDIS_UNAVAILABLE_ERRORS as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc
                self._mark_down("health check", exc)
            except Exception as exc:  # e.g. ChannelFull: not an outage
                if _cancelling():
                    raise asyncio.CancelledError from exc
                log.debug("channel layer %r: health check: %s", self.alias, exc)

    async def _read_echoes(self, state: _LoopState, channel: str) -> None:
        """Read this loop's probe channel until cancelled (``close``, the loop's end)."""
        receive = self.ops.probe_receive or self.ops.receive
        while True:
            try:
                message = await receive(channel)
            except REDIS_UNAVAILABLE_ERRORS as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc
                self._mark_down("receive", exc)
                await asyncio.sleep(self.retry_interval)
                continue
            except Exception as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc
                log.exception("channel layer %r: reading probe messages failed", self.alias)
                await asyncio.sleep(self.retry_interval)
                continue
            waiter = state.echo_waiters.pop(str(message.get("token", "")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def _ready(self, operation: str) -> None:
        """Return when sending is possible; raise LayerUnavailableError while Redis is down."""
        state = self._serving()
        if state is None or state.up.is_set():
            return
        if not state.reachable:
            try:
                await self.probe()
            except REDIS_UNAVAILABLE_ERRORS as exc:
                raise LayerUnavailableError(self.alias, operation, _describe(exc)) from exc
            state.reachable = True
            state.wake.set()
        try:
            await asyncio.wait_for(state.up.wait(), self.ready_timeout)
        except TimeoutError:
            raise LayerUnavailableError(
                self.alias, operation, f"not recovered within {self.ready_timeout}s"
            ) from None

    # ---- the channel layer interface --------------------------------------------------------

    async def new_channel(self, *args: Any) -> str:
        """A new process-specific channel name; starts guarding in this loop.

        Raises:
            LayerUnavailableError: the pub/sub layer could not subscribe (Redis down).
        """
        self._start()
        try:
            return await self.ops.new_channel(*args)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self._mark_down("new_channel", exc)
            raise LayerUnavailableError(self.alias, "new_channel", _describe(exc)) from exc

    async def send(self, channel: str, message: ChannelMessage) -> None:
        """Send to one channel.

        Raises:
            LayerUnavailableError: Redis is unreachable.
        """
        operation = f"send to {channel!r}"
        await self._ready(operation)
        try:
            await self.ops.send(channel, message)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self._mark_down(operation, exc)
            raise LayerUnavailableError(self.alias, operation, _describe(exc)) from exc

    async def group_send(self, group: str, message: ChannelMessage) -> None:
        """Send to every member of ``group``.

        Raises:
            LayerUnavailableError: Redis is unreachable.
        """
        operation = f"group_send to {group!r}"
        await self._ready(operation)
        try:
            await self.ops.group_send(group, message)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self._mark_down(operation, exc)
            raise LayerUnavailableError(self.alias, operation, _describe(exc)) from exc

    async def receive(self, channel: str) -> ChannelMessage:
        """The next message for ``channel``; while Redis is down, waits for it to return.

        Cancelling it means the consumer of ``channel`` has ended (the assumption
        fast-channels' pub/sub layer makes too): groups it is still in (it ended without its
        disconnect handler, e.g. ``post_authentication`` raised) are left in the background.
        """
        try:
            while True:
                state = self._serving()
                if state is not None and not state.up.is_set():
                    await state.up.wait()
                try:
                    return await self.ops.receive(channel)
                except REDIS_UNAVAILABLE_ERRORS as exc:
                    if _cancelling():
                        raise asyncio.CancelledError from exc
                    if state is None:
                        raise LayerUnavailableError(self.alias, "receive", _describe(exc)) from exc
                    self._mark_down("receive", exc)
        except asyncio.CancelledError:
            self._abandoned(channel)
            raise

    def _abandoned(self, channel: str) -> None:
        """Leave every group ``channel`` is still recorded in (its consumer has ended)."""
        groups = [g for g, channels in self.members.items() if channel in channels]
        state = self._serving()
        if not groups or state is None:
            return
        log.info(
            "channel layer %r: %s ended in groups %s; leaving them", self.alias, channel, groups
        )

        async def leave() -> None:
            for group in groups:
                await self.group_discard(group, channel)

        self._spawn(state, leave())

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group``; written when Redis is back if it is down now.

        Raises:
            LayerUnavailableError: Redis is down and this loop serves no consumers (nothing
                would write the membership later).
        """
        self.members.setdefault(group, set()).add(channel)
        self.pending_discards.discard((group, channel))
        try:
            await self.ops.group_add(group, channel)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            operation = f"group_add to {group!r}"
            if self._serving() is None:
                raise LayerUnavailableError(self.alias, operation, _describe(exc)) from exc
            self._mark_down(operation, exc)

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; carried out when Redis is back if it is down now.

        Never raises because Redis is unreachable (a disconnect must complete).
        """
        channels = self.members.get(group)
        if channels is not None:
            channels.discard(channel)
            if not channels:
                del self.members[group]
        try:
            await self.ops.group_discard(group, channel)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self.pending_discards.add((group, channel))
            self._mark_down(f"group_discard from {group!r}", exc)


def _end_before_close(guard: LayerGuard, loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop.close()`` end the guard's tasks in ``loop`` first (fast-channels' own
    ``wrap_close`` pattern): a loop closed without cancelling its tasks would otherwise
    destroy them pending ("Task was destroyed but it is pending!")."""
    original = loop.close
    ref = weakref.ref(guard)

    def close(self: asyncio.AbstractEventLoop) -> None:
        self.close = original  # type: ignore[method-assign]
        guard = ref()
        state = guard._states.pop(self, None) if guard is not None else None
        if guard is not None and state is not None and not self.is_running():
            if not self.is_closed():
                self.run_until_complete(guard._stop(state, release=False))
        original()

    try:
        loop.close = types.MethodType(close, loop)  # type: ignore[method-assign]
    except (AttributeError, TypeError):  # a loop class without instance attributes
        log.debug("channel layer %r: cannot hook the close of %r", guard.alias, loop)


_GUARDED = frozenset({"new_channel", "send", "receive", "group_add", "group_discard", "group_send"})


class ResilientRedisChannelLayer(RedisChannelLayer):
    """fast-channels' Redis queue layer with a bounded connection pool and a :class:`LayerGuard`.

    Args:
        alias: the layer alias (errors, logs).
        url: ``redis://`` URL of the one Redis host.
        socket_timeout: seconds; must exceed the queue layer's 5 s blocking pop
            (``brpop_timeout``), or idle consumers are disconnected (default 15).
        max_connections: Redis connections per event loop (default 50). A caller beyond that
            waits for a free connection instead of opening one more (redis-py
            ``BlockingConnectionPool``), so a burst of disconnects cannot exhaust file
            descriptors or Redis ``maxclients``.
        pool_timeout: seconds a caller waits for a free connection before the operation fails
            (default 20; a failed discard is retried when the layer recovers).
        prefix, expiry, group_expiry, capacity: as for ``RedisChannelLayer``.
        guard_options: keyword arguments of :class:`LayerGuard`.

    Raises:
        ValueError: ``socket_timeout`` not above ``brpop_timeout``.
    """

    def __init__(
        self,
        *,
        alias: str,
        url: str,
        socket_timeout: float = 15.0,
        max_connections: int = 50,
        pool_timeout: float = 20.0,
        prefix: str = "asgi",
        expiry: int = 60,
        group_expiry: int = 86400,
        capacity: int = 100,
        **guard_options: Any,
    ) -> None:
        if socket_timeout <= self.brpop_timeout:
            raise ValueError(
                f"socket_timeout {socket_timeout}s must exceed the blocking pop's "
                f"{self.brpop_timeout}s, or idle consumers are disconnected"
            )
        super().__init__(
            hosts=[{"address": url, "socket_timeout": socket_timeout}],
            prefix=prefix,
            expiry=expiry,
            group_expiry=group_expiry,
            capacity=capacity,
        )
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout
        self.guard = LayerGuard(
            alias,
            url,
            RawOps(
                new_channel=super().new_channel,
                send=super().send,
                receive=super().receive,
                group_add=super().group_add,
                group_discard=super().group_discard,
                group_send=super().group_send,
            ),
            **guard_options,
        )

    def create_pool(self, index: int) -> aioredis.ConnectionPool:
        """A ``BlockingConnectionPool`` of ``max_connections`` for host ``index``."""
        host = dict(self.hosts[index])
        address = host.pop("address", None)
        if not isinstance(address, str):
            return super().create_pool(index)
        return aioredis.BlockingConnectionPool.from_url(
            address, max_connections=self.max_connections, timeout=self.pool_timeout, **host
        )

    async def new_channel(self, prefix: str = "specific") -> str:
        """A new channel name (guarded: see :meth:`LayerGuard.new_channel`)."""
        return await self.guard.new_channel(prefix)

    async def send(self, channel: str, message: ChannelMessage) -> None:
        """Send to one channel (guarded: see :meth:`LayerGuard.send`)."""
        await self.guard.send(channel, message)

    async def receive(self, channel: str) -> ChannelMessage:
        """The next message for ``channel`` (guarded: waits out Redis outages)."""
        return await self.guard.receive(channel)

    async def group_add(self, group: str, channel: str) -> None:
        """Join ``group`` (guarded: written when Redis is back if it is down)."""
        await self.guard.group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        """Leave ``group`` (guarded: never fails because Redis is down)."""
        await self.guard.group_discard(group, channel)

    async def group_send(self, group: str, message: ChannelMessage) -> None:
        """Send to ``group`` (guarded: see :meth:`LayerGuard.group_send`)."""
        await self.guard.group_send(group, message)

    async def close(self) -> None:
        """End the guard's background tasks in the running loop (:meth:`LayerGuard.close`).

        Redis connections are fast-channels': closed by ``close_pools()`` / ``flush()``.
        """
        await self.guard.close()


def _loop_layer_op(layer: RedisPubSubChannelLayer, name: str) -> Callable[..., Awaitable[Any]]:
    get_layer = RedisPubSubChannelLayer._get_layer

    async def call(*args: Any) -> Any:
        return await getattr(get_layer(layer), name)(*args)

    return call


class _QuietOutageTracebacks(logging.Filter):
    """fast-channels' pub/sub layer logs a full traceback at ERROR for every failure of its
    receive task (about once a second while Redis is unreachable) and of a channel's clean-up
    on disconnect. The guard reports an outage in one WARNING line; such records of a Redis
    outage become one DEBUG line without the traceback. Other records pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, REDIS_UNAVAILABLE_ERRORS):
            record.msg = f"{record.getMessage()}: {_describe(exc)}"
            record.args = None
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_QUIET = _QuietOutageTracebacks()


def _pubsub_new_channel(layer: RedisPubSubChannelLayer) -> Callable[..., Awaitable[str]]:
    """fast-channels 1.1.0's ``new_channel`` of the loop layer, without its leak: when the
    subscription fails (Redis down) the channel's local queue is removed again, so a reconnect
    storm during an outage does not leave one queue per refused handshake behind."""
    get_layer = RedisPubSubChannelLayer._get_layer

    async def new_channel(prefix: str = "specific.") -> str:
        loop_layer = get_layer(layer)
        channel = f"{loop_layer.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            await loop_layer._subscribe_to_channel(channel)
        except BaseException:
            loop_layer.channels.pop(channel, None)
            raise
        return channel

    return new_channel


def _pubsub_probe_ops(
    layer: RedisPubSubChannelLayer,
) -> tuple[Callable[[str], Awaitable[ChannelMessage]], Callable[[str], Awaitable[None]]]:
    """Read and give up the guard's probe channel on the loop layer directly: fast-channels'
    ``receive`` unsubscribes when it is cancelled, which at a loop's end (Redis perhaps down)
    means one more Redis command and, failing, a logged traceback."""
    get_layer = RedisPubSubChannelLayer._get_layer

    async def receive(channel: str) -> ChannelMessage:
        loop_layer = get_layer(layer)
        queue = loop_layer.channels.get(channel)
        if queue is None:  # flushed meanwhile: subscribe again, as fast-channels' receive does
            await loop_layer._subscribe_to_channel(channel)
            queue = loop_layer.channels[channel]
        return layer.deserialize(await queue.get())

    async def release(channel: str) -> None:
        layers = object.__getattribute__(layer, "_layers")
        loop_layer = layers.get(asyncio.get_running_loop())
        if loop_layer is not None and loop_layer.channels.pop(channel, None) is not None:
            await loop_layer._get_shard(channel).unsubscribe(channel)

    return receive, release


class ResilientRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """fast-channels' Redis pub/sub layer with a :class:`LayerGuard`.

    Args:
        alias: the layer alias (errors, logs).
        url: ``redis://`` URL of the one Redis host.
        prefix: channel name prefix (as for ``RedisPubSubChannelLayer``).
        guard_options: keyword arguments of :class:`LayerGuard`.

    fast-channels' pub/sub layer proxies its methods to one layer per event loop through
    ``__getattribute__``; this class intercepts the same names and routes them through the
    guard, which calls the per-loop layer. Unlike fast-channels, a ``new_channel`` that fails
    (Redis down) leaves no local queue behind, and fast-channels' tracebacks for a Redis
    outage (its logger ``fast_channels.layers.redis.pubsub``) are logged as one DEBUG line.
    """

    def __init__(self, *, alias: str, url: str, prefix: str = "asgi", **guard_options: Any):
        super().__init__(hosts=[url], prefix=prefix)
        ops = RawOps(**{name: _loop_layer_op(self, name) for name in sorted(_GUARDED)})
        probe_receive, probe_release = _pubsub_probe_ops(self)
        ops = dataclasses.replace(
            ops,
            new_channel=_pubsub_new_channel(self),
            probe_receive=probe_receive,
            probe_release=probe_release,
        )
        logging.getLogger("fast_channels.layers.redis.pubsub").addFilter(_QUIET)  # once: a set
        self.guard = LayerGuard(alias, url, ops, **guard_options)

    async def close(self) -> None:
        """End the guard's background tasks in the running loop (:meth:`LayerGuard.close`).

        Redis connections are fast-channels': closed by ``flush()`` or when the loop closes.
        """
        await self.guard.close()

    def __getattribute__(self, name: str) -> Any:
        if name in _GUARDED:
            return getattr(object.__getattribute__(self, "guard"), name)
        return super().__getattribute__(name)
