"""Retention of the outbox on the real database: what its rule says goes, in bounded batches; the rest stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain.common.chronograph import run_periodic
from domain.common.models import OutboxEvent
from domain.common.retention import MIN_OUTBOX_RETENTION, Retention, delete_in_batches, purge_outbox
from domain.wiring import periodic_jobs
from tests.domain import factories as df

KEEP = Retention(outbox=timedelta(hours=48))


async def fetch_nothing(url: str) -> bytes:
    return b""


def jobs(keep: Retention = KEEP) -> list:
    return periodic_jobs(
        keyring=None,  # type: ignore[arg-type]
        audit_export_path=None,
        audit_export_every=timedelta(minutes=5),
        fetch_crl=fetch_nothing,
        keep=keep,
    )


async def test_dispatched_events_go_after_the_retention_and_undispatched_ones_never(db, manual_clock):
    # given events dispatched just before the retention ran out, just after, and never
    old, fresh, pending = await df.outbox(3)
    now = manual_clock.now()
    await OutboxEvent.filter(id=old.id).update(dispatched_at=now - KEEP.outbox)
    await OutboxEvent.filter(id=fresh.id).update(dispatched_at=now - KEEP.outbox + timedelta(seconds=1))
    await OutboxEvent.filter(id=pending.id).update(occurred_at=now - timedelta(days=400))

    # when the outbox is purged
    purged = await purge_outbox(now, KEEP)

    # then only the event dispatched at least the retention ago went
    assert purged == 1
    assert sorted(await OutboxEvent.all().values_list("id", flat=True)) == [fresh.id, pending.id]


async def test_a_purge_deletes_in_bounded_batches_and_leaves_the_backlog_to_the_next_run(db, manual_clock):
    # given 25 events dispatched long ago
    rows = await df.outbox(25)
    now = manual_clock.now()
    await OutboxEvent.filter(id__in=[r.id for r in rows]).update(dispatched_at=now - timedelta(days=30))
    small = Retention(outbox=timedelta(hours=48), batch=10, max_batches=2)
    statements: list[int] = []

    async def counted(chosen):  # each batch is one delete statement
        statements.append(await chosen.count())
        return int(await chosen.delete())

    # when a run may delete two batches of ten
    query = OutboxEvent.filter(dispatched_at__lte=now - small.outbox)
    first = await delete_in_batches(query, batch=small.batch, max_batches=small.max_batches, remove=counted)

    # then it deleted the twenty oldest in two statements, and the next run takes the rest
    assert (first, statements) == (20, [10, 10])
    assert await OutboxEvent.all().count() == 5
    assert await purge_outbox(now, small) == 5
    assert await OutboxEvent.all().count() == 0


async def test_a_batch_spares_what_keep_names_and_moves_past_it(db, manual_clock):
    # given 6 old events of which the first batch's are all to be kept
    rows = await df.outbox(6)
    kept = {rows[0].id, rows[1].id, rows[2].id}

    async def keep(ids):
        return {i for i in ids if i in kept}

    # when purging three at a time
    gone = await delete_in_batches(OutboxEvent.all(), batch=3, max_batches=5, keep=keep)

    # then the spared batch did not stop the purge
    assert gone == 3
    assert set(await OutboxEvent.all().values_list("id", flat=True)) == kept


def test_the_outbox_keeps_dispatched_events_at_least_two_days():
    with pytest.raises(ValueError, match="at least"):
        Retention(outbox=MIN_OUTBOX_RETENTION - timedelta(seconds=1))
    with pytest.raises(ValueError, match="at least one row"):
        Retention(batch=0)


def test_every_purge_is_a_periodic_job_of_the_wiring():
    names = {job.name for job in jobs()}
    assert {"outbox.purge", "push_delivery.purge", "notification.purge", "refresh_token.purge"} <= names


async def test_the_chronograph_tick_runs_the_outbox_purge(db, manual_clock, tmp_path: Path):
    # given an event dispatched a week ago and the wired jobs
    (old,) = await df.outbox(1)
    await OutboxEvent.filter(id=old.id).update(dispatched_at=manual_clock.now() - timedelta(days=7))
    wired = [job for job in jobs() if job.name.endswith(".purge") and job.name != "certificate_challenge.purge"]

    # when the scheduler ticks
    ran = await run_periodic(wired, "worker-1")

    # then every purge ran and the event went
    assert {"outbox.purge", "push_delivery.purge", "notification.purge", "refresh_token.purge"} <= set(ran)
    assert not await OutboxEvent.exists(id=old.id)
