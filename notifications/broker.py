"""Live event brokers: in-process by default, Redis pub/sub when several processes serve.

Every message has a topic (domain/common/topics.py: a lot's auction feed, or the general topic) and a
subscriber names the topics it wants. On Redis each topic is a channel of the deployment's keyspace,
subscribed while a subscriber of this process wants it (counted per process) and unsubscribed when the last
one leaves, so a process decodes only the messages its subscribers asked for; the general channel is
always subscribed, and `ANY` (the `events` subscription) is a pattern over every topic's channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Final

import orjson

from domain.common.topics import ANY, GENERAL, conflation_key, topic_of, watermark
from notifications.keyspace import Keyspace, Listener

log = logging.getLogger("palmtrade.broker")
Accept = Callable[[dict[str, Any]], bool]
CHANNEL: Final = GENERAL  # within the deployment's Keyspace: <prefix>:events
TOPIC_CHANNEL: Final = "live"  # <prefix>:live:<topic> (a topic is `auction:<lot id>`, ...)
PATTERN: Final = f"{TOPIC_CHANNEL}:*"  # the deployment's prefix has no glob characters (keyspace.PREFIX_PATTERN)
WAIT_FOR_REDIS: Final = 5.0  # seconds a new subscriber waits for Redis to confirm its channel before reading on
MARKS_KEPT: Final = 10_000  # in-process marks (one per bid published), the oldest dropped first
PUBLISH_BATCH: Final = 200  # messages written to Redis in one command at most
Outgoing = tuple[str, str, tuple[str, int] | None, "asyncio.Future[BaseException | None]"]  # channel, data, mark


def _accepts(accept: Accept, message: dict[str, Any]) -> bool:
    try:
        return bool(accept(message))
    except Exception:  # a filter that cannot read a message does not want it; the others still get it
        return False


def channel_of(topic: str) -> str:
    return CHANNEL if topic == GENERAL else f"{TOPIC_CHANNEL}:{topic}"


class Subscription:
    """One subscriber's bounded queue: the oldest message is dropped when it overflows; conflating, an unread
    message is dropped as soon as a newer one with its `conflation_key` arrives (the newer one queues
    last, so what stays keeps its order)."""

    __slots__ = ("_latest", "_queue", "_unread", "_waiter", "accept", "broker", "conflate", "dropped", "names")

    def __init__(self, broker: InProcessBroker, accept: Accept | None, names: tuple[str, ...], conflate: bool) -> None:
        self.broker = broker
        self.accept = accept
        self.names = names
        self.conflate = conflate
        self.dropped = 0  # superseded or overflowed
        self._queue: deque[list[Any]] = deque()  # cells [message, key]; a superseded cell holds None
        self._latest: dict[str, list[Any]] = {}
        self._unread = 0
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, message: dict[str, Any]) -> None:
        if self.accept is not None and not _accepts(self.accept, message):
            return
        key = conflation_key(message) if self.conflate else None
        cell = [message, key]
        if key is not None:
            superseded = self._latest.get(key)
            if superseded is not None:
                superseded[0] = None
                self._unread -= 1
                self.dropped += 1
            self._latest[key] = cell
        if self._unread >= self.broker.queue_size:
            log.warning("a live subscriber is too slow; dropping its oldest message")
            self._take()
            self.dropped += 1
        self._queue.append(cell)
        self._unread += 1
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _take(self) -> dict[str, Any]:
        while True:
            cell = self._queue.popleft()
            message, key = cell
            if message is None:
                continue
            self._unread -= 1
            if key is not None and self._latest.get(key) is cell:
                del self._latest[key]
            return message  # type: ignore[no-any-return]

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._unread:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._take()

    @property
    def unread(self) -> int:
        return self._unread

    async def aclose(self) -> None:
        self.broker._leave(self)


class InProcessBroker:
    """Fans messages out to this process's subscribers of their topics."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        # topic (or ANY) -> its subscribers, in the order they came
        self._by_topic: dict[str, dict[Subscription, None]] = {}
        self._marks: OrderedDict[str, int] = OrderedDict()

    async def publish(self, message: dict[str, Any]) -> None:
        mark = watermark(message)
        if mark is not None:
            self._mark(*mark)
        self.deliver_local(message, topic_of(message))

    def _mark(self, topic: str, seq: int) -> None:
        self._marks[topic] = max(seq, self._marks.get(topic, seq))
        self._marks.move_to_end(topic)
        if len(self._marks) > MARKS_KEPT:
            self._marks.popitem(last=False)

    async def marks(self, names: Iterable[str]) -> dict[str, int]:
        """The highest sequence published per topic, of those marked (`watermark`)."""
        return {t: self._marks[t] for t in names if t in self._marks}

    def deliver_local(self, message: dict[str, Any], topic: str, *, to_any: bool = True) -> None:
        for subscription in list(self._by_topic.get(topic, ())):
            subscription.offer(message)
        if to_any:
            for subscription in list(self._by_topic.get(ANY, ())):
                if topic not in subscription.names:
                    subscription.offer(message)

    def _join(self, accept: Accept | None, names: Iterable[str], conflate: bool) -> Subscription:
        subscription = Subscription(self, accept, tuple(dict.fromkeys(names)) or (GENERAL,), conflate)
        for name in subscription.names:
            self._by_topic.setdefault(name, {})[subscription] = None
        return subscription

    def _leave(self, subscription: Subscription) -> None:
        for name in subscription.names:
            subscribers = self._by_topic.get(name)
            if subscribers is not None:
                subscribers.pop(subscription, None)
                if not subscribers:
                    del self._by_topic[name]
                    self._released(name)

    def _released(self, name: str) -> None:
        """The last subscriber of `name` in this process left."""

    async def _listening(self, subscription: Subscription) -> None:
        """Returns once messages of the subscription's topics reach this process."""

    async def open(
        self, accept: Accept | None = None, *, topics: Iterable[str] = (GENERAL,), conflate: bool = False
    ) -> Subscription:
        subscription = self._join(accept, topics, conflate)
        try:
            await self._listening(subscription)
        except BaseException:
            self._leave(subscription)
            raise
        return subscription

    async def subscribe(
        self, accept: Accept | None = None, *, topics: Iterable[str] = (GENERAL,), conflate: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """The messages of `topics` (the general topic by default); registered in this process when first
        iterated, before its first wait (`open` waits for the bus too)."""
        subscription = self._join(accept, topics, conflate)
        try:
            await self._listening(subscription)
            while True:
                yield await subscription.__anext__()
        finally:
            self._leave(subscription)

    @property
    def subscriber_count(self) -> int:
        return len({s for subscribers in self._by_topic.values() for s in subscribers})

    @property
    def channels(self) -> frozenset[str]:
        """The topics this process receives (ANY for all); the general topic is always received."""
        return frozenset(self._by_topic) - {GENERAL}

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        """Returns when the broker can carry messages between processes (readiness); raises otherwise."""

    async def close(self) -> None:
        return None


def _encode(message: dict[str, Any]) -> str:
    try:  # orjson: ~5x faster than json (README: Dependencies)
        return orjson.dumps(message).decode()
    except TypeError:  # what orjson refuses (an integer beyond 64 bits, a key that is not a string)
        return json.dumps(message, ensure_ascii=False)


class RedisBroker(InProcessBroker):
    """Publishes to the deployment's Redis channel of each message's topic; one listener per process
    subscribes the channels its local subscribers want and feeds them.

    The process's publications are written by one task, in the order they were asked, each batch once Redis
    answered the one before: what is asked while a write is in flight goes in the next, as one command (several
    bids share a round trip under load). A message lost to a Redis fault sets no mark, so the outbox's live
    consumer publishes it (notifications/live.py)."""

    def __init__(self, space: Keyspace, queue_size: int = 1000) -> None:
        super().__init__(queue_size)
        self.space = space
        self._task: asyncio.Task[None] | None = None
        self._listener: Listener | None = None
        self._live: set[str] = set()  # topics (ANY: the pattern) Redis confirmed on the current connection
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._expected: set[str] = set()  # confirmations the change in flight waits for
        self._changed: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()
        self._syncs: set[asyncio.Task[None]] = set()
        self.received: Counter[str] = Counter()  # messages read from Redis, per topic (ANY: through the pattern)
        self._outgoing: list[Outgoing] = []
        self._writer: asyncio.Task[None] | None = None
        self._queued = 0  # messages asked to be published, ever
        self._written = 0  # of those, the ones whose write has ended (sent or failed)
        self._progress: asyncio.Future[None] | None = None  # done when the writer ends a batch

    async def publish(self, message: dict[str, Any]) -> None:
        """Returns once Redis has taken the message (raises what kept it from Redis)."""
        mark = watermark(message)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[BaseException | None] = loop.create_future()
        self._outgoing.append((channel_of(topic_of(message)), _encode(message), mark, done))
        self._queued += 1
        if self._writer is None:
            self._writer = loop.create_task(self._write(), name="redis-publisher")
        error = await done
        if error is not None:
            raise error

    async def _write(self) -> None:
        batch: list[Outgoing] = []
        try:
            while self._outgoing:
                batch = self._outgoing[:PUBLISH_BATCH]
                del self._outgoing[:PUBLISH_BATCH]
                error: BaseException | None = None
                try:
                    await self.space.publish(
                        [
                            (channel, data, None if mark is None else (f"{TOPIC_CHANNEL}-seq:{mark[0]}", mark[1]))
                            for channel, data, mark, _ in batch
                        ]
                    )
                except Exception as err:
                    error = err
                self._ended(batch, error)
                batch = []
        finally:  # cancelled (closing): what was not written fails
            self._ended(batch + self._outgoing, ConnectionError("the broker closed before publishing this"))
            self._outgoing.clear()
            self._writer = None

    def _ended(self, batch: list[Outgoing], error: BaseException | None) -> None:
        for _, _, mark, done in batch:
            if error is None and mark is not None:
                self._mark(*mark)  # Redis took it: known here without asking Redis (`marks`)
            if not done.done():
                done.set_result(error)
        self._written += len(batch)
        if self._progress is not None and not self._progress.done():
            self._progress.set_result(None)

    @property
    def published(self) -> int:
        """How many messages this process has asked to publish, ever (the tests wait for Redis only after a test
        that published)."""
        return self._queued

    async def _flushed(self) -> None:
        """Returns once what this process asked to publish before has been written (or failed to be)."""
        target = self._queued
        while self._written < target and self._writer is not None:
            if self._progress is None or self._progress.done():
                self._progress = asyncio.get_running_loop().create_future()
            await asyncio.wait([self._progress])

    async def marks(self, names: Iterable[str]) -> dict[str, int]:
        """As in process, from Redis for what another process published: a bid this process published is marked
        by the time its `publish` returned (and known here, so Redis is not asked for it), and one it asked to
        publish before the call is waited for."""
        await self._flushed()
        names = list(names)
        found = {t: self._marks[t] for t in names if t in self._marks}
        if len(found) < len(names):
            rest = [t for t in names if t not in found]
            values = await self.space.marks([f"{TOPIC_CHANNEL}-seq:{t}" for t in rest])
            found.update((t, v) for t, v in zip(rest, values, strict=True) if v is not None)
        return found

    @property
    def channels(self) -> frozenset[str]:
        """The topics Redis sends this process now (ANY: every topic)."""
        return frozenset(self._live) - {GENERAL}

    async def start(self) -> None:
        ready = self._waiter(GENERAL)
        self._task = asyncio.create_task(self._listen(), name="redis-broker")
        await asyncio.wait_for(ready, timeout=10)

    def _waiter(self, name: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(future)
        return future

    async def _listening(self, subscription: Subscription) -> None:
        waiting = [self._waiter(name) for name in subscription.names if name not in self._live]
        if not waiting:
            return
        await self._sync()
        try:
            _, late = await asyncio.wait(waiting, timeout=WAIT_FOR_REDIS)
        finally:
            for future in waiting:
                future.cancel()  # no-op once confirmed
        if late:
            log.warning("Redis did not confirm the channels of %s in time; reading on", subscription.names)

    def _released(self, name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._sync())
        self._syncs.add(task)
        task.add_done_callback(self._syncs.discard)

    async def _sync(self) -> None:
        """Brings Redis's channels in line with what the local subscribers want, one change at a time (so each
        confirmation read belongs to the change in flight)."""
        async with self._lock:
            while (listener := self._listener) is not None:
                wanted = set(self._by_topic) | {GENERAL}
                add, drop = wanted - self._live, self._live - wanted
                if not add and not drop:
                    return
                self._changed = asyncio.get_running_loop().create_future()
                self._expected = add | drop
                try:
                    await listener.change(
                        subscribe=[channel_of(t) for t in add if t != ANY],
                        unsubscribe=[channel_of(t) for t in drop if t != ANY],
                        psubscribe=[PATTERN] if ANY in add else [],
                        punsubscribe=[PATTERN] if ANY in drop else [],
                    )
                    await self._changed
                except Exception:
                    log.warning("changing the Redis channels failed; the listener subscribes again", exc_info=True)
                    return
                finally:
                    self._changed = None

    def _confirmed(self, kind: str, name: str) -> None:
        if name == PATTERN:
            topic = ANY
        elif name == CHANNEL:
            topic = GENERAL
        else:
            topic = name.removeprefix(f"{TOPIC_CHANNEL}:")
        if kind in ("subscribe", "psubscribe"):
            self._live.add(topic)
            for future in self._waiters.pop(topic, ()):
                if not future.done():
                    future.set_result(None)
        else:
            self._live.discard(topic)
        self._expected.discard(topic)
        if not self._expected and self._changed is not None and not self._changed.done():
            self._changed.set_result(None)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.space.listener() as listener:
                    self._live.clear()
                    await listener.change(subscribe=[CHANNEL])
                    self._listener = listener
                    self._released(GENERAL)  # subscribes what the local subscribers want
                    first = True
                    while True:
                        kind, name, data = await listener.read()
                        if data is None:
                            self._confirmed(kind, name)
                            if first and name == CHANNEL:
                                first = False
                                log.info("live events on Redis channel %s", self.space.name(CHANNEL))
                        elif kind == "pmessage":
                            self._deliver(data, name, only_any=True)
                        else:
                            self._deliver(data, name, only_any=False)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis listener failed; reconnecting in 1 s")
                await asyncio.sleep(1)
            finally:
                self._listener = None
                self._live.clear()
                if self._changed is not None and not self._changed.done():
                    self._changed.set_exception(ConnectionError("the Redis listener's connection closed"))

    def _deliver(self, data: bytes | None, channel: str, *, only_any: bool) -> None:
        topic = GENERAL if channel == CHANNEL else channel.removeprefix(f"{TOPIC_CHANNEL}:")
        self.received[ANY if only_any else topic] += 1
        message = orjson.loads(data)  # type: ignore[arg-type]
        if only_any:  # through the pattern: for the subscribers of every topic
            for subscription in list(self._by_topic.get(ANY, ())):
                if topic not in subscription.names:
                    subscription.offer(message)
        else:  # a topic's channel (the pattern, if subscribed too, brings it to ANY's subscribers)
            self.deliver_local(message, topic, to_any=topic == GENERAL)

    async def ping(self) -> None:
        if GENERAL not in self._live:
            raise RuntimeError("not subscribed to Redis")
        await self.space.ping()

    async def close(self) -> None:
        writer = self._writer
        if writer is not None:
            await asyncio.wait([writer], timeout=WAIT_FOR_REDIS)  # what is asked is written, if Redis takes it
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._syncs):
            task.cancel()
        await self.space.aclose()
