"""The change feed under concurrent writers: a reader paging by cursor sees every entry once, in order.

The first test runs writers (outbox events committed after a random delay), several dispatchers
whose transactions sleep after appending to the feed (their entries exist but are uncommitted),
and a reader paging through `feed.read` the whole time. On PostgreSQL these really overlap, and the
test checks that they did; on SQLite the single writer serialises them and the same checks hold.

The PostgreSQL tests after it fix one interleaving each, to show what keeps the feed whole: the
advisory lock makes a second appender wait for the first to commit; without it the second appender
collides on the same `seq` and its batch fails; and a feed numbered before commit (as a sequence or
an auto-increment id numbers it) loses an entry, which the same check reports.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.common import events
from domain.common.actors import Actor, Role
from domain.common.events import Audience, DomainEvent
from domain.common.models import OutboxEvent
from domain.publication import events as ev
from domain.publication import feed
from domain.publication.events import FEED_KINDS
from domain.publication.models import FeedEntry
from notifications.dispatch import Dispatcher, FeedConsumer

TENDERER = Actor(user_id=7, org_id=7, roles=frozenset({Role.TENDERER}))
WRITERS = 3
TRANSACTIONS_PER_WRITER = 12
DISPATCHERS = 3
BATCH = 3  # small batches: many dispatcher transactions, many chances to interleave
PAGE = 4  # the reader's page: many reads while entries are being appended
MAX_WRITE_DELAY = 0.015  # seconds a writer's transaction stays open after recording its events
MAX_COMMIT_DELAY = 0.02  # seconds a dispatcher's transaction stays open after appending to the feed
MAX_LOOPS = 20_000  # every loop here is bounded
STEP = 0.002
RUN_TIMEOUT = 60.0
HOLD_TIMEOUT = 10.0


# ---------------------------------------------------------------- the checks


def assert_gapless(seen: Sequence[FeedEntry], full: Sequence[FeedEntry]) -> None:
    """`seen` (what a cursor reader got, in order) is the whole feed, once each, in seq order, 1..n."""
    seqs = [e.seq for e in seen]
    everything = [e.seq for e in full]
    assert everything == list(range(1, len(everything) + 1)), f"the feed's seq has holes: {everything}"
    twice = sorted(s for s, n in Counter(seqs).items() if n > 1)
    assert not twice, f"the reader saw seq {twice} more than once"
    assert seqs == sorted(seqs), f"the reader saw seq out of order: {seqs}"
    missed = sorted(set(everything) - set(seqs))
    assert not missed, f"the reader missed seq {missed}: they committed behind its cursor"
    assert seqs == everything


def assert_each_event_once(full: Sequence[FeedEntry], recorded: Sequence[OutboxEvent]) -> None:
    """Every public change recorded is in the feed exactly once, as recorded; nothing else is."""
    wanted = {str(e.event_id): e for e in recorded if e.type in FEED_KINDS}
    got = Counter(str(e.event_id) for e in full)
    assert not [i for i, n in got.items() if n > 1], "an event is in the feed twice"
    assert set(got) == set(wanted), f"missing {len(set(wanted) - set(got))}, unexpected {len(set(got) - set(wanted))}"
    for entry in full:
        event = wanted[str(entry.event_id)]
        assert (entry.kind, entry.object_type, entry.object_id, entry.trade_code, entry.payload) == (
            event.type,
            event.object_type,
            event.object_id,
            event.payload["trade_code"],
            event.payload,
        )


# ---------------------------------------------------------------- the concurrent run


@dataclass
class Probe:
    """What the run actually did, so the test can tell that it was concurrent."""

    in_consume: int = 0
    most_in_consume: int = 0  # dispatcher transactions inside the feed consumer at once
    uncommitted: int = 0  # dispatcher transactions holding appended, not yet committed entries
    reads: int = 0
    reads_while_uncommitted: int = 0


class SlowCommit:
    """The feed consumer, then a pause before the dispatcher's transaction commits."""

    name = "feed"

    def __init__(self, probe: Probe, rng: random.Random) -> None:
        self.probe = probe
        self.rng = rng
        self.feed = FeedConsumer()

    async def consume(self, batch: Sequence[OutboxEvent]) -> None:
        probe = self.probe
        probe.in_consume += 1
        probe.most_in_consume = max(probe.most_in_consume, probe.in_consume)
        try:
            await self.feed.consume(batch)
            probe.uncommitted += 1
            try:
                await asyncio.sleep(self.rng.uniform(0, MAX_COMMIT_DELAY))
            finally:
                probe.uncommitted -= 1
        finally:
            probe.in_consume -= 1


def an_event(rng: random.Random, n: int) -> DomainEvent:
    """A publication, a lot moving, or a draft (not public: it must stay out of the feed)."""
    code = f"37020210202600{n:04d}"
    roll = rng.random()
    if roll < 0.45:
        return ev.AnnouncementPublished(
            object_id=str(n),
            trade_code=code,
            kind="tender",
            title=f"青岛市第{n}号道路改造工程施工招标公告",
            category="engineering_construction",
            region_code="370202",
            project_id=n,
            lot_id=n,
            corrects_id=None,
            published_at="2026-03-01T02:00:00+00:00",
            audience=Audience(public=True),
        )
    if roll < 0.85:
        return ev.LotStatusChanged(
            object_id=str(n), trade_code=f"{code}001", before="draft", after="open", audience=Audience(public=True)
        )
    return ev.AnnouncementDrafted(object_id=str(n), trade_code=code, kind="tender", audience=Audience(orgs=(7,)))


async def write(rng: random.Random, numbers: Iterator[int], recorded: list[OutboxEvent]) -> None:
    """Transactions of 1-3 events each, committed after a random delay."""
    for _ in range(TRANSACTIONS_PER_WRITER):
        async with in_transaction():
            mine = [await events.record(an_event(rng, next(numbers)), TENDERER) for _ in range(rng.randint(1, 3))]
            await asyncio.sleep(rng.uniform(0, MAX_WRITE_DELAY))
        recorded.extend(mine)
        await asyncio.sleep(rng.uniform(0, MAX_WRITE_DELAY / 3))


async def dispatch(dispatcher: Dispatcher, writers_done: asyncio.Event) -> None:
    """Delivers batches until the writers are done and nothing is left to claim."""
    for _ in range(MAX_LOOPS):
        finished = writers_done.is_set()
        if await dispatcher.run_once() == 0:
            if finished:
                return
            await asyncio.sleep(STEP)
    raise AssertionError("a dispatcher did not finish")


async def read_along(dispatchers_done: asyncio.Event, probe: Probe) -> list[FeedEntry]:
    """Pages through the feed by cursor until the dispatchers are done and a read finds nothing new."""
    seen: list[FeedEntry] = []
    cursor = None
    for _ in range(MAX_LOOPS):
        finished = dispatchers_done.is_set()
        probe.reads += 1
        probe.reads_while_uncommitted += probe.uncommitted > 0
        page, cursor = await feed.read(cursor, PAGE)
        seen.extend(page)
        if not page:
            if finished:
                return seen
            await asyncio.sleep(STEP / 2)
    raise AssertionError("the reader did not finish")


@dataclass
class Run:
    recorded: list[OutboxEvent] = field(default_factory=list)
    seen: list[FeedEntry] = field(default_factory=list)
    probe: Probe = field(default_factory=Probe)


async def run_concurrently(seed: int) -> Run:
    rng = random.Random(seed)
    run = Run()
    numbers = itertools.count(1)
    writers_done, dispatchers_done = asyncio.Event(), asyncio.Event()

    async def writers() -> None:
        await asyncio.gather(*(write(random.Random(rng.random()), numbers, run.recorded) for _ in range(WRITERS)))
        writers_done.set()

    async def dispatchers() -> None:
        await asyncio.gather(
            *(
                dispatch(Dispatcher([SlowCommit(run.probe, random.Random(rng.random()))], BATCH), writers_done)
                for _ in range(DISPATCHERS)
            )
        )
        dispatchers_done.set()

    _, _, run.seen = await asyncio.wait_for(
        asyncio.gather(writers(), dispatchers(), read_along(dispatchers_done, run.probe)), timeout=RUN_TIMEOUT
    )
    return run


@pytest.mark.parametrize("seed", [20260301, 7, 1234567])
async def test_a_reader_paging_during_concurrent_dispatch_sees_every_entry_once_in_order(
    db, manual_clock, caplog, seed
):
    # given writers committing events late, dispatchers committing feed entries late, and a reader
    # paging by cursor, all at once
    with caplog.at_level(logging.ERROR, logger="palmtrade.dispatch"):
        run = await run_concurrently(seed)

    # then the reader saw the whole feed, once each, in seq order, and the feed holds each public event once
    full = await FeedEntry.all().order_by("seq")
    assert len(full) >= WRITERS * TRANSACTIONS_PER_WRITER // 2
    assert_gapless(run.seen, full)
    assert_each_event_once(full, run.recorded)

    # and every event went through on its first attempt: no batch failed or was retried (with the
    # lock replaced by nothing, 16-20 batches a run fail on a duplicate seq and some are postponed)
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0
    assert await OutboxEvent.filter(attempts__gt=0).count() == 0
    assert not [r.getMessage() for r in caplog.records]

    # and on PostgreSQL it really was concurrent: appenders queued on the lock while another held
    # uncommitted entries, and the reader read during such windows
    if db.postgres:
        assert run.probe.most_in_consume >= 2, run.probe
        assert run.probe.reads_while_uncommitted >= 1, run.probe


# ---------------------------------------------------------------- fixed interleavings (PostgreSQL)


async def public_events(n: int) -> list[OutboxEvent]:
    made: list[OutboxEvent] = []
    async with in_transaction():
        for i in range(1, 100):
            if len(made) == n:
                break
            event = an_event(random.Random(i), i)
            if event.type in FEED_KINDS:
                made.append(await events.record(event, TENDERER))
    assert len(made) == n
    return made


async def appended(batch: list[OutboxEvent]) -> list[int]:
    return [e.seq for e in await feed.append(batch)]


async def append_and_hold(
    batch: list[OutboxEvent],
    holding: asyncio.Event,
    release: asyncio.Event,
    append: Callable[[list[OutboxEvent]], Awaitable[list[int]]] = appended,
) -> list[int]:
    """Appends in a transaction that stays open until released."""
    async with in_transaction():
        seqs = await append(batch)
        holding.set()
        await asyncio.wait_for(release.wait(), timeout=HOLD_TIMEOUT)
    return seqs


async def append_as(batch: list[OutboxEvent], pid: asyncio.Future[int]) -> list[int]:
    """Appends in its own transaction, telling first which server process runs it."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict("SELECT pg_backend_pid() AS pid")
        pid.set_result(int(rows[0]["pid"]))
        entries = await feed.append(batch)
    return [e.seq for e in entries]


async def waits_on_a_lock(pid: int) -> bool:
    """True once that server process waits for a lock (bounded: a few seconds)."""
    for _ in range(int(HOLD_TIMEOUT / 0.01)):
        rows = await connections.get("default").execute_query_dict(
            "SELECT count(*) AS n FROM pg_locks WHERE pid = $1 AND NOT granted", [pid]
        )
        if rows[0]["n"]:
            return True
        await asyncio.sleep(0.01)
    return False


def postgres_only(db) -> None:
    if not db.postgres:
        pytest.skip("SQLite has one writer at a time: there is no second appender to interleave")


async def test_a_second_appender_waits_for_the_first_to_commit_then_takes_the_next_seq(db, manual_clock):
    postgres_only(db)
    # given two public events, and a first appender that holds its entry uncommitted
    first, second = await public_events(2)
    holding, release = asyncio.Event(), asyncio.Event()
    one = asyncio.create_task(append_and_hold([first], holding, release))
    await asyncio.wait_for(holding.wait(), timeout=HOLD_TIMEOUT)

    # when a second appender starts, and a reader reads meanwhile
    pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    two = asyncio.create_task(append_as([second], pid))
    waited = await waits_on_a_lock(await asyncio.wait_for(pid, timeout=HOLD_TIMEOUT))
    during, cursor = await feed.read(None, 10)
    release.set()
    seqs = await one, await two
    after, _ = await feed.read(cursor, 10)

    # then the second waited for the first to commit and took the next number; the reader missed nothing
    assert waited
    assert seqs == ([1], [2])
    assert during == []
    assert_gapless(during + after, await FeedEntry.all().order_by("seq"))


async def test_without_the_lock_a_second_appender_collides_on_the_same_seq(db, manual_clock, monkeypatch):
    postgres_only(db)

    # given the naive feed: the lock replaced by nothing
    async def no_lock(name: str) -> None:
        return None

    monkeypatch.setattr(feed, "lock_named", no_lock)
    first, second = await public_events(2)
    holding, release = asyncio.Event(), asyncio.Event()
    one = asyncio.create_task(append_and_hold([first], holding, release))
    await asyncio.wait_for(holding.wait(), timeout=HOLD_TIMEOUT)

    # when a second appender starts while the first has not committed
    pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    two = asyncio.create_task(append_as([second], pid))
    waited = await waits_on_a_lock(await asyncio.wait_for(pid, timeout=HOLD_TIMEOUT))
    release.set()

    # then it read the same last seq, waited on the first's uncommitted row with that number, and
    # failed when the first committed: the primary key keeps the feed whole, but without the lock
    # concurrent dispatchers fail their batches instead of queueing
    assert waited
    assert await one == [1]
    with pytest.raises(IntegrityError):
        await two
    assert [e.seq for e in await FeedEntry.all().order_by("seq")] == [1]


async def append_numbered_before_commit(batch: list[OutboxEvent], numbers: Iterator[int]) -> list[int]:
    """The classic mistake: each entry takes its number from a counter when written, not in commit order."""
    entries = [
        FeedEntry(
            seq=next(numbers),
            event_id=e.event_id,
            kind=e.type,
            object_type=e.object_type,
            object_id=e.object_id,
            trade_code=e.payload.get("trade_code"),
            payload=e.payload,
            committed_at=e.occurred_at,
        )
        for e in batch
    ]
    await FeedEntry.bulk_create(entries)
    return [e.seq for e in entries]


async def test_the_check_catches_a_feed_numbered_before_commit(db, manual_clock):
    postgres_only(db)
    # given a feed numbered when written (as a sequence would number it), and two public events
    first, second = await public_events(2)
    numbers = itertools.count(1)

    async def numbered(batch: list[OutboxEvent]) -> list[int]:
        return await append_numbered_before_commit(batch, numbers)

    # when the first writer takes 1 and commits late, the second takes 2 and commits at once,
    # and a reader pages in between
    holding, release = asyncio.Event(), asyncio.Event()
    one = asyncio.create_task(append_and_hold([first], holding, release, numbered))
    await asyncio.wait_for(holding.wait(), timeout=HOLD_TIMEOUT)
    async with in_transaction():
        assert await numbered([second]) == [2]
    seen, cursor = await feed.read(None, 10)
    release.set()
    assert await one == [1]
    later, _ = await feed.read(cursor, 10)

    # then the reader's cursor had passed 1 before 1 committed: the check reports it missing
    assert [e.seq for e in seen + later] == [2]
    with pytest.raises(AssertionError, match=r"missed seq \[1\]"):
        assert_gapless(seen + later, await FeedEntry.all().order_by("seq"))
