"""Cross-area reactions: typed handlers of event dataclasses, run by the dispatcher in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from domain.common import events
from domain.common.actors import SYSTEM
from domain.common.errors import PermissionDenied
from domain.common.events import Audience, DomainEvent
from domain.common.models import OutboxEvent, SchedulerLease
from domain.common.reactions import Reactions, decode
from domain.complaints.events import LotSuspensionLifted
from domain.credit.services import CreditRecorded, PunishmentLifted, PunishmentListed
from domain.credit_public.repair import RepairDecided
from domain.publication.events import AnnouncementPublished, LotDeadlineMoved, LotStatusChanged
from domain.registration.services import RegistrationWithdrawn
from domain.results.sequence import AwardWithdrawn
from domain.wiring import wire
from notifications.dispatch import Dispatcher


@dataclass(frozen=True, kw_only=True)
class Sold(DomainEvent):
    type = "test.sold"
    object_type = "TestLot"
    lot_id: int
    at: datetime
    ends_at: datetime | None = None
    bidders: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Opened(DomainEvent):
    type = "test.opened"
    object_type = "TestLot"
    lot_id: int


async def _record(*happened: DomainEvent) -> None:
    async with in_transaction():
        for event in happened:
            await events.record(event, SYSTEM)


async def test_a_handler_gets_the_dataclass_the_event_was_recorded_from(db, manual_clock):
    # given an event with a time, an optional time and a tuple, as the outbox stores it
    sold = Sold(object_id="7", lot_id=7, at=manual_clock.now(), bidders=(3, 1), audience=Audience(orgs=(4,)))
    await _record(sold)
    row = await OutboxEvent.get(type="test.sold")

    # when it is decoded, then it is the same event
    assert decode(Sold, row) == Sold(
        object_id="7", lot_id=7, at=manual_clock.now(), bidders=(3, 1), audience=Audience(orgs=(4,))
    )


async def test_workflows_run_in_order_over_the_batch_and_skip_refused_attempts(db, manual_clock):
    # given two workflows, the second with two handlers, and a batch holding a refused attempt
    seen: list[tuple[str, str, int]] = []

    async def announce(event: Sold) -> None:
        seen.append(("results", event.type, event.lot_id))

    async def on_sold(event: Sold) -> None:
        seen.append(("security", event.type, event.lot_id))

    async def on_opened(event: Opened) -> None:
        seen.append(("security", event.type, event.lot_id))

    reactions = Reactions()
    reactions.on(Sold, announce, workflow="results")
    reactions.on(Sold, on_sold, workflow="security")
    reactions.on(Opened, on_opened, workflow="security")
    reactions.on(Sold, announce, workflow="results")  # twice: kept once
    await _record(Sold(object_id="1", lot_id=1, at=manual_clock.now()), Opened(object_id="2", lot_id=2))
    await events.record_failure(SYSTEM, "test.sold", "TestLot", "3", PermissionDenied())
    await _record(Sold(object_id="4", lot_id=4, at=manual_clock.now()))

    # when the dispatcher delivers the batch
    assert await Dispatcher([reactions]).drain() == 4

    # then each workflow saw the whole batch in commit order before the next one ran, and no refused attempt
    assert seen == [
        ("results", "test.sold", 1),
        ("results", "test.sold", 4),
        ("security", "test.sold", 1),
        ("security", "test.opened", 2),
        ("security", "test.sold", 4),
    ]


async def test_a_workflow_writes_exactly_once_with_the_batch(db, manual_clock):
    # given a workflow that writes, and a later one that fails the first time
    failing = {"armed": True}

    async def writes(event: Sold) -> None:
        await SchedulerLease.create(
            name=f"test.reaction.{event.lot_id}", holder="w", leased_until=event.at, last_run_at=event.at
        )

    async def fails(event: Sold) -> None:
        if failing["armed"]:
            raise RuntimeError("down")

    reactions = Reactions()
    reactions.on(Sold, writes, workflow="first")
    reactions.on(Sold, fails, workflow="second")
    await _record(Sold(object_id="1", lot_id=1, at=manual_clock.now()))
    dispatcher = Dispatcher([reactions])

    # when the batch fails, then the first workflow's write rolled back with it and the event waits
    assert await dispatcher.run_once() == 0
    assert not await SchedulerLease.exists(name="test.reaction.1")
    assert await OutboxEvent.filter(dispatched_at=None).count() == 1

    # when it is retried after its backoff and goes through, the write is there once
    failing["armed"] = False
    manual_clock.advance(timedelta(minutes=1))
    assert await dispatcher.run_once() == 1
    assert await SchedulerLease.filter(name="test.reaction.1").count() == 1
    assert await dispatcher.run_once() == 0


def test_the_composition_root_wires_every_business_workflow():
    wired = [(r.workflow, r.event, r.handle.__module__) for r in wire().reactions]
    assert wired == [
        ("auction_results", wired[0][1], "domain.auctions.workflows"),
        ("auction_results", wired[1][1], "domain.auctions.workflows"),
        ("tendering", LotStatusChanged, "domain.tendering.workflows"),
        ("tendering", wired[3][1], "domain.tendering.workflows"),
        ("tendering", LotStatusChanged, "domain.tendering.workflows"),  # a terminated lot's sealed bids returned
        ("invitations", LotStatusChanged, "domain.registration.invitations"),
        ("negotiation", LotSuspensionLifted, "domain.negotiation.workflows"),
        ("security", LotStatusChanged, "domain.deposits.workflows"),
        ("security", LotStatusChanged, "domain.guarantees.workflows"),
        ("security", LotDeadlineMoved, "domain.guarantees.workflows"),
        ("security", RegistrationWithdrawn, "domain.deposits.workflows"),
        ("security", RegistrationWithdrawn, "domain.guarantees.workflows"),
        ("credit_rating", CreditRecorded, "domain.credit.rating"),
        ("credit_rating", PunishmentListed, "domain.credit.rating"),
        ("credit_rating", PunishmentLifted, "domain.credit.rating"),
        ("credit_rating", RepairDecided, "domain.credit.rating"),
        ("credit_publicity", CreditRecorded, "domain.credit_public.publicity"),
        ("credit_publicity", PunishmentListed, "domain.credit_public.publicity"),
        ("credit_publicity", PunishmentLifted, "domain.credit_public.publicity"),
        ("credit_publicity", AwardWithdrawn, "domain.credit_public.commitments"),
        ("provincial_exchange", AnnouncementPublished, "domain.provincial.exchange"),
        ("venues", LotDeadlineMoved, "domain.venues.workflows"),
        ("venues", LotStatusChanged, "domain.venues.workflows"),
    ]
    assert (wired[0][1].type, wired[1][1].type, wired[3][1].type) == (
        "auction.phase_changed",
        "listing.ended",
        "opening.failed",
    )
