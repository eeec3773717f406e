"""Live event brokers: in-process by default, Redis pub/sub when several processes serve."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from notifications.keyspace import Keyspace

log = logging.getLogger("palmtrade.broker")
Accept = Callable[[dict[str, Any]], bool]
CHANNEL = "events"  # within the deployment's Keyspace: <prefix>:events


def _accepts(accept: Accept, message: dict[str, Any]) -> bool:
    try:
        return bool(accept(message))
    except Exception:  # a filter that cannot read a message does not want it; the others still get it
        return False


class InProcessBroker:
    """Fans messages out to this process's subscribers; bounded queues drop the slowest reader."""

    def __init__(self, queue_size: int = 1000) -> None:
        # each reader's queue with the filter it asked for: a message it would drop never wakes it
        self._subscribers: dict[asyncio.Queue[dict[str, Any]], Accept | None] = {}
        self._queue_size = queue_size

    async def publish(self, message: dict[str, Any]) -> None:
        self.deliver_local(message)

    def deliver_local(self, message: dict[str, Any]) -> None:
        for queue, accept in list(self._subscribers.items()):
            if accept is not None and not _accepts(accept, message):
                continue
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("a live subscriber is too slow; dropping its oldest message")
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(message)

    async def subscribe(self, accept: Accept | None = None) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers[queue] = accept
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.pop(queue, None)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        """Returns when the broker can carry messages between processes (readiness); raises otherwise."""

    async def close(self) -> None:
        return None


class RedisBroker(InProcessBroker):
    """Publishes to the deployment's Redis channel; one listener per process feeds the local subscribers."""

    def __init__(self, space: Keyspace, queue_size: int = 1000) -> None:
        super().__init__(queue_size)
        self.space = space
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._listening = False  # subscribed now (false while reconnecting after a failure)

    async def publish(self, message: dict[str, Any]) -> None:
        try:  # orjson: every process decodes every message, ~5x faster than json (README: Dependencies)
            data = orjson.dumps(message).decode()
        except TypeError:  # what orjson refuses (an integer beyond 64 bits, a key that is not a string)
            data = json.dumps(message, ensure_ascii=False)
        await self.space.publish(CHANNEL, data)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="redis-broker")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.space.subscription(CHANNEL) as messages:
                    if not self._ready.is_set():
                        log.info("live events on Redis channel %s", self.space.name(CHANNEL))
                    self._listening = True
                    self._ready.set()
                    async for data in messages:
                        self.deliver_local(orjson.loads(data))
            except asyncio.CancelledError:
                raise
            except Exception:
                self._listening = False
                log.exception("redis listener failed; reconnecting in 1 s")
                await asyncio.sleep(1)

    async def ping(self) -> None:
        if not self._listening:
            raise RuntimeError("not subscribed to Redis")
        await self.space.ping()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.space.aclose()
