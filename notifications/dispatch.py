"""The outbox dispatcher: delivers every committed event at least once to each consumer.

Business workflows are not consumers here: they are domain/<area>/workflows.py handlers registered in
domain/wiring.py, and the dispatcher runs them (domain.common.reactions.Reactions is a consumer) in the
same transaction as every other consumer.

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
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from opentelemetry import trace
from tortoise import connections
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.audit import services as audit
from domain.common import clock
from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.common.storage import claim, using_postgres
from domain.publication import feed, saved_searches
from notifications import metrics

log = logging.getLogger("palmtrade.dispatch")
MAX_BACKOFF_SECONDS = 60

# the claim and the mark in one round trip (the same rows as _due(), FOR UPDATE SKIP LOCKED); $1 is now
_DUE_SQL = (
    "SELECT id FROM outbox_event WHERE dispatched_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1)"
)
_CLAIM = (
    f"UPDATE outbox_event SET dispatched_at = $1 WHERE id IN ({_DUE_SQL} ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
    " RETURNING *"
)
_CLAIM_ONE = (
    f"UPDATE outbox_event SET dispatched_at = $1 WHERE id IN ({_DUE_SQL} AND id = $2 FOR UPDATE SKIP LOCKED)"
    " RETURNING *"
)


Finish = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class AfterCommit:
    """A step the dispatcher awaits once the batch's transaction has committed: what leaves the database (live
    messages to the broker). Run before the commit, it would reach subscribers for a batch that may still roll
    back (a worker cancelled past its grace while waiting for the audit chain) and be sent again by the next
    dispatcher. It runs at most once; if it fails, the batch stays delivered and the failure is logged (live
    messages are a courtesy: the inbox and a feed's gap-filling from the database are the record)."""

    step: Finish


class Consumer(Protocol):
    name: str

    async def consume(self, events: Sequence[OutboxEvent]) -> Finish | AfterCommit | None:
        """Handles a batch inside the dispatcher's transaction; must ignore repeats.

        What it returns, if anything, the dispatcher awaits after every consumer has consumed: a Finish last before
        the commit (the place for a step that takes a lock held until the commit), an AfterCommit once the batch
        has committed.
        """


class AuditConsumer:
    """Chains the batch onto the audit trail: the entries are made first, the chain's lock is taken last, for
    linking and the insert alone, so that dispatchers overlap everything else they do."""

    name = "audit"

    async def consume(self, events: Sequence[OutboxEvent]) -> Finish:
        entries = await audit.prepare(events)
        return lambda: audit.link(entries)


class FeedConsumer:
    """The integrator change feed, in commit order."""

    name = "feed"

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        await feed.append(events)


class SavedSearchConsumer:
    """Each newly published announcement is matched against saved searches (events for their users)."""

    name = "saved_searches"

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        published = [int(e.object_id) for e in events if e.type == "announcement.published"]
        await saved_searches.match_saved_searches(published)


class Dispatcher:
    def __init__(self, consumers: Sequence[Consumer], batch_size: int = 200) -> None:
        self.consumers = list(consumers)
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Delivers one batch; returns how many events it dispatched.

        When the batch fails, each of its events is tried alone, so that one event no consumer
        can take is retried later with backoff while the others go through.
        """
        try:
            return await self._deliver(None)
        except Exception:
            log.exception("dispatching a batch failed; trying its events one by one")
        delivered = 0
        for event_id in await column(self._due().limit(self.batch_size).values_list("id", flat=True), int):
            try:
                delivered += await self._deliver(int(event_id))
            except Exception as err:
                await self._postpone(int(event_id), err)
        return delivered

    def _due(self) -> QuerySet[OutboxEvent]:
        now = clock.now()
        return OutboxEvent.filter(Q(next_attempt_at=None) | Q(next_attempt_at__lte=now), dispatched_at=None).order_by(
            "id"
        )

    async def _claim(self, only: int | None) -> list[OutboxEvent]:
        """Due events for this dispatcher alone, already marked dispatched in its transaction (a rollback unmarks
        them): on PostgreSQL one statement claims and marks them."""
        if not using_postgres():
            query = self._due() if only is None else self._due().filter(id=only)
            batch = await claim(query.limit(self.batch_size))
            if batch:
                await OutboxEvent.filter(id__in=[e.id for e in batch]).update(dispatched_at=clock.now())
            return batch
        rows = await connections.get("default").execute_query_dict(
            _CLAIM_ONE if only is not None else _CLAIM, [clock.now(), only if only is not None else self.batch_size]
        )
        return sorted((OutboxEvent._init_from_db(**dict(row)) for row in rows), key=lambda e: e.id)

    async def _deliver(self, only: int | None) -> int:
        committed: list[AfterCommit] = []
        async with in_transaction():
            batch = await self._claim(only)
            if not batch:
                return 0
            # a span per batch delivered when traces are on (api/tracing.py); the API alone records nothing
            with trace.get_tracer(__name__).start_as_current_span(
                "process outbox", kind=trace.SpanKind.CONSUMER, attributes={"messaging.batch.message_count": len(batch)}
            ):
                last: list[Finish] = []
                for consumer in self.consumers:
                    finish = await consumer.consume(batch)
                    if isinstance(finish, AfterCommit):
                        committed.append(finish)
                    elif finish is not None:
                        last.append(finish)
                for finish in last:
                    await finish()
        metrics.EVENTS.labels("dispatched").inc(len(batch))
        for after in committed:
            try:
                await after.step()
            except Exception:
                log.exception("a step after the batch's commit failed; the batch stays delivered")
        return len(batch)

    async def _postpone(self, event_id: int, err: Exception) -> None:
        event = await OutboxEvent.get_or_none(id=event_id)
        if event is None:
            return
        attempts = event.attempts + 1
        delay = min(2**attempts, MAX_BACKOFF_SECONDS)
        log.error("event %s failed %d times (%r); next try in %d s", event.event_id, attempts, err, delay)
        metrics.EVENTS.labels("failed").inc()
        await OutboxEvent.filter(id=event_id, dispatched_at=None).update(
            attempts=attempts,
            next_attempt_at=clock.now() + timedelta(seconds=delay),
            last_error=repr(err)[:2000],
        )

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
