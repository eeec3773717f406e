"""The deposit's deadline a day ahead (tendering reminders, made once by the chronograph): told to each registrant
whose deposit has not arrived, with its own amount and sub-account, never to one that paid or put up a guarantee."""

from __future__ import annotations

from datetime import timedelta

from domain.common.actors import Role
from domain.common.clock import ManualClock
from domain.common.models import OutboxEvent
from domain.deposits.models import DepositAccount
from domain.registration.services import bid_deadline
from domain.tendering import reminders
from notifications.rules import notifications_for
from tests.domain.factories import organisation
from tests.notifications.test_result_rules import users_of
from tests.support import commitments
from tests.support.results import issue_guarantees
from tests.support.tendering import person, published_tender


async def test_the_deposit_due_reaches_only_the_registrant_that_owes_it(db, manual_clock: ManualClock):
    # given a tender asking a deposit: one registrant guaranteed, one paid, one owing
    t = await published_tender({"deposit_required": True})
    guaranteed, paid, owing = [await organisation(kinds=["bidder"]) for _ in range(3)]
    await commitments.register(person(guaranteed, Role.BIDDER), t.lot.id)
    await issue_guarantees(t.lot.id)
    for org in (paid, owing):
        await commitments.register(person(org, Role.BIDDER), t.lot.id)
    await DepositAccount.filter(lot_id=t.lot.id, organisation_id=paid.id).update(status="paid", paid_fen=1)
    users = await users_of(guaranteed.id, paid.id, owing.id)
    deadline = bid_deadline(t.lot)
    assert deadline is not None

    # when the chronograph looks two days ahead, then a day ahead, twice
    manual_clock.set(deadline - timedelta(days=2))
    early = await reminders.remind(manual_clock.now())
    early_events = await OutboxEvent.filter(type="deposit.due_approaching").count()
    manual_clock.set(deadline - timedelta(hours=23))
    await reminders.remind(manual_clock.now())
    await reminders.remind(manual_clock.now())
    due = list(await OutboxEvent.filter(type="deposit.due_approaching"))

    # then one reminder is made, once, and only the owing registrant hears of it, with its own sub-account
    assert (early, early_events, len(due)) == (0, 0, 1)
    made = await notifications_for(due)
    assert [users[n.user_id] for n in made] == [owing.id]
    account = await DepositAccount.get(lot_id=t.lot.id, organisation_id=owing.id)
    [notice] = made
    assert (notice.kind, notice.time_critical) == ("deposit_due", True)
    assert account.reference in notice.body_zh
    assert account.reference in notice.body_en
