"""Retention: how long rows that only grow are kept, and deleting them in bounded batches.

Each area owns the purge of its tables (the outbox here, pushes and the inbox in domain/notifications/retention,
refresh tokens in domain/accounts/retention); domain/wiring runs each as a leased periodic job of the chronograph.
A purge deletes at most `batch` rows per statement, each statement its own short transaction, and at most
`max_batches` statements per run: no long lock on PostgreSQL, and a backlog is worked off over several runs.
The audit trail is never purged (README: Production layout, the audit chain).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise.queryset import QuerySet, ValuesListQuery

from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.db import Model

M = TypeVar("M", bound=Model)

# the outbox is also the ledger of facts recorded once by a derived event id (tendering/reminders looks up to
# 24 hours back before it reminds again), so no dispatched event goes before two days
MIN_OUTBOX_RETENTION = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each table keeps what is no longer needed (api/settings.py reads them from the environment)."""

    outbox: timedelta = timedelta(hours=168)  # after dispatch
    push_delivery: timedelta = timedelta(days=90)  # after creation, once sent, refused, expired or skipped
    notification: timedelta = timedelta(days=365)  # after creation, read or not
    refresh_token: timedelta = timedelta(days=7)  # after expiry or revocation
    batch: int = 1000
    max_batches: int = 100

    def __post_init__(self) -> None:
        if self.outbox < MIN_OUTBOX_RETENTION:
            raise ValueError(f"the outbox keeps dispatched events at least {MIN_OUTBOX_RETENTION}")
        if min(self.push_delivery, self.notification, self.refresh_token) < timedelta(0):
            raise ValueError("a retention is not negative")
        if self.batch < 1 or self.max_batches < 1:
            raise ValueError("a purge deletes at least one row per batch and runs at least one batch")


def next_batch(query: QuerySet[M], after: int, batch: int) -> ValuesListQuery[Any]:
    """The ids of the next batch a purge reads: `query`'s rows past `after`, oldest id first. Each purge's age column
    is indexed (migrations 0023 and 0025), so the last batch of a run does not read the table's kept rows to its end
    (tests/domain/common/test_retention_indexes.py reads the plan on PostgreSQL)."""
    return query.filter(id__gt=after).order_by("id").limit(batch).values_list("id", flat=True)


async def delete_in_batches(
    query: QuerySet[M],
    *,
    batch: int,
    max_batches: int,
    keep: Callable[[Sequence[int]], Awaitable[set[int]]] | None = None,
    remove: Callable[[QuerySet[M]], Awaitable[int]] | None = None,
) -> int:
    """Deletes the rows `query` selects, oldest id first, `batch` ids per statement and at most `max_batches`
    statements; `keep` names ids of a batch to spare. The delete repeats `query`'s condition, so a row that stopped
    matching since it was read stays. Returns how many rows went."""
    deleted, after = 0, 0
    for _ in range(max_batches):
        ids = [int(i) for i in await column(next_batch(query, after, batch), int)]
        if not ids:
            break
        after = ids[-1]
        spared = await keep(ids) if keep is not None else set()
        doomed = [i for i in ids if i not in spared]
        if doomed:
            chosen = query.filter(id__in=doomed)
            deleted += await remove(chosen) if remove is not None else int(await chosen.delete())
        if len(ids) < batch:
            break
    return deleted


async def purge_outbox(now: datetime, retention: Retention) -> int:
    """Deletes events dispatched longer than the outbox retention ago; an undispatched event is never deleted."""
    cutoff = now - max(retention.outbox, MIN_OUTBOX_RETENTION)
    query = OutboxEvent.filter(dispatched_at__isnull=False, dispatched_at__lte=cutoff)
    return await delete_in_batches(query, batch=retention.batch, max_batches=retention.max_batches)
