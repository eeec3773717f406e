"""The outbox dispatcher: delivers every committed event at least once to each consumer.

A batch is claimed with FOR UPDATE SKIP LOCKED (PostgreSQL), so several dispatcher processes
share the work without two of them holding one event. Consumers that write to the database do
it in the claiming transaction and deduplicate by event id; the live broker is published to
before the commit, so a crash re-publishes (never loses) and subscribers drop repeats by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from tortoise.transactions import in_transaction

from domain.audit import services as audit
from domain.common import clock
from domain.common.events import EventBus, live_message
from domain.common.models import OutboxEvent
from domain.common.storage import claim

log = logging.getLogger("palmtrade.dispatch")


class Consumer(Protocol):
    name: str

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        """Handles a batch inside the dispatcher's transaction; must ignore repeats."""


class AuditConsumer:
    name = "audit"

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        await audit.append(events)


class LiveConsumer:
    name = "live"

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            if event.outcome == "success":
                await self.bus.publish(live_message(event))


class Dispatcher:
    def __init__(self, consumers: Sequence[Consumer], batch_size: int = 200) -> None:
        self.consumers = list(consumers)
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Delivers one batch; returns how many events it dispatched."""
        async with in_transaction():
            batch = await claim(OutboxEvent.filter(dispatched_at=None).order_by("id").limit(self.batch_size))
            if not batch:
                return 0
            for consumer in self.consumers:
                await consumer.consume(batch)
            await OutboxEvent.filter(id__in=[e.id for e in batch]).update(dispatched_at=clock.now())
        return len(batch)

    async def drain(self, limit: int = 100) -> int:
        """Dispatches until the outbox is empty (or `limit` batches); for tests and shutdown."""
        total = 0
        for _ in range(limit):
            n = await self.run_once()
            total += n
            if n == 0:
                break
        return total


async def run_forever(step: Callable[[], Awaitable[int]], idle: float, name: str, stop: asyncio.Event) -> None:
    """Calls `step` until stopped, sleeping `idle` seconds whenever it found nothing to do."""
    while not stop.is_set():
        try:
            worked = await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying", name)
            worked = 0
        if not worked:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle)
