"""The outbox dispatcher on the real database: audited, published live, at least once, never twice audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from api.services import outbox_consumers
from domain.audit import services as audit
from domain.audit.models import AuditEntry
from domain.common import events
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied
from domain.common.models import OutboxEvent
from notifications.broker import InProcessBroker
from notifications.dispatch import AuditConsumer, Dispatcher, run_forever
from notifications.live import LiveConsumer
from tests.domain import factories as df

BIDDER = Actor(user_id=5, org_id=9, roles=frozenset({Role.BIDDER}))
QUIET = 0.05  # seconds a subscriber waits to be sure nothing more arrives


class Subscriber:
    """A live subscriber, registered with the broker before anything is published."""

    def __init__(self, broker: InProcessBroker) -> None:
        self.stream: AsyncGenerator[dict[str, Any], None] = broker.subscribe()  # type: ignore[assignment]
        self._next: asyncio.Future[dict[str, Any]] | None = None

    @classmethod
    async def on(cls, broker: InProcessBroker) -> Subscriber:
        subscriber = cls(broker)
        subscriber._next = asyncio.ensure_future(anext(subscriber.stream))
        before = broker.subscriber_count
        for _ in range(10):
            await asyncio.sleep(0)
            if broker.subscriber_count > before:
                break
        assert broker.subscriber_count == before + 1
        return subscriber

    async def receive(self, n: int) -> list[dict[str, Any]]:
        got = []
        for _ in range(n):
            pending, self._next = self._next, None
            got.append(await asyncio.wait_for(pending or anext(self.stream), timeout=2))
        return got

    async def nothing_more(self) -> bool:
        """True if nothing arrives for a moment; the subscription ends either way."""
        pending = self._next or asyncio.ensure_future(anext(self.stream))
        self._next = None
        try:
            await asyncio.wait_for(pending, timeout=QUIET)
        except TimeoutError:
            return True
        finally:
            await self.stream.aclose()
        return False


class Exploding:
    """A consumer that fails while armed, as a crashed channel would."""

    name = "exploding"

    def __init__(self) -> None:
        self.armed = True
        self.seen = 0

    async def consume(self, batch: Sequence[OutboxEvent]) -> None:
        self.seen += len(batch)
        if self.armed:
            raise RuntimeError("channel down")


async def test_events_reach_a_subscriber_once_and_are_marked_dispatched(db, manual_clock):
    # given three committed events and a live subscriber
    broker = InProcessBroker()
    dispatcher = Dispatcher([AuditConsumer(), LiveConsumer(broker)])
    recorded = await df.outbox(3, actor=BIDDER, text="开标")
    subscriber = await Subscriber.on(broker)

    # when the dispatcher drains the outbox
    assert await dispatcher.drain() == 3

    # then the subscriber receives each event, in order, in its live form
    messages = await subscriber.receive(3)
    assert [m["eventId"] for m in messages] == [str(e.event_id) for e in recorded]
    assert messages[0] == events.live_message(recorded[0])
    assert messages[0]["payload"] == {"text": "开标"}

    # and each is marked dispatched and audited
    assert await OutboxEvent.filter(dispatched_at=manual_clock.now()).count() == 3
    assert await AuditEntry.all().count() == 3

    # when the dispatcher runs again, nothing new is delivered
    assert await dispatcher.drain() == 0
    assert await subscriber.nothing_more()
    assert await AuditEntry.all().count() == 3


async def test_drain_goes_batch_by_batch(db):
    # given more events than a batch
    broker = InProcessBroker()
    await df.outbox(5)
    subscriber = await Subscriber.on(broker)

    # when drained with batches of 2
    assert await Dispatcher([LiveConsumer(broker)], batch_size=2).drain() == 5

    # then every event arrived
    assert [m["objectId"] for m in await subscriber.receive(5)] == ["1", "2", "3", "4", "5"]
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0


async def test_refused_attempts_are_audited_but_not_published(db):
    # given a refused attempt and a success
    broker = InProcessBroker()
    await events.record_failure(BIDDER, "punishment.list", "JointPunishment", "", PermissionDenied())
    success = (await df.outbox(1, actor=BIDDER))[0]
    subscriber = await Subscriber.on(broker)

    # when dispatched
    assert await Dispatcher([AuditConsumer(), LiveConsumer(broker)]).drain() == 2

    # then only the success went out live, both are on the audit trail and both are done
    assert [m["eventId"] for m in await subscriber.receive(1)] == [str(success.event_id)]
    assert await subscriber.nothing_more()
    trail = await AuditEntry.all().order_by("seq").values_list("action", "outcome")
    assert trail == [("punishment.list", "failure"), ("test.noted", "success")]
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0


async def test_a_failing_consumer_rolls_the_batch_back_and_a_later_run_delivers_it(db, manual_clock):
    # given two events and a consumer that fails after the audit and the live channel took them (in the transaction)
    broker = InProcessBroker()
    exploding = Exploding()
    dispatcher = Dispatcher([AuditConsumer(), LiveConsumer(broker), exploding])
    recorded = await df.outbox(2)
    ids = [str(e.event_id) for e in recorded]
    subscriber = await Subscriber.on(broker)

    # when the dispatcher runs
    assert await dispatcher.drain() == 0

    # then nothing is marked dispatched, the audit entries were rolled back, and both wait to retry
    assert await OutboxEvent.filter(dispatched_at=None).count() == 2
    assert await AuditEntry.all().count() == 0
    postponed = await OutboxEvent.all().order_by("id")
    assert [e.attempts for e in postponed] == [1, 1]
    assert all(e.next_attempt_at is not None and e.next_attempt_at > manual_clock.now() for e in postponed)
    assert all("channel down" in (e.last_error or "") for e in postponed)

    # when the channel recovers, a run before the backoff ends does nothing, one after delivers
    exploding.armed = False
    assert await dispatcher.drain() == 0
    manual_clock.advance(seconds=3)
    assert await dispatcher.drain() == 2

    # then every consumer got the events again: at least once, audited exactly once
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0
    assert [str(i) for i in await AuditEntry.all().order_by("seq").values_list("event_id", flat=True)] == ids
    assert (await audit.verify()).ok
    # and the live channel, published to after the commit only, saw each event once: none from the rolled-back run
    assert sorted(m["eventId"] for m in await subscriber.receive(2)) == sorted(ids)
    assert await subscriber.nothing_more()


class Poisoned:
    """A consumer that can never take one particular event."""

    name = "poisoned"

    def __init__(self, poison: str) -> None:
        self.poison = poison

    async def consume(self, batch: Sequence[OutboxEvent]) -> None:
        if any(str(e.event_id) == self.poison for e in batch):
            raise ValueError("cannot handle this event")


async def test_one_event_no_consumer_can_take_does_not_block_the_others(db, manual_clock):
    # given five events, the second of which a consumer always refuses
    recorded = await df.outbox(5)
    poison = str(recorded[1].event_id)
    dispatcher = Dispatcher([AuditConsumer(), Poisoned(poison)])

    # when the dispatcher runs
    delivered = await dispatcher.drain()

    # then the other four are delivered and the poisoned one waits with a growing backoff
    assert delivered == 4
    stuck = await OutboxEvent.get(event_id=poison)
    assert stuck.dispatched_at is None
    assert stuck.attempts == 1
    manual_clock.advance(seconds=3)
    await dispatcher.drain()
    stuck = await OutboxEvent.get(event_id=poison)
    assert stuck.attempts == 2
    assert (stuck.next_attempt_at - manual_clock.now()).total_seconds() == pytest.approx(4, abs=0.01)
    assert await AuditEntry.all().count() == 4


async def test_concurrent_dispatchers_never_audit_an_event_twice(db):
    # given 40 events committed in several transactions
    for _ in range(8):
        await df.outbox(5)

    # when two dispatcher processes drain the outbox at the same time, in small batches
    first = Dispatcher([AuditConsumer()], batch_size=3)
    second = Dispatcher([AuditConsumer()], batch_size=3)
    done = await asyncio.gather(first.drain(), second.drain())

    # then every event was dispatched once and audited once, on one intact chain
    assert sum(done) == 40
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0
    audited = await AuditEntry.all().values_list("event_id", flat=True)
    assert len(audited) == len(set(audited)) == 40
    assert {str(i) for i in audited} == {str(i) for i in await OutboxEvent.all().values_list("event_id", flat=True)}
    result = await audit.verify()
    assert (result.ok, result.checked, result.head_seq) == (True, 40, 40)


async def test_concurrent_dispatchers_share_events_arriving_meanwhile(db):
    # given events recorded while two dispatchers keep running
    stop = asyncio.Event()
    dispatchers = [Dispatcher([AuditConsumer()], batch_size=2) for _ in range(2)]
    workers = [
        asyncio.create_task(run_forever(d.run_once, 0.01, f"dispatch-{i}", stop)) for i, d in enumerate(dispatchers)
    ]
    for _ in range(6):
        await df.outbox(3)
        await asyncio.sleep(0)

    # when the outbox has been emptied
    for _ in range(200):
        if not await OutboxEvent.filter(dispatched_at=None).exists():
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*workers)

    # then each event is on the chain once
    assert await AuditEntry.all().count() == 18
    assert (await audit.verify()).ok


class Gate:
    """A consumer that holds its dispatcher's first batch, after the audit consumer has seen it, until opened."""

    name = "gate"

    def __init__(self) -> None:
        self.inside = asyncio.Event()
        self.open = asyncio.Event()

    async def consume(self, batch: Sequence[OutboxEvent]) -> None:
        if not self.open.is_set():
            self.inside.set()
            await self.open.wait()


async def test_a_dispatcher_inside_its_batch_does_not_hold_up_another(db):
    if not db.postgres:
        pytest.skip("SQLite has one writer at a time: there is no second dispatcher to overlap")
    # given a backlog and a dispatcher held in the middle of its first batch, past the audit consumer
    await df.outbox(6)
    gate = Gate()
    held = Dispatcher([AuditConsumer(), gate], batch_size=3)
    first = asyncio.create_task(held.run_once())
    await asyncio.wait_for(gate.inside.wait(), timeout=10)

    # when a second dispatcher runs meanwhile
    other = await asyncio.wait_for(Dispatcher([AuditConsumer()], batch_size=3).run_once(), timeout=10)

    # then it audited and committed the other half (the chain's lock is taken only for linking, before the commit)
    assert other == 3
    assert await AuditEntry.all().count() == 3
    gate.open.set()
    assert await first == 3

    # and the held batch was chained after it, on one intact chain
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0
    audited = await AuditEntry.all().values_list("event_id", flat=True)
    assert len(audited) == len(set(audited)) == 6
    result = await audit.verify()
    assert (result.ok, result.checked, result.head_seq) == (True, 6, 6)


async def test_two_dispatchers_share_a_backlog_with_every_consumer(db):
    # given a backlog of 300 events committed in several transactions
    for _ in range(10):
        await df.outbox(30)

    # when two dispatchers with the app's consumers drain it at the same time
    dispatchers = [Dispatcher(outbox_consumers(InProcessBroker()), batch_size=20) for _ in range(2)]
    done = await asyncio.gather(*(d.drain() for d in dispatchers))

    # then every event was dispatched once and audited once, on one chain that verifies
    assert sum(done) == 300
    assert await OutboxEvent.filter(dispatched_at=None).count() == 0
    audited = await AuditEntry.all().values_list("event_id", flat=True)
    assert len(audited) == len(set(audited)) == 300
    assert {str(i) for i in audited} == {str(i) for i in await OutboxEvent.all().values_list("event_id", flat=True)}
    result = await audit.verify()
    assert (result.ok, result.checked, result.head_seq) == (True, 300, 300)


async def test_run_forever_survives_a_failing_step_and_stops_when_told():
    # given a step that fails once, then works, then asks to stop
    stop = asyncio.Event()
    calls = []

    async def step() -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        if len(calls) == 3:
            stop.set()
        return 1

    # when it runs
    await asyncio.wait_for(run_forever(step, 0.01, "test", stop), timeout=2)

    # then it went on after the failure and stopped on request
    assert calls == [0, 1, 2]
    assert stop.is_set()
