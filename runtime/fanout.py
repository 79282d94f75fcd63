"""Group broadcast fan-out: serialise once, deliver to the sockets of each process.

fast-channels delivers a ``group_send`` as one channel-layer message per member: a copy, a queue
put and a consumer-task wake-up for each of them (and, on Redis, one Redis message per member).
For a broadcast whose content is already final text that is most of the cost. The fan-out here
keeps a process-local registry *group → local consumers* next to the layer's own membership
(``group_add``/``group_discard`` still happen, so ``group_send`` from existing code keeps
working) and delivers a broadcast like this:

- the message is serialised once by the sender;
- **memory layer**: the sender's process writes the text to each local member's socket;
- **Redis pub/sub layer**: one ``PUBLISH`` per target group on ``<prefix>__fanout__<group>``;
  every process with local members of that group holds one subscription per layer (one
  connection per Redis host) and writes the text to its members' sockets. At most once, like
  the layer: a process whose subscription is down (Redis restart) misses what is sent
  meanwhile; it reconnects every second and subscribes again.
- **Redis queue layer**: one Lua script per broadcast pushes the message once into the Redis
  inbox list of every other process with members in a target group
  (:class:`RedisQueueFanoutTransport`); each process pops its inbox and fans out locally. The
  queue layer's semantics hold through Redis: an inbox keeps at most ``capacity`` messages and
  expires, a message older than ``expiry`` is dropped when read, and what is sent while a
  process cannot read waits for it.
- The sending process delivers to its own members directly once the publish succeeded.
- A member is whatever the consumer registers (``Consumer._fanout_member``): the consumer
  itself (the text is written to its socket), or, for a consumer class that overrides
  ``chanspec_broadcast`` (decided once per class), a wrapper whose ``send`` hands the text to
  that override, so the fast path never bypasses it.

Semantics (kept from the layer path; tests in ``tests/test_fanout.py``):

- ``exclude``: the channel name of one connection that does not get the message;
- a connection in several target groups gets a broadcast once;
- per connection, broadcasts arrive in the order they were sent by one sender, and events the
  fan-out hands to a consumer's event handler stay in that order with the text deliveries;
- a slow client never holds up the others: a write that cannot complete at once (the socket's
  write buffer is full) is finished in a task, and later deliveries for that connection queue
  behind it, at most ``capacity`` of them, each dropped (logged) once older than ``expiry``
  seconds — the capacity and expiry of the layer (fast-channels' defaults 100 and 60 s).

Everything here runs on the event loop of the consumers (one :class:`Fanout` per layer and loop).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, Protocol

from fast_channels.layers import BaseChannelLayer, InMemoryChannelLayer

__all__ = [
    "Fanout",
    "Member",
    "RedisFanoutTransport",
    "RedisQueueFanoutTransport",
    "fanout_for",
    "release_idle",
]

log = logging.getLogger("chanspec.fanout")

DEFAULT_CAPACITY = 100
DEFAULT_EXPIRY_S = 60.0
RECONNECT_DELAY_S = 1.0


class Member(Protocol):
    """What the fan-out needs from a consumer (``chanspec.runtime.Consumer`` provides it).

    - ``channel_name``: the connection's channel-layer name (used for ``exclude``).
    - ``send(text_data=...)``: deliver one broadcast text: write it to the socket, or hand it
      to the consumer's ``chanspec_broadcast`` override.
    - ``fanout_event(data, cache)``: a broadcast event arrived; return the text to write to the
      socket, or a zero-argument coroutine function to run in order (an event handler), or
      ``None`` to drop it. ``cache`` is shared by the members of one delivery (per-class work).
    """

    channel_name: str

    async def send(self, text_data: str | None = None) -> None: ...

    def fanout_event(
        self, data: Any, cache: dict[Any, Any]
    ) -> str | Callable[[], Awaitable[None]] | None: ...


Item = str | Callable[[], Awaitable[None]]


class Fanout:
    """The local fan-out of one channel layer in one event loop.

    Args:
        transport: cross-process delivery (:class:`RedisFanoutTransport`), or ``None`` for a
            process-local layer (memory).
        capacity: at most this many deliveries wait behind a slow connection (then dropped).
        expiry: seconds a waiting delivery stays valid (then dropped).

    Attributes:
        members: ``{group: {channel_name: member}}`` of this process's members.
    """

    def __init__(
        self,
        transport: RedisFanoutTransport | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        expiry: float = DEFAULT_EXPIRY_S,
    ) -> None:
        self.members: dict[str, dict[str, Member]] = {}
        self._groups_of: dict[str, set[str]] = {}
        self._backlogs: dict[str, deque[tuple[float, Item]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.capacity = capacity
        self.expiry = expiry
        self.transport = transport
        self.dropped = 0
        self.pinned = False
        if transport is not None:
            transport.attach(self)

    # ---- membership -------------------------------------------------------------------------

    async def join(self, group: str, member: Member) -> None:
        """Add ``member`` to the local registry of ``group`` (subscribing this process to the
        group's fan-out channel on Redis when it is the first local member).

        Never raises because Redis is unreachable (a connection opened during an outage must
        complete its handshake, as the layer's own ``group_add`` does): the member is
        registered, the failure logged, and the transport's reconnect loop subscribes (pub/sub)
        or registers (queue) every group of this process again once Redis answers.
        """
        local = self.members.get(group)
        first = local is None
        if local is None:
            local = self.members[group] = {}
        local[member.channel_name] = member
        self._groups_of.setdefault(member.channel_name, set()).add(group)
        if first and self.transport is not None:
            try:
                await self.transport.subscribe(group)
            except Exception as exc:
                _raise_if_cancelling(exc)
                log.warning(
                    "fan-out: joining group %r failed (%r); done again when Redis is back",
                    group,
                    exc,
                )

    def hold(self, member: Member) -> None:
        """Queue deliveries to ``member`` instead of writing them, until :meth:`release`.

        For a connection that joins its groups before its handshake is accepted (so it misses
        no broadcast sent once the client sees the connection open): nothing may be written to
        a socket before ``accept``. At most ``capacity`` deliveries wait, as for a slow socket.
        """
        self._backlogs.setdefault(member.channel_name, deque())

    def release(self, member: Member) -> None:
        """Write what :meth:`hold` queued for ``member``, in order (in a task), and write
        directly again from now on."""
        backlog = self._backlogs.pop(member.channel_name, None)
        if backlog:
            self._start_drain(member, None, None, backlog)

    async def leave(self, group: str, member: Member) -> None:
        """Remove ``member`` from ``group`` (unsubscribing when no local member is left)."""
        name = member.channel_name
        local = self.members.get(group)
        if local is None or local.pop(name, None) is None:
            return
        groups = self._groups_of.get(name)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self._groups_of[name]
        if not local:
            del self.members[group]
            if self.transport is not None:
                await self.transport.unsubscribe(group)

    async def leave_all(self, member: Member) -> None:
        """Remove ``member`` from every group and drop what waits for it (on disconnect)."""
        for group in list(self._groups_of.get(member.channel_name, ())):
            try:
                await self.leave(group, member)
            except Exception:  # Redis down: the subscription is dropped on reconnect anyway
                log.warning("fan-out: unsubscribing from %r failed", group, exc_info=True)
        backlog = self._backlogs.pop(member.channel_name, None)
        if backlog is not None:
            backlog.clear()  # its drain task stops after what is in flight

    # ---- broadcasting -----------------------------------------------------------------------

    async def broadcast(self, groups: Sequence[str], text: str, exclude: str = "") -> None:
        """Send the text frame ``text`` to every member of ``groups`` in every process.

        Args:
            groups: target group names; a member of several gets the text once.
            text: the serialised message, written to the sockets as is.
            exclude: channel name of a connection to leave out (``""``: none).

        Raises:
            Exception: the Redis publish failed (nothing was delivered, not even locally).
        """
        if self.transport is not None:
            await self.transport.publish(groups, "t", text, exclude)
        self.deliver(groups, text, exclude)

    async def broadcast_event(self, groups: Sequence[str], data_text: str) -> None:
        """Send an event (JSON object text) to every member of ``groups`` in every process;
        each member decides through ``fanout_event`` what to do with it.

        Raises:
            Exception: the Redis publish failed (nothing was delivered).
        """
        if self.transport is not None:
            await self.transport.publish(groups, "e", data_text, "")
        self.deliver_event(groups, json.loads(data_text))

    def targets(self, groups: Sequence[str], exclude: str) -> Iterable[Member]:
        """This process's members of ``groups`` (each once), without ``exclude``."""
        if len(groups) == 1:
            local = self.members.get(groups[0])
            if not local:
                return ()
            if exclude and exclude in local:
                return [m for name, m in local.items() if name != exclude]
            return list(local.values())
        union: dict[str, Member] = {}
        for group in groups:
            union.update(self.members.get(group) or {})
        union.pop(exclude, None)
        return union.values()

    def deliver(self, groups: Sequence[str], text: str, exclude: str = "") -> int:
        """Write ``text`` to this process's members of ``groups``; returns how many."""
        n = 0
        for member in self.targets(groups, exclude):
            self.push(member, text)
            n += 1
        return n

    def deliver_event(self, groups: Sequence[str], data: Any) -> int:
        """Hand the decoded event ``data`` to this process's members of ``groups``."""
        cache: dict[Any, Any] = {}
        n = 0
        for member in self.targets(groups, ""):
            try:
                item = member.fanout_event(data, cache)
            except Exception:
                log.exception("fan-out: event delivery to %s failed", member.channel_name)
                continue
            if item is not None:
                self.push(member, item)
                n += 1
        return n

    # ---- per-connection delivery --------------------------------------------------------------

    def push(self, member: Member, item: Item) -> None:
        """Deliver one item to one member, in order with what is already waiting for it.

        A text is written at once when nothing waits and the socket accepts it without
        waiting (the usual case: no task, no copy); otherwise the rest runs in a task.
        """
        name = member.channel_name
        backlog = self._backlogs.get(name)
        if backlog is not None:
            if len(backlog) >= self.capacity:
                self.dropped += 1
                log.info("fan-out: %s is over capacity (%d); message dropped", name, self.capacity)
                return
            backlog.append((time.monotonic() + self.expiry, item))
            return
        if not isinstance(item, str):
            self._start_drain(member, None, None, deque([(time.monotonic() + self.expiry, item)]))
            return
        coro = member.send(text_data=item)
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:  # the connection is closing: its disconnect removes it
            log.debug("fan-out: send to %s failed: %r", name, exc)
            return
        self._start_drain(member, coro, yielded, deque())

    def _start_drain(
        self,
        member: Member,
        coro: Coroutine[Any, Any, None] | None,
        yielded: Any,
        backlog: deque[tuple[float, Item]],
    ) -> None:
        self._backlogs[member.channel_name] = backlog
        task = asyncio.get_running_loop().create_task(self._drain(member, coro, yielded, backlog))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(
        self,
        member: Member,
        coro: Coroutine[Any, Any, None] | None,
        yielded: Any,
        backlog: deque[tuple[float, Item]],
    ) -> None:
        name = member.channel_name
        try:
            if coro is not None:
                await _finish(coro, yielded)
            while backlog:
                deadline, item = backlog.popleft()
                if time.monotonic() > deadline:
                    self.dropped += 1
                    log.info("fan-out: message for %s expired before it could be sent", name)
                    continue
                if isinstance(item, str):
                    await member.send(text_data=item)
                    continue
                try:
                    await item()
                except Exception:  # an event's failure must not lose what follows it
                    log.exception("fan-out: event for %s failed", name)
        except Exception as exc:  # the connection is closing: its disconnect removes it
            log.debug("fan-out: delivery to %s failed: %r", name, exc)
        finally:
            if self._backlogs.get(name) is backlog:
                del self._backlogs[name]

    async def close(self) -> None:
        """Stop the subscriber and the pending deliveries (tests and shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        if self.transport is not None:
            await self.transport.close()


def _raise_if_cancelling(exc: BaseException) -> None:
    """redis-py can turn the cancellation of a pending command into a connection error; a
    retry loop must still end when its task is cancelled (loop shutdown, ``close``)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError() from exc


async def _finish(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Run a coroutine that was started with ``coro.send(None)`` and suspended on ``yielded``
    to completion, as an asyncio task would (``asyncio.eager_task_factory`` does this in 3.12).
    """
    while True:
        if yielded is None:  # a bare yield (asyncio.sleep(0))
            await asyncio.sleep(0)
        else:
            yielded._asyncio_future_blocking = False
            try:
                await yielded
            except BaseException:  # the coroutine gets the outcome from the future itself
                pass
        try:
            yielded = coro.send(None)
        except StopIteration:
            return


# ---- cross-process transport (Redis) ---------------------------------------------------------


class RedisFanoutTransport:
    """One ``PUBLISH`` per target group; one subscription connection per Redis host.

    Wire format of a published message: one line of JSON header, ``\\n``, then the text::

        {"o": "<origin>", "k": "t"|"e", "g": ["group", ...], "x": "<exclude>", "i": "<id>"}

    ``o`` is the publishing :class:`Fanout`'s id (it ignores its own messages: it delivered
    them locally already), ``i`` identifies a multi-group broadcast so that a process receiving
    it on several group channels delivers it once.

    Args:
        hosts: fast-channels' decoded host dicts (``{"address": "redis://..."}`` ...); a group's
            channel lives on ``hosts[consistent_hash(channel)]`` like the layer's own.
        prefix: the layer's prefix; channels are ``<prefix>__fanout__<group>``.
    """

    def __init__(self, hosts: Sequence[dict[str, Any]], prefix: str) -> None:
        self.hosts = list(hosts) or [{"address": "redis://localhost:6379"}]
        self.prefix = prefix
        self.origin = uuid.uuid4().hex
        self._fanout: Fanout | None = None
        self._shards: dict[int, _Shard] = {}
        self._seen: deque[str] = deque(maxlen=1024)

    def attach(self, fanout: Fanout) -> None:
        """Bind to the :class:`Fanout` that delivers what arrives."""
        self._fanout = fanout

    def channel(self, group: str) -> str:
        """The Redis pub/sub channel of ``group``."""
        return f"{self.prefix}__fanout__{group}"

    def _shard(self, channel: str) -> _Shard:
        from fast_channels.layers.redis.utils import consistent_hash

        index = consistent_hash(channel, len(self.hosts))
        shard = self._shards.get(index)
        if shard is None:
            shard = self._shards[index] = _Shard(self.hosts[index], self._on_message)
        return shard

    async def subscribe(self, group: str) -> None:
        """Subscribe this process to ``group``'s channel."""
        channel = self.channel(group)
        await self._shard(channel).subscribe(channel)

    async def unsubscribe(self, group: str) -> None:
        """Unsubscribe this process from ``group``'s channel."""
        channel = self.channel(group)
        await self._shard(channel).unsubscribe(channel)

    async def publish(self, groups: Sequence[str], kind: str, text: str, exclude: str) -> None:
        """Publish once per target group (so once for a one-group broadcast)."""
        header: dict[str, Any] = {"o": self.origin, "k": kind, "g": list(groups), "x": exclude}
        if len(groups) > 1:
            header["i"] = uuid.uuid4().hex
        payload = json.dumps(header, separators=(",", ":")) + "\n" + text
        for group in groups:
            channel = self.channel(group)
            await self._shard(channel).publish(channel, payload)

    def _on_message(self, data: bytes) -> None:
        fanout = self._fanout
        if fanout is None:
            return
        head, _, body = data.partition(b"\n")
        try:
            header = json.loads(head)
            if header.get("o") == self.origin:
                return
            sent = header.get("t")
            if sent is not None and time.time() - float(sent) > fanout.expiry:
                fanout.dropped += 1
                log.info("fan-out: a broadcast expired in Redis before this process read it")
                return
            once = header.get("i")
            if once:
                if once in self._seen:
                    return
                self._seen.append(once)
            groups = [str(g) for g in header["g"]]
            text = body.decode()
            if header.get("k") == "e":
                fanout.deliver_event(groups, json.loads(text))
            else:
                fanout.deliver(groups, text, str(header.get("x") or ""))
        except Exception:
            log.warning("fan-out: dropped a malformed message from Redis", exc_info=True)

    async def close(self) -> None:
        """Close every connection and stop the subscribers."""
        for shard in self._shards.values():
            await shard.close()
        self._shards.clear()


class _Shard:
    """The publisher client and the subscription of one Redis host."""

    def __init__(self, host: dict[str, Any], on_message: Callable[[bytes], None]) -> None:
        from fast_channels.layers.redis.utils import create_pool
        from redis import asyncio as aioredis

        self.host = host
        self.redis = aioredis.Redis(connection_pool=create_pool(host))
        self.on_message = on_message
        self.channels: set[str] = set()
        self.pubsub: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()

    async def publish(self, channel: str, payload: str) -> None:
        await self.redis.publish(channel, payload)

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)
        try:
            async with self.lock:
                if self.pubsub is None:
                    self.pubsub = self.redis.pubsub()
                await self.pubsub.subscribe(channel)
        except Exception:
            self.pubsub = None  # the reader reconnects and subscribes every channel again
            raise
        finally:
            if self.reader is None or self.reader.done():
                self.reader = asyncio.get_running_loop().create_task(self._read())
            self.wake.set()

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        async with self.lock:
            if self.pubsub is not None:
                await self.pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        while True:
            try:
                pubsub = self.pubsub
                if pubsub is None:
                    await self._reconnect()
                    continue
                if not pubsub.subscribed:  # every group left: wait for the next subscribe
                    self.wake.clear()
                    await self.wake.wait()
                    continue
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                if message is not None and message.get("type") == "message":
                    self.on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _raise_if_cancelling(exc)
                log.warning("fan-out: Redis subscription lost (%r); reconnecting", exc)
                await self._reconnect()

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(RECONNECT_DELAY_S)
            async with self.lock:
                old, self.pubsub = self.pubsub, None
                if old is not None:
                    try:
                        await old.aclose()
                    except Exception:
                        pass
                try:
                    pubsub = self.redis.pubsub()
                    if self.channels:
                        await pubsub.subscribe(*self.channels)
                except Exception as exc:
                    _raise_if_cancelling(exc)
                    log.debug("fan-out: resubscribe failed: %r", exc)
                    continue
                self.pubsub = pubsub
                log.warning(
                    "fan-out: Redis subscription restored (%d channels)", len(self.channels)
                )
                return

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except BaseException:
                pass
        if self.pubsub is not None:
            try:
                await self.pubsub.aclose()
            except Exception:
                pass
        await self.redis.aclose(close_connection_pool=True)


_QUEUE_PUBLISH = """
local seen = {}
local n = 0
local cutoff = tonumber(ARGV[2]) - tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  for _, origin in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if origin ~= ARGV[1] and not seen[origin] then
      seen[origin] = true
      local inbox = ARGV[7] .. origin
      redis.call('RPUSH', inbox, ARGV[6])
      redis.call('LTRIM', inbox, -tonumber(ARGV[4]), -1)
      redis.call('EXPIRE', inbox, ARGV[5])
      n = n + 1
    end
  end
end
return n
"""


class RedisQueueFanoutTransport(RedisFanoutTransport):
    """The fan-out of the Redis queue layer: bounded, expiring, one command per broadcast.

    Each process (each :class:`Fanout`) has one inbox, a Redis list
    ``<prefix>__fanout__inbox__<origin>``, read with a blocking pop; which processes have
    members of a group is a sorted set ``<prefix>__fanout__group__<group>`` (process id scored
    by the time it was last confirmed, refreshed every ``refresh`` seconds and after every
    reconnect, forgotten after ``group_expiry``). A broadcast is one Lua script per Redis host
    that pushes the message once into the inbox of every other process with members in any of
    the target groups, keeps each inbox to the last ``capacity`` messages and lets an unread
    inbox expire after ``expiry`` seconds; a message read later than ``expiry`` seconds after it
    was sent is dropped. As with the queue layer's own per-connection queues, what was sent
    while a process could not read waits in Redis (bounded, expiring) instead of being lost.

    Args:
        hosts: fast-channels' decoded host dicts; a group's keys live on
            ``hosts[consistent_hash(group key)]``.
        prefix: the layer's prefix.
        capacity: messages an inbox keeps (the layer's ``capacity``).
        expiry: seconds a message stays deliverable (the layer's ``expiry``).
        group_expiry: seconds a process's group registration lasts without refresh.
    """

    refresh = 30.0
    pop_timeout = 2  # seconds; below any socket timeout (redis-py 8 defaults to 5 s)

    def __init__(
        self,
        hosts: Sequence[dict[str, Any]],
        prefix: str,
        *,
        capacity: int = DEFAULT_CAPACITY,
        expiry: float = DEFAULT_EXPIRY_S,
        group_expiry: float = 86400,
    ) -> None:
        super().__init__(hosts, prefix)
        self.capacity = capacity
        self.expiry = expiry
        self.group_expiry = group_expiry
        self._queue_shards: dict[int, _InboxShard] = {}

    def group_key(self, group: str) -> str:
        """The sorted set of the processes that have members of ``group``."""
        return f"{self.prefix}__fanout__group__{group}"

    def inbox_prefix(self) -> str:
        return f"{self.prefix}__fanout__inbox__"

    def _inbox_shard(self, key: str) -> _InboxShard:
        from fast_channels.layers.redis.utils import consistent_hash

        index = consistent_hash(key, len(self.hosts))
        shard = self._queue_shards.get(index)
        if shard is None:
            shard = self._queue_shards[index] = _InboxShard(self, self.hosts[index])
        return shard

    async def subscribe(self, group: str) -> None:
        """Register this process as having members of ``group``."""
        key = self.group_key(group)
        await self._inbox_shard(key).join(key)

    async def unsubscribe(self, group: str) -> None:
        """Remove this process from ``group``'s set."""
        key = self.group_key(group)
        await self._inbox_shard(key).leave(key)

    async def publish(self, groups: Sequence[str], kind: str, text: str, exclude: str) -> None:
        """One script run per Redis host holding target groups (one for a one-host setup)."""
        now = time.time()
        header: dict[str, Any] = {
            "o": self.origin, "k": kind, "g": list(groups), "x": exclude, "t": now,
        }  # fmt: skip
        if len(groups) > 1:
            header["i"] = uuid.uuid4().hex
        payload = json.dumps(header, separators=(",", ":")) + "\n" + text
        by_shard: dict[int, list[str]] = {}
        for group in groups:
            key = self.group_key(group)
            shard = self._inbox_shard(key)
            by_shard.setdefault(id(shard), [])
            by_shard[id(shard)].append(key)
        for shard in list(self._queue_shards.values()):
            keys = by_shard.get(id(shard))
            if keys:
                await shard.publish(keys, now, payload)

    async def close(self) -> None:
        """Unregister, stop the readers and close every connection."""
        for shard in self._queue_shards.values():
            await shard.close()
        self._queue_shards.clear()
        await super().close()


class _InboxShard:
    """One Redis host of a :class:`RedisQueueFanoutTransport`: its inbox reader and groups."""

    def __init__(self, transport: RedisQueueFanoutTransport, host: dict[str, Any]) -> None:
        from fast_channels.layers.redis.utils import create_pool
        from redis import asyncio as aioredis

        self.transport = transport
        self.redis = aioredis.Redis(connection_pool=create_pool(host))
        self.script = self.redis.register_script(_QUEUE_PUBLISH)
        self.inbox = transport.inbox_prefix() + transport.origin
        self.keys: set[str] = set()
        self.lock = asyncio.Lock()
        self.reader: asyncio.Task[None] | None = None
        self.refresher: asyncio.Task[None] | None = None
        self.unregistered = False  # a join's ZADD failed: the reader registers every key again

    async def publish(self, keys: list[str], now: float, payload: str) -> None:
        t = self.transport
        await self.script(
            keys=keys,
            args=[t.origin, now, t.group_expiry, t.capacity, max(1, int(t.expiry)), payload,
                  t.inbox_prefix()],
        )  # fmt: skip

    async def join(self, key: str) -> None:
        self.keys.add(key)
        loop = asyncio.get_running_loop()
        if self.reader is None or self.reader.done():  # it also registers again after errors
            self.reader = loop.create_task(self._read())
        if self.refresher is None or self.refresher.done():
            self.refresher = loop.create_task(self._refresh())
        try:
            async with self.lock:  # a leave and a join of one group reach Redis in order
                await self.redis.zadd(key, {self.transport.origin: time.time()})
        except Exception:
            self.unregistered = True
            raise

    async def leave(self, key: str) -> None:
        self.keys.discard(key)
        async with self.lock:
            await self.redis.zrem(key, self.transport.origin)

    async def register_all(self) -> None:
        if self.keys:
            now = time.time()
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in list(self.keys):
                    pipe.zadd(key, {self.transport.origin: now})
                await pipe.execute()

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.transport.refresh)
            try:
                await self.register_all()
            except Exception as exc:
                _raise_if_cancelling(exc)
                log.debug("fan-out: refreshing group registrations failed: %r", exc)

    async def _read(self) -> None:
        failed, register = False, True  # register: a join's own ZADD may have failed
        while True:
            try:
                if register or self.unregistered:
                    self.unregistered = False
                    await self.register_all()  # after errors: Redis may have restarted empty
                    register = False
                    if failed:
                        failed = False
                        log.warning("fan-out: Redis inbox restored (%d groups)", len(self.keys))
                pop = self.redis.blpop([self.inbox], timeout=self.transport.pop_timeout)
                item = await pop  # type: ignore[misc]  # redis-py types sync and async alike
                if item is not None:
                    self.transport._on_message(item[1])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _raise_if_cancelling(exc)
                if not failed:
                    log.warning("fan-out: Redis inbox lost (%r); reconnecting", exc)
                failed = register = True
                await asyncio.sleep(RECONNECT_DELAY_S)

    async def close(self) -> None:
        for task in (self.reader, self.refresher):
            if task is not None:
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
        try:
            for key in list(self.keys):
                await self.redis.zrem(key, self.transport.origin)
        except Exception:
            pass
        await self.redis.aclose(close_connection_pool=True)


# ---- one Fanout per layer and event loop ------------------------------------------------------

_FANOUTS: weakref.WeakKeyDictionary[
    BaseChannelLayer, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Fanout]
] = weakref.WeakKeyDictionary()


def _make(layer: BaseChannelLayer) -> Fanout | None:
    if isinstance(layer, InMemoryChannelLayer):
        return Fanout(capacity=int(layer.capacity), expiry=float(layer.expiry))
    from fast_channels.layers.redis import RedisChannelLayer, RedisPubSubChannelLayer
    from fast_channels.layers.redis.utils import decode_hosts

    if isinstance(layer, RedisPubSubChannelLayer):
        # a proxy: read its constructor arguments without creating a loop layer
        args = object.__getattribute__(layer, "_args")
        kwargs = object.__getattribute__(layer, "_kwargs")
        hosts = kwargs.get("hosts", args[0] if args else None)
        prefix = str(kwargs.get("prefix", args[1] if len(args) > 1 else "asgi"))
        transport = RedisFanoutTransport(decode_hosts(hosts), prefix)
        return Fanout(transport)
    if isinstance(layer, RedisChannelLayer):
        queue = RedisQueueFanoutTransport(
            list(layer.hosts),
            layer.prefix,
            capacity=int(layer.capacity),
            expiry=float(layer.expiry),
            group_expiry=float(layer.group_expiry),
        )
        return Fanout(queue, capacity=int(layer.capacity), expiry=float(layer.expiry))
    return None


def fanout_for(layer: BaseChannelLayer, *, pin: bool = False) -> Fanout | None:
    """The :class:`Fanout` of ``layer`` in the running event loop (created on first use).

    Args:
        layer: a registered channel layer.
        pin: the caller is a consumer serving on this loop: the fan-out is never released by
            :func:`release_idle`.

    Returns:
        ``None`` for a layer type the fan-out does not know (a custom layer): callers then use
        the layer's ``group_send``.

    Raises:
        RuntimeError: no running event loop.
    """
    loop = asyncio.get_running_loop()
    per_loop = _FANOUTS.get(layer)
    if per_loop is None:
        per_loop = _FANOUTS[layer] = weakref.WeakKeyDictionary()
    fanout = per_loop.get(loop)
    if fanout is None:
        made = _make(layer)
        if made is None:
            return None
        fanout = per_loop[loop] = made
    if pin:
        fanout.pinned = True
    return fanout


async def release_idle() -> None:
    """Close the running loop's fan-outs that no consumer serves on and that have nothing in
    flight: their Redis connections would otherwise outlive a temporary event loop (one-off
    broadcasts such as ``Consumer.broadcast_event_sync`` from a thread or a script)."""
    loop = asyncio.get_running_loop()
    for per_loop in list(_FANOUTS.values()):
        fanout = per_loop.get(loop)
        if fanout is not None and not fanout.pinned and not fanout.members:
            if not fanout._backlogs:
                del per_loop[loop]
                await fanout.close()
